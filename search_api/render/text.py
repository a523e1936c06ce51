"""Readable text: a Report with each match beside its source's lines (`codecite query`), and a scan
with each finding, its license and what to do about it, and every file not scanned (`codecite check`).

Every string that comes from the corpus or the scanned tree goes through `printable`: corpus data
never controls the terminal."""

from __future__ import annotations

import shutil

from indexer.backends.base import IndexReader
from indexer.records import Skip
from search_api.engine.results import Match, Notice, Report, SourceRef
from search_api.gate.decision import Finding, NoticeFinding
from search_api.gate.policy import Action
from search_api.gate.scan import FileResult, ScanResult
from search_api.gate.skips import SkipAction
from search_api.render.safe import printable

_LABELS = {
    Action.DENY: "DENY",
    Action.REVIEW: "REVIEW",
    Action.WARN: "WARN",
    Action.ATTRIBUTE: "ATTRIBUTE",
    Action.ALLOW: "ALLOW",
}

_GUTTER = " | "


def render_report(
    report: Report, query_text: str, index: IndexReader, width: int | None = None, max_lines: int = 12
) -> str:
    """The report as text, each match beside its source's lines as `index` holds them."""
    width = width or shutil.get_terminal_size((120, 20)).columns
    out = [_headline(report)]
    query_lines = query_text.split("\n")
    for n, match in enumerate(report.matches, 1):
        out.append("")
        out.append(_match_header(n, match))
        source_lines = _source_text(index, match).split("\n")
        out.extend(_side_by_side(match, query_lines, source_lines, width, max_lines))
        out.extend(_origin_lines(match))
        if match.copies:
            shown = ", ".join(
                printable(
                    f"{c.source.repo}:{c.source.path} ({c.source.license or 'no license'}{_facts(c.source, ', ')})"
                )
                for c in match.copies[:5]
            )
            more = f" and {len(match.copies) - 5} more" if len(match.copies) > 5 else ""
            out.append(f"   also in: {shown}{more}")
    if report.notices:
        out.append("")
        out += [f"notice: {printable(_notice_text(n))}" for n in report.notices]
    if report.matches:
        out.append("")
        out.append(
            "licenses (query lines): " + ", ".join(f"{printable(k)} {v}" for k, v in report.licenses.items())
        )
    for warning in report.warnings:
        out.append(f"warning: {printable(warning)}")
    return "\n".join(out)


def _notice_text(notice: Notice) -> str:
    q = notice.query_span
    named = f" ({notice.license}, {notice.license_category})" if notice.license else ""
    return f"lines {q.start_line}-{q.end_line} are {notice.kind.value} text{named}, not matched to any source"


def _facts(ref: SourceRef, lead: str = "") -> str:
    """A file's provenance in a few words: ``2013-05-02 committed, 120 stars, vendored``."""
    facts = []
    if ref.date:
        facts.append(f"{ref.date[:10]} {(ref.date_kind or 'dated').replace('-', ' ')}")
    if ref.stars:
        facts.append(f"{ref.stars:,} stars")
    if ref.vendored:
        facts.append("vendored")
    return lead + ", ".join(facts) if facts else ""


def _origin_lines(match: Match) -> list[str]:
    """Where the code was most likely written first, when that is not plainly the source itself."""
    origin = match.origin
    if origin is None or origin.copies_weighed <= 1:  # one file: the header says it all
        return []
    ref = origin.source
    where = "this source" if ref.same_file(match.source) else f"{ref.repo}:{ref.path}"
    license_note = ""
    if ref.license != match.source.license:
        license_note = f" [{ref.license or 'no license'}]"
    return [f"   origin: {where}{license_note}: {origin.reason}"]


def _source_text(index: IndexReader, match: Match) -> str:
    """The indexed text of the match's source ('' once the index no longer holds it)."""
    doc_id = index.find_blob(match.source.blob_id)
    return index.text(doc_id) if doc_id is not None else ""


def _headline(report: Report) -> str:
    found = f"{len(report.matches)} match" + ("es" if len(report.matches) != 1 else "")
    return (
        f"{found} for {report.query_lines} lines ({printable(report.language or 'unknown language')}) "
        f"in index {report.index_id} ({report.index_documents:,} documents, {report.elapsed_ms:.1f} ms)"
    )


