"""Is it source text? One answer for every reader of bytes: ingestion, the gate, the API and the CLI.

Bytes holding a NUL are binary; other bytes must be UTF-8. Each caller decides what a refusal
means for it (a skipped file, a 422, an error line), but they all draw the line in one place.
"""

from __future__ import annotations

from indexer.records import SkipReason


class NotSourceText(ValueError):
    """Bytes that are not UTF-8 source text: `reason` is BINARY or UNDECODABLE, `detail` says where."""

    def __init__(self, reason: SkipReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def decode_source(raw: bytes) -> str:
    """The text of `raw`, decoded exactly (a byte-order mark is kept, so the text encodes back to
    `raw`). Raises NotSourceText for bytes with a NUL (binary) or that are not valid UTF-8."""
    nul = raw.find(b"\0")
    if nul >= 0:
        raise NotSourceText(SkipReason.BINARY, f"contains NUL bytes (first at byte {nul})")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise NotSourceText(SkipReason.UNDECODABLE, f"invalid UTF-8 at byte {err.start}") from None
