"""Channels: a text seen as sequences of values, each value with the bytes it came from.

* ``text`` — every non-whitespace byte, comments and strings included: finds verbatim and
  re-indented copies, also of comments and docstrings;
* ``code`` — the same without comments: finds copies whose comments were removed;
* ``normalized`` — one value per word or punctuation mark of the whole text (code, strings and
  comments alike), every word replaced by one stand-in except reserved words, member names
  (right after ``.`` or ``->``) and numbers: finds renamed copies, of code and of prose. It needs
  no lexer state, so a snippet that starts inside a string or comment reads the same as its source.

The index stores the k-grams of the text and code channels under one posting channel, ``exact``,
and those of the normalized channel under ``normalized`` (see `indexer.analysis.winnowing`).
All hashes are 64-bit; nothing here depends on Python's hash seed.
"""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

import numpy as np
from numba import njit

from indexer.analysis.keywords import keywords
from indexer.analysis.languages import Family, family_of
from indexer.analysis.lexer import _CHAR_CLASS, Tokens

# Constants of the compiled kernels (numba freezes module globals into the compiled code).
_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)

# The stand-in every renamable word of the normalized channel becomes.
IDENT_VALUE = np.uint64(0x49444E5400000001)
_PUNCT_BASE = np.uint64(0x50554E4300000000)


class PostingChannel(enum.StrEnum):
    """The two kinds of postings an index stores, and looks up."""

    EXACT = "exact"  # k-grams of the text and code channels
    NORMALIZED = "normalized"  # k-grams of the normalized channel


class ViewKind(enum.StrEnum):
    """The channels a text is seen through."""

    TEXT = "text"
    CODE = "code"
    NORMALIZED = "normalized"


@dataclass(frozen=True, slots=True)
class Channel:
    """A sequence of values and, for each, the bytes of the text it came from (0-based).

    For the char channels a value is one byte (`ends` is None: each value ends one byte after
    its offset); for the normalized channel a value stands for a word or punctuation mark
    ending at `ends`.
    """

    values: np.ndarray  # uint64[n]
    offsets: np.ndarray  # int32[n], byte offset of each value's first byte
    ends: np.ndarray | None = None  # int32[n], byte offset just past each value

    def __len__(self) -> int:
        return int(self.values.shape[0])


@njit(cache=True, nogil=True)
def fnv1a(data, start, end):
    """64-bit FNV-1a hash of data[start:end]."""
    h = _FNV_OFFSET
    for i in range(start, end):
        h = (h ^ np.uint64(data[i])) * _FNV_PRIME
    return h


def word_hash(word: str) -> int:
    raw = np.frombuffer(word.encode("utf-8"), dtype=np.uint8)
    return int(fnv1a(raw, 0, raw.shape[0]))


@functools.cache
def keyword_hashes(family: Family) -> np.ndarray:
    """Sorted FNV-1a hashes of the family's keywords and built-ins."""
    return np.array(sorted(word_hash(w) for w in keywords(family)), dtype=np.uint64)


def text_channel(data: np.ndarray, byte_range: tuple[int, int] | None = None) -> Channel:
    """Every non-whitespace byte of UTF-8 `data` (or of `byte_range` of it), comments included."""
    start, end = byte_range or (0, data.shape[0])
    values, offsets = _nonspace(data, max(start, 0), min(end, data.shape[0]), _CHAR_CLASS)
    return Channel(values, offsets)


def code_channel(tokens: Tokens) -> Channel:
    """Every non-whitespace byte outside comments."""
    offsets = _code_offsets(tokens.data, tokens.starts, tokens.ends, tokens.kinds, _CHAR_CLASS)
    return Channel(tokens.data[offsets].astype(np.uint64), offsets)


def normalized_channel(
    data: np.ndarray, language: str | None, start: int = 0, end: int | None = None
) -> Channel:
    """Words and punctuation of data[start:end]; renamable words become IDENT_VALUE."""
    end = data.shape[0] if end is None else end
    values, offsets, ends = _normalized(data, start, end, _CHAR_CLASS, keyword_hashes(family_of(language)))
    return Channel(values, offsets, ends)


def spellings(data: np.ndarray, channel: Channel) -> np.ndarray:
    """FNV-1a hash of the bytes behind each value of a normalized channel (checks renames)."""
    assert channel.ends is not None
    return _spellings(data, channel.offsets, channel.ends)


@njit(cache=True, nogil=True)
def _nonspace(data, start, end, cls):
    values = np.empty(max(end - start, 0), dtype=np.uint64)
    offsets = np.empty(max(end - start, 0), dtype=np.int32)
    count = 0
    for i in range(start, end):
        if cls[data[i]] != 1:
            values[count] = data[i]
            offsets[count] = i
            count += 1
    return values[:count].copy(), offsets[:count].copy()


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
def _spellings(data, offsets, ends):
    out = np.empty(offsets.shape[0], dtype=np.uint64)
    for j in range(offsets.shape[0]):
        out[j] = fnv1a(data, offsets[j], ends[j])
    return out


@njit(cache=True, nogil=True)
def _normalized(data, start, end, cls, keyword_hashes):
    values = np.empty(end - start, dtype=np.uint64)
    offsets = np.empty(end - start, dtype=np.int32)
    ends = np.empty(end - start, dtype=np.int32)
    count = 0
    i = start
    while i < end:
        kind = cls[data[i]]
        if kind == 1:  # whitespace
            i += 1
            continue
        if kind == 2 or kind == 3:  # a word (kind 2) or a number (kind 3)
            j = i + 1
            while j < end and (cls[data[j]] == 2 or cls[data[j]] == 3):
                j += 1
            h = fnv1a(data, i, j)
            if kind == 2:
                p = np.searchsorted(keyword_hashes, h)
                reserved = p < keyword_hashes.shape[0] and keyword_hashes[p] == h
                member = i > 0 and (data[i - 1] == 46 or (i > 1 and data[i - 1] == 62 and data[i - 2] == 45))
                if not reserved and not member:
                    h = IDENT_VALUE
            values[count] = h
            offsets[count] = i
            ends[count] = j
            count += 1
            i = j
            continue
        values[count] = np.uint64(data[i]) + _PUNCT_BASE
        offsets[count] = i
        ends[count] = i + 1
        count += 1
        i += 1
    return values[:count].copy(), offsets[:count].copy(), ends[:count].copy()
