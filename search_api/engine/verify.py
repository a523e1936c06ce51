"""Verification: align the query with one candidate source; what aligns becomes a `Found`.

Exact channels first (text with comments, then code without): a chain of equal runs of at
least `min_match_chars` non-whitespace characters (or, for a query that is itself shorter, a
chain covering nearly all of it). Then the normalized channel, for renamed copies: a chain of
at least `min_match_tokens` tokens whose identifiers map one-to-one (a renamed copy renames
consistently; a coincidental look-alike does not), in a region no exact chain explains.

Each Found also says how common its span is: a span most of whose index fingerprints occur in
at least `boilerplate_repos` files is boilerplate (license headers, import blocks, idioms).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.analysis.channels import PostingChannel, ViewKind
from indexer.analysis.lexer import lines_of
from search_api.engine.align import Chain, align, identifier_consistency
from search_api.engine.evidence import Evidence, measure
from search_api.engine.options import QueryOptions
from search_api.engine.results import Method
from search_api.engine.views import ChannelView, TextViews

EXACT_SIMILARITY = 0.9  # at or above: "exact"; below: "near-dup" (an edited copy)
NEAR_DUP_SIMILARITY = 0.7  # below: too edited to call a copy
MIN_VARIETY = 0.5  # distinct k-grams per aligned k-gram position: rulers and repeated lines have few
COMMON_SHARE = 0.75  # a span is boilerplate when this share of its fingerprints is common
WHOLE_QUERY = 0.8  # a match covering this share of the query is what was asked about, never boilerplate
STRONG_REPEATS = 20
DANGLING_CHARS = 8  # characters a run may reach into a line it then leaves, and still be cut off
DANGLING_TOKENS = 3  # reused identifier occurrences that make a consistent renaming convincing alone


@dataclass(frozen=True, slots=True)
class Rarity:
    """How many postings each query fingerprint has in the index, per channel (sorted hashes)."""

    hashes: dict[PostingChannel, np.ndarray]
    frequency: dict[PostingChannel, np.ndarray]

    def of(self, channel: PostingChannel, kgrams: np.ndarray) -> np.ndarray:
        known, freq = self.hashes[channel], self.frequency[channel]
        if known.shape[0] == 0:
            return np.zeros(kgrams.shape[0], dtype=np.int64)
        at = np.minimum(np.searchsorted(known, kgrams), known.shape[0] - 1)
        return np.where(known[at] == kgrams, freq[at], 0)


@dataclass(frozen=True, slots=True)
class Found:
    """A verified correspondence between query bytes and source bytes (0-based, end-exclusive)."""

    doc_id: int
    q_bytes: tuple[int, int]
    s_bytes: tuple[int, int]
    method: Method
    similarity: float
    covered: int  # aligned values: characters (exact, near-dup) or tokens (normalized)
    weight: float  # comparable size across methods, in characters
    commonness: int  # median postings of the span's index fingerprints (0: none hit)
    common: bool  # every index fingerprint of the span is found in many repositories
    evidence: Evidence


def verify(
    doc_id: int,
    query: TextViews,
    source: TextViews,
    rarity: Rarity,
    options: QueryOptions,
    channels: frozenset[PostingChannel] = frozenset(PostingChannel),
) -> list[Found]:
    """All verified correspondences between the query and one source, at most one per query region.

    `channels` are those whose fingerprints led here: winnowing guarantees a fingerprint in any
    match long enough to report, so a channel with none cannot hold one (short queries, whose
    matches may be shorter than the guarantee, are tried in every channel)."""
    short = query.whole_chars < options.min_match_chars + 16
    aligned = (
        _exact(doc_id, query, source, rarity, options) if short or PostingChannel.EXACT in channels else []
    )
    exact = _best_per_region([f for f in aligned if f.method is Method.EXACT])
    others = [f for f in aligned if f.method is not Method.EXACT]
    if (short or PostingChannel.NORMALIZED in channels) and _explained(exact, query) < WHOLE_QUERY:
        others += _normalized(doc_id, query, source, rarity, options)  # a renaming explains what is left
    others = [
        f
        for f in _best_per_region(others)
        if not any(_overlap(f.q_bytes, e.q_bytes) >= 0.5 * _length(f.q_bytes) for e in exact)
    ]
    return exact + others


def _explained(found: list[Found], query: TextViews) -> float:
    """Share of the query's non-whitespace characters inside the found spans."""
    total = query.whole_chars
    if not found or total == 0:
        return 0.0
    offsets = query.text_view.channel.offsets
    inside = np.zeros(offsets.shape[0], dtype=bool)
    for f in found:
        inside |= (offsets >= f.q_bytes[0]) & (offsets < f.q_bytes[1])
    return float(np.count_nonzero(inside)) / total


