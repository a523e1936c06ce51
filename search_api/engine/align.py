"""Alignment of a query channel with a source channel: exact k-gram runs, chained.

This is the verification step: a run is a stretch where the two sequences are equal (every
k-gram hash equal along one diagonal, then checked value by value); a chain is a set of runs
in the same order in both sequences (an alignment with gaps, as in local sequence alignment).
Nothing approximate survives it: a match is made only of runs whose values are equal.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numba import njit


@dataclass(frozen=True, slots=True)
class Chain:
    """Aligned runs, in order: `q_starts[i]`, `s_starts[i]`, `lengths[i]` in channel positions
    (values, not k-grams), 0-based, runs are non-overlapping in both sequences."""

    q_starts: np.ndarray
    s_starts: np.ndarray
    lengths: np.ndarray

    @property
    def covered(self) -> int:
        return int(self.lengths.sum())

    @property
    def q_begin(self) -> int:
        return int(self.q_starts[0])

    @property
    def q_end(self) -> int:
        return int(self.q_starts[-1] + self.lengths[-1])

    @property
    def s_begin(self) -> int:
        return int(self.s_starts[0])

    @property
    def s_end(self) -> int:
        return int(self.s_starts[-1] + self.lengths[-1])


def sort_kgrams(kgrams: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, sorted hashes, presence filter) of a query's k-grams, computed once per query
    channel. The filter has one bit per value of a hash's top 16 bits: a source k-gram whose bit
    is clear is in no query k-gram, and is skipped without a search."""
    order = np.argsort(kgrams, kind="stable")
    present = np.zeros(1 << 10, dtype=np.uint64)
    top = (kgrams >> np.uint64(48)).astype(np.int64)
    np.bitwise_or.at(present, top >> 6, np.left_shift(np.uint64(1), (top & 63).astype(np.uint64)))
    return order, kgrams[order], present


def align(
    q_values: np.ndarray,
    q_sorted: tuple[np.ndarray, np.ndarray, np.ndarray],
    s_values: np.ndarray,
    s_kgrams: np.ndarray,
    k: int,
    max_gap: int,
    min_run: int,
) -> list[Chain]:
    """Chains of exact runs between a query and a source channel, split where either side has a
    gap longer than `max_gap` positions; runs shorter than `min_run` values are ignored.
    `q_sorted` is `sort_kgrams` of the query's k-gram hashes."""
    if q_sorted[1].shape[0] == 0 or s_kgrams.shape[0] == 0:
        return []
    qs, ss, ln = _runs(q_values, q_sorted[0], q_sorted[1], q_sorted[2], s_values, s_kgrams, k, 16)
    keep = ln >= min_run
    qs, ss, ln = qs[keep], ss[keep], ln[keep]
    if qs.shape[0] == 0:
        return []
    if qs.shape[0] > 1500:  # very repetitive text: chain the longest runs only
        top = np.sort(np.argsort(-ln, kind="stable")[:1500])
        qs, ss, ln = qs[top], ss[top], ln[top]
    picked = _chain(qs, ss, ln)
    qs, ss, ln = qs[picked], ss[picked], ln[picked]
    return _split(qs, ss, ln, max_gap)


def _split(qs: np.ndarray, ss: np.ndarray, ln: np.ndarray, max_gap: int) -> list[Chain]:
    gaps_q = qs[1:] - (qs[:-1] + ln[:-1])
    gaps_s = ss[1:] - (ss[:-1] + ln[:-1])
    cuts = np.flatnonzero((gaps_q > max_gap) | (gaps_s > max_gap)) + 1
    bounds = [0, *cuts.tolist(), qs.shape[0]]
    return [Chain(qs[a:b], ss[a:b], ln[a:b]) for a, b in itertools.pairwise(bounds)]


@njit(cache=True, nogil=True)
def _runs(q_values, order, sorted_q, present, s_values, s_kgrams, k, max_occurrences):
    """Maximal exact runs (q_start, s_start, length in values) seeded by equal k-gram hashes.

    k-grams occurring more than `max_occurrences` times in the query are not used as seeds
    (repetitive text), but runs still extend through them value by value.
    """
    nq = q_values.shape[0]
    ns = s_values.shape[0]
    cap = 64
    out_q = np.empty(cap, dtype=np.int64)
    out_s = np.empty(cap, dtype=np.int64)
    out_n = np.empty(cap, dtype=np.int64)
    count = 0
    # For each diagonal, the end of the last run emitted, so a run is emitted once.
    seen_diag = np.full(nq + ns + 1, -1, dtype=np.int64)
    for j in range(s_kgrams.shape[0]):
        h = s_kgrams[j]
        top = h >> np.uint64(48)
        if (present[top >> np.uint64(6)] >> (top & np.uint64(63))) & np.uint64(1) == 0:
            continue
        lo = np.searchsorted(sorted_q, h)
        hi = lo
        while hi < sorted_q.shape[0] and sorted_q[hi] == h:
            hi += 1
        if hi - lo > max_occurrences:
            continue
        for p in range(lo, hi):
            i = order[p]
            diag = j - i + nq
            if seen_diag[diag] > j:
                continue  # inside a run already emitted on this diagonal
            a, b = i, j
            while a > 0 and b > 0 and q_values[a - 1] == s_values[b - 1]:
                a -= 1
                b -= 1
            e_q, e_s = i, j
            while e_q < nq and e_s < ns and q_values[e_q] == s_values[e_s]:
                e_q += 1
                e_s += 1
            if e_q - a < k:
                continue  # hash collision: the values differ
            seen_diag[diag] = e_s
            if count == cap:
                if cap >= 1 << 16:
                    break  # pathological repetition: enough runs to chain
                cap *= 2
                out_q = _grown(out_q, cap)
                out_s = _grown(out_s, cap)
                out_n = _grown(out_n, cap)
            out_q[count] = a
            out_s[count] = b
            out_n[count] = e_q - a
            count += 1
    return out_q[:count].copy(), out_s[:count].copy(), out_n[:count].copy()


