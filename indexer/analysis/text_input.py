"""Is it source text? One answer for every reader of bytes: ingestion, the gate, the API and the CLI.

Bytes holding a NUL are binary; other bytes must be UTF-8. Each caller decides what a refusal
means for it (a skipped file, a 422, an error line), but they all draw the line in one place.

`decode_source` is strict: the index and the API take only exact text. `decode_lenient` is for a
gate, which must never pass a file it did not scan: it reads the text of any bytes, replaces what
is not text with U+FFFD, and says how much it replaced.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from indexer.records import SkipReason

REPLACEMENT = "\ufffd"

# Byte-order marks of the encodings other than UTF-8 that source files are saved in (UTF-32 first:
# its little-endian mark begins with UTF-16's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


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


@dataclass(frozen=True, slots=True)
class LenientText:
    """The text read from bytes that may not all be text. `replaced` counts the NUL bytes and the
    invalid byte sequences now U+FFFD; `encoding` is the one read ("utf-8", or the UTF-16/32 a
    byte-order mark named)."""

    text: str
    replaced: int = 0
    encoding: str = "utf-8"

    @property
    def note(self) -> str:
        """What was done to read the bytes ('' when they were exact UTF-8 text)."""
        parts = []
        if self.encoding != "utf-8":
            parts.append(f"read as {self.encoding.upper()} (byte-order mark)")
        if self.replaced:
            parts.append(f"{self.replaced:,} NUL or invalid byte sequence(s) replaced by U+FFFD")
        return "; ".join(parts)


def decode_lenient(raw: bytes) -> LenientText:
    """The text of any bytes: exact when `decode_source` accepts them; else decoded with a UTF-16/32
    byte-order mark when there is one, else as UTF-8, every NUL and invalid sequence replaced by
    U+FFFD. Never raises, and keeps every line that holds text."""
    try:
        return LenientText(decode_source(raw))
    except NotSourceText:
        pass
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            text = raw[len(bom) :].decode(encoding, errors="replace")
            replaced = text.count(REPLACEMENT) + text.count("\0")
            return LenientText(text.replace("\0", REPLACEMENT), replaced, encoding)
    text = raw.decode("utf-8", errors="replace")
    invalid = text.count(REPLACEMENT) - raw.count(REPLACEMENT.encode("utf-8"))
    return LenientText(text.replace("\0", REPLACEMENT), invalid + raw.count(b"\0"))