def _exact(
    doc_id: int, query: TextViews, source: TextViews, rarity: Rarity, options: QueryOptions
) -> list[Found]:
    """Text channel first; the code channel (comments dropped) only for what text leaves out."""
    out = _exact_pair(doc_id, query, source, query.text_view, source.text_view, rarity, options)
    exact = sum(f.covered for f in out if f.method is Method.EXACT)
    if exact < WHOLE_QUERY * query.whole_chars:  # comments may be what differs
        for q_view in query.code_views:
            out += _exact_pair(doc_id, query, source, q_view, source.code_views[0], rarity, options)
    return out


def _exact_pair(
    doc_id: int,
    query: TextViews,
    source: TextViews,
    q_view: ChannelView,
    s_view: ChannelView,
    rarity: Rarity,
    options: QueryOptions,
) -> list[Found]:
    """Verified exact (and near-duplicate) correspondences between two views of one channel."""
    out: list[Found] = []
    chains = align(
        q_view.values,
        q_view.sorted_kgrams,
        s_view.values,
        s_view.kgrams,
        q_view.k,
        options.max_gap_chars,
        min_run=q_view.k,
    )
    if not chains:
        return out
    q_lines = lines_of(q_view.channel.offsets, query.lexed.line_starts)
    for chain in (_trim_dangling(c, q_lines, DANGLING_CHARS) for c in chains):
        similarity = _similarity(chain)
        method = Method.EXACT if similarity >= EXACT_SIMILARITY else Method.NEAR_DUP
        if not _exact_enough(chain, method, similarity, query.whole_chars, options):
            continue
        asked = chain.covered >= WHOLE_QUERY * query.whole_chars  # the match is what was asked about
        distinct, variety = _kgram_variety(q_view, chain)
        if not asked and variety < MIN_VARIETY:
            continue
        out.append(
            _found(
                doc_id,
                chain,
                query,
                source.data,
                q_view,
                s_view,
                method,
                similarity,
                chain.covered,
                chain.covered,
                rarity.of(PostingChannel.EXACT, distinct),
                options,
            )
        )
    return out


def _exact_enough(
    chain: Chain, method: Method, similarity: float, query_size: int, options: QueryOptions
) -> bool:
    if method is Method.NEAR_DUP:
        return chain.covered >= 2 * options.min_match_chars and similarity >= NEAR_DUP_SIMILARITY
    if chain.covered >= options.min_match_chars:
        return True
    # A query shorter than the minimum is matched when nearly all of it aligns.
    return chain.covered >= options.min_short_match_chars and chain.covered >= 0.9 * query_size


def _normalized(
    doc_id: int, query: TextViews, source: TextViews, rarity: Rarity, options: QueryOptions
) -> list[Found]:
    out: list[Found] = []
    q_view, s_view = query.normalized_view, source.normalized_view
    if s_view.kgrams.shape[0] == 0:
        return out
    chains = align(
        q_view.values,
        q_view.sorted_kgrams,
        s_view.values,
        s_view.kgrams,
        q_view.k,
        options.max_gap_tokens,
        min_run=q_view.k,
    )
    if not chains:
        return out
    q_lines = lines_of(q_view.channel.offsets, query.lexed.line_starts)
    for chain in (_trim_dangling(c, q_lines, DANGLING_TOKENS) for c in chains):
        if not _renamed_enough(chain, query.whole_words, options):
            continue
        consistency, occurrences, distinct = identifier_consistency(
            q_view.spellings,
            s_view.spellings,
            q_view.identifier_mask(),
            chain.q_starts,
            chain.s_starts,
            chain.lengths,
        )
        if consistency < options.min_identifier_consistency or distinct < 2:
            continue
        grams, variety = _kgram_variety(q_view, chain)
        if not _structured(q_view, chain, occurrences - distinct, consistency, variety):
            continue
        q_bytes = (q_view.byte_offset(chain.q_begin), q_view.byte_end(chain.q_end))
        chars = _nonspace(query.data, *q_bytes)
        weight = chars * chain.covered / max(chain.q_end - chain.q_begin, 1)
        out.append(
            _found(
                doc_id,
                chain,
                query,
                source.data,
                q_view,
                s_view,
                Method.NORMALIZED,
                _similarity(chain),
                chain.covered,
                weight,
                rarity.of(PostingChannel.NORMALIZED, grams),
                options,
            )
        )
    return out


