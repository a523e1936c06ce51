"""The query pipeline: snippet → candidates → verified matches → Report.

    analyze the query  →  find candidates  →  verify each  →  group copies  →  rank  →  Report

`Searcher` holds an index and a small cache of analysed sources; the CLI, the web app and the
generator all call `Searcher.attribute`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from indexer.backend import IndexBackend
from search_api.candidates import find_candidates
from search_api.channels import TextAnalysis, analyze
from search_api.language_guess import resolve_language
from search_api.options import QueryOptions
from search_api.results import Copy, Match, Report, SourceRef, Span
from search_api.verify import Found, verify


class QueryError(ValueError):
    """The query cannot be answered as given; the message says what to send instead."""


@dataclass(slots=True)
class _Verified:
    found: Found
    span: tuple[int, int]  # query lines


class Searcher:
    """Answers attribution queries against one index."""

    def __init__(self, index: IndexBackend, options: QueryOptions = QueryOptions(), cache_size: int = 256) -> None:
        self.index = index
        self.options = options
        self._sources: OrderedDict[int, TextAnalysis] = OrderedDict()
        self._cache_size = cache_size

    def attribute(self, code: str | bytes, language: str | None = None,
                  options: QueryOptions | None = None) -> Report:
        """Find where `code` came from. Raises QueryError for input that is not source text."""
        started = time.perf_counter()
        options = options or self.options
        text = _as_text(code, options)
        language = resolve_language(text, language)
        query = analyze(text, language, self.index.options, all_start_states=True)
        if not text.strip():
            return self._report(query, [], {}, ("empty query: nothing to attribute",), started)
        candidates = find_candidates(self.index, query, options)
        verified = self._verify_all(query, candidates.doc_ids, options)
        matches, dropped = self._group(query, verified, options)
        discarded = dict(candidates.discarded)
        if dropped:
            discarded["removed_sources"] = dropped
        return self._report(query, matches, discarded, (), started)

    def clear_cache(self) -> None:
        self._sources.clear()

    def _verify_all(self, query: TextAnalysis, doc_ids: list[int], options: QueryOptions) -> list[_Verified]:
        out = []
        queries = {query.language: query}
        for doc_id in doc_ids:
            source = self._source(doc_id)
            q = queries.get(source.language)
            if q is None:
                q = queries[source.language] = analyze(query.text, source.language, self.index.options, True)
            for found in verify(doc_id, q, source, options):
                span = (q.line_of(found.q_bytes[0]), q.line_of(max(found.q_bytes[1] - 1, found.q_bytes[0])))
                out.append(_Verified(found, span))
        return out

    def _source(self, doc_id: int) -> TextAnalysis:
        cached = self._sources.get(doc_id)
        if cached is not None:
            self._sources.move_to_end(doc_id)
            return cached
        info = self.index.info(doc_id)
        analysis = analyze(self.index.text(doc_id), info.document.language, self.index.options, False)
        self._sources[doc_id] = analysis
        if len(self._sources) > self._cache_size:
            self._sources.popitem(last=False)
        return analysis

    def _group(self, query: TextAnalysis, verified: list[_Verified],
               options: QueryOptions) -> tuple[list[Match], int]:
        """One Match per (query region, copy cluster); copies and span counts attached."""
        verified.sort(key=lambda v: (-v.found.weight, v.found.doc_id))
        groups: list[list[_Verified]] = []
        for v in verified:
            for group in groups:
                head = group[0]
                if _same_region(head.span, v.span) and self._same_cluster(head.found.doc_id, v.found.doc_id):
                    group.append(v)
                    break
            else:
                groups.append([v])
        matches, dropped = [], 0
        for group in groups:
            match = self._match(query, group, verified, options)
            if match is None:
                dropped += 1
            else:
                matches.append(match)
        matches.sort(key=lambda m: (m.boilerplate, -m.matched_chars, -m.similarity, m.query_span.start_line))
        return matches[: options.max_matches], dropped

    def _same_cluster(self, a: int, b: int) -> bool:
        return self.index.info(a).cluster == self.index.info(b).cluster

    def _match(self, query: TextAnalysis, group: list[_Verified], everything: list[_Verified],
               options: QueryOptions) -> Match | None:
        """The Match for a group of verified correspondences of one region in one cluster."""
        sources: list[tuple[_Verified, int, str]] = []  # (verified, doc id, relation)
        for i, v in enumerate(group):
            for doc_id in self.index.identical_members(v.found.doc_id).tolist() or [v.found.doc_id]:
                relation = "identical" if i == 0 else "near-duplicate"
                sources.append((v, int(doc_id), relation))
        live = [(v, d, r) for v, d, r in sources if not self.index.info(d).removed]
        if not live:
            return None
        head, head_doc, _ = live[0]
        f = head.found
        source = self._source(head_doc)
        copies = tuple(
            Copy(self._ref(d), "identical" if v is head else r,
                 None if v is head else self._source_span(v))
            for v, d, r in live[1:]
        )
        repos = self._repos_with_span(head.span, everything)
        return Match(
            query_span=Span(*head.span),
            source=self._ref(head_doc),
            source_span=Span(source.line_of(f.s_bytes[0]), source.line_of(max(f.s_bytes[1] - 1, f.s_bytes[0]))),
            similarity=f.similarity,
            method=f.method,
            matched_tokens=_tokens_in(query, f.q_bytes),
            matched_chars=int(round(f.weight)),
            repos_with_span=repos,
            copies=copies,
            boilerplate=repos >= options.boilerplate_repos,
            query_chars=(query.char_offset(f.q_bytes[0]), query.char_offset(f.q_bytes[1])),
        )

    def _source_span(self, v: _Verified) -> Span:
        source = self._source(v.found.doc_id)
        s0, s1 = v.found.s_bytes
        return Span(source.line_of(s0), source.line_of(max(s1 - 1, s0)))

    def _repos_with_span(self, span: tuple[int, int], everything: list[_Verified]) -> int:
        repos = set()
        for v in everything:
            if _covers(v.span, span):
                for doc_id in self.index.identical_members(v.found.doc_id).tolist() or [v.found.doc_id]:
                    info = self.index.info(int(doc_id))
                    if not info.removed:
                        repos.add(info.document.repo)
        return max(len(repos), 1)

    def _ref(self, doc_id: int) -> SourceRef:
        d = self.index.info(doc_id).document
        return SourceRef(d.blob_id, d.repo, d.path, d.license, d.license_category.value, d.url, d.language)

    def _report(self, query: TextAnalysis, matches: list[Match], discarded: dict[str, int],
                warnings: tuple[str, ...], started: float) -> Report:
        return Report(
            query_lines=query.lines if query.text else 0,
            query_tokens=query.token_count,
            query_chars=len(query.text),
            language=query.language,
            matches=tuple(matches),
            index_id=self.index.index_id,
            index_documents=self.index.document_count,
            elapsed_ms=(time.perf_counter() - started) * 1000.0,
            discarded=discarded,
            warnings=warnings,
        )


def _as_text(code: str | bytes, options: QueryOptions) -> str:
    raw = code.encode("utf-8", "surrogatepass") if isinstance(code, str) else code
    if len(raw) > options.max_query_bytes:
        raise QueryError(f"the query has {len(raw):,} bytes, more than the limit of {options.max_query_bytes:,}: "
                         "send one file or a part of it at a time")
    if b"\0" in raw[:65536]:
        raise QueryError("the query contains NUL bytes, so it looks binary: send source code as UTF-8 text")
    if isinstance(code, str):
        return code
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise QueryError(f"the query is not valid UTF-8 (byte {err.start}): send source code as UTF-8 text") from None


def _same_region(a: tuple[int, int], b: tuple[int, int]) -> bool:
    overlap = max(0, min(a[1], b[1]) - max(a[0], b[0]) + 1)
    return overlap >= 0.8 * max(a[1] - a[0] + 1, b[1] - b[0] + 1)


def _covers(v: tuple[int, int], span: tuple[int, int]) -> bool:
    overlap = max(0, min(v[1], span[1]) - max(v[0], span[0]) + 1)
    return overlap >= 0.8 * (span[1] - span[0] + 1)


def _tokens_in(query: TextAnalysis, q_bytes: tuple[int, int]) -> int:
    offsets = query.code_views[0].channel.offsets if query.code_views else np.zeros(0, np.int32)
    view = query.normalized_views[0].channel.offsets if query.normalized_views else offsets
    return int(np.count_nonzero((view >= q_bytes[0]) & (view < q_bytes[1])))


def attribute(index: IndexBackend, code: str | bytes, language: str | None = None,
              options: QueryOptions = QueryOptions()) -> Report:
    """One-off attribution of `code` (the CLI and the web app keep a `Searcher` instead)."""
    return Searcher(index, options).attribute(code, language)
