"""Git diffs: the lines a diff adds, and attributing them hunk by hunk.

    git diff --unified=0  ─►  unidiff  ─►  added line runs per file  ─►  ScanTarget(runs=...)
        ─►  query pieces (runs at most _HUNK_GAP lines apart, together)  ─►  attribute each
        ─►  file_report: matches moved back to file lines, only those touching added lines

Line numbers are the new file's (1-based, inclusive); character offsets are the file's too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import unidiff

from indexer.records import Skip, SkipReason
from search_api.engine.results import Match, Notice, Report, Span
from search_api.gate.git import git_bytes, git_text
from search_api.gate.policy import Policy
from search_api.gate.targets import Run, ScanError, ScanOptions, ScanTarget, read_target, relative_path

__all__ = ["Piece", "collect_diff", "file_report", "parse_diff", "query_pieces"]

_HUNK_GAP = 3  # added runs at most this many lines apart are attributed as one piece


def collect_diff(
    spec: str | None,
    paths: Sequence[str],
    root: Path,
    policy: Policy,
    options: ScanOptions = ScanOptions(),
    staged: bool = False,
) -> Iterator[ScanTarget | Skip]:
    """Files changed by ``git diff SPEC`` (``BASE``: against the work tree; ``BASE..HEAD`` or
    ``BASE...HEAD``: between commits) or, with `staged`, by ``git diff --cached``; each with the
    line ranges the diff adds."""
    if git_text(["rev-parse", "--git-dir"], root, check=False) is None:
        raise ScanError(f"--diff needs a git repository, and {root} is not in one")
    args, right = _diff_args(spec, staged)
    pathspecs = [relative_path(Path(p).absolute(), root) for p in paths if p not in (".", "")]
    out = git_text([*args, "--", *pathspecs], root)
    for rel, runs in parse_diff(out or ""):
        if policy.ignores_path(rel):
            yield Skip(SkipReason.IGNORED_BY_POLICY, rel)
            continue
        excluded = options.excluded(rel)
        if excluded is not None:
            yield excluded
            continue
        if runs is not None and not runs:
            continue  # nothing added (a rename, a mode change, only deletions)
        raw = None
        if right is not None:
            blob = _committed_file(right, rel, root, options.max_file_bytes)
            if isinstance(blob, Skip):
                yield blob
                continue
            raw = blob
        yield read_target(root / rel, rel, options, tuple(runs) if runs is not None else None, raw)


def _committed_file(revision: str, rel: str, root: Path, limit: int) -> bytes | Skip:
    """The file's bytes at `revision`, or why not: its size is asked first, so a blob over `limit`
    is never read into memory."""
    size = git_text(["cat-file", "-s", f"{revision}:{rel}"], root, check=False)
    if size is None or not size.strip().isdigit():
        return Skip(SkipReason.UNREADABLE, rel, f"git cat-file -s {revision}:{rel} failed")
    if int(size) > limit:
        return Skip(SkipReason.TOO_LARGE, rel, f"{int(size):,} bytes, more than {limit:,} (--max-file-bytes)")
    blob = git_bytes(["show", f"{revision}:{rel}"], root)
    if blob is None:
        return Skip(SkipReason.UNREADABLE, rel, f"git show {revision}:{rel} failed")
    return blob


def _diff_args(spec: str | None, staged: bool) -> tuple[list[str], str | None]:
    """The ``git diff`` arguments, and where the new side of the diff is read: None the work tree,
    "" the index, else a revision."""
    args = [
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",  # added lines counted in the bytes that are scanned, not a textconv rendering
        "--unified=0",
        "--diff-filter=d",
        "--src-prefix=a/",
        "--dst-prefix=b/",
        "--find-renames",
    ]
    right: str | None = None  # None: the work tree; "": the index; else a revision
    if staged:
        args.append("--cached")
        right = ""
        if spec:
            args.append(spec)
    elif spec:
        args.append(spec)
        for sep in ("...", ".."):
            if sep in spec:
                right = spec.split(sep, 1)[1] or "HEAD"
                break
    return args, right


def parse_diff(diff: str) -> Iterator[tuple[str, list[Run] | None]]:
    """(new path, added line ranges) per file of a unified diff made with ``--unified=0``; the ranges
    are None for a file git calls binary (one NUL byte is enough), which is scanned whole.

    The diff is read by unidiff, which follows each hunk's line counts as git does: an added line
    that reads ``++ x`` or ``+++ b/y`` is a line of the file, never a file header."""
    try:
        patch = unidiff.PatchSet(diff)
    except unidiff.UnidiffParseError as err:
        raise ScanError(
            f"cannot read the output of git diff ({err}); please report it with the diff"
        ) from None
    for changed in patch:
        target = changed.target_file
        if not target or target == "/dev/null":
            continue
        path = _unquote(target).removeprefix("b/")
        if changed.is_binary_file:
            yield path, None
            continue
        added = [line.target_line_no for hunk in changed for line in hunk if line.is_added]
        yield path, _runs_of([n for n in added if n is not None])


def _runs_of(numbers: list[int]) -> list[Run]:
    """Consecutive line numbers as runs (a, b), 1-based and inclusive."""
    runs: list[Run] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def _unquote(name: str) -> str:
    """Undo git's C-style quoting of unusual path names."""
    if not (name.startswith('"') and name.endswith('"')):
        return name
    raw = name[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1")
    return raw.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class Piece:
    """A part of a target attributed on its own: the whole file, or added runs close together."""

    code: str
    first_line: int  # file line of the piece's line 1
    first_char: int  # file character offset of the piece's first character


def query_pieces(target: ScanTarget) -> list[Piece]:
    """What to attribute for `target`: the whole file, or its added runs (merged across small gaps)."""
    if target.runs is None:
        return [Piece(target.text, 1, 0)]
    lines = target.text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    out = []
    for a, b in _merge_runs(target.runs, _HUNK_GAP):
        b = min(b, len(lines))
        if a <= b:
            out.append(Piece("".join(lines[a - 1 : b]), a, starts[a - 1]))
    return out


def _merge_runs(runs: Iterable[Run], gap: int) -> list[Run]:
    out: list[Run] = []
    for a, b in sorted(runs):
        if out and a - out[-1][1] - 1 <= gap:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def file_report(target: ScanTarget, parts: list[tuple[Piece, Report]]) -> Report:
    """One Report in file coordinates; for a diff, only matches touching added lines."""
    if target.runs is None:
        return parts[0][1]
    matches: list[Match] = []
    boilerplate: list[Match] = []
    notices: dict[tuple[int, int, str, str | None], Notice] = {}  # pieces overlap: each notice once
    discarded: dict[str, int] = {}
    warnings: list[str] = []
    for piece, report in parts:
        matches.extend(_added_in_file(report.matches, piece, target.runs))
        boilerplate.extend(_added_in_file(report.boilerplate, piece, target.runs))
        for notice in _added_notices(report.notices, piece, target.runs):
            span = notice.query_span
            notices.setdefault((span.start_line, span.end_line, notice.kind, notice.license), notice)
        for key, n in report.discarded.items():
            discarded[key] = discarded.get(key, 0) + n
        warnings.extend(w for w in report.warnings if w not in warnings)
    matches.sort(key=lambda m: (m.boilerplate, m.query_span.start_line, -m.matched_chars))
    first = parts[0][1] if parts else None
    return Report(
        query_lines=target.text.count("\n") + (0 if target.text.endswith("\n") else 1),
        query_tokens=sum(r.query_tokens for _, r in parts),
        query_chars=len(target.text),
        language=first.language if first else target.language,
        matches=tuple(matches),
        boilerplate=tuple(boilerplate),
        notices=tuple(sorted(notices.values(), key=lambda n: n.query_span.start_line)),
        index_id=first.index_id if first else "",
        index_documents=first.index_documents if first else 0,
        elapsed_ms=sum(r.elapsed_ms for _, r in parts),
        discarded=discarded,
        warnings=tuple(warnings),
    )


def _added_notices(notices: Iterable[Notice], piece: Piece, runs: Iterable[Run]) -> Iterator[Notice]:
    """The notices of `piece` that touch an added run, moved to file lines."""
    shift = piece.first_line - 1
    for n in notices:
        span = Span(n.query_span.start_line + shift, n.query_span.end_line + shift)
        if any(span.overlap(Span(a, b)) for a, b in runs):
            yield replace(n, query_span=span)


def _added_in_file(found: Iterable[Match], piece: Piece, runs: Iterable[Run]) -> Iterator[Match]:
    """The matches of `piece` that touch an added run, moved to file lines and characters."""
    shift = piece.first_line - 1
    for m in found:
        span = Span(m.query_span.start_line + shift, m.query_span.end_line + shift)
        if any(span.overlap(Span(a, b)) for a, b in runs):
            yield replace(
                m,
                query_span=span,
                query_chars=(m.query_chars[0] + piece.first_char, m.query_chars[1] + piece.first_char),
            )