def _match_header(n: int, m: Match) -> str:
    src = m.source
    common = f", common boilerplate ({m.repos_with_span} repos)" if m.boilerplate else ""
    return (
        f"{n}. query L{m.query_span.start_line}-{m.query_span.end_line} = {printable(src.repo)}:"
        f"{printable(src.path)} L{m.source_span.start_line}-{m.source_span.end_line}  "
        f"[{printable(src.license or 'no license')}, {src.license_category}]  {m.method} "
        f"{m.similarity:.0%}, {m.matched_tokens} tokens, confidence {m.confidence:.2f}, "
        f"in {m.repos_with_span} repo{'s' if m.repos_with_span != 1 else ''}{common}"
        + (f"\n   {printable(src.url)}" if src.url else "")
        + (f"\n   provenance: {_facts(src)}" if _facts(src) else "")
        + (f"\n   license read from: {printable(src.license_basis)}" if src.license_basis else "")
    )


def _side_by_side(
    m: Match, query_lines: list[str], source_lines: list[str], width: int, max_lines: int
) -> list[str]:
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
    text = printable(lines[numbers[i] - 1].replace("\t", "    "))
    text = text if len(text) <= width else text[: width - 1] + "…"
    return f"{numbers[i]:>5} {text:<{width}}"


def render_scan(result: ScanResult, quiet: bool = False) -> str:
    """What matched, where, under which license, what to do about it, and every file not scanned
    (`quiet`: only the files that fail or warn, and the result)."""
    out = [] if quiet else [_scan_headline(result)]
    for file in result.files:
        shown = [f for f in file.decision.findings if f.action is not Action.ALLOW or f.boilerplate]
        if quiet:
            shown = [f for f in shown if f.action in result.policy.fail_on and not f.boilerplate]
        noticed = [n for n in file.decision.notice_findings if not quiet or n.action in result.policy.fail_on]
        if not shown and not noticed and (quiet or not file.decoding):
            continue
        out += ["", _file_line(file)]
        for finding in sorted(shown, key=lambda f: (-f.action.rank, f.match.query_span.start_line)):
            out += _finding_lines(finding)
        for notice_finding in noticed:
            out += _notice_finding_lines(notice_finding)
    out += _skip_lines(result, quiet)
    out += ["", summary_line(result)]
    if not quiet and any(f.needs_notice for file in result.files for f in file.decision.findings):
        out.append(
            "attribution: `codecite notice` (same arguments) writes THIRD_PARTY_NOTICES for these sources"
        )
    return "\n".join(out if out[0] else out[1:]) + "\n"


def _file_line(file: FileResult) -> str:
    scope = "" if file.runs is None else f"  (added lines {_runs(file.runs)})"
    note = f"\n  note: {file.decoding}" if file.decoding else ""
    return f"{printable(file.path)}{scope}{note}"


_SKIP_LABELS = {SkipAction.FAIL: "FAIL", SkipAction.WARN: "WARN", SkipAction.IGNORE: "listed"}
LISTED_PER_REASON = 20  # files left out on purpose, shown per reason (the JSON and SARIF list all)


def _skip_lines(result: ScanResult, quiet: bool) -> list[str]:
    """Every file not scanned that fails or warns, then those left out on purpose (per reason, the
    first LISTED_PER_REASON)."""
    by_action: dict[SkipAction, list[Skip]] = {a: [] for a in SkipAction}
    for skip in sorted(result.skipped, key=lambda s: s.where):
        by_action[result.skip_action(skip)].append(skip)
    if quiet:
        by_action[SkipAction.IGNORE] = []
    if not any(by_action.values()):
        return []
    out = ["", "not scanned:"]
    for action in (SkipAction.FAIL, SkipAction.WARN):
        out += [_skip_line(action, s) for s in by_action[action]]
    shown: dict[str, int] = {}
    for skip in by_action[SkipAction.IGNORE]:
        shown[skip.reason.value] = shown.get(skip.reason.value, 0) + 1
        if shown[skip.reason.value] <= LISTED_PER_REASON:
            out.append(_skip_line(SkipAction.IGNORE, skip))
    for reason, n in shown.items():
        if n > LISTED_PER_REASON:
            out.append(
                f"  {'listed':<10} and {n - LISTED_PER_REASON} more {reason} files (--format json lists all)"
            )
    return out


