"""Candidate selection: look the query's k-grams up and rank the documents they point at.

Approximate by design (hash lookups, capped lists): what comes out are candidates, which only
verification (`search_api.verify`) turns into matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from indexer.backend import IndexBackend, PostingHits
from indexer.minhash import signature
from search_api.channels import TextAnalysis
from search_api.options import QueryOptions


@dataclass(slots=True)
class Candidates:
    """Documents to verify, best first, and what the lookup set aside."""

    doc_ids: list[int]
    discarded: dict[str, int] = field(default_factory=dict)
    # Per query k-gram hash of the exact channel, how many postings the index has (boilerplate signal).
    common_fingerprints: int = 0


def find_candidates(index: IndexBackend, query: TextAnalysis, options: QueryOptions) -> Candidates:
    """Documents sharing fingerprints with the query, ranked by how many distinct ones."""
    exact_hashes = _unique([query.text_view.kgrams, *(v.kgrams for v in query.code_views)])
    norm_hashes = _unique([v.kgrams for v in query.normalized_views])
    exact = index.lookup("exact", exact_hashes, options.max_postings)
    norm = index.lookup("normalized", norm_hashes, options.max_postings)
    scores: dict[int, float] = {}
    _score(exact, scores, 1.0)
    _score(norm, scores, 0.5)
    common = int(np.count_nonzero(exact.frequency > options.max_postings))
    ranked = sorted(scores, key=lambda d: (-scores[d], d))
    chosen = ranked[: options.max_candidates]
    discarded = {}
    if len(ranked) > len(chosen):
        discarded["candidates_over_limit"] = len(ranked) - len(chosen)
    if common:
        discarded["common_fingerprints"] = common
    chosen = _with_cluster_members(index, chosen, options)
    if query.lines >= options.near_dup_min_lines and exact_hashes.shape[0]:
        seen = set(chosen)
        for rep in index.near_duplicates(signature(exact_hashes, index.options)):
            if rep not in seen:
                chosen.append(rep)
                seen.add(rep)
    return Candidates(chosen, discarded, common)


def _unique(parts: list[np.ndarray]) -> np.ndarray:
    parts = [p for p in parts if p.shape[0]]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.uint64)


def _score(hits: PostingHits, scores: dict[int, float], weight: float) -> None:
    """Add, per document, the number of distinct query hashes it shares (times `weight`)."""
    if hits.doc_ids.shape[0] == 0:
        return
    pairs = np.unique(hits.doc_ids * (1 << 32) + hits.query_index.astype(np.int64))
    docs, counts = np.unique(pairs >> 32, return_counts=True)
    for doc, count in zip(docs.tolist(), counts.tolist()):
        scores[doc] = scores.get(doc, 0.0) + weight * count


def _with_cluster_members(index: IndexBackend, chosen: list[int], options: QueryOptions) -> list[int]:
    """Add the near-duplicate members of chosen cluster representatives: they store only the
    postings their representative lacks, so the representative's hits stand for them too."""
    out, seen = [], set()
    for doc in chosen:
        for member in [doc, *_near_members(index, doc, options.max_cluster_expansion)]:
            if member not in seen:
                seen.add(member)
                out.append(member)
    return out


def _near_members(index: IndexBackend, doc: int, limit: int) -> list[int]:
    members = index.cluster_members(doc)
    if members.shape[0] <= 1:
        return []
    identical = set(index.identical_members(doc).tolist())
    return [int(m) for m in members if int(m) not in identical][:limit]
