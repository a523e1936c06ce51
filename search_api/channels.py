"""Texts seen through the index's channels, with every k-gram hashed (not only winnowed ones).

Used for both sides of verification: the query (lexed under each start state it may need,
since a snippet can begin inside a comment or a string) and candidate source files, lexed once
(cached by the caller) and viewed only in the window of lines where the candidate's hits are.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from indexer.fingerprint import (
    IDENT_VALUE,
    Channel,
    code_channel,
    kgram_hashes,
    normalized_channel,
    spellings,
    text_channel,
)
from indexer.languages import Family, family_of
from indexer.lexer import StartState, encode, lex, line_starts
from indexer.options import IndexOptions
from search_api.align import sort_kgrams


@dataclass(frozen=True)
class ChannelView:
    """One channel of a text with all its k-gram hashes (and, for the query, the hashes sorted)."""

    name: str  # "text" | "code" | "normalized"
    channel: Channel
    kgrams: np.ndarray  # uint64
    k: int
    data: np.ndarray | None = None  # normalized channel: the text's bytes (for spellings)

    @property
    def values(self) -> np.ndarray:
        return self.channel.values

    def byte_offset(self, position: int) -> int:
        """Byte offset of the value at `position` (clamped to the channel)."""
        offsets = self.channel.offsets
        return int(offsets[min(max(position, 0), offsets.shape[0] - 1)])

    def byte_end(self, end_position: int) -> int:
        """Byte offset just past the value before `end_position`."""
        i = min(max(end_position - 1, 0), self.channel.offsets.shape[0] - 1)
        if self.channel.ends is not None:
            return int(self.channel.ends[i])
        return int(self.channel.offsets[i]) + 1

    def exact_spellings(self) -> np.ndarray:
        """Hash of the bytes behind each value (normalized channel only)."""
        assert self.data is not None
        return spellings(self.data, self.channel)

    def identifier_mask(self) -> np.ndarray:
        return self.channel.values == IDENT_VALUE

    @functools.cached_property
    def sorted_kgrams(self) -> tuple[np.ndarray, np.ndarray]:
        """The k-grams sorted (with their positions), for aligning this view as the query side."""
        return sort_kgrams(self.kgrams)

    @functools.cached_property
    def spellings(self) -> np.ndarray:
        return self.exact_spellings()


@dataclass(frozen=True, slots=True)
class Lexed:
    """A text lexed once: `tokens` has one entry per start state considered (CODE first)."""

    text: str
    data: np.ndarray
    language: str | None
    line_starts: np.ndarray
    tokens: tuple[Tokens, ...]

    def byte_range(self, lines: tuple[int, int] | None) -> tuple[int, int]:
        """Bytes of lines lo..hi (1-based, inclusive, clamped to the text)."""
        if lines is None:
            return 0, int(self.data.shape[0])
        lo = min(max(lines[0], 1), self.line_starts.shape[0])
        hi = min(max(lines[1], lo), self.line_starts.shape[0])
        end = int(self.line_starts[hi]) if hi < self.line_starts.shape[0] else int(self.data.shape[0])
        return int(self.line_starts[lo - 1]), end


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """A text (or a window of it) through every channel; `code` has one view per start state
    (the normalized channel needs none)."""

    lexed: Lexed
    text_view: ChannelView
    code_views: tuple[ChannelView, ...]
    normalized_views: tuple[ChannelView, ...]
    token_count: int
    # Sizes of the whole text (a window of a query still judges matches against the whole):
    # non-whitespace characters, and values of the normalized channel.
    whole_chars: int = 0
    whole_words: int = 0

    @property
    def text(self) -> str:
        return self.lexed.text

    @property
    def data(self) -> np.ndarray:
        return self.lexed.data

    @property
    def language(self) -> str | None:
        return self.lexed.language

    @property
    def lines(self) -> int:
        return int(self.lexed.line_starts.shape[0])

    def line_of(self, byte_offset: int) -> int:
        return int(np.searchsorted(self.lexed.line_starts, byte_offset, side="right"))

    def char_offset(self, byte_offset: int) -> int:
        """Character (code point) offset of a byte offset."""
        return len(self.data[:byte_offset].tobytes().decode("utf-8", "replace"))


_CLOSERS = {
    StartState.BLOCK_COMMENT: b"*/",
    StartState.TRIPLE_DOUBLE: b'"""',
    StartState.TRIPLE_SINGLE: b"'''",
    StartState.TEMPLATE: b"`",
}
_FAMILY_STATES = {
    Family.PYTHON: (StartState.TRIPLE_DOUBLE, StartState.TRIPLE_SINGLE),
    Family.JAVASCRIPT: (StartState.BLOCK_COMMENT, StartState.TEMPLATE),
    Family.C_LIKE: (StartState.BLOCK_COMMENT,),
    Family.RUST: (StartState.BLOCK_COMMENT,),
    Family.GO: (StartState.BLOCK_COMMENT, StartState.TEMPLATE),
    Family.SQL: (StartState.BLOCK_COMMENT,),
}


def start_states(data: np.ndarray, language: str | None) -> list[StartState]:
    """The states a snippet may start in: code, and each state whose closing delimiter occurs."""
    raw = data.tobytes()
    states = [StartState.CODE]
    for state in _FAMILY_STATES.get(family_of(language), ()):
        if _CLOSERS[state] in raw:
            states.append(state)
    return states


def lex_text(text: str, language: str | None, all_start_states: bool) -> Lexed:
    """Lex a text; a query under every start state it may need, a source file as a whole file."""
    data = encode(text)
    states = start_states(data, language) if all_start_states else [StartState.CODE]
    return Lexed(text, data, language, line_starts(data), tuple(lex(data, language, s) for s in states))


def analyze(lexed: Lexed, options: IndexOptions, lines: tuple[int, int] | None = None,
            whole: TextAnalysis | None = None) -> TextAnalysis:
    """Every channel of a lexed text, restricted to `lines` (1-based, inclusive) when given;
    `whole` is the analysis of the whole text, whose sizes a window keeps."""
    window = lexed.byte_range(lines)
    tokens = [t.within(*window) if lines is not None else t for t in lexed.tokens]
    text_view = _view("text", text_channel(lexed.tokens[0], window), options.exact_k)
    code_views = _distinct(_view("code", code_channel(t), options.exact_k) for t in tokens)
    norm_view = _view("normalized", normalized_channel(lexed.data, lexed.language, *window), options.normalized_k,
                      lexed.data)
    token_count = int(np.count_nonzero(tokens[0].kinds != 5))
    whole_chars = whole.whole_chars if whole else int(text_view.values.shape[0])
    whole_words = whole.whole_words if whole else int(norm_view.values.shape[0])
    return TextAnalysis(lexed, text_view, code_views, (norm_view,), token_count, whole_chars, whole_words)


def _view(name: str, channel: Channel, k: int, data: np.ndarray | None = None) -> ChannelView:
    return ChannelView(name, channel, kgram_hashes(channel.values, k), k, data)


def _distinct(views) -> tuple[ChannelView, ...]:  # noqa: ANN001 - generator of ChannelView
    out: list[ChannelView] = []
    for view in views:
        if not any(np.array_equal(view.values, o.values) and np.array_equal(view.channel.offsets, o.channel.offsets)
                   for o in out):
            out.append(view)
    return tuple(out)
