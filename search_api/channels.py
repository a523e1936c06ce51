"""Texts seen through the index's channels, with every k-gram hashed (not only winnowed ones).

Used for both sides of verification: the query (lexed under each start state it may need,
since a snippet can begin inside a comment or a string) and each candidate source file.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.fingerprint import (
    IDENT_VALUE,
    Channel,
    code_channel,
    exact_token_hashes,
    kgram_hashes,
    normalized_channel,
    text_channel,
)
from indexer.languages import Family, family_of
from indexer.lexer import StartState, Tokens, encode, lex, line_starts
from indexer.options import IndexOptions


@dataclass(frozen=True, slots=True)
class ChannelView:
    """One channel of a text with all its k-gram hashes."""

    name: str  # "text" | "code" | "normalized"
    channel: Channel
    kgrams: np.ndarray  # uint64
    tokens: Tokens | None = None  # normalized channel: the tokens `channel.token_index` points into

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
        if self.tokens is not None and self.channel.token_index is not None:
            return int(self.tokens.ends[self.channel.token_index[i]])
        return int(self.channel.offsets[i]) + 1

    def exact_spellings(self) -> np.ndarray:
        """Hash of each value's token spelling (normalized channel only)."""
        assert self.tokens is not None and self.channel.token_index is not None
        return exact_token_hashes(self.tokens, self.channel.token_index)

    def identifier_mask(self) -> np.ndarray:
        return self.channel.values == IDENT_VALUE


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """A text through every channel: `code` and `normalized` have one view per start state."""

    text: str
    data: np.ndarray
    language: str | None
    line_starts: np.ndarray
    text_view: ChannelView
    code_views: tuple[ChannelView, ...]
    normalized_views: tuple[ChannelView, ...]
    token_count: int

    def line_of(self, byte_offset: int) -> int:
        return int(np.searchsorted(self.line_starts, byte_offset, side="right"))

    @property
    def lines(self) -> int:
        return int(self.line_starts.shape[0])

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


def analyze(text: str, language: str | None, options: IndexOptions, all_start_states: bool) -> TextAnalysis:
    """Lex and hash a text through every channel (the query with all start states it may need)."""
    data = encode(text)
    states = start_states(data, language) if all_start_states else [StartState.CODE]
    token_lists = [lex(data, language, s) for s in states]
    text_view = _view("text", text_channel(token_lists[0]), options.exact_k)
    code_views = _distinct(_view("code", code_channel(t), options.exact_k) for t in token_lists)
    norm_views = _distinct(
        _view("normalized", normalized_channel(t, language), options.normalized_k, t) for t in token_lists
    )
    token_count = int(np.count_nonzero(token_lists[0].kinds != 5))
    return TextAnalysis(text, data, language, line_starts(data), text_view, code_views, norm_views, token_count)


def _view(name: str, channel: Channel, k: int, tokens: Tokens | None = None) -> ChannelView:
    return ChannelView(name, channel, kgram_hashes(channel.values, k), tokens)


def _distinct(views) -> tuple[ChannelView, ...]:  # noqa: ANN001 - generator of ChannelView
    out: list[ChannelView] = []
    for view in views:
        if not any(np.array_equal(view.values, o.values) and np.array_equal(view.channel.offsets, o.channel.offsets)
                   for o in out):
            out.append(view)
    return tuple(out)
