"""Reading a license policy: TOML, JSON or a dict, over the shipped default, into a validated `Policy`.

    file or dict  ─►  parse (TOML / JSON)  ─►  merge over the default  ─►  validate  ─►  Policy

A policy file sets only what it changes; every setting it leaves out keeps the value of the
shipped, commented default (``search_api/data/default-policy.toml``). Validation collects every
problem before it raises, and names the file and line of each, with the fix: a `PolicyError`.
The policy model and `decide()` are in `search_api.gate.policy`, which re-exports this module's names.
"""

from __future__ import annotations

import difflib
import enum
import functools
import importlib.resources
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pathspec

from indexer.licenses.expressions import known_license_ids, normalize_expression
from indexer.records import LicenseCategory, SkipReason
from search_api.gate.policy import Action, BoilerplateMode, CopiesMode, NoticeMode, Policy
from search_api.gate.skips import SkipAction, skip_actions

__all__ = ["PolicyError", "default_policy", "default_policy_text", "load_policy"]


class PolicyError(ValueError):
    """A policy that cannot be used; the message names the file, the line and the fix."""


def default_policy_text() -> str:
    """The shipped, commented default policy (what `codecite policy init` writes)."""
    return (
        importlib.resources.files("search_api")
        .joinpath("data/default-policy.toml")
        .read_text(encoding="utf-8")
    )


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
        return _build(
            _merge(_default_raw(), dict(source)), _Locator("policy", None), "request", given=dict(source)
        )
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PolicyError(
            f"{path}: no such policy file; write the default with `codecite policy init {path}`"
        ) from None
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
    "matches": ("min_chars", "min_lines", "min_similarity", "min_confidence", "copies"),
    "notices": ("action",),
    "boilerplate": ("min_repos", "action"),
    "ignore": ("paths", "repos"),
}
_TOP = ("version", "fail_on", "categories", "licenses", *_SECTIONS, "skipped")


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
                check.problem(
                    (section, key), f"unknown setting {section}.{key}; use one of: {', '.join(keys)}"
                )
    matches, notices, boiler, ignore = (check.table(raw, s) for s in _SECTIONS)
    policy = Policy(
        categories=_categories(categories, check),
        licenses=_licenses(licenses, check),
        fail_on=frozenset(
            check.action(("fail_on", i), v) or Action.DENY
            for i, v in enumerate(check.str_list(raw, ("fail_on",)))
        ),
        min_chars=check.number(matches, ("matches", "min_chars"), int, 0),
        min_lines=check.number(matches, ("matches", "min_lines"), int, 1),
        min_similarity=check.number(matches, ("matches", "min_similarity"), float, 0.0, 1.0),
        min_confidence=check.number(matches, ("matches", "min_confidence"), float, 0.0, 1.0),
        copies=check.choice(matches, ("matches", "copies"), CopiesMode),
        notices=check.choice(notices, ("notices", "action"), NoticeMode),
        boilerplate_repos=check.number(boiler, ("boilerplate", "min_repos"), int, 1),
        boilerplate=check.choice(boiler, ("boilerplate", "action"), BoilerplateMode),
        ignore_paths=tuple(check.patterns(ignore, ("ignore", "paths"))),
        ignore_repos=tuple(check.str_list(ignore, ("ignore", "repos"))),
        name=name,
        **_skipped(check.table(raw, "skipped"), check),
    )
    check.raise_if_any()
    return policy


def _categories(table: dict[str, Any], check: _Checker) -> dict[LicenseCategory, Action]:
    out: dict[LicenseCategory, Action] = {}
    for key, value in table.items():
        try:
            category = LicenseCategory.parse(str(key))
        except ValueError:
            close = difflib.get_close_matches(str(key).lower(), [c.value for c in LicenseCategory], 1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            check.problem(
                ("categories", key),
                f"unknown license category {key!r}; {hint}the categories are: "
                + ", ".join(c.value for c in LicenseCategory),
            )
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
            close = difflib.get_close_matches(str(key), known_license_ids(), 1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            check.problem(
                ("licenses", key),
                f"{key!r} is not a known SPDX license id (or ID WITH EXCEPTION, or LicenseRef-...){hint}",
            )
            continue
        if action is not None:
            out[normal.lower()] = action
    return out


def _skipped(table: dict[str, Any], check: _Checker) -> dict[str, Any]:
    """`on_skipped` and the per-reason actions of the ``[skipped]`` table (reason names with - or _)."""
    on_skipped = check.choice(table, ("skipped", "on_skipped"), SkipAction, default=SkipAction.FAIL)
    per_reason: dict[SkipReason, SkipAction] = {}
    for key in table:
        if key == "on_skipped":
            continue
        try:
            reason = SkipReason(str(key).strip().lower().replace("_", "-"))
        except ValueError:
            check.problem(
                ("skipped", key),
                f"unknown setting skipped.{key}; use on_skipped or a skip reason: "
                + ", ".join(r.value for r in SkipReason),
            )
            continue
        per_reason[reason] = check.choice(table, ("skipped", key), SkipAction)
    return {"on_skipped": on_skipped, "skipped": skip_actions(on_skipped, per_reason)}


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
            return (
                f"{self.name}:{self._json_text.count(chr(10), 0, found.start()) + 1}" if found else self.name
            )
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
            self.problem(
                path,
                f"{_dotted(path)} = {value!r}: unknown action; use one of: "
                + ", ".join(a.value for a in Action),
            )
            return None

    def choice(
        self, table: dict[str, Any], path: tuple[str, ...], kind: type[enum.Enum], default: Any = None
    ) -> Any:
        value = table.get(path[-1], default.value if default is not None else None)
        try:
            return kind(str(value).strip().lower())
        except ValueError:
            self.problem(
                path, f"{_dotted(path)} = {value!r}: use one of: " + ", ".join(str(k.value) for k in kind)
            )
            return next(iter(kind))

    def number(
        self, table: dict[str, Any], path: tuple[str, ...], kind: type, low: float, high: float | None = None
    ) -> Any:
        value = table.get(path[-1])
        ok_type = isinstance(value, int | float) if kind is float else isinstance(value, int)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not ok_type
            or not value >= low
            or (high is not None and value > high)
        ):
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
            self.problem(path, f'{_dotted(path)} must be a list of strings, e.g. ["..."]')
            return iter(())
        return iter(value)


def _dotted(path: tuple[object, ...]) -> str:
    return ".".join(str(p) for p in path if not isinstance(p, int))