def _structured(view: ChannelView, chain: Chain, repeats: int, consistency: float, variety: float) -> bool:
    """Enough evidence that the likeness is a renamed copy, not a common shape: varied tokens,
    or many reused names that map consistently (repetitive code, renamed tables)."""
    if repeats >= STRONG_REPEATS and consistency >= 0.95:
        return True
    return _distinct_values(view.values, chain) >= 6 and variety >= MIN_VARIETY


def _renamed_enough(chain: Chain, query_tokens: int, options: QueryOptions) -> bool:
    """A renamed match must be long, or be most of a short query: a short structural likeness
    inside a long text is too likely by chance."""
    if chain.covered < options.min_match_tokens:
        # a query shorter than the minimum is matched when nearly all of it aligns
        return chain.covered >= options.min_short_match_tokens and chain.covered >= 0.9 * query_tokens
    return chain.covered >= options.long_match_tokens or chain.covered >= 0.5 * query_tokens


def _trim_dangling(chain: Chain, lines: np.ndarray, limit: int) -> Chain:
    """Cut a few values off a chain's ends where they only agree by chance: a run that goes on
    for less than `limit` values into a query line and then stops inside that line (the
    ``def`` of the next function after a copied one) is not part of the copy. `lines` holds
    the query line of each value of the view."""
    q_starts, s_starts, lengths = chain.q_starts.copy(), chain.s_starts.copy(), chain.lengths.copy()
    end = int(q_starts[-1] + lengths[-1])
    last_line = lines[end - 1]
    tail = end - int(np.searchsorted(lines, last_line, side="left"))
    if end < lines.shape[0] and lines[end] == last_line and 0 < tail < min(limit, int(lengths[-1])):
        lengths[-1] -= tail
    start = int(q_starts[0])
    first_line = lines[start]
    head = int(np.searchsorted(lines, first_line, side="right")) - start
    if start > 0 and lines[start - 1] == first_line and 0 < head < min(limit, int(lengths[0])):
        q_starts[0] += head
        s_starts[0] += head
        lengths[0] -= head
    return Chain(q_starts, s_starts, lengths)


def _similarity(chain: Chain) -> float:
    """Dice coefficient of the aligned values over both spans."""
    spans = (chain.q_end - chain.q_begin) + (chain.s_end - chain.s_begin)
    return 2.0 * chain.covered / spans if spans else 0.0


def _chain_kgrams(kgrams: np.ndarray, chain: Chain, k: int) -> np.ndarray:
    """The k-gram hashes lying wholly inside the chain's runs (query side), in order."""
    parts = [
        kgrams[a : a + n - k + 1] for a, n in zip(chain.q_starts.tolist(), chain.lengths.tolist()) if n >= k
    ]
    return np.concatenate(parts) if parts else np.zeros(0, np.uint64)


def _kgram_variety(view: ChannelView, chain: Chain) -> tuple[np.ndarray, float]:
    """The chain's distinct k-grams (query side: their rarity is looked up, a repeated line
    counting once) and their variety, distinct / all (0 for none)."""
    grams = _chain_kgrams(view.kgrams, chain, view.k)
    distinct = np.unique(grams)
    return distinct, (distinct.shape[0] / grams.shape[0] if grams.shape[0] else 0.0)


