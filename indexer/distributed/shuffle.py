"""The map and reduce sides of a distributed build's copy clustering (plain functions; Ray runs them).

Map (`fingerprint_shard`): fingerprint one shard and emit, per reducer, the content hash of every
document and its LSH band keys (`indexer.analysis.minhash.band_keys`), partitioned by key.
Reduce (`reduce_partition`): documents with equal content hashes are byte-identical copies of the
first of them; documents whose bands are equal are near-duplicate candidates (as BigCode's
near-dedup grouped band keys on Spark). A document is named by its `order` key, ``shard << 32 |
position``, which sorts as the input does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from indexer.analysis.fingerprints import DocFingerprints, fingerprint_bytes
from indexer.analysis.minhash import band_keys, storage_dtype
from indexer.distributed.shards import ShardSpec, read_shard
from indexer.options import IndexOptions
from indexer.placement import filtered
from indexer.records import Document, IngestStats, LicenseCategory, Skip, content_hash
from indexer.sources import IngestOptions

MAX_SKIPS = 10_000  # skips listed per build (all are counted), as a single-process build keeps


@dataclass(slots=True)
class ShardData:
    """A fingerprinted shard, kept in the object store until its segments are written."""

    shard: int
    documents: list[tuple[Document, bytes, DocFingerprints, str]]


@dataclass(slots=True)
class ShardSummary:
    """What the driver learns of a shard: its size, counts and skips."""

    shard: int
    documents: int
    stats: IngestStats
    skips: list[Skip] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)  # UTF-8 bytes of each document
    lines: list[int] = field(default_factory=list)  # lines of each document


@dataclass(frozen=True, slots=True)
class Partition:
    """One reducer's share of one shard. `content` rows: (hash high, hash low, order);
    `bands` rows: (band, band key, order, hash high, hash low) with the signature of each row."""

    content: np.ndarray  # uint64[m, 3]
    bands: np.ndarray  # uint64[m, 5]
    signatures: np.ndarray  # storage dtype [m, minhash_perm]


@dataclass(frozen=True, slots=True)
class Reduced:
    """What one reducer found: `twins` rows (order, order of the first with the same content);
    `buckets`, each the sorted orders of distinct contents sharing a band key, with their band;
    the signature of every document in a bucket."""

    twins: np.ndarray  # uint64[t, 2]
    buckets: list[tuple[int, np.ndarray]]
    signatures: dict[int, np.ndarray]


def order_key(shard: int, position: int) -> int:
    return (shard << 32) | position


def fingerprint_shard(
    shard: ShardSpec,
    ingest: IngestOptions,
    options: IndexOptions,
    keep: frozenset[LicenseCategory],
    reducers: int,
) -> tuple[ShardSummary, ShardData, list[Partition]]:
    """Read, filter and fingerprint one shard; partition its clustering keys over `reducers`."""
    stats, skips = IngestStats(), list[Skip]()
    docs: list[tuple[Document, bytes, DocFingerprints, str]] = []
    items: list[Document | Skip] = list(read_shard(shard, ingest))
    for doc in filtered(items, keep, stats, skips):
        raw = doc.content.encode("utf-8", "surrogatepass")
        fp = fingerprint_bytes(np.frombuffer(raw, dtype=np.uint8), doc.language, options)
        docs.append((doc, raw, fp, content_hash(raw)))
        stats.count_document(doc, len(raw))
    summary = ShardSummary(
        shard.number,
        len(docs),
        stats,
        skips[:MAX_SKIPS],
        [len(raw) for _, raw, _, _ in docs],
        [fp.n_lines for _, _, fp, _ in docs],
    )
    return summary, ShardData(shard.number, docs), _partitions(shard.number, docs, options, reducers)


def _partitions(
    shard: int, docs: list[tuple[Document, bytes, DocFingerprints, str]], options: IndexOptions, reducers: int
) -> list[Partition]:
    n, dtype = len(docs), storage_dtype(options)
    orders = np.array([order_key(shard, i) for i in range(n)], dtype=np.uint64)
    hashes = np.array([(int(h[:16], 16), int(h[16:32], 16)) for *_, h in docs], dtype=np.uint64).reshape(n, 2)
    sigs = (
        np.stack([fp.signature for _, _, fp, _ in docs]).astype(dtype)
        if n
        else np.zeros((0, options.minhash_perm), dtype)
    )
    content = np.column_stack([hashes, orders]) if n else np.zeros((0, 3), np.uint64)
    keys = band_keys(sigs, options) if n else np.zeros((0, 0), np.uint64)
    rows = [
        np.column_stack([np.full(n, band, np.uint64), keys[:, band], orders, hashes])
        for band in range(keys.shape[1])
    ]
    bands = np.concatenate(rows) if rows else np.zeros((0, 5), np.uint64)
    band_sigs = np.concatenate([sigs] * len(rows)) if rows else np.zeros((0, sigs.shape[1]), dtype)
    to_content = content[:, 1] % np.uint64(reducers)
    to_band = bands[:, 1] % np.uint64(reducers)
    return [
        Partition(content[to_content == r], bands[to_band == r], band_sigs[to_band == r])
        for r in range(reducers)
    ]


def reduce_partition(*parts: Partition) -> Reduced:
    """Group one reducer's rows from every shard: identical contents, shared band keys."""
    content = np.concatenate([p.content for p in parts]) if parts else np.zeros((0, 3), np.uint64)
    bands = np.concatenate([p.bands for p in parts]) if parts else np.zeros((0, 5), np.uint64)
    sigs = np.concatenate([p.signatures for p in parts]) if parts else np.zeros((0, 0), np.uint16)
    return Reduced(_twins(content), *_buckets(bands, sigs))