def _skip_line(action: SkipAction, skip: Skip) -> str:
    detail = f": {printable(skip.detail)}" if skip.detail else ""
    return f"  {_SKIP_LABELS[action]:<10} {printable(skip.where)}  {skip.reason.value}{detail}"


def _scan_headline(result: ScanResult) -> str:
    skipped = result.skipped_counts()
    skip = (
        f", {len(result.skipped)} skipped ({', '.join(f'{k} {v}' for k, v in skipped.items())})"
        if skipped
        else ""
    )
    index = result.index
    where = printable(str(index.get("server") or index.get("uri") or "the index"))
    docs = index.get("documents")
    return (
        f"codecite check: {len(result.files)} file{'s' if len(result.files) != 1 else ''} scanned{skip} "
        f"against {where}"
        + (f" ({docs:,} documents)" if isinstance(docs, int) else "")
        + f", policy {result.policy.name}, {result.seconds:.1f} s"
    )


def _finding_lines(f: Finding) -> list[str]:
    m, src = f.match, f.governing
    q = m.query_span
    label = "NOTE" if f.boilerplate else _LABELS[f.action]
    where = f"{printable(src.repo)}: {printable(src.path)}"
    if f.governing_span:
        where += f" lines {f.governing_span.start_line}-{f.governing_span.end_line}"
    pad = " " * 13
    lines = [
        f"  {label:<10} lines {q.start_line}-{q.end_line} match {where}",
        f"{pad}{printable(src.license or 'no license')} ({src.license_category}); {m.method} match, "
        f"{m.similarity:.0%} similar, {m.matched_chars} characters, confidence {m.confidence:.2f}, "
        f"in {m.repos_with_span} "
        f"repositor{'ies' if m.repos_with_span != 1 else 'y'}"
        + (f", {len(m.copies)} other copies" if m.copies else ""),
    ]
    if src.url:
        lines.append(f"{pad}{printable(src.url)}")
    credited = f.credited
    if f.needs_notice and not credited.same_file(src):
        origin = m.origin.reason if m.origin else ""
        lines.append(
            printable(
                f"{pad}credit: {credited.repo}: {credited.path} ({credited.license or 'no license'}): {origin}"
            )
        )
    lines.append(f"{pad}why: {printable(f.reason)}")
    lines.append(f"{pad}to do: {printable(f.what_to_do)}")
    return lines


def _notice_finding_lines(f: NoticeFinding) -> list[str]:
    pad = " " * 13
    return [
        f"  {_LABELS[f.action]:<10} {printable(_notice_text(f.notice))}",
        f"{pad}why: {printable(f.reason)}",
        f"{pad}to do: {printable(f.what_to_do)}",
    ]


def summary_line(result: ScanResult) -> str:
    counts = result.summary()["findings"]
    assert isinstance(counts, dict)
    names = {
        "deny": "denied",
        "review": "to review",
        "warn": "weak-copyleft attribution",
        "attribute": "attribution needed",
        "allow": "allowed",
        "boilerplate": "boilerplate",
        "license-notice": "license notices",
    }
    parts = [f"{counts[k]} {names[k]}" for k in names if counts.get(k)]
    for action, noun in ((SkipAction.FAIL, "not scanned (fails)"), (SkipAction.WARN, "not scanned (warns)")):
        n = sum(result.skip_action(s) is action for s in result.skipped)
        if n:
            parts.append(f"{n} {noun}")
    found = ", ".join(parts) if parts else "no matches that need anything"
    verdict = "FAIL" if result.exit_code else "PASS"
    return f"result: {verdict} ({result.outcome.value}): {found}; exit {result.exit_code}"


def _runs(runs: tuple[tuple[int, int], ...]) -> str:
    shown = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in runs[:6])
    return shown + (f" and {len(runs) - 6} more" if len(runs) > 6 else "")
