"""Channels, k-gram hashes and winnowing (Schleimer, Wilkerson & Aiken, SIGMOD 2003).

A text is seen through three channels, each a sequence of values with a source position:

* ``text`` — every non-whitespace byte, comments and strings included: finds verbatim and
  re-indented copies, also of comments and docstrings;
* ``code`` — the same without comments: finds copies whose comments were removed;
* ``normalized`` — one value per code token, identifiers and literals replaced by their kind
  (keywords, built-ins and member names after ``.`` keep their spelling): finds renamed copies.

Winnowing with noise threshold k and window w selects, in every window of w consecutive k-gram
hashes, the rightmost minimum. Its guarantee: any run of at least ``t = w + k - 1`` values shared
by two sequences contains a selected k-gram of each, so the index finds it. Queries look up
*all* their k-grams, which keeps the guarantee for any run of t values inside the query
(whatever surrounds it). All hashes are 64-bit; nothing here depends on Python's hash seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from indexer.keywords import keywords
from indexer.languages import Family, family_of
from indexer.lexer import _CHAR_CLASS, Tokens

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd: invertible modulo 2**64

# Stand-ins for normalized tokens: any identifier, number or string is one of these.
IDENT_VALUE = np.uint64(0x49444E5400000001)
NUMBER_VALUE = np.uint64(0x4E554D4200000002)
STRING_VALUE = np.uint64(0x5354524E00000003)


@dataclass(frozen=True, slots=True)
class Channel:
    """A sequence of values and, for each, the byte offset in the text it came from.

    For the char channels a value is a byte; for the normalized channel it is a token's
    normalized hash and `token_index` says which token of the `Tokens` it is.
    """

    values: np.ndarray  # uint64[n]
    offsets: np.ndarray  # int32[n], byte offset of each value's first byte
    token_index: np.ndarray | None = None  # int32[n], normalized channel only

    def __len__(self) -> int:
        return int(self.values.shape[0])


@njit(cache=True, nogil=True)
def fnv1a(data, start, end):
    """64-bit FNV-1a hash of data[start:end]."""
    h = np.uint64(0xCBF29CE484222325)
    for i in range(start, end):
        h = (h ^ np.uint64(data[i])) * np.uint64(0x100000001B3)
    return h


@njit(cache=True, nogil=True)
def mix64(z):
    """The splitmix64 finalizer: an avalanching bijection on 64-bit integers."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def word_hash(word: str) -> int:
    raw = np.frombuffer(word.encode("utf-8"), dtype=np.uint8)
    return int(fnv1a(raw, 0, raw.shape[0]))


_KEYWORD_HASHES: dict[Family, np.ndarray] = {}


def keyword_hashes(family: Family) -> np.ndarray:
    """Sorted FNV-1a hashes of the family's keywords and built-ins."""
    if family not in _KEYWORD_HASHES:
        _KEYWORD_HASHES[family] = np.array(sorted(word_hash(w) for w in keywords(family)), dtype=np.uint64)
    return _KEYWORD_HASHES[family]


def text_channel(tokens: Tokens) -> Channel:
    """Every non-whitespace byte of the text, comments included."""
    offsets = np.flatnonzero(_CHAR_CLASS[tokens.data] != 1).astype(np.int32)
    return Channel(tokens.data[offsets].astype(np.uint64), offsets)


def code_channel(tokens: Tokens) -> Channel:
    """Every non-whitespace byte outside comments."""
    offsets = _code_offsets(tokens.data, tokens.starts, tokens.ends, tokens.kinds, _CHAR_CLASS)
    return Channel(tokens.data[offsets].astype(np.uint64), offsets)


def normalized_channel(tokens: Tokens, language: str | None) -> Channel:
    """One value per non-comment token; identifiers, numbers and strings become their kind."""
    values, index = _normalized_values(
        tokens.data, tokens.starts, tokens.ends, tokens.kinds, keyword_hashes(family_of(language))
    )
    return Channel(values, tokens.starts[index], index)


def exact_token_hashes(tokens: Tokens, token_index: np.ndarray) -> np.ndarray:
    """FNV-1a hash of the spelling of the given tokens (used to check renames are consistent)."""
    return _token_hashes(tokens.data, tokens.starts, tokens.ends, token_index)