@njit(cache=True, nogil=True)
def _grown(array, size):
    out = np.empty(size, dtype=array.dtype)
    out[: array.shape[0]] = array
    return out


@njit(cache=True, nogil=True)
def _chain(qs, ss, ln):
    """Indexes of the runs of a maximum-coverage chain (both sequences increasing).

    Runs that overlap the previous run of the chain count only for their new part."""
    n = qs.shape[0]
    order = np.argsort(qs * (ss.max() + 1) + ss, kind="mergesort")
    best = np.zeros(n, dtype=np.int64)
    prev = np.full(n, -1, dtype=np.int64)
    for a in range(n):
        x = order[a]
        best[a] = ln[x]
        for b in range(a):
            y = order[b]
            if qs[y] < qs[x] and ss[y] < ss[x]:
                overlap = max(qs[y] + ln[y] - qs[x], ss[y] + ln[y] - ss[x], 0)
                if overlap >= ln[x]:
                    continue
                score = best[b] + ln[x] - overlap
                if score > best[a]:
                    best[a] = score
                    prev[a] = b
    end = np.argmax(best)
    picked = []
    while end >= 0:
        picked.append(order[end])
        end = prev[end]
    out = np.empty(len(picked), dtype=np.int64)
    for i in range(len(picked)):
        out[i] = picked[len(picked) - 1 - i]
    return _trim(qs, ss, ln, out)


@njit(cache=True, nogil=True)
def _trim(qs, ss, ln, picked):
    """Cut the overlap off the front of each picked run so runs are disjoint (in place)."""
    for i in range(1, picked.shape[0]):
        x, y = picked[i], picked[i - 1]
        overlap = max(qs[y] + ln[y] - qs[x], ss[y] + ln[y] - ss[x], 0)
        if overlap > 0:
            qs[x] += overlap
            ss[x] += overlap
            ln[x] -= overlap
    return picked


@njit(cache=True, nogil=True)
def identifier_consistency(q_exact, s_exact, is_ident, q_starts, s_starts, lengths):
    """How consistently identifiers map between query and source along aligned runs.

    For aligned identifier tokens, the share of occurrences that agree with the most common
    partner in both directions (1.0 = a perfect one-to-one renaming). `is_ident` marks the
    query positions that are identifiers; q_exact/s_exact are the tokens' spelling hashes.
    Returns (consistency, identifier occurrences, distinct query identifiers).
    """
    total = 0
    for r in range(q_starts.shape[0]):
        for t in range(lengths[r]):
            if is_ident[q_starts[r] + t]:
                total += 1
    if total == 0:
        return 1.0, 0, 0
    qa = np.empty(total, dtype=np.uint64)
    sa = np.empty(total, dtype=np.uint64)
    m = 0
    for r in range(q_starts.shape[0]):
        for t in range(lengths[r]):
            if is_ident[q_starts[r] + t]:
                qa[m] = q_exact[q_starts[r] + t]
                sa[m] = s_exact[s_starts[r] + t]
                m += 1
    forward = _agreeing(qa, sa)
    backward = _agreeing(sa, qa)
    distinct = np.unique(qa).shape[0]
    return min(forward, backward) / total, total, distinct


@njit(cache=True, nogil=True)
def _agreeing(keys, values):
    """Occurrences whose value is the most common value for their key."""
    by_value = np.argsort(values, kind="mergesort")
    order = by_value[np.argsort(keys[by_value], kind="mergesort")]
    k = keys[order]
    v = values[order]
    agree = 0
    i = 0
    n = k.shape[0]
    while i < n:
        j = i
        best = 0
        while j < n and k[j] == k[i]:
            r = j
            while r < n and k[r] == k[j] and v[r] == v[j]:
                r += 1
            best = max(best, r - j)
            j = r
        agree += best
        i = j
    return agree
