"""License, copyright and warranty text, and SPDX tags, found in a text: notices, not code.

    text -> words, each with its line -> 6-word shingles -> which are license wording
         (`notice_table`) -> lines mostly made of it -> spans (small gaps bridged) -> each span
         named by the license document it overlaps best (Dice) -> kind by wording
    + SPDX-License-Identifier tags and copyright statements, by pattern

A notice says under which license a text claims to be (or who holds its copyright); it is never
evidence that the text was copied from whichever file carries the same wording. Lines of code
that quote license words (dict literals, regexes, asserts) are told apart by their share of
letters and digits.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace

import numpy as np
from cachetools import LRUCache
from numba import njit

from indexer.licenses.expressions import normalize_expression
from indexer.licenses.notice_table import GENERIC_LICENSES, NoticeTable, notice_table, shingle_hashes, words
from indexer.records import NoticeKind

MIN_WORDS = 12  # words of license wording a notice needs (shorter references are not notices)
LINE_COVER = 0.5  # a line is license wording when this share of its words is
GAP_LINES = 2  # lines without wording that may lie inside one notice
PROSE_MIN = 0.86  # share of letters and digits in license prose (code quoting it has less)
MAX_LINE_CHARS = 1000  # minified code is not read

_SPDX_TAG = re.compile(r"SPDX-License-Identifier:[ \t]*([A-Za-z0-9.+:() \t-]+)")
_SPDX_COPYRIGHT = re.compile(r"SPDX-FileCopyrightText:", re.IGNORECASE)
_COPYRIGHT = re.compile(
    r"^[\s#/*;!%-]*(?:copyright\b|\(c\)\s*(?:copyright\b|(?:19|20)\d\d)|©)"
    r"|\bcopyright\s*(?:\(c\)|©)?\s*(?:19|20)\d\d|\(c\)\s*(?:19|20)\d\d",
    re.IGNORECASE,
)
_NOT_COPYRIGHT = re.compile(
    r"copyright\s+(?:notices?|holders?|owners?|law|and|statement|info)\b|copyright[(\"'_]"
    r"|copyright\s*=|copyright\s*:\s*[\"']",
    re.IGNORECASE,
)
_CLUE = re.compile(r"copyright|\(c\)|©", re.IGNORECASE)
_WARRANTY = re.compile(r"warrant|\bas is\b|merchantability|liable|liability|disclaim", re.IGNORECASE)
_GRANT = re.compile(
    r"permission is hereby granted|redistribution and use|licensed under|free software; you can"
    r"|you can redistribute|permission to use, copy|under the terms of|subject to the following"
    r"|you may not use this file|is licensed|released under|distributed under the terms",
    re.IGNORECASE,
)
_LEADER = re.compile(r"^\s*(?:#+|//+|/\*+|\*+/?|--+|;+|%+|!|rem\b|\.\.|\"\"\"|\'\'\')?")
_ALNUM = re.compile(r"[A-Za-z0-9]")


@dataclass(frozen=True, slots=True)
class NoticeSpan:
    """Lines `start_line`..`end_line` (1-based, inclusive) of a text are a notice of `kind`;
    `license` is the SPDX expression it names (None for a copyright line); `score` is the Dice
    overlap with the license document that named it (1.0 for patterns)."""

    start_line: int
    end_line: int
    kind: NoticeKind
    license: str | None
    score: float = 1.0


def find_notices(text: str) -> list[NoticeSpan]:
    """Every notice in `text`, in line order (safe from any thread: each has its own detector)."""
    detector = getattr(_PER_THREAD, "detector", None)
    if detector is None:
        detector = _PER_THREAD.detector = NoticeDetector(notice_table())
    return detector.detect(text)


_PER_THREAD = threading.local()  # a NoticeDetector's scratch arrays serve one detection at a time


class NoticeDetector:
    """Finds notices with one `NoticeTable` (namings are cached: the same headers come back). Not
    for two threads at once: `detect` fills scratch arrays (`find_notices` keeps one per thread)."""

    def __init__(self, table: NoticeTable) -> None:
        self.table = table
        licenses = sorted(set(table.doc_license))
        self._licenses = licenses
        number = {name: i for i, name in enumerate(licenses)}
        self._doc_license_id = np.array([number[name] for name in table.doc_license], np.int32)
        self._generic = np.array([name in GENERIC_LICENSES for name in licenses], bool)
        self._counts = np.zeros(table.doc_shingles.shape[0], np.int32)
        self._touched = np.empty(table.doc_shingles.shape[0], np.int64)
        self._namings: LRUCache[bytes, _Naming] = LRUCache(4096)

    def detect(self, text: str) -> list[NoticeSpan]:
        lines = text.split("\n")
        found = _pattern_notices(text, lines)
        line_words = [words(line[:MAX_LINE_CHARS]) for line in lines]
        all_words = [w for ws in line_words for w in ws]
        if len(all_words) >= MIN_WORDS:
            ids = self.table.word_ids(all_words)
            word_line = np.repeat(np.arange(len(lines)), [len(ws) for ws in line_words])
            tags = [n.start_line - 1 for n in found if n.kind is NoticeKind.SPDX_TAG]
            ids[np.isin(word_line, tags)] = 0  # a tag is a notice of its own, never part of a text
            found += self._wording_notices(lines, ids, word_line)
        return sorted(found, key=lambda n: (n.start_line, n.end_line))

    def _wording_notices(self, lines: list[str], ids: np.ndarray, word_line: np.ndarray) -> list[NoticeSpan]:
        hashes, known = shingle_hashes(ids)
        rows = self.table.lookup(hashes)
        hit = (rows >= 0) & known
        if not hit.any():
            return []
        accepted: list[NoticeSpan] = []
        fragments: list[tuple[int, int]] = []
        remaining = hit.copy()
        todo = _dense_spans(hit, word_line, len(lines))
        for _ in range(32):  # a text holding several licenses is taken apart span by span
            if not todo:
                break
            a, b = todo.pop()
            starts_line = word_line[: hit.shape[0]]  # the line of each shingle's first word
            span_hit = remaining & (starts_line >= a) & (starts_line <= b)
            if np.count_nonzero(_covered(span_hit, ids.shape[0])) < MIN_WORDS:
                continue
            naming = self._name(rows, span_hit)
            remaining &= ~naming.hit
            covered = _covered(naming.hit, ids.shape[0])
            runs = _dense_spans(naming.hit, word_line, len(lines))
            if not runs:
                continue
            a2, b2 = max(
                runs, key=lambda r: np.count_nonzero(covered & (word_line >= r[0]) & (word_line <= r[1]))
            )
            remaining &= ~((starts_line >= a2) & (starts_line <= b2))
            todo += _dense_spans(span_hit & remaining, word_line, len(lines))
            words_covered = int(np.count_nonzero(covered & (word_line >= a2) & (word_line <= b2)))
            if not naming.strong(words_covered):
                fragments.append((a2, b2))
            elif _reads_as_notice(lines[a2 : b2 + 1]):
                accepted.append(_wording_notice(lines, a2, b2, naming))
        return _with_fragments(accepted, fragments)

    def _name(self, rows: np.ndarray, span_hit: np.ndarray) -> _Naming:
        positions = np.flatnonzero(span_hit)
        shingles, inverse = np.unique(rows[positions], return_inverse=True)
        key = shingles.tobytes()
        naming = self._namings.get(key)
        if naming is None:
            naming = self._namings[key] = self._best_document(shingles)
        hit = np.zeros_like(span_hit)
        hit[positions[naming.in_best[inverse]]] = True
        return replace(naming, hit=hit)

    def _best_document(self, shingles: np.ndarray) -> _Naming:
        """The document with the best Dice overlap; for part of a long text, the license that most
        documents holding (nearly) all of the span name."""
        t = self.table
        n = _count_postings(shingles, t.offsets, t.postings, self._counts, self._touched)
        candidates = np.sort(self._touched[:n])
        matched = self._counts[candidates].copy()
        self._counts[candidates] = 0
        dice = 2 * matched / (shingles.shape[0] + t.doc_shingles[candidates])
        i = int(np.argmax(dice))
        best, score = int(candidates[i]), float(dice[i])
        contained = matched[i] >= 0.8 * t.doc_shingles[best]
        if (not contained and score < 0.5) or t.doc_license[best] in GENERIC_LICENSES:
            best, score = self._vote(candidates, matched / shingles.shape[0], best, score)
        j = int(np.searchsorted(candidates, best))
        return _Naming(
            license=t.doc_license[best],
            score=score,
            dice=float(dice[j]),
            matched=int(matched[j]),
            containment=float(matched[j] / t.doc_shingles[best]),
            in_best=_holds_document(shingles, t.offsets, t.postings, best),
            hit=np.zeros(0, bool),
        )

    def _vote(
        self, candidates: np.ndarray, precision: np.ndarray, best: int, score: float
    ) -> tuple[int, float]:
        top = candidates[precision >= 0.95 * precision.max()]
        licenses = self._doc_license_id[top]
        named = ~self._generic[licenses]
        if not named.any():
            return best, score
        votes = np.bincount(licenses[named])
        winner = int(np.argmax(votes))
        return int(top[named][np.argmax(licenses[named] == winner)]), float(precision.max())


@dataclass(frozen=True, slots=True)
class _Naming:
    license: str
    score: float
    dice: float
    matched: int
    containment: float
    in_best: np.ndarray  # per distinct shingle of the span: held by the naming document
    hit: np.ndarray  # per word position of the text: a shingle the naming document holds starts here

    def strong(self, words_covered: int) -> bool:
        """Whether the naming document explains enough of the span to call it a notice."""
        return words_covered >= MIN_WORDS and (
            self.dice >= 0.5 or self.containment >= 0.8 or self.matched >= 20
        )


def _reads_as_notice(span: list[str]) -> bool:
    """License prose, not code quoting license words; and not copyright lines only (the patterns
    report those)."""
    if _prose_share(span) < PROSE_MIN:
        return False
    return not all(_COPYRIGHT.search(line) for line in span if words(line))


def _wording_notice(lines: list[str], a: int, b: int, naming: _Naming) -> NoticeSpan:
    body = " ".join(lines[a : b + 1])
    kind = NoticeKind.WARRANTY if _WARRANTY.search(body) and not _GRANT.search(body) else NoticeKind.LICENSE
    return NoticeSpan(a + 1, b + 1, kind, naming.license, round(naming.score, 3))


def _pattern_notices(text: str, lines: list[str]) -> list[NoticeSpan]:
    out = []
    if "SPDX-" in text:
        for m in _SPDX_TAG.finditer(text):
            expression = _leading_expression(m.group(1))
            if expression:
                at = text.count("\n", 0, m.start()) + 1
                out.append(NoticeSpan(at, at, NoticeKind.SPDX_TAG, expression))
        for m in _SPDX_COPYRIGHT.finditer(text):
            at = text.count("\n", 0, m.start()) + 1
            out.append(NoticeSpan(at, at, NoticeKind.COPYRIGHT, None))
    if not _CLUE.search(text):
        return out
    taken = {n.start_line for n in out}
    for i, line in enumerate(lines):
        if (
            (i + 1) not in taken
            and len(line) < 300
            and _CLUE.search(line)
            and _COPYRIGHT.search(line)
            and not _NOT_COPYRIGHT.search(line)
        ):
            out.append(NoticeSpan(i + 1, i + 1, NoticeKind.COPYRIGHT, None))
    return out


def _leading_expression(raw: str) -> str | None:
    """The longest leading run of words of `raw` that is an SPDX expression (code may follow a tag
    on its line, e.g. inside a string), normalised."""
    parts = raw.split()
    while parts:
        expression = normalize_expression(" ".join(parts))
        if expression:
            return expression
        parts.pop()
    return None


def _with_fragments(accepted: list[NoticeSpan], fragments: list[tuple[int, int]]) -> list[NoticeSpan]:
    """Weak pieces of wording next to an accepted notice belong to it (a title, "All rights reserved.")."""
    out = list(accepted)
    for a, b in sorted(fragments):
        for i, n in enumerate(out):
            if a + 1 <= n.end_line + 1 + GAP_LINES and b + 1 >= n.start_line - 1 - GAP_LINES:
                out[i] = replace(n, start_line=min(n.start_line, a + 1), end_line=max(n.end_line, b + 1))
                break
    return out


def _prose_share(lines: list[str]) -> float:
    """Letters and digits among the non-blank characters, comment leaders removed."""
    alnum = nonblank = 0
    for line in lines:
        bare = _LEADER.sub("", line, count=1).replace("*/", "")
        nonblank += sum(1 for c in bare if not c.isspace())
        alnum += len(_ALNUM.findall(bare))
    return alnum / max(1, nonblank)


def _covered(hit: np.ndarray, n_words: int, k: int = 6) -> np.ndarray:
    """The word positions inside a hit shingle (each shingle covers `k` words)."""
    starts = np.flatnonzero(hit)
    cover = np.bincount(starts, minlength=n_words + k) - np.bincount(starts + k, minlength=n_words + k)
    return np.cumsum(cover)[:n_words] > 0


def _dense_spans(hit: np.ndarray, word_line: np.ndarray, n_lines: int) -> list[tuple[int, int]]:
    """Runs of lines (0-based, inclusive) at least `LINE_COVER` covered by wording, across small gaps."""
    covered = _covered(hit, word_line.shape[0])
    words_per_line = np.bincount(word_line, minlength=n_lines)
    covered_per_line = np.bincount(word_line, weights=covered, minlength=n_lines)
    dense = (words_per_line > 0) & (covered_per_line >= LINE_COVER * np.maximum(words_per_line, 1))
    empty = words_per_line == 0
    spans: list[tuple[int, int]] = []
    for line in np.flatnonzero(dense).tolist():
        if spans and line - spans[-1][1] - 1 - int(empty[spans[-1][1] + 1 : line].sum()) <= GAP_LINES:
            spans[-1] = (spans[-1][0], line)
        else:
            spans.append((line, line))
    return spans


@njit(cache=True, nogil=True)
def _count_postings(shingles, offsets, postings, counts, touched):
    """counts[doc] += 1 for every document holding each shingle; the documents first touched go to
    touched[:n], and n is returned (the buffers are preallocated: growing them is 20x slower)."""
    n = 0
    for s in shingles:
        for p in range(offsets[s], offsets[s + 1]):
            d = postings[p]
            if counts[d] == 0:
                touched[n] = d
                n += 1
            counts[d] += 1
    return n


@njit(cache=True, nogil=True)
def _holds_document(shingles, offsets, postings, doc):
    out = np.zeros(shingles.shape[0], np.bool_)
    for i in range(shingles.shape[0]):
        for p in range(offsets[shingles[i]], offsets[shingles[i] + 1]):
            if postings[p] == doc:
                out[i] = True
                break
    return out
