"""A fast, language-aware lexer over UTF-8 bytes: words, numbers, strings, punctuation, comments.

It is deliberately shallow: it knows each language family's comment and string syntax (see
`indexer.analysis.languages.Family`) and nothing of its grammar, so it never fails on broken or partial
code — a snippet pasted from the middle of a file lexes the same way as the file around it,
except where the snippet starts inside a comment or string; `lex(..., start=...)` lexes it as if
it did. Every token keeps its byte offsets; lines come from `line_starts`.

The inner loop is compiled with numba: a pure-Python loop over every byte would be 100x slower.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np
from numba import njit

from indexer.analysis.languages import Family, family_of


class TokenKind(enum.IntEnum):
    WORD = 1  # identifiers and keywords
    NUMBER = 2
    STRING = 3  # a whole string literal, quotes and prefix included
    PUNCT = 4  # one punctuation character
    COMMENT = 5  # a whole comment


class StartState(enum.IntEnum):
    """Where a piece of code starts: a snippet can begin inside a comment or a string."""

    CODE = 0
    BLOCK_COMMENT = 1
    TRIPLE_DOUBLE = 2  # inside a Python \"\"\" string
    TRIPLE_SINGLE = 3  # inside a Python ''' string
    TEMPLATE = 4  # inside a JavaScript `template` or Go `raw` string


@dataclass(frozen=True, slots=True)
class Tokens:
    """Tokens of one text: parallel arrays, byte offsets 0-based and end-exclusive.

    `data` is the UTF-8 encoding of the text the offsets point into.
    """

    data: np.ndarray  # uint8[n_bytes]
    starts: np.ndarray  # int32[n_tokens]
    ends: np.ndarray  # int32[n_tokens]
    kinds: np.ndarray  # uint8[n_tokens], TokenKind values

    def __len__(self) -> int:
        return int(self.starts.shape[0])

    def within(self, start: int, end: int) -> Tokens:
        """The tokens lying wholly inside bytes [start, end)."""
        first = int(np.searchsorted(self.starts, start, side="left"))
        last = int(np.searchsorted(self.starts, end, side="left"))
        while last > first and self.ends[last - 1] > end:
            last -= 1
        return Tokens(self.data, self.starts[first:last], self.ends[first:last], self.kinds[first:last])

    def text(self, i: int) -> str:
        return bytes(self.data[self.starts[i] : self.ends[i]]).decode("utf-8", "replace")


def encode(text: str) -> np.ndarray:
    """The UTF-8 bytes of `text` as a uint8 array (lone surrogates are replaced, never raised)."""
    return np.frombuffer(text.encode("utf-8", "replace"), dtype=np.uint8)


def lex(data: np.ndarray, language: str | None, start: StartState = StartState.CODE) -> Tokens:
    """Split UTF-8 bytes into tokens using the comment and string syntax of `language`."""
    family = family_of(language)
    n = data.shape[0]
    starts = np.empty(n + 1, dtype=np.int32)
    ends = np.empty(n + 1, dtype=np.int32)
    kinds = np.empty(n + 1, dtype=np.uint8)
    count = _lex(data, int(family), int(start), 0, n, _CHAR_CLASS, starts, ends, kinds)
    return Tokens(data, starts[:count].copy(), ends[:count].copy(), kinds[:count].copy())


def line_starts(data: np.ndarray) -> np.ndarray:
    """Byte offset where each line starts (line 1 at index 0): int64[n_lines]."""
    newlines = np.flatnonzero(data == 10)
    return np.concatenate(([0], newlines + 1)).astype(np.int64)


def lines_of(offsets: np.ndarray, starts_of_lines: np.ndarray) -> np.ndarray:
    """1-based line number of each byte offset."""
    return np.searchsorted(starts_of_lines, offsets, side="right").astype(np.int32)


# Character classes for the lexer.
_OTHER, _SPACE, _WORD, _DIGIT = 0, 1, 2, 3


def _char_classes() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint8)
    for c in b" \t\r\n\f\v":
        table[c] = _SPACE
    for c in range(ord("a"), ord("z") + 1):
        table[c] = _WORD
    for c in range(ord("A"), ord("Z") + 1):
        table[c] = _WORD
    table[ord("_")] = _WORD
    table[ord("$")] = _WORD
    table[0x80:] = _WORD  # non-ASCII letters in identifiers and prose
    for c in range(ord("0"), ord("9") + 1):
        table[c] = _DIGIT
    return table


_CHAR_CLASS = _char_classes()

# Byte values used in the compiled code.
_NL, _BSLASH, _SLASH, _STAR, _HASH, _DQ, _SQ, _BT = 10, 92, 47, 42, 35, 34, 39, 96
_DASH, _SEMI, _LT, _BANG, _GT, _LBRACE, _RBRACE, _LBRACKET, _RBRACKET = 45, 59, 60, 33, 62, 123, 125, 91, 93
_F_GENERIC, _F_C, _F_JS, _F_PY, _F_HASH, _F_RUST, _F_GO, _F_SQL, _F_LISP, _F_HTML, _F_LUA, _F_HS = (
    int(Family.GENERIC),
    int(Family.C_LIKE),
    int(Family.JAVASCRIPT),
    int(Family.PYTHON),
    int(Family.HASH),
    int(Family.RUST),
    int(Family.GO),
    int(Family.SQL),
    int(Family.LISP),
    int(Family.HTML),
    int(Family.LUA),
    int(Family.HASKELL),
)


@njit(cache=True, nogil=True)
def _at(data, i, c):
    return i < data.shape[0] and data[i] == c


@njit(cache=True, nogil=True)
def _find(data, i, a, b):
    """Offset just past the first occurrence of bytes a, b at or after i (or the end)."""
    n = data.shape[0]
    while i + 1 < n:
        if data[i] == a and data[i + 1] == b:
            return i + 2
        i += 1
    return n


@njit(cache=True, nogil=True)
def _line_end(data, i):
    n = data.shape[0]
    while i < n and data[i] != _NL:
        i += 1
    return i


@njit(cache=True, nogil=True)
def _string_end(data, i, quote, multiline):
    """End of a quoted string whose body starts at i; backslash escapes; stops at a newline
    unless multiline (unterminated one-line strings end at the line end)."""
    n = data.shape[0]
    while i < n:
        c = data[i]
        if c == _BSLASH:
            i += 2
            continue
        if c == quote:
            return i + 1
        if c == _NL and not multiline:
            return i
        i += 1
    return n


@njit(cache=True, nogil=True)
def _triple_end(data, i, quote):
    n = data.shape[0]
    while i < n:
        c = data[i]
        if c == _BSLASH:
            i += 2
            continue
        if c == quote and i + 2 < n and data[i + 1] == quote and data[i + 2] == quote:
            return i + 3
        i += 1
    return n


@njit(cache=True, nogil=True)
def _raw_end(data, i, quote):
    """End of a string with no escapes (Go raw strings)."""
    n = data.shape[0]
    while i < n and data[i] != quote:
        i += 1
    return min(i + 1, n)


@njit(cache=True, nogil=True)
def _rust_raw_end(data, i):
    """i points at r or br; returns the end of r#"..."# or -1 when this is not a raw string."""
    n = data.shape[0]
    j = i + 1 if data[i] == 114 else i + 2  # 'r' / 'br'
    hashes = 0
    while j < n and data[j] == _HASH:
        hashes += 1
        j += 1
    if j >= n or data[j] != _DQ:
        return -1
    j += 1
    while j < n:
        if data[j] == _DQ:
            k = 0
            while k < hashes and j + 1 + k < n and data[j + 1 + k] == _HASH:
                k += 1
            if k == hashes:
                return j + 1 + hashes
        j += 1
    return n


