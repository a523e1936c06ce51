"""Verification: align the query with one candidate source; what aligns becomes a `Found`.

Exact channels first (text with comments, then code without): a chain of equal runs of at
least `min_match_chars` non-whitespace characters. Then the normalized channel, for renamed
copies: a chain of at least `min_match_tokens` tokens whose identifiers map one-to-one
(a renamed copy renames consistently; a coincidental look-alike does not).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from search_api.align import Chain, align, identifier_consistency
from search_api.channels import ChannelView, TextAnalysis
from search_api.options import QueryOptions

EXACT_SIMILARITY = 0.9  # at or above: "exact"; below: "near-dup" (an edited copy)


@dataclass(frozen=True, slots=True)
class Found:
    """A verified correspondence between query bytes and source bytes (0-based, end-exclusive)."""

    doc_id: int
    q_bytes: tuple[int, int]
    s_bytes: tuple[int, int]
    method: str
    similarity: float
    covered: int  # aligned values: characters (exact, near-dup) or tokens (normalized)
    weight: float  # comparable size across methods, in characters


def verify(doc_id: int, query: TextAnalysis, source: TextAnalysis, options: QueryOptions) -> list[Found]:
    """All verified correspondences between the query and one source, at most one per query region."""
    found = _exact(doc_id, query, source, options) + _normalized(doc_id, query, source, options)
    return _best_per_region(found)


def _exact(doc_id: int, query: TextAnalysis, source: TextAnalysis, options: QueryOptions) -> list[Found]:
    pairs = [(query.text_view, source.text_view)] + [(q, source.code_views[0]) for q in query.code_views]
    out = []
    k = query.text_view.channel.values.shape[0] and source.text_view.kgrams.shape[0]
    if not k:
        return out
    for q_view, s_view in pairs:
        chains = align(q_view.values, q_view.kgrams, s_view.values, s_view.kgrams, _k(q_view),
                       options.max_gap_chars, min_run=_k(q_view))
        for chain in chains:
            if chain.covered >= options.min_match_chars:
                similarity = _similarity(chain)
                method = "exact" if similarity >= EXACT_SIMILARITY else "near-dup"
                out.append(_found(doc_id, chain, q_view, s_view, method, similarity, chain.covered, chain.covered))
    return out


def _normalized(doc_id: int, query: TextAnalysis, source: TextAnalysis, options: QueryOptions) -> list[Found]:
    out = []
    s_view = source.normalized_views[0]
    if s_view.kgrams.shape[0] == 0:
        return out
    s_exact = None
    for q_view in query.normalized_views:
        chains = align(q_view.values, q_view.kgrams, s_view.values, s_view.kgrams, _k(q_view),
                       options.max_gap_tokens, min_run=_k(q_view))
        for chain in chains:
            if chain.covered < options.min_match_tokens:
                continue
            if s_exact is None:
                s_exact = s_view.exact_spellings()
            consistency, occurrences, distinct = identifier_consistency(
                q_view.exact_spellings(), s_exact, q_view.identifier_mask(), chain.q_starts, chain.s_starts,
                chain.lengths,
            )
            if consistency < options.min_identifier_consistency or distinct < 2:
                continue
            if _variety(q_view.values, chain) < 6:
                continue
            q_bytes = (q_view.byte_offset(chain.q_begin), q_view.byte_end(chain.q_end))
            chars = _nonspace(query.data, *q_bytes)
            out.append(_found(doc_id, chain, q_view, s_view, "normalized", _similarity(chain), chain.covered,
                              chars * chain.covered / max(chain.q_end - chain.q_begin, 1)))
    return out


def _k(view: ChannelView) -> int:
    """The k-gram size the view was hashed with."""
    return int(view.values.shape[0] - view.kgrams.shape[0] + 1) if view.kgrams.shape[0] else 1


def _similarity(chain: Chain) -> float:
    """Dice coefficient of the aligned values over both spans."""
    spans = (chain.q_end - chain.q_begin) + (chain.s_end - chain.s_begin)
    return 2.0 * chain.covered / spans if spans else 0.0


def _variety(values: np.ndarray, chain: Chain) -> int:
    """Distinct token values inside the aligned runs (repetitive tables have few)."""
    parts = [values[a : a + n] for a, n in zip(chain.q_starts.tolist(), chain.lengths.tolist())]
    return int(np.unique(np.concatenate(parts)).shape[0]) if parts else 0


def _nonspace(data: np.ndarray, start: int, end: int) -> int:
    segment = data[start:end]
    return int(np.count_nonzero((segment != 32) & (segment != 9) & (segment != 10) & (segment != 13)))


def _found(doc_id: int, chain: Chain, q_view: ChannelView, s_view: ChannelView, method: str, similarity: float,
           covered: int, weight: float) -> Found:
    return Found(
        doc_id=doc_id,
        q_bytes=(q_view.byte_offset(chain.q_begin), q_view.byte_end(chain.q_end)),
        s_bytes=(s_view.byte_offset(chain.s_begin), s_view.byte_end(chain.s_end)),
        method=method, similarity=similarity, covered=covered, weight=weight,
    )


def _best_per_region(found: list[Found]) -> list[Found]:
    """Keep the heaviest correspondence of each query region (exact preferred on ties)."""
    rank = {"exact": 0, "near-dup": 1, "normalized": 2}
    ordered = sorted(found, key=lambda f: (-f.weight, rank[f.method]))
    kept: list[Found] = []
    for f in ordered:
        if all(_overlap(f.q_bytes, k.q_bytes) < 0.5 * (f.q_bytes[1] - f.q_bytes[0]) for k in kept):
            kept.append(f)
    return kept


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))
