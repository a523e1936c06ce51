"""From the model's raw output to the completion a caller sees: healed, cut at a stop, held back.

`visible_text(raw, ...)` is a pure function of the text decoded so far, used in three places so
they always agree: the stopping criterion (has a stop sequence appeared?), the stream (what may be
sent now?) and the final completion.

    raw text  →  heal the prompt's trailing whitespace  →  cut at the first stop sequence
              →  (while generating) hold back a possible start of a stop, or a half-decoded character

*Whitespace healing.* BPE tokenizers merge a newline with the indentation that follows it, so a
prompt that ends in ``"\\n"`` or ``"\\n    "`` ends on a token the model rarely saw there and the
completion goes astray. The model is therefore prompted without that trailing whitespace
(`split_trailing_whitespace`), and the same whitespace is removed again from the front of what it
writes. If the model writes something else first, its text is kept as written.
"""

from __future__ import annotations

from collections.abc import Sequence

_REPLACEMENT = "\ufffd"  # what a byte-level decoder shows for an incomplete UTF-8 sequence


def split_trailing_whitespace(text: str) -> tuple[str, str]:
    """(`text` without its trailing whitespace, that whitespace)."""
    stripped = text.rstrip()
    return stripped, text[len(stripped) :]


def visible_text(raw: str, healed: str, stops: Sequence[str], final: bool) -> tuple[str, bool]:
    """The part of `raw` (the decoded new tokens) that is the completion, and whether a stop was hit.

    `healed` is the whitespace taken off the end of the prompt. While generating (`final` False)
    the result leaves out text that may still change: the start of a possible stop sequence and a
    half-decoded character. The completion ends where the earliest stop sequence starts, so a stop
    found while a longer one may still be forming before it is not final yet. Successive results
    while generating are prefixes of one another.
    """
    body = raw
    if healed:
        if raw.startswith(healed):
            body = raw[len(healed) :]
        elif healed.startswith(raw) and not final:
            return "", False  # not yet known whether the model repeats the whitespace
    cut = _first_stop(body, stops)
    if final:
        return (body[:cut], True) if cut is not None else (body, False)
    pending = len(body) - _partial_stop(body, stops)  # where a stop may be starting
    if cut is not None and cut <= pending:
        return body[:cut], True
    end = pending  # a stop that starts earlier may still complete: wait
    while end > 0 and body[end - 1] == _REPLACEMENT:
        end -= 1
    return body[:end], False


def _first_stop(body: str, stops: Sequence[str]) -> int | None:
    found = [i for i in (body.find(s) for s in stops if s) if i >= 0]
    return min(found) if found else None


def _partial_stop(body: str, stops: Sequence[str]) -> int:
    """Length of the longest suffix of `body` that is a proper prefix of a stop sequence."""
    longest = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(body)), longest, -1):
            if body.endswith(stop[:n]):
                longest = n
                break
    return longest


class IncrementalText:
    """Turns successive raw snapshots into the pieces of text that may be sent, in order."""

    def __init__(self, healed: str, stops: Sequence[str]) -> None:
        self.healed = healed
        self.stops = tuple(stops)
        self.sent = ""
        self.stopped = False

    def update(self, raw: str, final: bool = False) -> str:
        """The new piece of visible text since the last call ("" when nothing new may be sent)."""
        if self.stopped:
            return ""
        text, self.stopped = visible_text(raw, self.healed, self.stops, final)
        if not text.startswith(self.sent):  # cannot happen while generating; a safety net at the end
            return ""
        piece, self.sent = text[len(self.sent) :], text
        return piece
