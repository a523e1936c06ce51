"""The query pipeline: snippet → candidates → verified matches → Report.

    analyze the query  →  find candidates  →  verify each  →  group copies  →  rank  →  Report

`Searcher` holds an index and a small cache of analysed sources; the CLI, the web app and the
generator all call `Searcher.attribute`.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass

import numpy as np
from cachetools import LRUCache

from indexer.analysis.channels import text_channel
from indexer.analysis.text_input import NotSourceText, decode_source
from indexer.backends.base import IndexReader
from indexer.records import SkipReason, content_hash
from search_api.engine.candidates import Candidate, Candidates, find_candidates
from search_api.engine.evidence import calibrated_model, structure_of
from search_api.engine.language_guess import resolve_language
from search_api.engine.notices import NoticeLines, blank_notices, may_be_notice, notices_of
from search_api.engine.options import QueryOptions, boilerplate_threshold
from search_api.engine.origin import find_origin, source_ref
from search_api.engine.results import Copy, Evidence, Match, Method, Notice, Relation, Report, SourceRef, Span
from search_api.engine.verify import Found, verify
from search_api.engine.views import Lexed, TextViews, analyze, lex_bytes, lex_text

MAX_COPIES = 100  # copies listed per match (all of them count in repos_with_span)
QUERY_WINDOW_SHARE = 0.6  # align only the query lines around a candidate's hits when they are fewer
ANCHOR_BYTES = 48  # non-whitespace characters of a representative's match looked for in its near-duplicates
ANCHOR_SLACK = 30  # lines around the anchored place a near-duplicate's match may extend to


class QueryError(ValueError):
    """The query cannot be answered as given; the message says what to send instead."""


@dataclass(slots=True)
class _Verified:
    found: Found
    span: tuple[int, int]  # query lines


class Searcher:
    """Answers attribution queries against one index."""

    def __init__(
        self, index: IndexReader, options: QueryOptions = QueryOptions(), cache_size: int = 512
    ) -> None:
        self.index = index
        self.options = options
        self._sources: LRUCache[int, Lexed] = LRUCache(cache_size)
        self._source_notices: LRUCache[int, NoticeLines] = LRUCache(cache_size)

    def attribute(
        self,
        code: str | bytes,
        language: str | None = None,
        options: QueryOptions | None = None,
        filename: str | None = None,
    ) -> Report:
        """Find where `code` came from (`language` as The Stack names it, else from `filename`, else
        guessed). Raises QueryError for input that is not source text."""
        started = time.perf_counter()
        options = self._resolved(options or self.options)
        text = _as_text(code, options)
        language, warnings = resolve_language(text, language, filename)
        notices = notices_of(text) if options.find_notices else ()
        analysed = blank_notices(text, notices)
        query = analyze(lex_text(text, language, True, analysed), self.index.options)
        if not text.strip():
            return self._report(
                query, [], (), {}, (*warnings, "empty query: nothing to attribute"), started, options
            )
        whole_file = self._whole_file_match(query) if options.whole_file_match else None
        if whole_file is not None:
            return self._report(query, [whole_file], notices, {}, warnings, started, options)
        candidates = find_candidates(self.index, query, options)
        discarded = dict(candidates.discarded)
        verified = self._verify_all(query, candidates, options, discarded)
        matches, dropped = self._group(query, verified)
        if dropped:
            discarded["removed_sources"] = dropped
        return self._report(query, matches, notices, discarded, warnings, started, options)

    def _whole_file_match(self, query: TextViews) -> Match | None:
        """A query byte-identical to an indexed file is that file (a whole-file match, as SCANOSS
        answers with its file match): no snippet search is needed to say where it came from."""
        raw = query.lexed.text_bytes
        doc_id = self.index.find_content(content_hash(raw))
        if doc_id is None:
            return None
        chars = int(query.text_view.values.shape[0])
        lines = query.line_of(max(len(raw) - 1, 0))  # the last line with a character, not the one after
        files = max(len(self.index.identical_members(doc_id)), 1)  # how common this exact file is
        structure = structure_of(query, (0, len(raw)))
        evidence = Evidence(chars, 1.0, 0, files, structure, lines, chars, lines)
        found = Found(
            doc_id, (0, len(raw)), (0, len(raw)), Method.EXACT, 1.0, chars, chars, files, False, evidence
        )
        return self._match(query, [_Verified(found, (1, lines))])

    def _resolved(self, options: QueryOptions) -> QueryOptions:
        """`options` with the settings that depend on the index filled in."""
        if options.boilerplate_repos is not None:
            return options
        return dataclasses.replace(
            options, boilerplate_repos=boilerplate_threshold(self.index.repository_count)
        )

    def clear_cache(self) -> None:
        self._sources.clear()
        self._source_notices.clear()

    def _verify_all(
        self, query: TextViews, candidates: Candidates, options: QueryOptions, discarded: dict[str, int]
    ) -> list[_Verified]:
        """Verify every candidate; then near-duplicates again where their representative matched.
        A correspondence with the source's own license text is counted in `discarded`, not kept."""
        out: list[_Verified] = []
        by_doc: dict[int, list[Found]] = {}
        queries = {query.language: query}
        windows: dict[tuple[str | None, tuple[int, int]], TextViews] = {}

        def verify_region(region: Candidate) -> None:
            lexed = self._lexed(region.doc_id)
            source = analyze(lexed, self.index.options, region.lines)
            q = queries.get(lexed.language)
            if q is None:
                q = queries[lexed.language] = analyze(
                    lex_text(query.text, lexed.language, True, query.data.tobytes().decode()),
                    self.index.options,
                )
            q = self._query_window(q, region, windows)
            for found in verify(region.doc_id, q, source, candidates.rarity, options, region.channels):
                if options.find_notices and self._is_source_notice(region.doc_id, found):
                    discarded["license_text"] = discarded.get("license_text", 0) + 1
                    continue
                by_doc.setdefault(region.doc_id, []).append(found)
                span = (q.line_of(found.q_bytes[0]), q.line_of(max(found.q_bytes[1] - 1, found.q_bytes[0])))
                out.append(_Verified(found, span))

        for region in candidates.regions:
            verify_region(region)
        for region in candidates.regions:
            if region.via is not None and region.doc_id not in by_doc:
                for anchored in self._anchored(region, by_doc.get(region.via, [])):
                    verify_region(anchored)
        return out

    def _anchored(self, region: Candidate, matched: list[Found]) -> list[Candidate]:
        """Windows of a near-duplicate where its representative's matched text occurs: the same
        code, maybe moved or reformatted, found by exact search (whitespace aside) for a piece of it."""
        if not matched or region.via is None:
            return []
        rep, member = self._lexed(region.via), self._lexed(region.doc_id)
        rep_chars, member_chars = text_channel(rep.data), text_channel(member.data)
        haystack = member_chars.values.astype(np.uint8).tobytes()
        out = []
        for found in matched:
            first, last = np.searchsorted(rep_chars.offsets, found.s_bytes)
            piece_at = _anchor_offsets(
                rep_chars.values.astype(np.uint8).tobytes(), (int(first), int(last)), haystack
            )
            if piece_at:
                byte = int(member_chars.offsets[min(piece_at[0], member_chars.offsets.shape[0] - 1)])
                line = int(np.searchsorted(member.line_starts, byte, side="right"))
                lines = _span(rep, found.s_bytes).lines
                out.append(
                    dataclasses.replace(
                        region, lines=(line - ANCHOR_SLACK, line + lines + ANCHOR_SLACK), via=None
                    )
                )
        return out

    def _query_window(
        self, query: TextViews, region: Candidate, cache: dict[tuple[str | None, tuple[int, int]], TextViews]
    ) -> TextViews:
        """The part of a long query worth aligning with a candidate: the lines around its hits."""
        lines = region.query_lines
        if lines is None or (lines[1] - lines[0] + 1) > QUERY_WINDOW_SHARE * query.lines:
            return query
        key = (query.language, lines)
        if key not in cache:
            cache[key] = analyze(query.lexed, self.index.options, lines, whole=query)
        return cache[key]

    def _lexed(self, doc_id: int) -> Lexed:
        """A source file lexed (cached: the same files answer many queries)."""
        lexed = self._sources.get(doc_id)
        if lexed is None:
            info = self.index.info(doc_id)
            lexed = self._sources[doc_id] = lex_bytes(
                self.index.content_bytes(doc_id),
                info.document.language,
                self.index.multiline_tokens(doc_id),
            )
        return lexed

    def _is_source_notice(self, doc_id: int, found: Found) -> bool:
        """Whether the source side of `found` is mostly the source file's own notice text (looked
        for only when the span holds a word every notice has)."""
        lexed = self._lexed(doc_id)
        if not may_be_notice(lexed.data[found.s_bytes[0] : found.s_bytes[1]].tobytes()):
            return False
        notice_lines = self._source_notices.get(doc_id)
        if notice_lines is None:
            notice_lines = self._source_notices[doc_id] = NoticeLines(lexed.text)
        return notice_lines.cover(_span(lexed, found.s_bytes))

    def _group(self, query: TextViews, verified: list[_Verified]) -> tuple[list[Match], int]:
        """One Match per query region: its best source heads it, every other file holding the
        region is a copy. Long matches come first (a region held by many files a little lower)."""
        verified.sort(key=lambda v: (-v.found.weight, v.found.doc_id))
        groups: list[list[_Verified]] = []
        for v in _one_per_file_region(verified):
            for group in groups:
                if _same_region(group[0].span, v.span):
                    group.append(v)
                    break
            else:
                groups.append([v])
        matches, dropped = [], 0
        for group in groups:
            match = self._match(query, group)
            if match is None:
                dropped += 1
            else:
                matches.append(match)
        matches.sort(key=lambda m: (-_specificity(m), -m.similarity, m.query_span.start_line))
        return matches, dropped

    def _match(self, query: TextViews, group: list[_Verified]) -> Match | None:
        """The Match for the verified correspondences of one query region (None: all opted out)."""
        head_cluster = self.index.info(group[0].found.doc_id).cluster
        sources: list[tuple[_Verified, int, Relation]] = []  # (verified, doc id, relation to the head)
        for i, v in enumerate(group):
            if i == 0:
                relation = Relation.IDENTICAL
            elif self.index.info(v.found.doc_id).cluster == head_cluster:
                relation = Relation.NEAR_DUPLICATE
            else:
                relation = Relation.SAME_SPAN
            for doc_id in self.index.identical_members(v.found.doc_id).tolist() or [v.found.doc_id]:
                if all(int(doc_id) != d for _, d, _ in sources):  # a file is listed once
                    sources.append((v, int(doc_id), relation))
        live = [(v, d, r) for v, d, r in sources if not self.index.info(d).removed]
        if not live:
            return None
        head, head_doc, _ = live[0]
        f = head.found
        copies = tuple(
            Copy(
                self._ref(d),
                Relation.IDENTICAL if v is head else r,
                None if v is head else self._source_span(v),
            )
            for v, d, r in live[1 : 1 + MAX_COPIES]
        )
        repos = len({self.index.info(d).document.repo for _, d, _ in live})
        if f.common:  # verification saw only a few of the many files holding it: estimate
            repos = max(repos, f.commonness)
        return Match(
            query_span=Span(*head.span),
            source=self._ref(head_doc),
            source_span=_span(self._lexed(head_doc), f.s_bytes),
            similarity=f.similarity,
            method=f.method,
            matched_tokens=_tokens_in(query, f.q_bytes),
            matched_chars=round(f.weight),
            repos_with_span=repos,
            copies=copies,
            boilerplate=f.common,
            query_chars=(query.char_offset(f.q_bytes[0]), query.char_offset(f.q_bytes[1])),
            confidence=calibrated_model().confidence(f.evidence, f.method),
            evidence=f.evidence,
            origin=find_origin([self._ref(d) for _, d, _ in live]),
        )

    def _source_span(self, v: _Verified) -> Span:
        return _span(self._lexed(v.found.doc_id), v.found.s_bytes)

    def _ref(self, doc_id: int) -> SourceRef:
        return source_ref(self.index.info(doc_id).document)

    def _report(
        self,
        query: TextViews,
        found: list[Match],
        notices: tuple[Notice, ...],
        discarded: dict[str, int],
        warnings: tuple[str, ...],
        started: float,
        options: QueryOptions,
    ) -> Report:
        limit = options.max_matches
        floor = calibrated_model().floor if options.min_confidence is None else options.min_confidence
        weak = [m for m in found if m.confidence < floor]
        if weak:
            discarded["low_confidence"] = len(weak)
        matches = [m for m in found if not m.boilerplate and m.confidence >= floor]
        common = [m for m in found if m.boilerplate and m.confidence >= floor]
        if len(matches) > limit:
            discarded["matches_over_limit"] = len(matches) - limit
        return Report(
            query_lines=query.lines if query.text else 0,
            query_tokens=query.token_count,
            query_chars=len(query.text),
            language=query.language,
            matches=tuple(matches[:limit]),
            boilerplate=tuple(common[:limit]),
            notices=notices,
            index_id=self.index.index_id,
            index_documents=self.index.document_count,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
            discarded=discarded,
            warnings=warnings,
        )