@njit(cache=True, nogil=True)
def _comment_end(data, i, family):
    """If a comment starts at i, the offset just past it; else -1."""
    c = data[i]
    c_style = family == _F_C or family == _F_JS or family == _F_RUST or family == _F_GO or family == _F_SQL
    if c == _SLASH and c_style:
        if _at(data, i + 1, _SLASH) and family != _F_SQL:
            return _line_end(data, i)
        if _at(data, i + 1, _STAR):
            return _find(data, i + 2, _STAR, _SLASH)
    if c == _HASH and (family == _F_PY or family == _F_HASH):
        return _line_end(data, i)
    if c == _DASH and _at(data, i + 1, _DASH) and (family == _F_SQL or family == _F_LUA or family == _F_HS):
        if family == _F_LUA and _at(data, i + 2, _LBRACKET) and _at(data, i + 3, _LBRACKET):
            return _find(data, i + 4, _RBRACKET, _RBRACKET)
        return _line_end(data, i)
    if c == _LBRACE and family == _F_HS and _at(data, i + 1, _DASH):
        return _find(data, i + 2, _DASH, _RBRACE)
    if c == _SEMI and family == _F_LISP:
        return _line_end(data, i)
    if (
        c == _LT
        and family == _F_HTML
        and _at(data, i + 1, _BANG)
        and _at(data, i + 2, _DASH)
        and _at(data, i + 3, _DASH)
    ):
        end = _find(data, i + 4, _DASH, _DASH)
        return end + 1 if _at(data, end, _GT) else end
    return -1


