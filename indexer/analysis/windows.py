"""Lexing a window of a source file alone, exactly as the whole file lexes there.

The lexer (`indexer.analysis.lexer`) keeps no state between tokens: wherever the whole-file lexer
stands between two tokens, lexing can start afresh. Inside a file, the only places it does not
stand between tokens at a line start are the tokens that run past a line break (block comments,
docstrings, multi-line strings), so those few byte ranges, stored per file by the index, are all a
query needs to lex just the lines of a candidate window instead of the whole source.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from indexer.analysis.languages import family_of
from indexer.analysis.lexer import _CHAR_CLASS, _NL, Tokens, _lex


def multiline_tokens(tokens: Tokens) -> np.ndarray:
    """Byte ranges [start, end) of the tokens that run past a line break (block comments,
    docstrings, multi-line strings), in order: int32[k, 2].

    They are all a source file needs besides its bytes to be lexed from any line on, exactly as
    the whole file lexes there (see `lex_lines`); the index stores them for that."""
    return _multiline(tokens.data, tokens.starts, tokens.ends, tokens.kinds)


def lex_lines(
    data: np.ndarray, language: str | None, multiline: np.ndarray, byte_range: tuple[int, int]
) -> Tokens:
    """The tokens of a whole file (`lex(data, language)`) lying wholly inside `byte_range`, whose
    start is a line start, computed by lexing only that range.

    `multiline` is `multiline_tokens` of the whole file. The lexer keeps no state between tokens,
    so lexing from a position where the whole-file lexer stands between two tokens gives the
    same tokens from there on: that is the range's start, or, when it falls inside a token that
    spans lines, that token's end."""
    start, end = byte_range
    k = int(np.searchsorted(multiline[:, 0], start, side="left")) - 1 if multiline.shape[0] else -1
    begin = int(multiline[k, 1]) if k >= 0 and int(multiline[k, 1]) > start else start
    n = max(min(end, data.shape[0]) - begin, 0) + 1
    starts = np.empty(n, dtype=np.int32)
    ends = np.empty(n, dtype=np.int32)
    kinds = np.empty(n, dtype=np.uint8)
    count = _lex(data, int(family_of(language)), 0, begin, end, _CHAR_CLASS, starts, ends, kinds)
    while count > 0 and ends[count - 1] > end:  # as `Tokens.within` drops a token running past the end
        count -= 1
    return Tokens(data, starts[:count].copy(), ends[:count].copy(), kinds[:count].copy())


@njit(cache=True, nogil=True)
def _multiline(data, starts, ends, kinds):
    out = np.empty((starts.shape[0], 2), dtype=np.int32)
    count = 0
    for t in range(starts.shape[0]):
        if kinds[t] != 3 and kinds[t] != 5:  # only strings and comments can hold a line break
            continue
        for i in range(starts[t], ends[t] - 1):
            if data[i] == _NL:
                out[count, 0] = starts[t]
                out[count, 1] = ends[t]
                count += 1
                break
    return out[:count].copy()
