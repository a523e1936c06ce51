"""License policy: what a match under each license means for a CI gate.

    Report  ─►  drop matches the policy ignores  ─►  pick the license that governs  ─►  action per match  ─►  Decision

A `Policy` maps SPDX ids and license categories to an `Action` (allow, attribute, warn, review,
deny). It is read from TOML (or JSON, or a dict) over the shipped, commented default
(``search_api/data/default-policy.toml``): a file sets only what it changes. Validation names the
file and line of every problem. SPDX expressions are decided part by part: ``A OR B`` takes the most
permissive alternative, ``A AND B`` the strictest part, ``L WITH E`` looks up the pair first, then L.

`decide(report, policy)` returns a `Decision`: one `Finding` per match that is not ignored, an
outcome (pass / attribution-needed / review-needed / fail) and counts of what was ignored and why.
"""

from __future__ import annotations

import difflib
import enum
import fnmatch
import functools
import importlib.resources
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pathspec
from license_expression import Licensing, get_spdx_licensing

from indexer.licenses import license_category, normalize_expression
from indexer.records import LicenseCategory
from search_api.results import Match, Report, SourceRef, Span

__all__ = [
    "Action", "Decision", "Finding", "Outcome", "Policy", "PolicyDecision", "PolicyError",
    "decide", "default_policy", "default_policy_text", "load_policy",
]


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
_LEVELS = {Action.ALLOW: "none", Action.ATTRIBUTE: "note", Action.WARN: "warning", Action.REVIEW: "warning",
           Action.DENY: "error"}
_RULE_IDS = {Action.ALLOW: "license-allowed", Action.ATTRIBUTE: "attribution-required",
             Action.WARN: "attribution-required-warning", Action.REVIEW: "license-review", Action.DENY: "license-denied"}
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


