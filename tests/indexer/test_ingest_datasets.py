"""Dataset ingestion: The Stack v1/v2 columns from parquet, JSON lines, Arrow and save_to_disk files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from indexer.records import Document, LicenseCategory, Skip, SkipReason, git_blob_id
from indexer.sources import IngestOptions, open_source

V2_ROWS: list[dict[str, Any]] = [
    {
        "blob_id": "a" * 40,
        "repo_name": "acme/widgets",
        "path": "/src/widgets/core.py",  # v2's leading /
        "content": "def spin(widget):\n    return widget.turn(90)\n",
        "language": "Python",
        "detected_licenses": ["MIT"],
        "license_type": "permissive",
        "revision_id": "c" * 40,
        "length_bytes": 44,
    },
    {
        "blob_id": "b" * 40,
        "repo_name": "acme/gears",
        "path": "lib/gear.js",
        "content": "export function mesh(a, b) {\n  return a.teeth + b.teeth;\n}\n",
        "language": "JavaScript",
        "detected_licenses": ["Apache-2.0", "MIT"],
        "license_type": "permissive",
        "revision_id": "d" * 40,
        "length_bytes": 55,
    },
    {
        "blob_id": "e" * 40,
        "repo_name": "someone/thing",
        "path": "main.go",
        "content": "package main\n\nfunc main() {}\n",
        "language": "Go",
        "detected_licenses": [],
        "license_type": "no_license",
        "revision_id": "f" * 40,
        "length_bytes": 29,
    },
    {
        "blob_id": "1" * 40,
        "repo_name": "gnu/hello",
        "path": "hello.c",
        "content": "int main(void) { return 0; }\n",
        "language": "C",
        "detected_licenses": ["GPL-3.0-or-later"],
        "license_type": "copyleft",
        "revision_id": "2" * 40,
        "length_bytes": 29,
    },
]
V1_ROWS: list[dict[str, Any]] = [
    {
        "hexsha": "9" * 40,
        "max_stars_repo_name": "acme/bolts",
        "max_stars_repo_path": "bolts/nut.rs",
        "max_stars_repo_head_hexsha": "8" * 40,
        "max_stars_repo_licenses": ["MIT", "Apache-2.0"],
        "lang": "Rust",
        "content": "fn tighten() -> u8 {\n    7\n}\n",
        "size": 28,
        "ext": "rs",
    },
    {
        "hexsha": "7" * 40,
        "max_stars_repo_name": "acme/bolts",
        "max_stars_repo_path": "scripts/run.sh",
        "max_stars_repo_head_hexsha": "8" * 40,
        "max_stars_repo_licenses": ["BSD-3-Clause"],
        "lang": "Shell",
        "content": "#!/bin/sh\necho bolts\n",
        "size": 20,
        "ext": "sh",
    },
]


def ingest(spec: object, options: IngestOptions = IngestOptions()) -> tuple[list[Document], list[Skip]]:
    docs: list[Document] = []
    skips: list[Skip] = []
    for item in open_source(str(spec), options):
        (docs if isinstance(item, Document) else skips).append(item)
    return docs, skips


def write_parquet(path: Path, rows: list[dict[str, Any]], row_group_size: int | None = None) -> Path:
    pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=row_group_size)
    return path


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def test_stack_v2_parquet_maps_every_field(tmp_path: Path) -> None:
    spec = write_parquet(tmp_path / "v2.parquet", V2_ROWS)
    source = open_source(str(spec))
    assert "The Stack v2" in source.description
    docs, skips = ingest(spec)
    assert skips == []
    by_path = {d.path: d for d in docs}
    core = by_path["src/widgets/core.py"]
    assert (core.blob_id, core.repo, core.language) == ("a" * 40, "acme/widgets", "Python")
    assert (core.license, core.license_category) == ("MIT", LicenseCategory.PERMISSIVE)
    assert core.revision == "c" * 40
    assert core.url == f"https://github.com/acme/widgets/blob/{'c' * 40}/src/widgets/core.py"
    assert core.source == str(spec)
    assert core.content == V2_ROWS[0]["content"]
    gear = by_path["lib/gear.js"]
    assert gear.license == "Apache-2.0 AND MIT" and gear.license_category is LicenseCategory.PERMISSIVE
    unlicensed = by_path["main.go"]
    assert unlicensed.license is None and unlicensed.license_category is LicenseCategory.NO_LICENSE
    gpl = by_path["hello.c"]
    assert gpl.license == "GPL-3.0-or-later" and gpl.license_category is LicenseCategory.COPYLEFT


def test_stack_v1_columns_in_parquet_jsonl_and_jsonl_gz(tmp_path: Path) -> None:
    for name in ("v1.parquet", "v1.jsonl", "v1.jsonl.gz", "v1.json.gz"):
        path = tmp_path / name
        write_parquet(path, V1_ROWS) if name.endswith(".parquet") else write_jsonl(path, V1_ROWS)
        docs, skips = ingest(path)
        assert skips == [], name
        nut = next(d for d in docs if d.path == "bolts/nut.rs")
        assert (nut.blob_id, nut.repo, nut.language) == ("9" * 40, "acme/bolts", "Rust"), name
        assert nut.license == "MIT AND Apache-2.0" and nut.license_category is LicenseCategory.PERMISSIVE
        assert nut.url == f"https://github.com/acme/bolts/blob/{'8' * 40}/bolts/nut.rs"
        shell = next(d for d in docs if d.path == "scripts/run.sh")
        assert shell.license == "BSD-3-Clause" and shell.language == "Shell"


def test_generic_content_and_path_columns(tmp_path: Path) -> None:
    content = "public class Hello {\n  void hi() {}\n}\n"
    path = write_jsonl(tmp_path / "generic.jsonl", [{"content": content, "path": "src/Hello.java"}])
    [doc], skips = ingest(path)
    assert skips == []
    assert doc.blob_id == git_blob_id(content.encode())
    assert (doc.repo, doc.language, doc.url) == ("", "Java", None)
    assert doc.license is None and doc.license_category is LicenseCategory.NO_LICENSE


def test_records_with_missing_fields_and_non_code_are_counted(tmp_path: Path) -> None:
    rows = [
        {**V2_ROWS[0], "content": None},
        {**V2_ROWS[0], "path": ""},
        {**V2_ROWS[0], "path": "README.md", "language": "Markdown", "content": "# Widgets\n"},
        {**V2_ROWS[0], "path": "x.v", "language": "Verilog", "content": "module m; endmodule\n"},
        {**V2_ROWS[0], "path": "big.py", "content": "x = 1\n" * 20},
        {**V2_ROWS[0], "path": "min.js", "language": "JavaScript", "content": "var a=1;" * 10},
        {**V2_ROWS[0], "path": "blank.py", "content": "\n\n  \n"},
        V2_ROWS[0],
    ]
    options = IngestOptions(max_file_bytes=100, max_line_chars=60, max_mean_line_chars=40)
    docs, skips = ingest(write_parquet(tmp_path / "mixed.parquet", rows), options)
    assert [d.path for d in docs] == ["src/widgets/core.py"]
    assert [s.reason for s in skips] == [
        SkipReason.MISSING_FIELD,
        SkipReason.MISSING_FIELD,
        SkipReason.UNSUPPORTED_LANGUAGE,
        SkipReason.UNSUPPORTED_LANGUAGE,
        SkipReason.TOO_LARGE,
        SkipReason.MINIFIED,
        SkipReason.EMPTY,
    ]
    assert skips[0].where == "acme/widgets/src/widgets/core.py"
    assert "Verilog" in skips[3].detail


def test_languages_option_keeps_only_the_named_languages(tmp_path: Path) -> None:
    path = write_parquet(tmp_path / "v2.parquet", V2_ROWS)
    docs, skips = ingest(path, IngestOptions(languages=frozenset({"python", "c"})))
    assert sorted(d.language for d in docs) == ["C", "Python"]
    assert {s.reason for s in skips} == {SkipReason.UNSUPPORTED_LANGUAGE}


def test_many_batches_and_row_groups_stream_in_order(tmp_path: Path) -> None:
    rows = [{"content": f"x{i} = {i}\n", "path": f"m{i}.py", "repo_name": "acme/many"} for i in range(1300)]
    path = write_parquet(tmp_path / "many.parquet", rows, row_group_size=300)
    docs, _ = ingest(path)
    assert [d.path for d in docs] == [r["path"] for r in rows]


def test_directory_of_shards_is_read_in_path_order(tmp_path: Path) -> None:
    shards = tmp_path / "corpus" / "index"
    shards.mkdir(parents=True)
    write_jsonl(shards / "shard-00001.jsonl.gz", V2_ROWS[2:])
    write_jsonl(shards / "shard-00000.jsonl.gz", V2_ROWS[:2])
    (tmp_path / "corpus" / "manifest.json").write_text("{}")
    source = open_source(str(tmp_path / "corpus"))
    assert "2 dataset file(s)" in source.description
    docs, _ = ingest(tmp_path / "corpus")
    assert [d.blob_id for d in docs] == [r["blob_id"] for r in V2_ROWS]


def test_arrow_ipc_file_and_stream_formats(tmp_path: Path) -> None:
    table = pa.Table.from_pylist(V1_ROWS)
    for name, new_writer in (("file.arrow", pa.ipc.new_file), ("stream.arrow", pa.ipc.new_stream)):
        with pa.OSFile(str(tmp_path / name), "wb") as sink, new_writer(sink, table.schema) as out:
            out.write_table(table)
    for name in ("file.arrow", "stream.arrow"):
        docs, skips = ingest(tmp_path / name)
        assert skips == [] and [d.blob_id for d in docs] == ["9" * 40, "7" * 40], name


def test_datasets_save_to_disk_directory(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    datasets.disable_progress_bars()
    datasets.Dataset.from_list(V2_ROWS).save_to_disk(str(tmp_path / "saved"))
    docs, skips = ingest(tmp_path / "saved")
    assert skips == []
    expected = [(r["blob_id"], r["repo_name"], r["path"].lstrip("/")) for r in V2_ROWS]
    assert [(d.blob_id, d.repo, d.path) for d in docs] == expected
    assert docs[0].license == "MIT"


def test_hub_spec_streams_a_local_dataset_directory(tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    datasets.disable_progress_bars()
    (tmp_path / "ds").mkdir()
    write_parquet(tmp_path / "ds" / "train-00000-of-00001.parquet", V2_ROWS)
    source = open_source(f"hf:{tmp_path / 'ds'}@train")
    assert "The Stack v2" in source.description
    docs = [d for d in source if isinstance(d, Document)]
    assert [d.blob_id for d in docs] == [r["blob_id"] for r in V2_ROWS]
    assert docs[1].license == "Apache-2.0 AND MIT"


def test_odd_json_lines_rows_are_read_exactly_or_skipped_by_line(tmp_path: Path) -> None:
    # Rows json reads (a lone surrogate, NaN, an integer over 64 bits, deep nesting) are read
    # exactly; what it does not read is an UNREADABLE skip naming its line, never a crash.
    lines = [
        '{"content": "x = \\"\\ud800\\"\\n", "path": "lone.py", "revision_id": "r1"}',
        '{"content": "y = 2\\n", "path": "nan.py", "score": NaN}',
        '{"content": "z = 3\\n", "path": "big.py", "revision_id": 123456789012345678901234567890}',
        '{"content": "broken',
        "[1, 2]",
        '{"content": "w = 4\\n", "path": "plain.py"}',
        '{"content": "v = 5\\n", "path": "deep.py", "x": ' + "[" * 5000 + "]" * 5000 + "}",
        '{"content": "u = 6\\n", "path": "deep_ok.py", "x": ' + "[" * 900 + "]" * 900 + "}",
    ]
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(lines) + "\n")
    docs, skips = ingest(path)
    assert [d.path for d in docs] == ["lone.py", "nan.py", "big.py", "plain.py", "deep_ok.py"]
    assert docs[0].content == 'x = "\ud800"\n'
    assert docs[2].revision == "123456789012345678901234567890", "the integer, exactly"
    assert [(s.reason, s.detail.split(":")[0]) for s in skips] == [
        (SkipReason.UNREADABLE, "line 4 is not valid JSON"),
        (SkipReason.UNREADABLE, "line 5 is not a JSON object"),
        (SkipReason.UNREADABLE, "line 7 is not valid JSON"),
    ]


MIT_HEADER = (
    "# Copyright (c) 2010-2020 Benjamin Peterson\n#\n"
    "# Permission is hereby granted, free of charge, to any person obtaining a copy of this software\n"
    '# and associated documentation files (the "Software"), to deal in the Software without restriction,\n'
    "# including without limitation the rights to use, copy, modify, merge, publish, distribute,\n"
    "# sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is\n"
    "# furnished to do so, subject to the following conditions:\n#\n"
    "# The above copyright notice and this permission notice shall be included in all copies or\n"
    "# substantial portions of the Software.\n\n"
    "def reraise(tp, value):\n    raise value\n"
)


def test_a_vendored_file_keeps_the_license_its_own_notice_states(tmp_path: Path) -> None:
    # sqlmap (GPL-2.0) vendors six (MIT) under thirdparty/: the dataset's repository-wide license
    # would make six's code GPL. A vendored file's notice wins; the same file elsewhere does not.
    gpl_repo = {
        **V2_ROWS[3],
        "repo_name": "sqlmapproject/sqlmap",
        "detected_licenses": ["GPL-2.0-only"],
        "is_vendor": False,
    }
    rows = [
        {**gpl_repo, "path": "thirdparty/six/__init__.py", "language": "Python", "content": MIT_HEADER},
        {**gpl_repo, "path": "lib/core/six_copy.py", "language": "Python", "content": MIT_HEADER},
        {
            **gpl_repo,
            "path": "lib/core/own.py",
            "language": "Python",
            "content": MIT_HEADER,
            "is_vendor": True,
        },
        {**gpl_repo, "path": "thirdparty/plain.py", "language": "Python", "content": "x = 1\n"},
    ]
    docs, _ = ingest(write_parquet(tmp_path / "vendored.parquet", rows))
    licenses = {d.path: (d.license, d.provenance.license_basis) for d in docs}
    assert licenses["thirdparty/six/__init__.py"] == (
        "MIT",
        "license notice in the vendored file's first lines",
    )
    assert licenses["lib/core/own.py"][0] == "MIT", "the dataset's is_vendor flag counts too"
    assert licenses["lib/core/six_copy.py"][0] == "GPL-2.0-only", "not vendored: the repository's license"
    assert licenses["thirdparty/plain.py"][0] == "GPL-2.0-only", "no notice of its own"
