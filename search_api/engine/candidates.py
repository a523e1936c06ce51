"""Candidate selection: look the query's k-grams up and rank the source regions they point at.

Approximate by design (hash lookups, capped posting lists): what comes out are candidates — a
document and a window of its lines — which only verification (`search_api.engine.verify`) turns into
matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from indexer.analysis.channels import PostingChannel
from indexer.analysis.lexer import lines_of
from indexer.analysis.minhash import signature
from indexer.backends.base import IndexReader, PostingHits
from search_api.engine.options import QueryOptions
from search_api.engine.verify import Rarity
from search_api.engine.views import TextViews

_NORMALIZED_WEIGHT = 0.5  # a normalized hit is weaker evidence than an exact one
MAX_CONSIDERED = 200  # regions looked at when choosing candidates (the rest are weaker still)
NEAR_COPY_DRIFT = 150  # lines a near-duplicate's code may have moved relative to its representative
_BOTH = frozenset(PostingChannel)
_EXACT_ONLY = frozenset({PostingChannel.EXACT})
_NORMALIZED_ONLY = frozenset({PostingChannel.NORMALIZED})
DRIFT_LINES = 20  # hits whose diagonals differ by more belong to different copies
WINDOW_SLACK = 3  # extra source lines on each side of a candidate window
MAX_WINDOW_LINES = 400  # wider chains are narrowed to their densest stretch
QUERY_MARGIN = 6  # query lines around a chain's hits that a match may still reach


@dataclass(frozen=True, slots=True)
class Candidate:
    """A source region to verify: lines `lines` of document `doc_id` (None: the whole file)."""

    doc_id: int
    lines: tuple[int, int] | None
    score: float
    query_bytes: tuple[int, int] = (0, 0)  # where in the query its hits are
    query_lines: tuple[int, int] | None = None  # the query lines worth aligning (None: all)
    channels: frozenset[PostingChannel] = _BOTH  # channels with hits here
    via: int | None = None  # a near-duplicate borrowing this representative's hits


@dataclass(slots=True)
class Candidates:
    """Regions to verify, best first, and what the lookup set aside (reason -> count)."""

    regions: list[Candidate]
    rarity: Rarity
    discarded: dict[str, int] = field(default_factory=dict)


def find_candidates(index: IndexReader, query: TextViews, options: QueryOptions) -> Candidates:
    """Source regions sharing fingerprints with the query, ranked by how many distinct ones."""
    exact_views = [query.text_view, *query.code_views]
    exact_hashes, exact_at = _hashes_and_positions(exact_views)
    norm_hashes, norm_at = _hashes_and_positions([query.normalized_view])
    exact = index.lookup(PostingChannel.EXACT, exact_hashes, options.max_postings)
    norm = index.lookup(PostingChannel.NORMALIZED, norm_hashes, options.max_postings)
    chains = _regions(exact, norm, exact_at, norm_at, query)
    discarded: dict[str, int] = {}
    common = int(np.count_nonzero(exact.frequency > options.max_postings))
    if common:
        discarded["common_fingerprints"] = common
    kept = _strongest(chains, options)
    if len(kept) < chains.order.shape[0]:
        discarded["weak_candidates"] = chains.order.shape[0] - len(kept)
    regions = _with_cluster_members(index, [chains.candidate(rank) for rank in kept], options)
    if query.lines >= options.near_dup_min_lines and exact_hashes.shape[0]:
        known = {c.doc_id for c in regions}
        for rep in index.near_duplicates(signature(exact_hashes, index.options)):
            if rep not in known:
                regions.append(Candidate(rep, None, 0.0))
    rarity = Rarity(
        {PostingChannel.EXACT: exact_hashes, PostingChannel.NORMALIZED: norm_hashes},
        {
            PostingChannel.EXACT: _repos_per_hash(index, exact),
            PostingChannel.NORMALIZED: _repos_per_hash(index, norm),
        },
    )
    return Candidates(regions, rarity, discarded)


def _repos_per_hash(index: IndexReader, hits: PostingHits) -> np.ndarray:
    """In how many repositories each query hash occurs (copies inside one repository count once;
    hashes too common to return keep their posting count)."""
    if hits.doc_ids.shape[0] == 0:
        return hits.frequency.astype(np.int64)
    repos = index.repo_ids(hits.doc_ids)
    pairs = np.unique(hits.query_index.astype(np.int64) * (1 << 40) + repos)
    counts = np.bincount(pairs >> 40, minlength=hits.frequency.shape[0])
    return np.where(counts > 0, counts, hits.frequency).astype(np.int64)


def _hashes_and_positions(views: list) -> tuple[np.ndarray, np.ndarray]:
    """The distinct k-gram hashes of some views (sorted) and the query byte offset of each."""
    hashes = [v.kgrams for v in views if v.kgrams.shape[0]]
    if not hashes:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    offsets = [v.channel.offsets[: v.kgrams.shape[0]].astype(np.int64) for v in views if v.kgrams.shape[0]]
    unique, first = np.unique(np.concatenate(hashes), return_index=True)
    return unique, np.concatenate(offsets)[first]


def _strongest(regions: _Chains, options: QueryOptions) -> list[int]:
    """The best chains (indexes into `regions.order`): at most `max_candidates`; each either not
    far weaker than the best one, or the best for a part of the query no stronger candidate
    points at (a query can hold code from several sources)."""
    if regions.order.shape[0] == 0:
        return []
    considered = regions.order[:MAX_CONSIDERED]
    kept = _pick_strongest(
        regions.score[considered],
        regions.q_lo[considered].astype(np.int64),
        regions.q_hi[considered].astype(np.int64) + 1,
        options.candidate_ratio,
        options.max_candidates,
    )
    return kept.tolist()


@njit(cache=True, nogil=True)
def _pick_strongest(scores, lows, highs, ratio, limit):
    covered = np.zeros(highs.max() + 1, dtype=np.bool_)
    floor = scores[0] * ratio
    kept = np.empty(min(limit, scores.shape[0]), dtype=np.int64)
    count = 0
    for rank in range(scores.shape[0]):
        if count == limit:
            break
        lo, hi = lows[rank], highs[rank]
        seen = 0
        for i in range(lo, hi):
            seen += covered[i]
        if scores[rank] >= floor or seen <= 0.5 * (hi - lo):
            kept[count] = rank
            count += 1
            covered[lo:hi] = True
    return kept[:count]


def _rarity(frequency: np.ndarray) -> np.ndarray:
    """Evidence a hit carries: 1 for a fingerprint found once, less the commoner it is."""
    return 1.0 / (1.0 + np.log2(np.maximum(frequency, 1).astype(np.float64)))


@dataclass(frozen=True, slots=True)
class _Chains:
    """Hits chained per document along diagonals, as arrays (one entry per chain, `order` the
    chains by decreasing score, at most MAX_CONSIDERED); a chain becomes a Candidate only when
    chosen (`candidate`)."""

    order: np.ndarray
    score: np.ndarray
    q_lo: np.ndarray
    q_hi: np.ndarray
    line_lo: np.ndarray
    line_hi: np.ndarray
    doc_of: np.ndarray
    both: np.ndarray
    exact: np.ndarray
    bounds: np.ndarray
    diagonal: np.ndarray

    def candidate(self, rank: int) -> Candidate:
        g = int(self.order[rank])
        q_lines = (int(self.line_lo[g]) - QUERY_MARGIN, int(self.line_hi[g]) + QUERY_MARGIN)
        window = _window(self.diagonal[self.bounds[g] : self.bounds[g + 1]], q_lines)
        channels = _BOTH if self.both[g] else (_EXACT_ONLY if self.exact[g] else _NORMALIZED_ONLY)
        return Candidate(
            int(self.doc_of[g]),
            window,
            float(self.score[g]),
            (int(self.q_lo[g]), int(self.q_hi[g]) + 1),
            q_lines,
            channels,
        )


_NO_CHAINS = _Chains(*(np.zeros(0, np.int64) for _ in range(11)))


def _regions(
    exact: PostingHits, norm: PostingHits, exact_at: np.ndarray, norm_at: np.ndarray, query: TextViews
) -> _Chains:
    """Chain hits per document along diagonals (source line minus query line): hits of one copy
    of the query share a diagonal, up to the drift that edits cause. Score = distinct query
    hashes on the chain, each weighted by its rarity (normalized ones at half weight)."""
    docs = np.concatenate([exact.doc_ids, norm.doc_ids])
    if docs.shape[0] == 0:
        return _NO_CHAINS
    keys = np.concatenate([exact.query_index, norm.query_index + exact_at.shape[0]]).astype(np.int64)
    at = np.concatenate([exact_at[exact.query_index], norm_at[norm.query_index]])
    query_line = lines_of(at, query.lexed.line_starts)
    diagonal = np.concatenate([exact.lines, norm.lines]).astype(np.int64) - query_line
    weights = np.concatenate(
        [
            _rarity(exact.frequency[exact.query_index]),
            _NORMALIZED_WEIGHT * _rarity(norm.frequency[norm.query_index]),
        ]
    )
    order = np.lexsort((diagonal, docs))
    docs, diagonal, keys, weights, at = docs[order], diagonal[order], keys[order], weights[order], at[order]
    query_line = query_line[order]
    starts = np.ones(docs.shape[0], dtype=bool)
    starts[1:] = (docs[1:] != docs[:-1]) | (diagonal[1:] - diagonal[:-1] > DRIFT_LINES)
    group = np.cumsum(starts) - 1
    # distinct (group, key): one query hash counts once per chain however often it hits there
    pair = group * (np.int64(keys.max()) + 1) + keys
    _, first = np.unique(pair, return_index=True)
    score = np.bincount(group[first], weights=weights[first])
    is_exact = keys[first] < exact_at.shape[0]
    exact_hits = np.bincount(group[first], weights=is_exact, minlength=score.shape[0])
    norm_hits = np.bincount(group[first], weights=~is_exact, minlength=score.shape[0])
    firsts = np.flatnonzero(starts)
    doc_of = docs[firsts]
    return _Chains(
        order=np.lexsort((doc_of, -score))[:MAX_CONSIDERED],
        score=score,
        q_lo=np.minimum.reduceat(at, firsts),
        q_hi=np.maximum.reduceat(at, firsts),
        line_lo=np.minimum.reduceat(query_line, firsts),
        line_hi=np.maximum.reduceat(query_line, firsts),
        doc_of=doc_of,
        both=(exact_hits > 0) & (norm_hits > 0),
        exact=exact_hits > 0,
        bounds=np.append(firsts, docs.shape[0]),
        diagonal=diagonal,
    )


def _window(diagonals: np.ndarray, query_lines: tuple[int, int]) -> tuple[int, int]:
    """Source lines the query lines `query_lines` cover when placed on a chain's diagonals
    (sorted), with a little slack. A chain drifting very wide (fingerprints scattered all over a
    long file) is narrowed to its densest stretch of diagonals."""
    lo, hi = int(diagonals[0]), int(diagonals[-1])
    if hi - lo > MAX_WINDOW_LINES:
        ends = np.searchsorted(diagonals, diagonals + 2 * DRIFT_LINES, side="right")
        best = int(np.argmax(ends - np.arange(diagonals.shape[0])))
        lo, hi = int(diagonals[best]), int(diagonals[ends[best] - 1])
    return lo + query_lines[0] - WINDOW_SLACK, hi + query_lines[1] + WINDOW_SLACK


def _with_cluster_members(
    index: IndexReader, regions: list[Candidate], options: QueryOptions
) -> list[Candidate]:
    """Add the near-duplicate members of candidate documents' clusters: they store only the
    postings their representative lacks, so the representative's hits stand for them too: they
    are looked at near the representative's window (and, once it is verified, where its matched
    text occurs in them; see `search_api.engine.searcher`)."""
    out: list[Candidate] = []
    seen: set[tuple[int, tuple[int, int] | None]] = set()
    expanded: set[int] = set()
    for region in regions:
        out.append(region)
        seen.add((region.doc_id, region.lines))
        if region.doc_id in expanded:
            continue
        expanded.add(region.doc_id)
        for member in _near_members(index, region.doc_id, options.max_cluster_expansion):
            window = _widened(region.lines, NEAR_COPY_DRIFT)
            if (member, window) not in seen:
                seen.add((member, window))
                out.append(
                    Candidate(
                        member,
                        window,
                        region.score,
                        region.query_bytes,
                        region.query_lines,
                        region.channels,
                        via=region.doc_id,
                    )
                )
    return out


def _widened(lines: tuple[int, int] | None, margin: int) -> tuple[int, int] | None:
    return None if lines is None else (lines[0] - margin, lines[1] + margin)


def _near_members(index: IndexReader, doc: int, limit: int) -> list[int]:
    members = index.cluster_members(doc)
    if members.shape[0] <= 1:
        return []
    identical = set(index.identical_members(doc).tolist())
    return [int(m) for m in members.tolist() if m not in identical][:limit]