def _distinct_values(values: np.ndarray, chain: Chain) -> int:
    """Distinct token values inside the aligned runs (repetitive tables have few)."""
    parts = [values[a : a + n] for a, n in zip(chain.q_starts.tolist(), chain.lengths.tolist())]
    return int(np.unique(np.concatenate(parts)).shape[0]) if parts else 0


def _nonspace(data: np.ndarray, start: int, end: int) -> int:
    segment = data[start:end]
    return int(np.count_nonzero((segment != 32) & (segment != 9) & (segment != 10) & (segment != 13)))


def _found(
    doc_id: int,
    chain: Chain,
    query: TextViews,
    source_data: np.ndarray,
    q_view: ChannelView,
    s_view: ChannelView,
    method: Method,
    similarity: float,
    covered: int,
    weight: float,
    frequencies: np.ndarray,
    options: QueryOptions,
) -> Found:
    query_data = query.data
    whole = query.whole_words if q_view.kind is ViewKind.NORMALIZED else query.whole_chars
    hit = frequencies[frequencies > 0]
    q_bytes, s_bytes = _with_shared_whitespace(
        query_data,
        source_data,
        (q_view.byte_offset(chain.q_begin), q_view.byte_end(chain.q_end)),
        (s_view.byte_offset(chain.s_begin), s_view.byte_end(chain.s_end)),
    )
    threshold = options.boilerplate_repos or 10  # the Searcher fills it in from the index
    common = bool(hit.shape[0]) and bool(np.mean(hit >= threshold) >= COMMON_SHARE)
    # ... unless it is what the user asked about: the match is (nearly) the whole query.
    common = common and chain.covered < WHOLE_QUERY * whole
    longest = int(chain.lengths.argmax())
    run_start = int(chain.q_starts[longest])
    run_bytes = (q_view.byte_offset(run_start), q_view.byte_end(run_start + int(chain.lengths[longest])))
    run = weight * int(chain.lengths[longest]) / max(chain.covered, 1)  # in characters, as `weight`
    evidence = measure(weight, query, frequencies, q_bytes, (run, run_bytes))
    return Found(
        doc_id=doc_id,
        q_bytes=q_bytes,
        s_bytes=s_bytes,
        method=method,
        similarity=similarity,
        covered=covered,
        weight=weight,
        commonness=int(np.median(hit)) if hit.shape[0] else 0,
        common=common,
        evidence=evidence,
    )


def _with_shared_whitespace(
    q: np.ndarray, s: np.ndarray, q_bytes: tuple[int, int], s_bytes: tuple[int, int]
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Grow both spans over whitespace they share: the indentation before the first character
    (channels skip whitespace, a verbatim copy includes it), and, when the query ends in
    whitespace, up to its end (a snippet cut just after a line break)."""
    (q0, q1), (s0, s1) = q_bytes, s_bytes
    while q0 > 0 and s0 > 0 and q[q0 - 1] == s[s0 - 1] and q[q0 - 1] in _INDENT:
        q0, s0 = q0 - 1, s0 - 1
    end_q, end_s = q1, s1
    while end_q < q.shape[0] and end_s < s.shape[0] and q[end_q] == s[end_s] and q[end_q] in _BLANKS:
        end_q, end_s = end_q + 1, end_s + 1
    if end_q == q.shape[0]:
        q1, s1 = end_q, end_s
    return (q0, q1), (s0, s1)


_INDENT = frozenset(b" \t")
_BLANKS = frozenset(b" \t\r\n")


def _best_per_region(found: list[Found]) -> list[Found]:
    """Keep the heaviest correspondence of each query region (exact preferred on ties)."""
    rank = {Method.EXACT: 0, Method.NEAR_DUP: 1, Method.NORMALIZED: 2}
    ordered = sorted(found, key=lambda f: (-f.weight, rank[f.method]))
    kept: list[Found] = []
    for f in ordered:
        if all(_overlap(f.q_bytes, k.q_bytes) < 0.5 * _length(f.q_bytes) for k in kept):
            kept.append(f)
    return kept


def _length(span: tuple[int, int]) -> int:
    return max(span[1] - span[0], 1)


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))
