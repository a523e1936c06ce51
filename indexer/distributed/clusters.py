"""Copy clusters of a distributed build, decided in input order as a single-process build does.

Clustering is sequential by nature: a document joins the best earlier *representative* whose
signature is close enough, and whether an earlier document is a representative depends on the
documents before it. The reducers (`indexer.distributed.shuffle`) leave only the light part of
that to the driver: which documents copy an earlier one byte for byte, and which share an LSH
band with which. `replay` walks the input order once over that, applying the rules of
`indexer.placement` — including the bounded cache of representatives' fingerprints, which
decides whether a near-duplicate stores only what its representative lacks, or everything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from cachetools import LRUCache

from indexer.analysis.minhash import estimated_jaccard, lsh_bands
from indexer.distributed.shuffle import Reduced, order_key
from indexer.options import IndexOptions


@dataclass(frozen=True, slots=True)
class Placed:
    """How a document that is not a plain new representative is stored (orders, not ids).

    `cluster`: its representative; `same_content_as`: the first document with its bytes
    (identical copies store no postings); `missing_from`: the representative whose postings a
    near-duplicate leaves out (None: it stores all of its own)."""

    cluster: int
    same_content_as: int | None = None
    missing_from: int | None = None


@dataclass(slots=True)
class Clustering:
    """The replay's outcome: placements by order, and the counts a build reports."""

    placed: dict[int, Placed] = field(default_factory=dict)
    identical: int = 0
    near: int = 0


def replay(
    shard_sizes: list[int], reduced: Iterable[Reduced], options: IndexOptions, cached_representatives: int
) -> Clustering:
    """Cluster every document of shards of `shard_sizes` documents, in input order."""
    twins: dict[int, int] = {}
    buckets_of: dict[int, list[tuple[int, np.ndarray]]] = {}
    signatures: dict[int, np.ndarray] = {}
    for part in reduced:
        twins.update(zip(part.twins[:, 0].tolist(), part.twins[:, 1].tolist(), strict=True))
        signatures.update(part.signatures)
        for band, members in part.buckets:
            for member in members.tolist():
                buckets_of.setdefault(member, []).append((band, members))
    out = Clustering()
    state = _State(options, cached_representatives, signatures)
    for shard, size in enumerate(shard_sizes):
        for position in range(size):
            doc = order_key(shard, position)
            twin = twins.get(doc)
            if twin is not None:
                out.identical += 1
                out.placed[doc] = Placed(state.cluster_of.get(twin, twin), same_content_as=twin)
                continue
            rep = state.nearest(doc, buckets_of.get(doc, []))
            if rep is None:
                state.new_representative(doc)
                continue
            out.near += 1
            state.cluster_of[doc] = rep
            cached = state.cache.get(rep) is not None
            out.placed[doc] = Placed(rep, missing_from=rep if cached else None)
    return out


class _State:
    """Representatives so far, what each copy joined, and the fingerprint cache's contents."""

    def __init__(self, options: IndexOptions, cache_size: int, signatures: dict[int, np.ndarray]) -> None:
        self.threshold = options.cluster_threshold
        self.bands = lsh_bands(options)
        self.signatures = signatures
        self.representative: set[int] = set()
        self.cluster_of: dict[int, int] = {}
        self.cache: LRUCache[int, bool] = LRUCache(cache_size)

    def new_representative(self, doc: int) -> None:
        if doc in self.signatures:  # only bucket members can ever be found by a later document
            self.representative.add(doc)
        self.cache[doc] = True

    def nearest(self, doc: int, buckets: list[tuple[int, np.ndarray]]) -> int | None:
        """The earlier representative sharing a whole band whose estimated Jaccard is highest
        (at least the threshold; ties: the lowest), as `indexer.placement` picks it."""
        if not buckets:
            return None
        mine = self.signatures[doc]
        best, best_j = None, self.threshold
        candidates = {m for _, members in buckets for m in members.tolist() if m < doc}
        for other_doc in sorted(candidates):
            if other_doc not in self.representative:
                continue
            other = self.signatures[other_doc]
            if not self._collide(mine, other):
                continue
            j = estimated_jaccard(mine, other)
            if j >= best_j and (best is None or other_doc < best or j > best_j):
                best, best_j = other_doc, j
        return best

    def _collide(self, a: np.ndarray, b: np.ndarray) -> bool:
        """Whether any band is equal in both (a band key collision alone is not enough)."""
        return any(np.array_equal(a[s:e], b[s:e]) for s, e in self.bands)
