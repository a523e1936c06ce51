"""Placement, the backend-neutral half of a build: which documents go in, with which postings.

    documents ─► license filter ─► fingerprint (worker threads) ─► copy clusters ─► PlacedDocument

Every backend's writer stores what `Placement.documents` yields. Fingerprinting runs in worker
threads: its compiled kernels release the GIL, so both cores work. Clustering stays in order on
the calling thread, which makes builds deterministic. Memory stays bounded: documents stream
through in batches, and only the fingerprints of recent cluster representatives are cached (a copy
whose representative fell out of the cache keeps all its postings — more space, never less recall).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from cachetools import LRUCache
from datasketch import MinHashLSH

from indexer.analysis.channels import PostingChannel
from indexer.analysis.fingerprints import DocFingerprints, fingerprint_bytes
from indexer.analysis.minhash import estimated_jaccard, lean, new_lsh
from indexer.options import IndexOptions
from indexer.records import (
    DEFAULT_KEEP,
    Document,
    IngestStats,
    LicenseCategory,
    Skip,
    SkipReason,
    content_hash,
)

log = logging.getLogger(__name__)

Postings = dict[
    PostingChannel, tuple[np.ndarray, np.ndarray]
]  # channel -> (uint64 hashes, int32 1-based lines)


@dataclass(frozen=True, slots=True)
class BuildSettings:
    """How a build runs (not how it fingerprints: that is `IndexOptions`)."""

    keep: frozenset[LicenseCategory] = DEFAULT_KEEP
    workers: int = 2
    batch_documents: int = 128
    max_segment_bytes: int = 512 * 1024 * 1024
    cached_representatives: int = 50_000

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ValueError(f"workers={self.workers}: use at least 1")
        if self.batch_documents < 1 or self.max_segment_bytes < 1:
            raise ValueError("batch_documents and max_segment_bytes must be positive")


class ExistingIndex(Protocol):
    """What clustering needs of an index being added to (the embedded and Elasticsearch backends
    both provide it)."""

    @property
    def content_hashes(self) -> dict[str, int]: ...  # content hash -> first global id with that content

    @property
    def next_doc_base(self) -> int: ...

    @property
    def lsh(self) -> MinHashLSH: ...  # cluster representatives, keyed by global id

    def cluster_of(self, doc_id: int) -> int: ...  # its representative's global id

    def signature(self, doc_id: int) -> np.ndarray: ...


@dataclass(frozen=True, slots=True)
class PlacedDocument:
    """A document with its global id and the postings it stores.

    `cluster` is the global id of its copy cluster's representative, -1 when it is one itself;
    `postings` maps channel -> (uint64 hashes, int32 1-based lines) — empty for a byte-identical
    copy, only what the representative lacks for a near-duplicate; `same_content_as` names an
    earlier document with identical bytes (whose stored text it can share); `raw` is its content
    as UTF-8 bytes.
    """

    doc_id: int
    document: Document
    raw: bytes
    fingerprints: DocFingerprints
    content_hash: str
    cluster: int
    postings: Postings
    same_content_as: int | None


class Placement:
    """The backend-neutral half of a build: filter, fingerprint and cluster documents, giving
    each a global id from `first_doc_id` on. Counts what it kept, skipped and clustered."""

    def __init__(
        self,
        options: IndexOptions,
        settings: BuildSettings,
        first_doc_id: int = 0,
        existing: ExistingIndex | None = None,
    ) -> None:
        self.options = options
        self.settings = settings
        self.stats = IngestStats()
        self.skips: list[Skip] = []
        self.next_doc_id = first_doc_id
        self._clusters = _Clusterer(options, settings.cached_representatives, existing)

    @property
    def identical(self) -> int:
        return self._clusters.identical

    @property
    def near(self) -> int:
        return self._clusters.near

    def documents(self, items: Iterable[Document | Skip]) -> Iterator[PlacedDocument]:
        """Each kept document of `items`, in input order, placed."""
        kept = filtered(items, self.settings.keep, self.stats, self.skips)
        for doc, raw, fingerprints, digest in _fingerprinted(kept, self.options, self.settings):
            doc_id = self.next_doc_id
            cluster, postings, same = self._clusters.place(doc_id, fingerprints, digest)
            self.next_doc_id += 1
            self.stats.count_document(doc, len(raw))
            yield PlacedDocument(doc_id, doc, raw, fingerprints, digest, cluster, postings, same)


def filtered(
    items: Iterable[Document | Skip], keep: frozenset[LicenseCategory], stats: IngestStats, skips: list[Skip]
) -> Iterator[Document]:
    """Documents whose license category the index keeps; every drop is counted."""
    for item in items:
        if isinstance(item, Skip):
            stats.count_skip(item)
            if len(skips) < 10_000:
                skips.append(item)
        elif item.license_category not in keep:
            skip = Skip(SkipReason.LICENSE_FILTERED, f"{item.repo}/{item.path}", item.license or "no license")
            stats.count_skip(skip)
            if len(skips) < 10_000:
                skips.append(skip)
        else:
            yield item


def _fingerprinted(
    docs: Iterable[Document], options: IndexOptions, settings: BuildSettings
) -> Iterator[tuple[Document, bytes, DocFingerprints, str]]:
    """Each document with its UTF-8 bytes, fingerprints and content hash, in input order,
    computed by worker threads."""

    def work(batch: list[Document]) -> list[tuple[Document, bytes, DocFingerprints, str]]:
        out = []
        for doc in batch:
            raw = doc.content.encode("utf-8", "surrogatepass")
            fingerprints = fingerprint_bytes(np.frombuffer(raw, dtype=np.uint8), doc.language, options)
            out.append((doc, raw, fingerprints, content_hash(raw)))
        return out

    with ThreadPoolExecutor(settings.workers, thread_name_prefix="fingerprint") as pool:
        pending: list[Future] = []
        for batch in _batches(docs, settings.batch_documents):
            pending.append(pool.submit(work, batch))
            while len(pending) > 2 * settings.workers:
                yield from pending.pop(0).result()
        for future in pending:
            yield from future.result()


def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    batch: list[Document] = []
    for doc in docs:
        batch.append(doc)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class _Clusterer:
    """Assigns each document to a copy cluster and decides which postings it stores.

    Byte-identical documents share their cluster's postings (they store none); near-duplicates
    (MinHash LSH, estimated Jaccard >= the threshold) store only the postings their
    representative lacks; everything else starts a cluster of its own.
    """

    def __init__(self, options: IndexOptions, cache_size: int, existing: ExistingIndex | None) -> None:
        self.options = options
        self.identical = 0
        self.near = 0
        self._by_content: dict[str, int] = dict(existing.content_hashes) if existing else {}
        self._existing = existing
        self._lsh = existing.lsh if existing else new_lsh(options)
        self._signatures: dict[int, np.ndarray] = {}
        self._cache: LRUCache[int, dict[PostingChannel, np.ndarray]] = LRUCache(cache_size)
        self._cluster_of: dict[int, int] = {}

    def place(self, doc_id: int, fp: DocFingerprints, content_hash: str) -> tuple[int, Postings, int | None]:
        """(cluster representative or -1, postings to store, earlier document with the same bytes)."""
        twin = self._by_content.get(content_hash)
        if twin is not None:
            self.identical += 1
            return self._representative(twin), {}, twin
        self._by_content[content_hash] = doc_id
        full = {
            PostingChannel.EXACT: (fp.exact_hashes, fp.exact_lines),
            PostingChannel.NORMALIZED: (fp.normalized_hashes, fp.normalized_lines),
        }
        rep = self._nearest(fp.signature)
        if rep is None:
            self._signatures[doc_id] = fp.signature
            self._lsh.insert(doc_id, lean(fp.signature, self.options), check_duplication=False)
            self._remember(doc_id, fp)
            return -1, full, None
        self.near += 1
        self._cluster_of[doc_id] = rep
        rep_hashes = self._cache.get(rep)
        if rep_hashes is None:
            return rep, full, None
        return rep, {c: missing_from(h, l, rep_hashes[c]) for c, (h, l) in full.items()}, None

    def _representative(self, doc_id: int) -> int:
        if doc_id in self._cluster_of:
            return self._cluster_of[doc_id]
        if self._existing is not None and doc_id < self._existing.next_doc_base:
            return self._existing.cluster_of(doc_id)
        return doc_id

    def _nearest(self, signature: np.ndarray) -> int | None:
        best, best_j = None, self.options.cluster_threshold
        for key in self._lsh.query(lean(signature, self.options)):
            rep = int(key)
            other = self._signatures.get(rep)
            if other is None and self._existing is not None:
                other = self._existing.signature(rep)
            if other is None:
                continue
            j = estimated_jaccard(signature, other)
            if j >= best_j and (best is None or rep < best or j > best_j):
                best, best_j = rep, j
        return best

    def _remember(self, doc_id: int, fp: DocFingerprints) -> None:
        self._cache[doc_id] = {
            PostingChannel.EXACT: fp.exact_hashes,
            PostingChannel.NORMALIZED: fp.normalized_hashes,
        }


def missing_from(hashes: np.ndarray, lines: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The postings (hashes, lines) whose hash is not among `present` (a representative's hashes,
    which `DocFingerprints` keeps sorted: a binary search each, no hash set)."""
    if present.shape[0] == 0 or hashes.shape[0] == 0:
        return hashes, lines
    if present.shape[0] > 1 and np.any(present[1:] < present[:-1]):
        present = np.sort(present)
    at = np.minimum(np.searchsorted(present, hashes), present.shape[0] - 1)
    keep = present[at] != hashes
    return hashes[keep], lines[keep]
