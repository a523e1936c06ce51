"""A Report under a policy: a `Finding` per match and per license notice, and the verdict.

Report  ─►  drop matches the policy ignores (sources, size, confidence, boilerplate)
        ─►  pick the license that governs (the source's or a copy's)  ─►  action per match
        ─►  license notices of the code  ─►  Decision (outcome: pass / attribution / review / fail)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from search_api.engine.results import Match, Notice, Relation, Report, SourceRef, Span
from search_api.gate.policy import (
    BOILERPLATE_RULE_ID,
    Action,
    BoilerplateMode,
    CopiesMode,
    NoticeMode,
    Outcome,
    Policy,
)

__all__ = ["Decision", "Finding", "NoticeFinding", "PolicyDecision", "decide", "outcome_of", "span_of"]


@dataclass(frozen=True, slots=True)
class Finding:
    """What the policy says about one match of a Report.

    `match_index` points into `Report.matches`; `governing` is the file whose license decides
    (the match's source or one of its copies, per the policy's `copies` mode) and `governing_span`
    its matched lines (1-based, inclusive; None when unknown); `reason` names the policy key that
    gave the action; `boilerplate` marks a common span reported as a note.
    """

    match_index: int
    match: Match
    action: Action
    governing: SourceRef
    reason: str
    boilerplate: bool = False
    governing_span: Span | None = None

    @property
    def rule_id(self) -> str:
        return BOILERPLATE_RULE_ID if self.boilerplate else self.action.rule_id

    @property
    def level(self) -> str:
        return "note" if self.boilerplate else self.action.level

    @property
    def needs_notice(self) -> bool:
        return not self.boilerplate and self.action.needs_notice

    @property
    def what_to_do(self) -> str:
        q = self.match.query_span
        lines = f"lines {q.start_line}-{q.end_line}"
        license_name = self.governing.license or "no license"
        credited = self.credited  # the origin: credit its author and license
        credit = f"{credited.repo} ({credited.license or 'no license'})"
        if self.boilerplate:
            return (
                f"nothing: the span is common boilerplate, found in {self.match.repos_with_span} repositories"
            )
        return {
            Action.ALLOW: "nothing: the policy allows this license without attribution",
            Action.ATTRIBUTE: f"credit {credit} in THIRD_PARTY_NOTICES (`codecite notice` writes the entry)",
            Action.WARN: f"credit {credit} in THIRD_PARTY_NOTICES and keep {lines} under "
            f"{license_name}: changes to them may have to be shared under the same license",
            Action.REVIEW: f"have a person check the license of {self.governing.repo} ({license_name}) "
            f"before {lines} ship",
            Action.DENY: f"remove or rewrite {lines}, or obtain the code under a license the policy allows",
        }[self.action]

    @property
    def credited(self) -> SourceRef:
        """The file an attribution credits: the match's origin — the author's license and
        copyright, not a vendoring copy's — else the governing file."""
        return self.match.origin.source if self.match.origin is not None else self.governing

    @property
    def credited_span(self) -> Span | None:
        """The credited file's matched lines (1-based, inclusive), when the Report gives them."""
        return span_of(self.match, self.credited) if self.match.origin is not None else self.governing_span

    @property
    def attribution(self) -> str:
        """A one-line credit for the credited source (the origin, see `credited`)."""
        ref, s = self.credited, self.credited_span
        span = f" (lines {s.start_line}-{s.end_line})" if s else ""
        url = f" <{ref.url}>" if ref.url else ""
        via = ""
        if not ref.same_file(self.governing):
            via = f"; matched through {self.governing.repo}: {self.governing.path}"
        return f"{ref.repo}: {ref.path}{span}, licensed under {ref.license or 'no stated license'}{url}{via}"

    def to_dict(self) -> dict[str, object]:
        return {
            "match": self.match_index,
            "action": self.action.value,
            "level": self.level,
            "rule_id": self.rule_id,
            "boilerplate": self.boilerplate,
            "license": self.governing.license,
            "license_category": self.governing.license_category,
            "reason": self.reason,
            "what_to_do": self.what_to_do,
            "query_span": self.match.query_span.to_dict(),
            "source": self.governing.to_dict(),
            "source_span": self.governing_span.to_dict() if self.governing_span else None,
            "attribution": self.attribution if self.needs_notice else None,
            "credited": self.credited.to_dict(),
            "confidence": round(self.match.confidence, 3),
        }


@dataclass(frozen=True, slots=True)
class NoticeFinding:
    """What the policy says about a license notice of the scanned code: the code claims to be
    under `notice.license`, and `action` is what the policy's `[notices]` mode makes of that."""

    notice: Notice
    action: Action
    reason: str

    @property
    def rule_id(self) -> str:
        return NOTICE_RULE_ID

    @property
    def level(self) -> str:
        return self.action.level

    @property
    def what_to_do(self) -> str:
        q = self.notice.query_span
        return (
            f"lines {q.start_line}-{q.end_line} carry a {self.notice.license} notice: find out where this "
            "code came from and whether its license allows it here; remove the code with the notice if not"
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "notice": self.notice.to_dict(),
            "action": self.action.value,
            "level": self.level,
            "rule_id": self.rule_id,
            "reason": self.reason,
            "what_to_do": self.what_to_do,
        }


