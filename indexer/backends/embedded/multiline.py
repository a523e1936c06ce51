"""Per document, the tokens that span lines: what lets a query lex a window of a source alone.

``multiline.npy`` holds int32 [start, end) byte ranges (see `indexer.analysis.lexer.lex_lines`),
document after document; ``multiline_index.npy`` where each document's rows begin (int64,
documents + 1 entries). Both are memory-mapped; a segment written before they existed has
neither, and its sources are lexed whole.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

RANGES_FILE = "multiline.npy"
INDEX_FILE = "multiline_index.npy"


class MultilineWriter:
    """Collects each document's multi-line token ranges, in document order."""

    def __init__(self) -> None:
        self._parts: list[np.ndarray] = []
        self._counts: list[int] = []

    def add(self, ranges: np.ndarray) -> None:
        self._parts.append(np.asarray(ranges, dtype=np.int32).reshape(-1, 2))
        self._counts.append(self._parts[-1].shape[0])

    def write(self, directory: Path) -> None:
        ranges = np.concatenate(self._parts) if self._parts else np.zeros((0, 2), np.int32)
        index = np.zeros(len(self._counts) + 1, dtype=np.int64)
        np.cumsum(self._counts, out=index[1:])
        np.save(directory / RANGES_FILE, ranges)
        np.save(directory / INDEX_FILE, index)


class MultilineTable:
    """A segment's multi-line token ranges (None per document when the segment has none stored)."""

    def __init__(self, directory: Path) -> None:
        present = (directory / RANGES_FILE).exists() and (directory / INDEX_FILE).exists()
        self._ranges = np.load(directory / RANGES_FILE, mmap_mode="r") if present else None
        self._index = np.load(directory / INDEX_FILE, mmap_mode="r") if present else None

    def of(self, local: int) -> np.ndarray | None:
        """The ranges of the segment's document `local` (0-based), or None when not stored."""
        if self._ranges is None or self._index is None:
            return None
        return np.asarray(self._ranges[int(self._index[local]) : int(self._index[local + 1])])
