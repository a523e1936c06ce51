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
from search_api.gate.skips import SkipAction, skip_actions

__all__ = ["Action", "BoilerplateMode", "CopiesMode", "NoticeMode", "Outcome", "Policy"]


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


class NoticeMode(str, enum.Enum):
    """What a license notice in the scanned code (a GPL header in generated code) leads to."""

    REVIEW = "review"  # a notice of a license the policy denies is flagged for a person to decide
    DECIDE = "decide"  # a notice is decided like a match under its license
    IGNORE = "ignore"  # notices are listed in the output only


class BoilerplateMode(str, enum.Enum):
    IGNORE = "ignore"
    REPORT = "report"
    ENFORCE = "enforce"


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated policy. `licenses` keys are lower-cased normalised SPDX ids (or ``ID with EXC``).

    Sizes: `min_chars` counts non-whitespace characters (0: the index's own minimum); `min_lines`
    query lines; `min_similarity` and `min_confidence` (a match's calibrated confidence that it was
    copied) are 0..1; `boilerplate_repos` counts repositories. `notices` says what a license
    notice in the scanned code leads to. `skipped` gives every skip reason its action
    (`search_api.gate.skips`); `on_skipped` is what set the defaults.
    """

    categories: Mapping[LicenseCategory, Action]
    licenses: Mapping[str, Action] = field(default_factory=dict)
    fail_on: frozenset[Action] = frozenset({Action.DENY})
    min_chars: int = 0
    min_lines: int = 1
    min_similarity: float = 0.0
    min_confidence: float = 0.8  # as default-policy.toml
    copies: CopiesMode = CopiesMode.BEST
    notices: NoticeMode = NoticeMode.REVIEW
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
                "min_confidence": self.min_confidence,
                "copies": self.copies.value,
            },
            "notices": {"action": self.notices.value},
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


@functools.cache
def _gitignore_spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(patterns)