NOTICE_RULE_ID = "license-notice"


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's verdict on one Report. `ignored` counts dropped matches by reason."""

    outcome: Outcome
    findings: tuple[Finding, ...]
    ignored: Mapping[str, int]
    policy: str
    fail_on: frozenset[Action] = frozenset({Action.DENY})
    notice_findings: tuple[NoticeFinding, ...] = ()

    @property
    def passed(self) -> bool:
        return self.outcome is not Outcome.FAIL

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.boilerplate and f.action in self.fail_on)

    @property
    def failing_notices(self) -> tuple[NoticeFinding, ...]:
        """The notice findings that fail the check (a notice decided under a denied license)."""
        return tuple(n for n in self.notice_findings if n.action in self.fail_on)

    @property
    def attributions(self) -> tuple[Finding, ...]:
        """The findings whose source must be credited in THIRD_PARTY_NOTICES."""
        return tuple(f for f in self.findings if f.needs_notice)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            key = "boilerplate" if f.boilerplate else f.action.value
            out[key] = out.get(key, 0) + 1
        if self.notice_findings:
            out["license-notice"] = len(self.notice_findings)
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome.value,
            "passed": self.passed,
            "policy": self.policy,
            "counts": self.counts(),
            "ignored": dict(self.ignored),
            "findings": [f.to_dict() for f in self.findings],
            "notice_findings": [n.to_dict() for n in self.notice_findings],
            "notice": "\n".join(f.attribution for f in self.attributions) or None,
        }


PolicyDecision = Decision  # the name DESIGN.md and STYLE.md use


def decide(report: Report, policy: Policy) -> Decision:
    """Apply `policy` to every match and every license notice of `report`."""
    findings: list[Finding] = []
    ignored: dict[str, int] = {}
    # The engine's boilerplate spans are judged too: the policy says whether to ignore, note or enforce them.
    for i, match in enumerate([*report.matches, *report.boilerplate]):
        finding, why_not = _decide_match(i, match, policy)
        if finding is None:
            ignored[why_not] = ignored.get(why_not, 0) + 1
        else:
            findings.append(finding)
    noticed = tuple(f for f in (_decide_notice(n, policy) for n in report.notices) if f is not None)
    actions = {f.action for f in findings if not f.boilerplate} | {f.action for f in noticed}
    return Decision(
        outcome_of(actions, policy.fail_on), tuple(findings), ignored, policy.name, policy.fail_on, noticed
    )


def outcome_of(actions: set[Action], fail_on: frozenset[Action]) -> Outcome:
    """The verdict for the actions a set of findings asks for (also used to combine a scan's files)."""
    if actions & fail_on:
        return Outcome.FAIL
    if actions & {Action.REVIEW, Action.DENY}:
        return Outcome.REVIEW_NEEDED
    if actions & {Action.ATTRIBUTE, Action.WARN}:
        return Outcome.ATTRIBUTION_NEEDED
    return Outcome.PASS


def span_of(match: Match, ref: SourceRef) -> Span | None:
    """The lines of `ref` (the match's source or one of its copies) that hold the matched span."""
    if ref.same_file(match.source):
        return match.source_span
    for copy in match.copies:
        if copy.source.same_file(ref):
            return copy.source_span or (match.source_span if copy.relation is Relation.IDENTICAL else None)
    return None


def _decide_notice(notice: Notice, policy: Policy) -> NoticeFinding | None:
    if notice.license is None or policy.notices is NoticeMode.IGNORE:
        return None
    action, reason = policy.license_action(notice.license)
    if policy.notices is NoticeMode.DECIDE:
        return NoticeFinding(notice, action, reason) if action is not Action.ALLOW else None
    if action is Action.DENY or action in policy.fail_on:
        return NoticeFinding(notice, Action.REVIEW, f'{reason}; [notices] action = "review"')
    return None


def _decide_match(i: int, match: Match, policy: Policy) -> tuple[Finding | None, str]:
    refs: list[tuple[SourceRef, Span | None]] = [(match.source, match.source_span)]
    refs += [
        (c.source, c.source_span or (match.source_span if c.relation is Relation.IDENTICAL else None))
        for c in match.copies
    ]
    refs = [(ref, span) for ref, span in refs if not policy.ignores_repo(ref.repo)]
    if not refs:
        return None, "ignored-source"
    if (
        match.matched_chars < policy.min_chars
        or match.query_span.lines < policy.min_lines
        or match.similarity < policy.min_similarity
    ):
        return None, "below-minimum"
    if match.confidence < policy.min_confidence:
        return None, "low-confidence"
    common = match.boilerplate or match.repos_with_span >= policy.boilerplate_repos
    if common and policy.boilerplate is BoilerplateMode.IGNORE:
        return None, "boilerplate"
    verdicts = [(ref, span, *policy.license_action(ref.license)) for ref, span in refs]
    if policy.copies is CopiesMode.PRIMARY:
        ref, span, action, reason = verdicts[0]
    elif policy.copies is CopiesMode.BEST:
        ref, span, action, reason = min(verdicts, key=lambda v: v[2].rank)
    else:
        ref, span, action, reason = max(verdicts, key=lambda v: v[2].rank)
    if len(verdicts) > 1 and policy.copies is not CopiesMode.PRIMARY:
        reason += f" (the {policy.copies.value} of {len(verdicts)} files holding the span)"
    reported = common and policy.boilerplate is BoilerplateMode.REPORT
    return Finding(i, match, action, ref, reason, reported, span), ""
