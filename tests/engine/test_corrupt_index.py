"""A damaged, foreign or missing index is an error that says what happened and what to do —
never a traceback, never a silent wrong answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from engine_testlib import KEEP_ALL, QUERIES, assert_clean_error, corpus_documents, run_cli

from indexer.backends import open_writer
from indexer.backends.embedded.reader import EmbeddedIndex
from indexer.backends.errors import (
    CorruptIndexError,
    IndexNotFoundError,
    IndexOptionsError,
    IndexVersionError,
)
from indexer.backends.manifest import FORMAT_VERSION
from indexer.options import IndexOptions

FIX = "codecite index build"


def manifest_path(index: Path) -> Path:
    return index / "generations" / f"{(index / 'CURRENT').read_text().strip()}.json"


def edit_manifest(index: Path, change) -> None:
    path = manifest_path(index)
    raw = json.loads(path.read_text())
    change(raw)
    path.write_text(json.dumps(raw))


def segment_file(index: Path, name: str) -> Path:
    (segment,) = [p for p in (index / "segments").iterdir() if p.is_dir()]
    return segment / name


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {
    "truncated postings": (lambda i: truncate(segment_file(i, "exact.refs.npy")), "exact.refs.npy"),
    "altered postings": (lambda i: flip_a_byte(segment_file(i, "normalized.keys.npy")), "checksum"),
    "altered contents": (lambda i: flip_a_byte(segment_file(i, "content.bin")), "checksum"),
    "truncated documents table": (lambda i: truncate(segment_file(i, "docs.arrow")), "docs.arrow"),
    "missing signatures": (lambda i: segment_file(i, "signatures.npy").unlink(), "signatures.npy"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_segment_files_are_detected(index_copy: Path, damage: str) -> None:
    harm, mentioned = DAMAGE[damage]
    harm(index_copy)
    with pytest.raises(CorruptIndexError, match=mentioned):
        EmbeddedIndex(index_copy)


def test_a_damaged_index_error_names_the_fix(index_copy: Path) -> None:
    flip_a_byte(segment_file(index_copy, "content.bin"))
    with pytest.raises(CorruptIndexError, match=FIX):
        EmbeddedIndex(index_copy)


def test_another_format_version_names_the_rebuild(index_copy: Path) -> None:
    edit_manifest(index_copy, lambda raw: raw.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(IndexVersionError) as err:
        EmbeddedIndex(index_copy)
    assert FIX in str(err.value) and str(FORMAT_VERSION + 1) in str(err.value)


@pytest.mark.parametrize("change", ["hash", "option"])
def test_other_fingerprinting_options_are_refused(index_copy: Path, change: str) -> None:
    if change == "hash":  # built by a codecite whose fingerprints differ
        edit_manifest(index_copy, lambda raw: raw.update(options_hash="0" * 16))
    else:  # an option changed behind the hash's back
        edit_manifest(index_copy, lambda raw: raw["options"].update(exact_k=raw["options"]["exact_k"] + 1))
    with pytest.raises(IndexOptionsError, match=FIX):
        EmbeddedIndex(index_copy)
    with pytest.raises(IndexOptionsError):
        open_writer(index_copy).add(corpus_documents(["kjd/idna"]), settings=KEEP_ALL)


def test_an_unreadable_manifest_names_the_rebuild(index_copy: Path) -> None:
    truncate(manifest_path(index_copy))
    with pytest.raises(IndexVersionError, match=FIX):
        EmbeddedIndex(index_copy)


def test_a_missing_index_names_the_build_command(tmp_path: Path) -> None:
    for path in (tmp_path / "nowhere", tmp_path):  # no directory; a directory that is no index
        with pytest.raises(IndexNotFoundError, match=FIX):
            EmbeddedIndex(path)


@pytest.mark.parametrize("change", ["format_version", "options_hash"])
def test_a_full_rebuild_replaces_an_index_of_another_version(index_copy: Path, change: str) -> None:
    if change == "format_version":
        edit_manifest(index_copy, lambda raw: raw.update(format_version=FORMAT_VERSION - 1))
    else:
        edit_manifest(index_copy, lambda raw: raw.update(options_hash="0" * 16))
    docs = corpus_documents(["kjd/idna"])
    open_writer(index_copy).build(docs, IndexOptions(), settings=KEEP_ALL)
    assert EmbeddedIndex(index_copy).document_count == len(docs)


# -- through the command line ------------------------------------------------------------------


def test_query_on_a_corrupt_index_exits_2_with_the_message(index_copy: Path) -> None:
    flip_a_byte(segment_file(index_copy, "content.bin"))
    result = run_cli(["query", str(QUERIES / "verbatim.py"), "--index", str(index_copy)])
    assert_clean_error(result, "checksum")
    assert_clean_error(run_cli(["index", "stats", "--index", str(index_copy)]), "checksum")


def test_query_on_an_index_of_another_version_exits_2_naming_the_fix(index_copy: Path) -> None:
    edit_manifest(index_copy, lambda raw: raw.update(format_version=FORMAT_VERSION + 1))
    result = run_cli(["query", str(QUERIES / "verbatim.py"), "--index", str(index_copy), "--json"])
    assert_clean_error(result, FIX)


def test_query_on_a_missing_index_exits_2_naming_the_fix(tmp_path: Path) -> None:
    missing = tmp_path / "no-index-here"
    result = run_cli(["query", str(QUERIES / "verbatim.py"), "--index", str(missing)])
    assert_clean_error(result, FIX, "no codecite index")
    assert not missing.exists(), "a query never creates an index directory"
    batch = tmp_path / "in.jsonl"
    batch.write_text('{"id": 1, "code": "x = 1"}\n')
    assert_clean_error(run_cli(["query", "--batch", str(batch), "--index", str(missing)]), FIX)


@pytest.mark.parametrize(
    "content",
    [b"[1, 2, 3]", b"null", b'"a string"', bytes(range(256)) * 4, b"\xff\xfe{}"],
    ids=["a-list", "null", "a-string", "random-bytes", "not-utf8"],
)
def test_a_manifest_that_is_not_an_object_names_the_file_and_the_fix(
    index_copy: Path, content: bytes
) -> None:
    path = manifest_path(index_copy)
    path.write_bytes(content)
    with pytest.raises(IndexVersionError, match=FIX) as err:
        EmbeddedIndex(index_copy)
    assert str(path) in str(err.value)
    result = run_cli(["index", "stats", "--index", str(index_copy)])
    assert_clean_error(result, str(path), FIX)


@pytest.mark.parametrize("name", ["../../..", "../outside", "a/b", "/etc", "..", ""])
def test_a_segment_name_that_leaves_the_index_is_refused(index_copy: Path, name: str) -> None:
    edit_manifest(index_copy, lambda raw: raw["segments"][0].update(name=name))
    with pytest.raises(IndexVersionError, match="not a plain segment name"):
        EmbeddedIndex(index_copy)
    assert_clean_error(run_cli(["index", "stats", "--index", str(index_copy)]), "not a plain segment name")


def test_a_current_file_that_names_a_path_is_refused(index_copy: Path) -> None:
    (index_copy / "CURRENT").write_text("../../etc/passwd\n")
    with pytest.raises(IndexVersionError, match="names no generation"):
        EmbeddedIndex(index_copy)
