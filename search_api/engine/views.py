"""Texts seen through the index's channels, with every k-gram hashed (not only winnowed ones).

Used for both sides of verification: the query (lexed under each start state it may need,
since a snippet can begin inside a comment or a string) and candidate source files, lexed once
(cached by the caller) and viewed only in the window of lines where the candidate's hits are.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from indexer.analysis.channels import (
    IDENT_VALUE,
    Channel,
    ViewKind,
    code_channel,
    normalized_channel,
    spellings,
    text_channel,
)
from indexer.analysis.languages import Family, family_of
from indexer.analysis.lexer import StartState, Tokens, encode, lex, line_starts
from indexer.analysis.windows import lex_lines
from indexer.analysis.winnowing import kgram_hashes
from indexer.options import IndexOptions
from search_api.engine.align import sort_kgrams
from search_api.engine.imports import import_lines


@dataclass(frozen=True)
class ChannelView:
    """One channel of a text with all its k-gram hashes (and, for the query, the hashes sorted)."""

    kind: ViewKind
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

    def identifier_mask(self) -> np.ndarray:
        return self.channel.values == IDENT_VALUE

    @functools.cached_property
    def sorted_kgrams(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The k-grams sorted (with their positions), for aligning this view as the query side."""
        return sort_kgrams(self.kgrams)

    @functools.cached_property
    def spellings(self) -> np.ndarray:
        """Hash of the bytes behind each value (normalized channel only)."""
        assert self.data is not None
        return spellings(self.data, self.channel)


class Lexed:
    """A text ready for analysis: its bytes and line starts now, its tokens when first needed
    (only the code channel needs the lexer; one token list per start state considered, CODE
    first). `data` may be the text with some words blanked out (notices: see
    `search_api.engine.notices`), byte for byte as long as `text`, which is the text as given."""

    def __init__(
        self,
        data: np.ndarray,
        language: str | None,
        states: list[StartState],
        text: str | None = None,
        multiline: np.ndarray | None = None,
    ) -> None:
        self.data = data
        self.language = language
        self.line_starts = line_starts(self.data)
        self._states = states
        self._multiline = multiline  # a source's tokens spanning lines: windows lex alone
        if text is not None:
            self.__dict__["text"] = text

    @functools.cached_property
    def text(self) -> str:
        return self.data.tobytes().decode("utf-8", "replace")

    @functools.cached_property
    def text_bytes(self) -> bytes:
        """`text` as UTF-8 (what character offsets are counted in)."""
        return self.text.encode("utf-8", "replace")  # as `encode` makes `data`

    @functools.cached_property
    def import_lines(self) -> np.ndarray:
        """Per line, whether it belongs to an import statement (see `search_api.engine.imports`)."""
        return import_lines(self.text, self.language)

    @functools.cached_property
    def blank_lines(self) -> np.ndarray:
        """Per line, whether it holds only whitespace."""
        return np.array([not line.strip() for line in self.text.split("\n")], dtype=bool)

    @functools.cached_property
    def tokens(self) -> tuple[Tokens, ...]:
        return tuple(lex(self.data, self.language, s) for s in self._states)

    def tokens_within(self, byte_range: tuple[int, int]) -> list[Tokens]:
        """`tokens`, each cut to the tokens lying wholly inside `byte_range` (which starts at a
        line start). A source whose multi-line tokens are known lexes only that range."""
        if self._multiline is None or "tokens" in self.__dict__:
            return [t.within(*byte_range) for t in self.tokens]
        return [lex_lines(self.data, self.language, self._multiline, byte_range)]

    def byte_range(self, lines: tuple[int, int] | None) -> tuple[int, int]:
        """Bytes of lines lo..hi (1-based, inclusive, clamped to the text)."""
        if lines is None:
            return 0, int(self.data.shape[0])
        lo = min(max(lines[0], 1), self.line_starts.shape[0])
        hi = min(max(lines[1], lo), self.line_starts.shape[0])
        end = int(self.line_starts[hi]) if hi < self.line_starts.shape[0] else int(self.data.shape[0])
        return int(self.line_starts[lo - 1]), end


class TextViews:
    """A text (or a window of it) through every channel; `code_views` has one view per start
    state (the other channels need none) and is computed when first used.

    `whole_chars` and `whole_words` are sizes of the whole text (non-whitespace characters,
    normalized values): a window of a query still judges matches against the whole query.
    """

    def __init__(
        self,
        lexed: Lexed,
        options: IndexOptions,
        window: tuple[int, int],
        windowed: bool,
        text_view: ChannelView,
        normalized_view: ChannelView,
        whole: TextViews | None,
    ) -> None:
        self.lexed = lexed
        self.text_view = text_view
        self.normalized_view = normalized_view
        self.whole_chars: int = whole.whole_chars if whole else int(text_view.values.shape[0])
        self.whole_words: int = whole.whole_words if whole else int(normalized_view.values.shape[0])
        self._options = options
        self._window = window
        self._windowed = windowed

    @functools.cached_property
    def _tokens(self) -> list[Tokens]:
        return self.lexed.tokens_within(self._window) if self._windowed else list(self.lexed.tokens)

    @functools.cached_property
    def code_views(self) -> tuple[ChannelView, ...]:
        return _distinct(_view(ViewKind.CODE, code_channel(t), self._options.exact_k) for t in self._tokens)

    @property
    def token_count(self) -> int:
        """Tokens of the text outside comments."""
        return int(np.count_nonzero(self._tokens[0].kinds != 5))

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
        return len(self.lexed.text_bytes[:byte_offset].decode("utf-8", "replace"))


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


def lex_text(text: str, language: str | None, all_start_states: bool, analysed: str | None = None) -> Lexed:
    """Prepare a text; a query is lexed under every start state it may need, a source file as a
    whole file. `analysed` is what the channels see instead of `text` (as many UTF-8 bytes)."""
    data = encode(text if analysed is None else analysed)
    return Lexed(
        data, language, start_states(data, language) if all_start_states else [StartState.CODE], text
    )


def lex_bytes(raw: bytes, language: str | None, multiline: np.ndarray | None = None) -> Lexed:
    """Prepare a source file from its stored UTF-8 bytes (no decoding: a source's text is rarely
    needed); `multiline`, its tokens that span lines as the index stores them, lets a window of it
    be lexed alone."""
    return Lexed(np.frombuffer(raw, dtype=np.uint8), language, [StartState.CODE], multiline=multiline)


def analyze(
    lexed: Lexed, options: IndexOptions, lines: tuple[int, int] | None = None, whole: TextViews | None = None
) -> TextViews:
    """Every channel of a lexed text, restricted to `lines` (1-based, inclusive) when given;
    `whole` is the analysis of the whole text, whose sizes a window keeps."""
    window = lexed.byte_range(lines)
    text_view = _view(ViewKind.TEXT, text_channel(lexed.data, window), options.exact_k)
    norm_view = _view(
        ViewKind.NORMALIZED,
        normalized_channel(lexed.data, lexed.language, *window),
        options.normalized_k,
        lexed.data,
    )
    return TextViews(lexed, options, window, lines is not None, text_view, norm_view, whole)


def _view(kind: ViewKind, channel: Channel, k: int, data: np.ndarray | None = None) -> ChannelView:
    return ChannelView(kind, channel, kgram_hashes(channel.values, k), k, data)


def _distinct(views) -> tuple[ChannelView, ...]:
    out: list[ChannelView] = []
    for view in views:
        if not any(
            np.array_equal(view.values, o.values) and np.array_equal(view.channel.offsets, o.channel.offsets)
            for o in out
        ):
            out.append(view)
    return tuple(out)
