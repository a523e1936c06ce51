"""Crash safety: a build killed midway leaves the previous generation serving, and the next
build cleans up after it; one writer at a time, the others told so at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from engine_testlib import KEEP_ALL, QUERIES, CheckedSearcher, assert_clean_error, corpus_documents, run_cli

from indexer.backends import open_writer
from indexer.backends.embedded.directory import IndexDirectory
from indexer.backends.embedded.reader import EmbeddedIndex
from indexer.backends.errors import IndexLockedError
from indexer.records import content_hash

# A second build in its own process: a stream of distinct generated files that arrives slowly
# (like a large corpus read from disk), so that the build is surely still running when killed.
_SLOW_BUILD = textwrap.dedent("""
    import sys, time
    from indexer.placement import BuildSettings
    from indexer.backends import open_writer
    from indexer.licenses.expressions import license_category
    from indexer.records import Document, git_blob_id

    def documents():
        for i in range(20000):
            text = "".join(f"def generated_{i}_{j}(value_{j}):\\n    return value_{j} * {i * 7 + j} + {j}\\n"
                           for j in range(40))
            yield Document(git_blob_id(text.encode()), f"gen/repo{i % 50}", f"mod_{i}.py", "Python", text,
                           "MIT", license_category("MIT"))
            time.sleep(0.001)

    open_writer(sys.argv[1]).build(documents(), settings=BuildSettings(batch_documents=16, workers=1))
    print("finished", flush=True)
""")


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _unfinished_segments(index: Path) -> list[Path]:
    segments = index / "segments"
    return sorted(segments.glob("*.tmp")) if segments.exists() else []


def test_a_build_killed_midway_leaves_the_previous_generation_serving(tmp_path: Path) -> None:
    index_path = tmp_path / "index"
    docs = corpus_documents()
    first = open_writer(index_path).build(docs, settings=KEEP_ALL)
    query = (QUERIES / "verbatim.py").read_text()
    before = CheckedSearcher(EmbeddedIndex(index_path)).attribute(query, "python")
    assert before.matches

    script = tmp_path / "slow_build.py"
    script.write_text(_SLOW_BUILD)
    build = subprocess.Popen(
        [sys.executable, str(script), str(index_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        _wait_for(
            lambda: _unfinished_segments(index_path) or build.poll() is not None,
            120,
            "the build to start writing a segment",
        )
        assert build.poll() is None, f"the build ended early: {build.communicate()}"
        unfinished = _unfinished_segments(index_path)[0]
        _wait_for(lambda: any(unfinished.iterdir()), 30, "the segment's first file")
        # While it runs, a second writer is refused at once; readers are not disturbed.
        with pytest.raises(IndexLockedError, match="another process is writing"):
            open_writer(index_path).build(docs[:2], settings=KEEP_ALL)
        assert EmbeddedIndex(index_path).document_count == len(docs)
        build.send_signal(signal.SIGKILL)
        build.wait(timeout=30)
    finally:
        if build.poll() is None:
            build.kill()
            build.wait()
    assert build.returncode == -signal.SIGKILL
    assert _unfinished_segments(index_path), "the killed build left its unfinished segment behind"

    survivor = EmbeddedIndex(index_path)
    assert survivor.manifest.generation == first.manifest.generation
    assert survivor.document_count == len(docs)
    after = CheckedSearcher(survivor).attribute(query, "python")
    assert [(m.source.repo, m.source.path, m.source_span) for m in after.matches] == [
        (m.source.repo, m.source.path, m.source_span) for m in before.matches
    ]

    again = open_writer(index_path).build(docs, settings=KEEP_ALL)
    assert again.manifest.generation == first.manifest.generation + 1
    assert _unfinished_segments(index_path) == [], "the next build removes the leftovers"
    live = {s.name for s in again.manifest.segments} | {s.name for s in first.manifest.segments}
    assert {p.name for p in (index_path / "segments").iterdir()} <= live
    rebuilt = EmbeddedIndex(index_path)
    assert rebuilt.document_count == len(docs)
    assert CheckedSearcher(rebuilt).attribute(query, "python").matches


_HOLD_LOCK = textwrap.dedent("""
    import sys
    from indexer.backends.embedded.directory import IndexDirectory
    with IndexDirectory(sys.argv[1]).writing():
        print("locked", flush=True)
        sys.stdin.read()  # until the test closes our standard input
""")


def test_a_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    index_path = tmp_path / "index"
    docs = corpus_documents(["kjd/idna", "pallets/itsdangerous"])
    open_writer(index_path).build(docs, settings=KEEP_ALL)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(index_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(IndexLockedError, match="another process is writing"):
            open_writer(index_path).build(docs, settings=KEEP_ALL)
        with pytest.raises(IndexLockedError), IndexDirectory(index_path).writing():
            pass
        result = run_cli(["index", "remove", "--index", str(index_path), "--repo", "kjd/idna"])
        assert_clean_error(result, "another process is writing")
        assert EmbeddedIndex(index_path).document_count == len(docs), "the serving generation is untouched"
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert holder.returncode == 0
    # Once the writer is done, the next one goes ahead.
    assert open_writer(index_path).build(docs, settings=KEEP_ALL).manifest.generation == 2


def test_a_reader_that_switches_generation_answers_from_the_new_one(tmp_path: Path) -> None:
    index_path = tmp_path / "index"
    first, second = corpus_documents(["kjd/idna"]), corpus_documents(["pallets/itsdangerous"])
    open_writer(index_path).build(first + second, settings=KEEP_ALL)
    reader = EmbeddedIndex(index_path)
    gone, kept = first[0], second[0]
    assert reader.find_content(content_hash(gone.content.encode())) == 0
    assert reader.find_blob(kept.blob_id) == len(first)
    open_writer(index_path).build(second, settings=KEEP_ALL)
    assert reader.reopen_if_changed() is True
    assert reader.find_content(content_hash(gone.content.encode())) is None
    assert reader.find_content(content_hash(kept.content.encode())) == 0
    assert reader.find_blob(gone.blob_id) is None and reader.find_blob(kept.blob_id) == 0


def test_a_generation_switch_opens_only_the_new_segments(tmp_path: Path) -> None:
    index_path = tmp_path / "index"
    open_writer(index_path).build(corpus_documents(["kjd/idna"]), settings=KEEP_ALL)
    reader = EmbeddedIndex(index_path)
    (first,) = reader.segments
    added = corpus_documents(["pallets/itsdangerous"])
    open_writer(index_path).add(added, settings=KEEP_ALL)
    assert reader.reopen_if_changed() is True
    assert reader.segments[0] is first and len(reader.segments) == 2
    assert reader.find_blob(added[0].blob_id) == first.doc_base + len(first)
    open_writer(index_path).build(added, settings=KEEP_ALL)  # a rebuild: every segment new
    assert reader.reopen_if_changed() is True
    assert all(seg is not first for seg in reader.segments) and reader.find_blob(added[0].blob_id) == 0