@njit(cache=True, nogil=True)
def _string_start_end(data, i, family):
    """If a string literal starts at i, the offset just past it; else -1."""
    c = data[i]
    if c == _DQ:
        if family == _F_PY and _at(data, i + 1, _DQ) and _at(data, i + 2, _DQ):
            return _triple_end(data, i + 3, _DQ)
        return _string_end(data, i + 1, _DQ, False)
    if c == _SQ:
        if family == _F_LISP:
            return -1
        if family == _F_PY and _at(data, i + 1, _SQ) and _at(data, i + 2, _SQ):
            return _triple_end(data, i + 3, _SQ)
        if family == _F_RUST and i + 2 < data.shape[0] and data[i + 1] != _BSLASH and data[i + 2] != _SQ:
            return -1  # a lifetime such as 'a, not a char literal
        return _string_end(data, i + 1, _SQ, False)
    if c == _BT:
        if family == _F_JS:
            return _string_end(data, i + 1, _BT, True)
        if family == _F_GO:
            return _raw_end(data, i + 1, _BT)
    return -1


@njit(cache=True, nogil=True)
def _resume(data, start_state):
    """Offset where code resumes when the text starts inside a comment or string."""
    if start_state == 1:
        return _find(data, 0, _STAR, _SLASH)
    if start_state == 2:
        return _triple_end(data, 0, _DQ)
    if start_state == 3:
        return _triple_end(data, 0, _SQ)
    if start_state == 4:
        return _string_end(data, 0, _BT, True)
    return 0


@njit(cache=True, nogil=True)
def _is_string_prefix(data, start, end, family):
    """Python string prefixes (r, b, f, u, rb, ...) and C/C++ ones (L, u8, ...) glue to the string."""
    if end - start > 2:
        return False
    for j in range(start, end):
        c = data[j] | 32  # lower-case ASCII
        if family == _F_PY:
            if c != 114 and c != 98 and c != 102 and c != 117:  # r b f u
                return False
        elif family == _F_C:
            if c != 108 and c != 117 and c != 56:  # L u 8
                return False
        else:
            return False
    return True


@njit(cache=True, nogil=True)
def _lex(data, family, start_state, begin, stop, cls, out_start, out_end, out_kind):
    """Tokens from byte `begin` on (`begin` > 0 only with start_state 0), up to the last one
    starting before `stop`; returns how many were written."""
    n = data.shape[0]
    count = 0
    i = begin
    if start_state != 0:
        i = _resume(data, start_state)
        if i > 0:
            out_start[0] = 0
            out_end[0] = i
            out_kind[0] = 5 if start_state == 1 else 3
            count = 1
    while i < n:
        c = data[i]
        k = cls[c]
        if k == 1:  # whitespace
            i += 1
            continue
        if i >= stop:
            break
        if k == 2:  # word
            j = i + 1
            while j < n and (cls[data[j]] == 2 or cls[data[j]] == 3):
                j += 1
            if family == _F_RUST and (c == 114 or c == 98) and j < n and (data[j] == _HASH or data[j] == _DQ):
                raw = _rust_raw_end(data, i)
                if raw > 0:
                    out_start[count] = i
                    out_end[count] = raw
                    out_kind[count] = 3
                    count += 1
                    i = raw
                    continue
            if j < n and (data[j] == _DQ or data[j] == _SQ) and _is_string_prefix(data, i, j, family):
                end = _string_start_end(data, j, family)
                if end > 0:
                    out_start[count] = i
                    out_end[count] = end
                    out_kind[count] = 3
                    count += 1
                    i = end
                    continue
            out_start[count] = i
            out_end[count] = j
            out_kind[count] = 1
            count += 1
            i = j
            continue
        if k == 3:  # number: digits, letters, underscores and dots (0x1F, 1e10, 3.14, 1_000)
            j = i + 1
            while j < n and (cls[data[j]] == 2 or cls[data[j]] == 3 or data[j] == 46):
                j += 1
            out_start[count] = i
            out_end[count] = j
            out_kind[count] = 2
            count += 1
            i = j
            continue
        end = _comment_end(data, i, family)
        if end > 0:
            out_start[count] = i
            out_end[count] = end
            out_kind[count] = 5
            count += 1
            i = end
            continue
        end = _string_start_end(data, i, family)
        if end > 0:
            out_start[count] = i
            out_end[count] = end
            out_kind[count] = 3
            count += 1
            i = end
            continue
        out_start[count] = i
        out_end[count] = i + 1
        out_kind[count] = 4
        count += 1
        i += 1
    return count
