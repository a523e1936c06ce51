"""How documents fall into segments changes no answer: postings too common to use are judged on
their count in the whole index, not in each segment."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexer.analysis.channels import PostingChannel
from indexer.analysis.fingerprints import fingerprint_document
from indexer.backends import open_writer
from indexer.backends.embedded.reader import EmbeddedIndex
from indexer.placement import BuildSettings
from indexer.records import Document, LicenseCategory, git_blob_id

SHARED = (
    "def shared_helper(values):\n    total = 0\n    for value in values:\n"
    "        total += value * 2 + offset_of(value)\n    return total\n"
)


def _document(i: int) -> Document:
    rng = np.random.default_rng(i)
    body = "".join(f"name_{i}_{j} = {int(rng.integers(1 << 30))}\n" for j in range(60))
    content = f"{body}\n{SHARED}\n"
    return Document(
        git_blob_id(content.encode()),
        f"owner/repo{i}",
        "helpers.py",
        "Python",
        content,
        "MIT",
        LicenseCategory.PERMISSIVE,
    )


def test_common_postings_are_counted_across_segments(tmp_path: Path) -> None:
    docs = [_document(i) for i in range(6)]
    settings = BuildSettings(keep=frozenset(LicenseCategory), max_segment_bytes=1000)  # a file each
    open_writer(tmp_path / "index").build(docs, settings=settings)
    index = EmbeddedIndex(tmp_path / "index")
    assert len(index.segments) == len(docs)
    shared = fingerprint_document(SHARED, "Python", index.options).exact_hashes
    everything = index.lookup(PostingChannel.EXACT, shared, 1_000_000)
    in_all = shared[everything.frequency == len(docs)]
    assert in_all.shape[0] > 0  # the shared function's fingerprints, in every file
    found = index.lookup(PostingChannel.EXACT, in_all, len(docs))
    assert len(set(found.doc_ids.tolist())) == len(docs)
    capped = index.lookup(PostingChannel.EXACT, in_all, len(docs) - 1)  # one too many: boilerplate
    assert capped.doc_ids.shape[0] == 0 and np.all(capped.frequency == len(docs))
