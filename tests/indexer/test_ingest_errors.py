"""Bad inputs: each gives a SourceError that names the fix, or a counted Skip — never a traceback."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import indexer.sources.files as files_module
from indexer.records import Document, Skip, SkipReason
from indexer.sources import IngestOptions, SourceError, open_source

STACK_V2_IDS = {  # the real Stack v2 schema: file ids, no content
    "blob_id": ["a" * 40],
    "directory_id": ["d" * 40],
    "path": ["/x.py"],
    "content_id": ["c" * 40],
    "detected_licenses": [["MIT"]],
    "license_type": ["permissive"],
    "repo_name": ["acme/x"],
    "revision_id": ["r" * 40],
    "language": ["Python"],
    "src_encoding": ["UTF-8"],
    "length_bytes": [10],
}


def items(spec: str) -> list[Document | Skip]:
    return list(open_source(spec))


def test_path_that_does_not_exist(tmp_path: Path) -> None:
    expected = r"no such file or directory: .*nope.*'installed', 'npm:PATH' or 'hf:NAME'"
    with pytest.raises(SourceError, match=expected):
        open_source(str(tmp_path / "nope"))


def test_empty_spec_and_unusable_files(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="empty source"):
        open_source("  ")
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(SourceError, match=r"not a dataset; codecite reads \.parquet"):
        open_source(str(tmp_path / "notes.txt"))
    (tmp_path / "broken").symlink_to(tmp_path / "missing")
    with pytest.raises(SourceError, match="broken symbolic link"):
        open_source(str(tmp_path / "broken"))


def test_stack_v2_without_content_is_read_by_blob_id(tmp_path: Path) -> None:
    """The real Stack v2 rows hold blob ids, not contents: they open as a dataset whose contents
    are fetched (tests/indexer/test_ingest_stack_s3.py fetches them); without blob ids either,
    the error names what codecite reads."""
    pq.write_table(pa.table(STACK_V2_IDS), tmp_path / "ids.parquet")
    source = open_source(str(tmp_path / "ids.parquet"))
    assert "contents fetched by blob_id" in source.description
    no_ids = {k: v for k, v in STACK_V2_IDS.items() if k != "blob_id"}
    pq.write_table(pa.table(no_ids), tmp_path / "no-ids.parquet")
    with pytest.raises(SourceError, match=r"no 'content' column .* contents are fetched by blob_id"):
        open_source(str(tmp_path / "no-ids.parquet"))


def test_missing_column_names_the_columns_found_and_expected(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps({"text": "x = 1\n", "path": "a.py"}) + "\n")
    with pytest.raises(SourceError, match=r"no 'content' column \(columns found: path, text\)"):
        open_source(str(tmp_path / "a.jsonl"))
    (tmp_path / "b.jsonl").write_text(json.dumps({"content": "x = 1\n", "name": "a.py"}) + "\n")
    expected = r"no path column \(columns found: content, name\); expected one of: path"
    with pytest.raises(SourceError, match=expected):
        open_source(str(tmp_path / "b.jsonl"))


def test_corrupt_and_misnamed_dataset_files(tmp_path: Path) -> None:
    (tmp_path / "junk.parquet").write_bytes(b"this is not parquet at all" * 10)
    with pytest.raises(SourceError, match=r"cannot read .*junk\.parquet.*format its name says"):
        open_source(str(tmp_path / "junk.parquet"))
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 9\n"
    (tmp_path / "lfs.parquet").write_text(pointer)
    with pytest.raises(SourceError, match=r"Git LFS pointer.*git lfs pull"):
        open_source(str(tmp_path / "lfs.parquet"))
    (tmp_path / "array.json.gz").write_bytes(gzip.compress(b'[{"content": "x", "path": "a.py"}]'))
    with pytest.raises(SourceError, match="one JSON array, not JSON lines"):
        open_source(str(tmp_path / "array.json.gz"))
    rows = "".join(json.dumps({"content": f"x = {i}\n", "path": f"m{i}.py"}) + "\n" for i in range(5000))
    (tmp_path / "cut.jsonl.gz").write_bytes(gzip.compress(rows.encode())[:-100])
    result = items(str(tmp_path / "cut.jsonl.gz"))  # a truncated shard: what was read, then one Skip
    assert isinstance(result[-1], Skip) and result[-1].reason is SkipReason.UNREADABLE
    assert all(isinstance(i, Document) for i in result[:-1]) and len(result) > 1


def test_a_bad_shard_among_good_ones_is_one_counted_skip(tmp_path: Path) -> None:
    (tmp_path / "shard-0.jsonl").write_text(json.dumps({"content": "a = 1\n", "path": "a.py"}) + "\n")
    (tmp_path / "shard-1.parquet").write_bytes(b"PAR1 truncated")
    (tmp_path / "shard-2.jsonl").write_text(json.dumps({"content": "b = 2\n", "path": "b.py"}) + "\n")
    result = items(str(tmp_path))
    assert [type(i).__name__ for i in result] == ["Document", "Skip", "Document"]
    assert result[1].where == "shard-1.parquet" and result[1].reason is SkipReason.UNREADABLE


def test_bad_json_lines_and_invalid_utf8_are_skipped_one_by_one(tmp_path: Path) -> None:
    good = json.dumps({"content": "x = 1\n", "path": "a.py"}).encode()
    (tmp_path / "rows.jsonl").write_bytes(
        good + b"\n{not json\n" + b'{"content": "caf\xe9", "path": "b.py"}\n' + b"[1, 2]\n\n" + good + b"\n"
    )
    result = items(str(tmp_path / "rows.jsonl"))
    assert [type(i).__name__ for i in result] == ["Document", "Skip", "Skip", "Skip", "Document"]
    assert {i.reason for i in result if isinstance(i, Skip)} == {SkipReason.UNREADABLE}
    where = [i.where for i in result if isinstance(i, Skip)]
    assert where == ["rows.jsonl#1", "rows.jsonl#2", "rows.jsonl#3"]


def test_dataset_bytes_content_that_is_not_utf8(tmp_path: Path) -> None:
    table = pa.table({"content": [b"caf\xe9\n", b"ok = 1\n"], "path": ["a.py", "b.py"]})
    pq.write_table(table, tmp_path / "b.parquet")
    first, second = items(str(tmp_path / "b.parquet"))
    assert isinstance(first, Skip) and first.reason is SkipReason.UNDECODABLE
    assert isinstance(second, Document) and second.content == "ok = 1\n"


def test_read_error_becomes_an_unreadable_skip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # chmod 000 cannot stop root from reading, so the permission error is raised here directly.
    (tmp_path / "ok.py").write_text("a = 1\n")
    (tmp_path / "locked.py").write_text("b = 2\n")
    real_open = open

    def guarded_open(path: object, *args: object, **kwargs: object) -> object:
        if str(path).endswith("locked.py"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(files_module, "open", guarded_open, raising=False)
    result = items(str(tmp_path))
    assert [(type(i).__name__, getattr(i, "path", None) or i.where) for i in result] == [
        ("Skip", "locked.py"),
        ("Document", "ok.py"),
    ]
    assert result[0].reason is SkipReason.UNREADABLE and "Permission denied" in result[0].detail


def test_hub_source_without_the_datasets_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` fail
    with pytest.raises(SourceError, match=r"pip install 'codecite\[hf\]'"):
        open_source("hf:bigcode/the-stack-smol")
    with pytest.raises(SourceError, match="hf:NAME"):
        open_source("hf:@train")


def test_missing_package_trees(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"no such directory.*node_modules"):
        open_source(f"npm:{tmp_path / 'nope'}")
    with pytest.raises(SourceError, match="installed:SITE_PACKAGES_DIR"):
        open_source(f"installed:{tmp_path / 'nope'}")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no Python distributions"):
        open_source(f"installed:{tmp_path / 'empty'}")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_file_bytes": 0}, "max_file_bytes must be a positive whole number"),
        ({"max_line_chars": -5}, "max_line_chars must be a positive whole number"),
        ({"max_line_chars": 50, "max_mean_line_chars": 80}, "raise max_line_chars or lower the mean limit"),
        ({"languages": frozenset({"Pyton"})}, "unknown language 'Pyton'.*Python"),
        ({"languages": "Python"}, r"write frozenset\(\{'Python'\}\)"),
        ({"languages": frozenset()}, "give at least one language, or None"),
    ],
)
def test_options_are_validated_with_messages_that_name_the_fix(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        IngestOptions(**kwargs)  # type: ignore[arg-type]


def test_options_spell_languages_as_the_stack_does() -> None:
    options = IngestOptions(languages=frozenset({"python", "cpp", "js"}))
    assert options.languages == frozenset({"Python", "C++", "JavaScript"})
    assert options.keeps_language("C++") and not options.keeps_language("Go")
    assert IngestOptions().keeps_language("Go") and not IngestOptions().keeps_language("Markdown")
