"""A Report as readable text: each match with the query and source lines side by side."""

from __future__ import annotations

import shutil

from indexer.backend import IndexBackend
from search_api.results import Match, Report

_GUTTER = " | "


def render_report(report: Report, query_text: str, index: IndexBackend, width: int | None = None,
                  max_lines: int = 12) -> str:
    """The report as text, each match beside its source's lines as `index` holds them."""
    width = width or shutil.get_terminal_size((120, 20)).columns
    out = [_headline(report)]
    query_lines = query_text.split("\n")
    for n, match in enumerate(report.matches, 1):
        out.append("")
        out.append(_match_header(n, match))
        source_lines = _source_text(index, match).split("\n")
        out.extend(_side_by_side(match, query_lines, source_lines, width, max_lines))
        if match.copies:
            shown = ", ".join(f"{c.source.repo}:{c.source.path} ({c.source.license or 'no license'})"
                              for c in match.copies[:5])
            more = f" and {len(match.copies) - 5} more" if len(match.copies) > 5 else ""
            out.append(f"   also in: {shown}{more}")
    if report.matches:
        out.append("")
        out.append("licenses (query lines): " + ", ".join(f"{k} {v}" for k, v in report.licenses.items()))
    for warning in report.warnings:
        out.append(f"warning: {warning}")
    return "\n".join(out)


def _source_text(index: IndexBackend, match: Match) -> str:
    """The indexed text of the match's source ('' once the index no longer holds it)."""
    doc_id = index.find_blob(match.source.blob_id)
    return index.text(doc_id) if doc_id is not None else ""


def _headline(report: Report) -> str:
    found = f"{len(report.matches)} match" + ("es" if len(report.matches) != 1 else "")
    return (f"{found} for {report.query_lines} lines ({report.language or 'unknown language'}) "
            f"in index {report.index_id} ({report.index_documents:,} documents, {report.elapsed_ms:.1f} ms)")


def _match_header(n: int, m: Match) -> str:
    src = m.source
    common = f", common boilerplate ({m.repos_with_span} repos)" if m.boilerplate else ""
    return (f"{n}. query L{m.query_span.start_line}-{m.query_span.end_line} = {src.repo}:{src.path} "
            f"L{m.source_span.start_line}-{m.source_span.end_line}  [{src.license or 'no license'}, "
            f"{src.license_category}]  {m.method} {m.similarity:.0%}, {m.matched_tokens} tokens, "
            f"in {m.repos_with_span} repo{'s' if m.repos_with_span != 1 else ''}{common}"
            + (f"\n   {src.url}" if src.url else ""))


def _side_by_side(m: Match, query_lines: list[str], source_lines: list[str], width: int, max_lines: int) -> list[str]:
    half = max((width - len(_GUTTER) - 12) // 2, 20)
    q = range(m.query_span.start_line, m.query_span.end_line + 1)
    s = range(m.source_span.start_line, m.source_span.end_line + 1)
    rows = []
    for i in range(min(max(len(q), len(s)), max_lines)):
        left = _cell(query_lines, q, i, half)
        right = _cell(source_lines, s, i, half)
        rows.append(f"   {left}{_GUTTER}{right}".rstrip())
    hidden = max(len(q), len(s)) - max_lines
    if hidden > 0:
        rows.append(f"   ... {hidden} more lines")
    return rows


def _cell(lines: list[str], numbers: range, i: int, width: int) -> str:
    if i >= len(numbers) or numbers[i] - 1 >= len(lines):
        return " " * (width + 6)
    text = lines[numbers[i] - 1].replace("\t", "    ")
    text = text if len(text) <= width else text[: width - 1] + "…"
    return f"{numbers[i]:>5} {text:<{width}}"
