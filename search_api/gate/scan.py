"""Scan a tree or a git diff: attribute every target, decide each file with the policy.

    targets (`search_api.gate.targets`: a tree; `search_api.gate.diff`: the lines a diff adds)
        ─► query pieces (a whole file, or each added hunk)  ─► attribute (local index or --server)
        ─► map hunk lines back to the file  ─► Decision per file  ─► ScanResult

Files that are not scanned are `Skip`s with a reason, listed and counted; the policy's ``[skipped]``
table says which of them fail the check (`search_api.gate.skips`). Hunks are attributed one by one
and their matches moved back to file coordinates, so every line number in the output is the
file's own (1-based, inclusive).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from indexer.records import Skip, SkipReason
from search_api.engine.results import Report
from search_api.gate.attribute import Attributor
from search_api.gate.decision import Decision, decide, outcome_of
from search_api.gate.diff import file_report, query_pieces
from search_api.gate.policy import Outcome, Policy
from search_api.gate.skips import SkipAction
from search_api.gate.targets import Run, ScanTarget


@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    language: str
    runs: tuple[Run, ...] | None
    report: Report
    decision: Decision
    text: str = field(repr=False, default="")
    decoding: str = ""  # how bytes that were not exact UTF-8 were read ('' when they were)

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "language": self.language,
            "decoding": self.decoding or None,
            "scanned_lines": None if self.runs is None else [list(r) for r in self.runs],
            "report": self.report.to_dict(),
            "decision": self.decision.to_dict(),
        }


@dataclass(slots=True)
class ScanResult:
    """Every attributed file with its decision, every skipped file with its reason."""

    root: str
    files: list[FileResult]
    skipped: list[Skip]
    policy: Policy
    seconds: float = 0.0
    index: dict[str, object] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
        """The findings' verdict, made worse by skipped files the policy fails or warns about."""
        actions = {f.action for r in self.files for f in r.decision.findings if not f.boilerplate}
        actions |= {n.action for r in self.files for n in r.decision.notice_findings}
        found = outcome_of(actions, self.policy.fail_on)
        skips = {self.skip_action(s) for s in self.skipped}
        if SkipAction.FAIL in skips:
            return Outcome.FAIL
        if SkipAction.WARN in skips and found in (Outcome.PASS, Outcome.ATTRIBUTION_NEEDED):
            return Outcome.REVIEW_NEEDED
        return found

    def skip_action(self, skip: Skip) -> SkipAction:
        return self.policy.skipped.get(skip.reason, SkipAction.IGNORE)

    @property
    def exit_code(self) -> int:
        return 1 if self.outcome is Outcome.FAIL else 0

    def skipped_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.skipped:
            out[s.reason.value] = out.get(s.reason.value, 0) + 1
        return out

    def summary(self) -> dict[str, object]:
        counts: dict[str, int] = {}
        for r in self.files:
            for key, n in r.decision.counts().items():
                counts[key] = counts.get(key, 0) + n
        return {
            "files_scanned": len(self.files),
            "files_skipped": len(self.skipped),
            "skipped": self.skipped_counts(),
            "skipped_failing": sum(self.skip_action(s) is SkipAction.FAIL for s in self.skipped),
            "skipped_warning": sum(self.skip_action(s) is SkipAction.WARN for s in self.skipped),
            "findings": counts,
            "matches": sum(len(r.report.matches) for r in self.files),
            "seconds": round(self.seconds, 3),
            "files_per_second": round(len(self.files) / self.seconds, 1) if self.seconds > 0 else None,
        }

    def to_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome.value,
            "exit_code": self.exit_code,
            "root": self.root,
            "index": self.index,
            "policy": self.policy.name,
            "summary": self.summary(),
            "files": [f.to_dict() for f in self.files],
            "skipped": [self.skip_dict(s) for s in self.skipped],
        }

    def skip_dict(self, skip: Skip) -> dict[str, str]:
        return {
            "path": skip.where,
            "reason": skip.reason.value,
            "detail": skip.detail,
            "action": self.skip_action(skip).value,
            "explanation": skip.reason.explanation,
        }


def scan(
    targets: Iterable[ScanTarget | Skip],
    attribute: Attributor,
    policy: Policy,
    root: str = ".",
    batch: int = 256,
) -> ScanResult:
    """Attribute every target (`batch` at a time) and decide each file with `policy`."""
    started = time.perf_counter()
    result = ScanResult(root, [], [], policy)
    pending: list[ScanTarget] = []
    for item in targets:
        if isinstance(item, Skip):
            result.skipped.append(item)
            continue
        pending.append(item)
        if len(pending) >= batch:
            _attribute_batch(pending, attribute, policy, result)
            pending = []
    if pending:
        _attribute_batch(pending, attribute, policy, result)
    result.files.sort(key=lambda f: f.path)
    result.seconds = time.perf_counter() - started
    return result


def _attribute_batch(
    targets: list[ScanTarget], attribute: Attributor, policy: Policy, result: ScanResult
) -> None:
    pieces = [query_pieces(t) for t in targets]
    queries: list[tuple[str, str]] = []
    where: dict[tuple[str, str], int] = {}  # identical (code, language) queries run once
    for target, parts in zip(targets, pieces):
        for p in parts:
            if (p.code, target.language) not in where:
                where[(p.code, target.language)] = len(queries)
                queries.append((p.code, target.language))
    answers = attribute(queries) if queries else []
    for target, parts in zip(targets, pieces):
        reports = []
        for p in parts:
            reports.append((p, answers[where[(p.code, target.language)]]))
        errors = [r for _, r in reports if isinstance(r, str)]
        if errors:  # never a pass: a refused file is a skip the policy fails by default
            result.skipped.append(Skip(SkipReason.REFUSED, target.path, errors[0]))
            continue
        report = file_report(target, reports)  # type: ignore[arg-type]
        result.files.append(
            FileResult(
                target.path,
                target.language,
                target.runs,
                report,
                decide(report, policy),
                target.text,
                target.decoding,
            )
        )
        if not result.index:
            result.index = {"id": report.index_id, "documents": report.index_documents}
