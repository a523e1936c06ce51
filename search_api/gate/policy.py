"""License policy: what a match under each license means for a CI gate.

    Report  ─►  drop matches the policy ignores  ─►  pick the license that governs  ─►  action per match  ─►  Decision

A `Policy` maps SPDX ids and license categories to an `Action` (allow, attribute, warn, review,
deny); `search_api.gate.policy_file` reads one from TOML, JSON or a dict. SPDX expressions are
decided part by part: ``A OR B`` takes the most permissive alternative, ``A AND B`` the strictest
part, ``L WITH E`` looks up the pair first, then L.

`decide(report, policy)` returns a `Decision`: one `Finding` per match that is not ignored, an
outcome (pass / attribution-needed / review-needed / fail) and counts of what was ignored and why.
"""

from __future__ import annotations

import enum
import fnmatch
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pathspec

from indexer.licenses.expressions import fold_expression, license_category, spdx_licensing
from indexer.records import LicenseCategory, SkipReason
from search_api.engine.results import Match, Relation, Report, SourceRef, Span
from search_api.gate.skips import SkipAction, skip_actions

__all__ = ["Action", "Decision", "Finding", "Outcome", "Policy", "PolicyDecision", "decide"]


class Action(str, enum.Enum):
    """What a match under a license asks for, from least to most restrictive."""

    ALLOW = "allow"
    ATTRIBUTE = "attribute"
    WARN = "warn"
    REVIEW = "review"
    DENY = "deny"

    @property
    def rank(self) -> int:
        return _ACTION_ORDER.index(self)

    @property
    def level(self) -> str:
        """The SARIF level of a finding with this action (``none`` for allow)."""
        return _LEVELS[self]

    @property
    def rule_id(self) -> str:
        return _RULE_IDS[self]

    @property
    def needs_notice(self) -> bool:
        """Whether a THIRD_PARTY_NOTICES entry is due (deny: the code must go, not be credited)."""
        return self in (Action.ATTRIBUTE, Action.WARN, Action.REVIEW)


_ACTION_ORDER = list(Action)
_LEVELS = {
    Action.ALLOW: "none",
    Action.ATTRIBUTE: "note",
    Action.WARN: "warning",
    Action.REVIEW: "warning",
    Action.DENY: "error",
}
_RULE_IDS = {
    Action.ALLOW: "license-allowed",
    Action.ATTRIBUTE: "attribution-required",
    Action.WARN: "attribution-required-warning",
    Action.REVIEW: "license-review",
    Action.DENY: "license-denied",
}
BOILERPLATE_RULE_ID = "common-boilerplate"


class Outcome(str, enum.Enum):
    """A Decision's verdict, from best to worst."""

    PASS = "pass"  # nothing to do
    ATTRIBUTION_NEEDED = "attribution-needed"  # passes; notices are due
    REVIEW_NEEDED = "review-needed"  # passes; a person should look
    FAIL = "fail"  # a policy violation: exit 1


class CopiesMode(str, enum.Enum):
    """Which of the files holding a span decides its license."""

    BEST = "best"
    PRIMARY = "primary"
    STRICTEST = "strictest"


