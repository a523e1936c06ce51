"""A progress bar for long work: files, MB and MB/s (tqdm, on stderr, only when stderr is a terminal:
CI logs get no carriage-return updates)."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Self

from tqdm import tqdm


class ByteProgress:
    """``with ByteProgress("indexing") as bar: ... bar.update(files_done, bytes_done)``."""

    def __init__(self, label: str, disabled: bool = False) -> None:
        disabled = disabled or not _is_terminal(sys.stderr)
        self._bar = tqdm(
            desc=label,
            unit="B",
            unit_scale=True,
            unit_divisor=1000,
            disable=disabled,
            dynamic_ncols=True,
            mininterval=0.5,
            leave=True,
        )
        self._bytes = 0
        self._files = 0

    def update(self, files: int, total_bytes: int) -> None:
        self._bar.update(total_bytes - self._bytes)
        self._bytes = total_bytes
        if files // 100 != self._files // 100:
            self._bar.set_postfix_str(f"{files:,} files", refresh=False)
        self._files = files

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bar.set_postfix_str(f"{self._files:,} files", refresh=False)
        self._bar.close()


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed or detached stream
        return False