def _twins(content: np.ndarray) -> np.ndarray:
    """(order, first order with the same content) for every document but the first of each content."""
    if content.shape[0] == 0:
        return np.zeros((0, 2), np.uint64)
    content = content[np.lexsort((content[:, 2], content[:, 1], content[:, 0]))]
    starts = np.ones(content.shape[0], dtype=bool)
    starts[1:] = (content[1:, 0] != content[:-1, 0]) | (content[1:, 1] != content[:-1, 1])
    first = content[np.flatnonzero(starts)[np.cumsum(starts) - 1], 2]
    copies = ~starts
    return np.column_stack([content[copies, 2], first[copies]])


def _buckets(
    bands: np.ndarray, sigs: np.ndarray
) -> tuple[list[tuple[int, np.ndarray]], dict[int, np.ndarray]]:
    """Buckets of two or more distinct contents sharing (band, band key); identical copies never
    look for near-duplicates, so only the first document of each content stays in a bucket."""
    buckets: list[tuple[int, np.ndarray]] = []
    signatures: dict[int, np.ndarray] = {}
    if bands.shape[0] == 0:
        return buckets, signatures
    order = np.lexsort((bands[:, 2], bands[:, 4], bands[:, 3], bands[:, 1], bands[:, 0]))
    bands, sigs = bands[order], sigs[order]
    new_bucket = np.ones(bands.shape[0], dtype=bool)
    new_bucket[1:] = (bands[1:, 0] != bands[:-1, 0]) | (bands[1:, 1] != bands[:-1, 1])
    new_content = new_bucket.copy()
    new_content[1:] |= (bands[1:, 3] != bands[:-1, 3]) | (bands[1:, 4] != bands[:-1, 4])
    keep = np.flatnonzero(new_content)  # the first document of each content in each bucket
    bounds = np.append(np.flatnonzero(new_bucket[keep]), keep.shape[0])
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        if b - a < 2:
            continue
        rows = keep[a:b]
        members = np.sort(bands[rows, 2])
        buckets.append((int(bands[rows[0], 0]), members))
        for row in rows.tolist():
            signatures[int(bands[row, 2])] = sigs[row]
    return buckets, signatures
