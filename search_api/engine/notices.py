"""A query's notices: its license, copyright and warranty text and SPDX tags, reported as what they are.

Such text names a license or an author; shared with an indexed file, it says nothing about where
the code came from. So a query's notices go to `Report.notices`, and their words are blanked out
of what the channels see — byte for byte, so every offset and line number stays the query's own
and the lexer still sees every comment delimiter — while the code around them is matched on its
own merits. The same holds on the source side: a correspondence whose source lines are mostly
the source file's own notice (a license phrase quoted in a query's string, say) is shared wording,
not a match (`NoticeLines`).
"""

from __future__ import annotations

import re

import numpy as np

from indexer.licenses.expressions import license_category
from indexer.licenses.notices import NoticeSpan, find_notices
from search_api.engine.results import Notice, Span


def notices_of(text: str) -> tuple[Notice, ...]:
    """The notices of a query text, in line order."""
    return tuple(_notice(span) for span in find_notices(text))


def warm_up() -> None:
    """Load the license notice table and compile its kernels now, not at the first query (before
    forking workers: they then share the table's memory)."""
    find_notices("Licensed under the Apache License, Version 2.0 (the License); you may not use this file")


def blank_notices(text: str, notices: tuple[Notice, ...]) -> str:
    """`text` with the letters, digits and underscores of its notice lines made spaces (as many
    as each character's UTF-8 bytes), everything else kept."""
    if not notices:
        return text
    lines = text.split("\n")
    for notice in notices:
        for i in range(notice.query_span.start_line - 1, min(notice.query_span.end_line, len(lines))):
            lines[i] = "".join(_blank(c) for c in lines[i])
    return "\n".join(lines)


# A word that a license, copyright or warranty notice or an SPDX tag has in one of its lines: a
# span without any is hardly mostly notice text (a cheap test before looking for notices; on the
# 9,000 eval queries, Reports are the same with and without it).
_NOTICE_WORD = re.compile(
    rb"licen[cs]|copyright|\(c\)|\xc2\xa9|warrant|permi(?:ssion|tted)|distribut|rights reserved|spdx"
    rb"|merchantab|liab|gnu|general public|apache|mozilla|bsd|mit\b|applicable law|in writing"
    rb"|disclaim|as is|provided|implied|notice|condition|author|software|free software|temple place"
    rb"|franklin st|boston",
    re.IGNORECASE,
)


def may_be_notice(span: bytes) -> bool:
    """Whether `span` (UTF-8) holds a word a notice has, so that it may be notice text."""
    return _NOTICE_WORD.search(span) is not None


class NoticeLines:
    """Which lines of a source file are notice text, to tell shared wording from shared code."""

    MOSTLY = 0.5  # a span with at least this share of notice lines is notice text

    def __init__(self, text: str) -> None:
        spans = find_notices(text)
        self._lines = np.zeros(max((s.end_line + 1 for s in spans), default=0), dtype=bool)
        for span in spans:
            self._lines[span.start_line : span.end_line + 1] = True

    def cover(self, span: Span) -> bool:
        """Whether lines `span` of the file are mostly notice text."""
        if not self._lines.shape[0]:
            return False
        inside = self._lines[span.start_line : span.end_line + 1]
        return int(np.count_nonzero(inside)) >= self.MOSTLY * span.lines


def _blank(char: str) -> str:
    return " " * len(char.encode("utf-8", "replace")) if char.isalnum() or char == "_" else char


def _notice(span: NoticeSpan) -> Notice:
    category = license_category(span.license).value if span.license else None
    return Notice(Span(span.start_line, span.end_line), span.kind, span.license, category, span.score)