@njit(cache=True, nogil=True)
def _code_offsets(data, starts, ends, kinds, cls):
    out = np.empty(data.shape[0], dtype=np.int32)
    count = 0
    for t in range(starts.shape[0]):
        if kinds[t] == 5:
            continue
        for i in range(starts[t], ends[t]):
            if cls[data[i]] != 1:
                out[count] = i
                count += 1
    return out[:count].copy()


@njit(cache=True, nogil=True)
def _token_hashes(data, starts, ends, index):
    out = np.empty(index.shape[0], dtype=np.uint64)
    for j in range(index.shape[0]):
        t = index[j]
        out[j] = fnv1a(data, starts[t], ends[t])
    return out


@njit(cache=True, nogil=True)
def _is_member(data, starts, kinds, t):
    """True when token t follows `.` or `->` (an attribute, method or field name)."""
    p = t - 1
    while p >= 0 and kinds[p] == 5:
        p -= 1
    if p < 0 or kinds[p] != 4:
        return False
    c = data[starts[p]]
    if c == 46:  # '.'
        return True
    return c == 62 and p > 0 and kinds[p - 1] == 4 and data[starts[p - 1]] == 45  # '->'


@njit(cache=True, nogil=True)
def _normalized_values(data, starts, ends, kinds, keyword_hashes):
    n = starts.shape[0]
    values = np.empty(n, dtype=np.uint64)
    index = np.empty(n, dtype=np.int32)
    count = 0
    for t in range(n):
        kind = kinds[t]
        if kind == 5:
            continue
        if kind == 1:
            h = fnv1a(data, starts[t], ends[t])
            j = np.searchsorted(keyword_hashes, h)
            is_keyword = j < keyword_hashes.shape[0] and keyword_hashes[j] == h
            if not is_keyword and not _is_member(data, starts, kinds, t):
                h = np.uint64(0x49444E5400000001)
        elif kind == 2:
            h = np.uint64(0x4E554D4200000002)
        elif kind == 3:
            h = np.uint64(0x5354524E00000003)
        else:
            h = np.uint64(data[starts[t]]) + np.uint64(0x50554E4300000000)
        values[count] = h
        index[count] = t
        count += 1
    return values[:count].copy(), index[:count].copy()


@njit(cache=True, nogil=True)
def kgram_hashes(values, k):
    """Hash of every run of k consecutive values: uint64[len(values) - k + 1] (empty if shorter).

    A polynomial rolling hash modulo 2**64 over the values, then mix64, so that the hash of a
    k-gram depends on its values only (never on where it sits).
    """
    n = values.shape[0]
    if n < k:
        return np.empty(0, dtype=np.uint64)
    base = np.uint64(0x9E3779B97F4A7C15)
    top = np.uint64(1)  # base ** (k - 1)
    for _ in range(k - 1):
        top = top * base
    out = np.empty(n - k + 1, dtype=np.uint64)
    h = np.uint64(0)
    for i in range(k):
        h = h * base + np.uint64(values[i]) + np.uint64(1)
    out[0] = mix64(h)
    for i in range(k, n):
        h = (h - (np.uint64(values[i - k]) + np.uint64(1)) * top) * base + np.uint64(values[i]) + np.uint64(1)
        out[i - k + 1] = mix64(h)
    return out


@njit(cache=True, nogil=True)
def winnow(hashes, window):
    """Positions selected by robust winnowing: the rightmost minimum of every window of
    `window` consecutive hashes, each position once, in increasing order. A sequence shorter
    than one window selects its rightmost minimum."""
    n = hashes.shape[0]
    out = np.empty(n, dtype=np.int32)
    if n == 0:
        return out[:0]
    w = min(window, n)
    deque = np.empty(n, dtype=np.int32)  # positions with increasing hashes
    head = 0
    tail = 0
    count = 0
    last = -1
    for i in range(n):
        while tail > head and hashes[deque[tail - 1]] >= hashes[i]:
            tail -= 1
        deque[tail] = i
        tail += 1
        if deque[head] <= i - w:
            head += 1
        if i >= w - 1 and deque[head] != last:
            last = deque[head]
            out[count] = last
            count += 1
    return out[:count].copy()
