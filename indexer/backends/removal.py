"""Opt-outs, as The Stack takes them: whole repositories (``owner/name``) and every repository of a
GitHub user or organisation (``owner``), removed together in one new generation.

An opt-out list (``--opt-out-list FILE``) has one entry per line: ``user``, ``owner/repo``, or a
repository URL (``https://github.com/owner/repo``); blank lines and ``#`` comments are ignored.
Names compare case-insensitively, as GitHub's do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

_NAME = re.compile(r"[\w.-]+")
_URL = re.compile(r"^(?:https?://)?(?:www\.)?github\.com/", re.IGNORECASE)


class OptOutListError(ValueError):
    """An opt-out list that cannot be read as one; the message names the line and the fix."""


@dataclass(frozen=True, slots=True)
class RemovalSpec:
    """What an opt-out removes: these repositories and every repository of these owners."""

    repos: frozenset[str] = frozenset()
    owners: frozenset[str] = frozenset()
    _lowered: tuple[frozenset[str], frozenset[str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        lowered = (frozenset(r.lower() for r in self.repos), frozenset(o.lower() for o in self.owners))
        object.__setattr__(self, "_lowered", lowered)

    @classmethod
    def of(cls, repos: Iterable[str] = (), owners: Iterable[str] = ()) -> RemovalSpec:
        """A spec from names as typed (surrounding spaces and slashes removed). Raises ValueError
        for a repository that is not ``owner/name`` or an owner with a slash."""
        clean_repos = {r.strip().strip("/") for r in repos if r.strip()}
        clean_owners = {o.strip().strip("/") for o in owners if o.strip()}
        bad = [o for o in clean_owners if "/" in o] + [r for r in clean_repos if "/" not in r]
        if bad:
            raise ValueError(
                f"cannot opt out {', '.join(sorted(bad))}: give repositories as owner/name (--repo) "
                "and users or organisations as a bare name (--owner)"
            )
        return cls(frozenset(clean_repos), frozenset(clean_owners))

    def __bool__(self) -> bool:
        return bool(self.repos or self.owners)

    def matches(self, repo: str) -> bool:
        """Whether the repository named `repo` is opted out by this spec."""
        repos, owners = self._lowered
        lowered = repo.lower()
        return lowered in repos or lowered.partition("/")[0] in owners

    def describe(self) -> str:
        """In words, for messages: ``c/d, e/f and every repository of a, b``."""
        parts = [", ".join(sorted(self.repos))] if self.repos else []
        if self.owners:
            parts.append("every repository of " + ", ".join(sorted(self.owners)))
        return " and ".join(parts) or "nothing"


def read_opt_out_list(path: Path) -> RemovalSpec:
    """The opt-outs listed in the file at `path` (format in the module docstring).

    Raises OptOutListError naming the file and line of an entry that is neither a user nor a
    repository, so that a typo removes nothing rather than the wrong thing.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise OptOutListError(f"cannot read the opt-out list {path}: {err}") from err
    repos: list[str] = []
    owners: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        entry = _URL.sub("", line.split("#", 1)[0].strip()).removesuffix(".git").strip("/")
        if not entry:
            continue
        parts = entry.split("/")
        if len(parts) > 2 or not all(_NAME.fullmatch(p) for p in parts):
            raise OptOutListError(
                f"{path}:{number}: {line.strip()!r} is neither a user nor owner/repo; "
                "write one GitHub user or owner/repo per line (# starts a comment). Nothing was removed."
            )
        (repos if len(parts) == 2 else owners).append(entry)
    return RemovalSpec.of(repos, owners)