class PolicyError(ValueError):
    """A policy that cannot be used; the message names the file, the line and the fix."""


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated policy. `licenses` keys are lower-cased normalised SPDX ids (or ``ID with EXC``).

    Sizes: `min_chars` counts non-whitespace characters (0: the index's own minimum); `min_lines`
    query lines; `min_similarity` is 0..1; `boilerplate_repos` counts repositories.
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

    def license_action(self, expression: str | None) -> tuple[Action, str]:
        """The action for an SPDX expression (None: no license), and why, naming the policy key."""
        if not expression:
            return self._category_action(LicenseCategory.NO_LICENSE, "no license found")
        try:
            tree = _licensing().parse(expression)
        except Exception:  # noqa: BLE001 - the parser raises assorted errors on malformed input
            return self._category_action(LicenseCategory.UNKNOWN, f"{expression!r} is not an SPDX expression")
        if tree is None:
            return self._category_action(LicenseCategory.NO_LICENSE, "no license found")
        return self._node_action(tree)

    def ignores_repo(self, repo: str) -> bool:
        return any(fnmatch.fnmatchcase(repo.lower(), pattern.lower()) for pattern in self.ignore_repos)

    def to_dict(self) -> dict[str, object]:
        """The policy as the TOML/JSON structure it is read from (every setting, defaults included)."""
        return {
            "version": 1,
            "fail_on": [a.value for a in _ACTION_ORDER if a in self.fail_on],
            "categories": {c.value: a.value for c, a in self.categories.items()},
            "licenses": dict(self.licenses.items()),
            "matches": {"min_chars": self.min_chars, "min_lines": self.min_lines,
                        "min_similarity": self.min_similarity, "copies": self.copies.value},
            "boilerplate": {"min_repos": self.boilerplate_repos, "action": self.boilerplate.value},
            "ignore": {"paths": list(self.ignore_paths), "repos": list(self.ignore_repos)},
        }

    def _node_action(self, node: object) -> tuple[Action, str]:
        licensing = _licensing()
        if isinstance(node, licensing.OR | licensing.AND):
            parts = [self._node_action(arg) for arg in node.args]
            is_or = isinstance(node, licensing.OR)
            pick = (min if is_or else max)(parts, key=lambda p: p[0].rank)
            which = "the most permissive alternative" if is_or else "the strictest part"
            return pick[0], f"{node}: {which}: {pick[1]}"
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
            return f"nothing: the span is common boilerplate, found in {self.match.repos_with_span} repositories"
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
        return (f"{self.governing.repo}: {self.governing.path}{span}, licensed under "
                f"{self.governing.license or 'no stated license'}{url}")

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
    return Decision(outcome_of(findings, policy.fail_on), tuple(findings), ignored, policy.name, policy.fail_on)


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
    refs = [(match.source, match.source_span)]
    refs += [(c.source, c.source_span or (match.source_span if c.relation == "identical" else None))
             for c in match.copies]
    refs = [(ref, span) for ref, span in refs if not policy.ignores_repo(ref.repo)]
    if not refs:
        return None, "ignored-source"
    if match.matched_chars < policy.min_chars or match.query_span.lines < policy.min_lines \
            or match.similarity < policy.min_similarity:
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


# ---------------------------------------------------------------------------------------------
# Loading and validation


def default_policy_text() -> str:
    """The shipped, commented default policy (what `codecite policy init` writes)."""
    return importlib.resources.files("search_api").joinpath("data/default-policy.toml").read_text(encoding="utf-8")


@functools.cache
def _default_raw() -> dict[str, Any]:
    return tomllib.loads(default_policy_text())


def default_policy() -> Policy:
    """The shipped default policy (see the comments in ``default-policy.toml``)."""
    return _build(_default_raw(), _Locator("default-policy.toml", default_policy_text()), "default")


def load_policy(source: str | Path | Mapping[str, Any]) -> Policy:
    """A policy from a TOML or JSON file, or from a dict (as sent to ``POST /v1/attribute``).

    Settings not given keep the default's. Raises PolicyError (a ValueError) listing every problem,
    each with the file and line where it is.
    """
    if isinstance(source, Mapping):
        return _build(_merge(_default_raw(), dict(source)), _Locator("policy", None), "request", given=dict(source))
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(f"{path}: no such policy file; write the default with `codecite policy init {path}`") \
            from None
    except (OSError, UnicodeDecodeError) as err:
        raise PolicyError(f"{path}: cannot read the policy file: {err}") from None
    locator = _Locator(str(path), text, is_json=path.suffix.lower() == ".json")
    if path.suffix.lower() == ".json":
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise PolicyError(f"{path}:{err.lineno}: invalid JSON: {err.msg} (column {err.colno})") from None
    else:
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise PolicyError(_toml_error(path, err)) from None
    if not isinstance(raw, dict):
        raise PolicyError(f"{path}:1: a policy is a table of settings (see `codecite policy init`)")
    return _build(_merge(_default_raw(), raw), locator, str(path), given=raw)


_SECTIONS: dict[str, tuple[str, ...]] = {
    "matches": ("min_chars", "min_lines", "min_similarity", "copies"),
    "boilerplate": ("min_repos", "action"),
    "ignore": ("paths", "repos"),
}
_TOP = ("version", "fail_on", "categories", "licenses", *_SECTIONS)


def _build(raw: dict[str, Any], where: _Locator, name: str, given: dict[str, Any] | None = None) -> Policy:
    """Validate the merged settings; report problems at the lines of `given` (the user's part)."""
    check = _Checker(where, given if given is not None else raw)
    for key in raw:
        if key not in _TOP:
            check.problem((key,), f"unknown setting {key!r}; the settings are: {', '.join(_TOP)}")
    if raw.get("version", 1) != 1:
        check.problem(("version",), f"version = {raw.get('version')!r}: this codecite reads policy version 1")
    categories = check.table(raw, "categories")
    licenses = check.table(raw, "licenses")
    for section, keys in _SECTIONS.items():
        for key in check.table(raw, section):
            if key not in keys:
                check.problem((section, key), f"unknown setting {section}.{key}; use one of: {', '.join(keys)}")
    matches, boiler, ignore = (check.table(raw, s) for s in _SECTIONS)
    policy = Policy(
        categories=_categories(categories, check),
        licenses=_licenses(licenses, check),
        fail_on=frozenset(check.action(("fail_on", i), v) or Action.DENY
                          for i, v in enumerate(check.str_list(raw, ("fail_on",)))),
        min_chars=check.number(matches, ("matches", "min_chars"), int, 0),
        min_lines=check.number(matches, ("matches", "min_lines"), int, 1),
        min_similarity=check.number(matches, ("matches", "min_similarity"), float, 0.0, 1.0),
        copies=check.choice(matches, ("matches", "copies"), CopiesMode),
        boilerplate_repos=check.number(boiler, ("boilerplate", "min_repos"), int, 1),
        boilerplate=check.choice(boiler, ("boilerplate", "action"), BoilerplateMode),
        ignore_paths=tuple(check.patterns(ignore, ("ignore", "paths"))),
        ignore_repos=tuple(check.str_list(ignore, ("ignore", "repos"))),
        name=name,
    )
    check.raise_if_any()
    return policy


def _categories(table: dict[str, Any], check: _Checker) -> dict[LicenseCategory, Action]:
    aliases = {c.value.replace("-", "_"): c for c in LicenseCategory} | {c.value: c for c in LicenseCategory}
    out: dict[LicenseCategory, Action] = {}
    for key, value in table.items():
        category = aliases.get(str(key).strip().lower())
        if category is None:
            close = difflib.get_close_matches(str(key).lower(), [c.value for c in LicenseCategory], 1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            check.problem(("categories", key), f"unknown license category {key!r}; {hint}the categories are: "
                          + ", ".join(c.value for c in LicenseCategory))
            continue
        action = check.action(("categories", key), value)
        if action is not None:
            out[category] = action
    for category in LicenseCategory:
        out.setdefault(category, Action.REVIEW)
    return out


def _licenses(table: dict[str, Any], check: _Checker) -> dict[str, Action]:
    out: dict[str, Action] = {}
    for key, value in table.items():
        action = check.action(("licenses", key), value)
        normal = normalize_expression(str(key))
        if normal is None or " OR " in normal or " AND " in normal:
            close = difflib.get_close_matches(str(key), _known_ids(), 1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            check.problem(("licenses", key), f"{key!r} is not a known SPDX license id (or ID WITH EXCEPTION, or "
                          f"LicenseRef-...){hint}")
            continue
        if action is not None:
            out[normal.lower()] = action
    return out


@functools.cache
def _known_ids() -> list[str]:
    from indexer.licenses import _category_by_key  # the bundled ScanCode LicenseDB ids

    return sorted(_category_by_key())


@functools.cache
def _licensing() -> Licensing:
    return get_spdx_licensing()


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """`over` on top of `base`, table by table (lists and values are replaced, not appended)."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _toml_error(path: Path, err: tomllib.TOMLDecodeError) -> str:
    found = re.search(r"\(at line (\d+), column (\d+)\)", str(err))
    message = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", str(err))
    if found:
        return f"{path}:{found.group(1)}: invalid TOML: {message} (column {found.group(2)})"
    return f"{path}: invalid TOML: {message} (at the end of the file)"


class _Locator:
    """Finds the line of a dotted key in TOML text: a table header, a key, or a dotted key."""

    def __init__(self, name: str, text: str | None, is_json: bool = False) -> None:
        self.name = name
        self._lines: dict[tuple[str, ...], int] = {}
        self._json_text = text if is_json else None
        if text and not is_json:
            self._index(text)

    def where(self, path: tuple[object, ...]) -> str:
        keys = tuple(str(p).lower() for p in path if not isinstance(p, int))
        if self._json_text is not None and keys:  # JSON: the first line that has the innermost key
            found = re.search(r'"' + re.escape(keys[-1]) + r'"\s*:', self._json_text, re.IGNORECASE)
            return f"{self.name}:{self._json_text.count(chr(10), 0, found.start()) + 1}" if found else self.name
        while keys:
            if keys in self._lines:
                return f"{self.name}:{self._lines[keys]}"
            keys = keys[:-1]
        return self.name

    def _index(self, text: str) -> None:
        table: tuple[str, ...] = ()
        for number, line in enumerate(text.splitlines(), 1):
            stripped = line.strip()
            header = re.match(r"^\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$", stripped)
            if header:
                table = _split_key(header.group(1))
                self._lines.setdefault(table, number)
                continue
            key = re.match(r'^((?:"[^"]*"|\'[^\']*\'|[A-Za-z0-9_.+\- ]+?)+?)\s*=', stripped)
            if key and not stripped.startswith("#"):
                self._lines.setdefault(table + _split_key(key.group(1)), number)


def _split_key(key: str) -> tuple[str, ...]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([^.\s"\']+)', key)
    return tuple((a or b or c).strip().lower() for a, b, c in parts)


class _Checker:
    """Collects validation problems, each with the place it was found."""

    def __init__(self, where: _Locator, given: dict[str, Any]) -> None:
        self.where = where
        self.given = given
        self.problems: list[str] = []

    def problem(self, path: tuple[object, ...], message: str) -> None:
        self.problems.append(f"{self.where.where(path)}: {message}")

    def raise_if_any(self) -> None:
        if self.problems:
            raise PolicyError("\n".join(self.problems))

    def table(self, raw: dict[str, Any], key: str) -> dict[str, Any]:
        value = raw.get(key, {})
        if not isinstance(value, dict):
            self.problem((key,), f"{key} must be a table ([{key}]), not {type(value).__name__}")
            return {}
        return value

    def action(self, path: tuple[object, ...], value: object) -> Action | None:
        try:
            return Action(str(value).strip().lower()) if isinstance(value, str) else Action(value)
        except ValueError:
            self.problem(path, f"{_dotted(path)} = {value!r}: unknown action; use one of: "
                         + ", ".join(a.value for a in Action))
            return None

    def choice(self, table: dict[str, Any], path: tuple[str, ...], kind: type[enum.Enum]) -> Any:
        value = table.get(path[-1])
        try:
            return kind(str(value).strip().lower())
        except ValueError:
            self.problem(path, f"{_dotted(path)} = {value!r}: use one of: " + ", ".join(str(k.value) for k in kind))
            return next(iter(kind))

    def number(self, table: dict[str, Any], path: tuple[str, ...], kind: type, low: float,
               high: float | None = None) -> Any:
        value = table.get(path[-1])
        ok_type = isinstance(value, int | float) if kind is float else isinstance(value, int)
        if isinstance(value, bool) or not ok_type or not value >= low or (high is not None and value > high):
            limits = f"between {low} and {high}" if high is not None else f"at least {low}"
            noun = "a number" if kind is float else "a whole number"
            self.problem(path, f"{_dotted(path)} = {value!r}: must be {noun} {limits}")
            return kind(low)
        return kind(value)

    def patterns(self, table: dict[str, Any], path: tuple[str, ...]) -> Iterator[str]:
        """gitignore-style patterns, each compiled once to find the broken ones."""
        for pattern in self.str_list(table, path):
            try:
                pathspec.GitIgnoreSpec.from_lines([pattern])
            except Exception as err:  # noqa: BLE001 - pathspec raises several error types
                self.problem(path, f"{_dotted(path)}: {pattern!r} is not a gitignore-style pattern ({err})")
                continue
            yield pattern

    def str_list(self, table: dict[str, Any], path: tuple[str, ...]) -> Iterator[str]:
        value = table.get(path[-1], [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(path, f"{_dotted(path)} must be a list of strings, e.g. [\"...\"]")
            return iter(())
        return iter(value)


def _dotted(path: tuple[object, ...]) -> str:
    return ".".join(str(p) for p in path if not isinstance(p, int))