class BoilerplateMode(str, enum.Enum):
    IGNORE = "ignore"
    REPORT = "report"
    ENFORCE = "enforce"


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated policy. `licenses` keys are lower-cased normalised SPDX ids (or ``ID with EXC``).

    Sizes: `min_chars` counts non-whitespace characters (0: the index's own minimum); `min_lines`
    query lines; `min_similarity` is 0..1; `boilerplate_repos` counts repositories. `skipped` gives
    every skip reason its action (`search_api.gate.skips`); `on_skipped` is what set the defaults.
    """

    categories: Mapping[LicenseCategory, Action]
    licenses: Mapping[str, Action] = field(default_factory=dict)
    fail_on: frozenset[Action] = frozenset({Action.DENY})
    min_chars: int = 0
    min_lines: int = 1
    min_similarity: float = 0.0
    copies: CopiesMode = CopiesMode.BEST
    boilerplate_repos: int = 25
    boilerplate: BoilerplateMode = BoilerplateMode.IGNORE
    ignore_paths: tuple[str, ...] = ()
    ignore_repos: tuple[str, ...] = ()
    name: str = "default"
    on_skipped: SkipAction = SkipAction.FAIL
    skipped: Mapping[SkipReason, SkipAction] = field(default_factory=skip_actions)

    def license_action(self, expression: str | None) -> tuple[Action, str]:
        """The action for an SPDX expression (None: no license), and why, naming the policy key."""
        if not expression:
            return self._category_action(LicenseCategory.NO_LICENSE, "no license found")
        try:
            tree = spdx_licensing().parse(expression)
        except Exception:  # noqa: BLE001 - the parser raises assorted errors on malformed input
            return self._category_action(LicenseCategory.UNKNOWN, f"{expression!r} is not an SPDX expression")
        if tree is None:
            return self._category_action(LicenseCategory.NO_LICENSE, "no license found")
        return fold_expression(tree, self._symbol_action, _freest_or_strictest)

    def ignores_repo(self, repo: str) -> bool:
        return any(fnmatch.fnmatchcase(repo.lower(), pattern.lower()) for pattern in self.ignore_repos)

    def ignores_path(self, path: str) -> bool:
        """Whether `ignore.paths` (gitignore patterns) leave out this path of the scanned tree."""
        return _gitignore_spec(self.ignore_paths).match_file(path)

    def to_dict(self) -> dict[str, object]:
        """The policy as the TOML/JSON structure it is read from (every setting, defaults included)."""
        return {
            "version": 1,
            "fail_on": [a.value for a in _ACTION_ORDER if a in self.fail_on],
            "categories": {c.value: a.value for c, a in self.categories.items()},
            "licenses": dict(self.licenses.items()),
            "matches": {
                "min_chars": self.min_chars,
                "min_lines": self.min_lines,
                "min_similarity": self.min_similarity,
                "copies": self.copies.value,
            },
            "boilerplate": {"min_repos": self.boilerplate_repos, "action": self.boilerplate.value},
            "ignore": {"paths": list(self.ignore_paths), "repos": list(self.ignore_repos)},
            "skipped": {
                "on_skipped": self.on_skipped.value,
                **{r.value: a.value for r, a in self.skipped.items()},
            },
        }

    def _symbol_action(self, node: Any) -> tuple[Action, str]:  # a license_expression symbol
        symbol = getattr(node, "license_symbol", None)
        if symbol is not None:  # L WITH EXCEPTION: the pair first, then the license itself
            pair = f"{symbol.key} with {node.exception_symbol.key}".lower()
            if pair in self.licenses:
                return self.licenses[pair], f'[licenses] "{node}" = "{self.licenses[pair].value}"'
            node = symbol
        key = str(getattr(node, "key", node))
        override = self.licenses.get(key.lower())
        if override is not None:
            return override, f'[licenses] "{key}" = "{override.value}"'
        category = license_category(key)
        return self._category_action(category, f"{key} is {category.value}")

    def _category_action(self, category: LicenseCategory, why: str) -> tuple[Action, str]:
        action = self.categories[category]
        return action, f'{why}: [categories] {category.value} = "{action.value}"'


def _freest_or_strictest(is_or: bool, node: object, parts: list[tuple[Action, str]]) -> tuple[Action, str]:
    """``A OR B``: the most permissive alternative; ``A AND B``: the strictest part."""
    pick = (min if is_or else max)(parts, key=lambda p: p[0].rank)
    which = "the most permissive alternative" if is_or else "the strictest part"
    return pick[0], f"{node}: {which}: {pick[1]}"


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
        if self.boilerplate:
            return (
                f"nothing: the span is common boilerplate, found in {self.match.repos_with_span} repositories"
            )
        return {
            Action.ALLOW: "nothing: the policy allows this license without attribution",
            Action.ATTRIBUTE: f"credit {self.governing.repo} ({license_name}) in THIRD_PARTY_NOTICES "
            "(`codecite notice` writes the entry)",
            Action.WARN: f"credit {self.governing.repo} in THIRD_PARTY_NOTICES and keep {lines} under "
            f"{license_name}: changes to them may have to be shared under the same license",
            Action.REVIEW: f"have a person check the license of {self.governing.repo} ({license_name}) "
            f"before {lines} ship",
            Action.DENY: f"remove or rewrite {lines}, or obtain the code under a license the policy allows",
        }[self.action]

    @property
    def attribution(self) -> str:
        """A one-line credit for the governing source."""
        s = self.governing_span
        span = f" (lines {s.start_line}-{s.end_line})" if s else ""
        url = f" <{self.governing.url}>" if self.governing.url else ""
        return (
            f"{self.governing.repo}: {self.governing.path}{span}, licensed under "
            f"{self.governing.license or 'no stated license'}{url}"
        )

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
        }


@dataclass(frozen=True, slots=True)
class Decision:
    """The policy's verdict on one Report. `ignored` counts dropped matches by reason."""

    outcome: Outcome
    findings: tuple[Finding, ...]
    ignored: Mapping[str, int]
    policy: str
    fail_on: frozenset[Action] = frozenset({Action.DENY})

    @property
    def passed(self) -> bool:
        return self.outcome is not Outcome.FAIL

    @property
    def failing(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.boilerplate and f.action in self.fail_on)

    @property
    def notices(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.needs_notice)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.findings:
            key = "boilerplate" if f.boilerplate else f.action.value
            out[key] = out.get(key, 0) + 1
        return out

    def to_dict(self) -> dict[str, object]:
        return {
            "outcome": self.outcome.value,
            "passed": self.passed,
            "policy": self.policy,
            "counts": self.counts(),
            "ignored": dict(self.ignored),
            "findings": [f.to_dict() for f in self.findings],
            "notice": "\n".join(f.attribution for f in self.notices) or None,
        }


PolicyDecision = Decision  # the name DESIGN.md and STYLE.md use


def decide(report: Report, policy: Policy) -> Decision:
    """Apply `policy` to every match of `report`."""
    findings: list[Finding] = []
    ignored: dict[str, int] = {}
    # The engine's boilerplate spans are judged too: the policy says whether to ignore, note or enforce them.
    for i, match in enumerate([*report.matches, *report.boilerplate]):
        finding, why_not = _decide_match(i, match, policy)
        if finding is None:
            ignored[why_not] = ignored.get(why_not, 0) + 1
        else:
            findings.append(finding)
    return Decision(
        outcome_of(findings, policy.fail_on), tuple(findings), ignored, policy.name, policy.fail_on
    )


def outcome_of(findings: list[Finding] | tuple[Finding, ...], fail_on: frozenset[Action]) -> Outcome:
    """The verdict for a set of findings (also used to combine the files of a scan)."""
    actions = {f.action for f in findings if not f.boilerplate}
    if actions & fail_on:
        return Outcome.FAIL
    if actions & {Action.REVIEW, Action.DENY}:
        return Outcome.REVIEW_NEEDED
    if actions & {Action.ATTRIBUTE, Action.WARN}:
        return Outcome.ATTRIBUTION_NEEDED
    return Outcome.PASS


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


@functools.cache
def _gitignore_spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(patterns)