def _as_text(code: str | bytes, options: QueryOptions) -> str:
    raw = code.encode("utf-8", "surrogatepass") if isinstance(code, str) else code
    if len(raw) > options.max_query_bytes:
        raise QueryError(
            f"the query has {len(raw):,} bytes, more than the limit of {options.max_query_bytes:,}: "
            "send one file or a part of it at a time"
        )
    try:
        return decode_source(raw)
    except NotSourceText as err:
        looks = "looks binary" if err.reason is SkipReason.BINARY else "is not UTF-8 text"
        raise QueryError(f"the query {looks} ({err.detail}): send source code as UTF-8 text") from None


def _anchor_offsets(source: bytes, span: tuple[int, int], haystack: bytes) -> list[int]:
    """Where pieces of source[span] (its start, middle and end) occur in `haystack`, best first;
    each found offset is moved back by the piece's distance from the span's start."""
    start, end = span
    out = []
    for at in (start, (start + end) // 2, max(start, end - ANCHOR_BYTES)):
        piece = source[at : at + ANCHOR_BYTES]
        if len(piece) < ANCHOR_BYTES // 2:
            continue
        found = haystack.find(piece)
        if found >= 0:
            out.append(max(0, found - (at - start)))
    return out


def _specificity(match: Match) -> float:
    """Ranks matches: long ones first, those held by many files a little lower."""
    return match.matched_chars / (1.0 + math.log2(1 + len(match.copies)))


def _span(lexed: Lexed, byte_range: tuple[int, int]) -> Span:
    start, end = byte_range
    line_of = lambda b: int(np.searchsorted(lexed.line_starts, b, side="right"))
    return Span(line_of(start), line_of(max(end - 1, start)))


def _one_per_file_region(verified: list[_Verified]) -> list[_Verified]:
    """Drop a correspondence when a heavier one of the same file already covers most of its query
    lines (two candidate windows of one file can verify the same code). Input: heaviest first."""
    kept: list[_Verified] = []
    for v in verified:
        if not any(k.found.doc_id == v.found.doc_id and _mostly_inside(v.span, k.span) for k in kept):
            kept.append(v)
    return kept


def _mostly_inside(a: tuple[int, int], b: tuple[int, int]) -> bool:
    overlap = max(0, min(a[1], b[1]) - max(a[0], b[0]) + 1)
    return overlap >= 0.5 * (a[1] - a[0] + 1)


def _same_region(a: tuple[int, int], b: tuple[int, int]) -> bool:
    overlap = max(0, min(a[1], b[1]) - max(a[0], b[0]) + 1)
    return overlap >= 0.8 * max(a[1] - a[0] + 1, b[1] - b[0] + 1)


def _tokens_in(query: TextViews, q_bytes: tuple[int, int]) -> int:
    offsets = query.normalized_view.channel.offsets
    return int(np.count_nonzero((offsets >= q_bytes[0]) & (offsets < q_bytes[1])))


def attribute(
    index: IndexReader, code: str | bytes, language: str | None = None, options: QueryOptions = QueryOptions()
) -> Report:
    """One-off attribution of `code` (the CLI and the web app keep a `Searcher` instead)."""
    return Searcher(index, options).attribute(code, language)
