"""Dates from a local repository's git history: when each file was first added, and the head
commit's dates.

One ``git log`` pass per repository (not one per file) lists, oldest first, every commit that
added files and the paths it added; the first commit to add a path gives its date. Renames count
as additions (``--no-renames``: following each file through renames would take a pass per file).
A shallow clone's oldest commit seems to add every file, so a shallow clone gives no first-added
dates. Without git, or outside a repository, there are no dates: never an error.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

_TIMEOUT_S = 600  # a very large history may take minutes; a hung git must not hang the build


@dataclass(frozen=True, slots=True)
class GitHistory:
    """`first_added`: repository-relative posix path -> author date (UTC) of the first commit that
    added it; `head_author` / `head_committer`: the dates of the commit HEAD points to."""

    first_added: dict[str, dt.datetime] = field(default_factory=dict)
    head_author: dt.datetime | None = None
    head_committer: dt.datetime | None = None


def read_history(root: Path, gitdir: Path) -> GitHistory:
    """The history of the repository checked out at `root` (git directory `gitdir`)."""
    git = shutil.which("git")
    if git is None:
        log.info("git is not installed: no commit dates for %s", root)
        return GitHistory()
    head = _git(git, root, ["log", "-1", "--format=%at %ct", "HEAD"])
    if head is None:
        return GitHistory()
    author, committer = (_epoch(v) for v in (head.decode("ascii", "replace").split() + ["", ""])[:2])
    if (gitdir / "shallow").exists():
        log.info("%s is a shallow clone: its files' first commits are not known", root)
        return GitHistory({}, author, committer)
    added = _git(git, root, ["log", "--reverse", "--format=%x01%at", "--name-only", "--diff-filter=A",
                             "--no-renames", "-z", "HEAD"])  # fmt: skip
    return GitHistory(_first_added(added or b""), author, committer)


def _first_added(output: bytes) -> dict[str, dt.datetime]:
    """Parse ``git log --reverse --format=%x01%at --name-only -z`` output: ``\\x01<epoch>\\0\\n``
    then the paths the commit added, each ending in NUL, oldest commit first."""
    out: dict[str, dt.datetime] = {}
    for chunk in output.split(b"\x01"):
        if not chunk:
            continue
        header, _, names = chunk.partition(b"\0")
        when = _epoch(header.decode("ascii", "replace"))
        if when is None:
            continue
        for raw in names.split(b"\0"):
            name = raw.lstrip(b"\n")
            if name:
                out.setdefault(os.fsdecode(name), when)
    return out


def _git(git: str, root: Path, args: list[str]) -> bytes | None:
    try:
        done = subprocess.run(
            [git, "-C", str(root), *args], capture_output=True, timeout=_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        log.warning("git log in %s failed (%s): no commit dates for its files", root, err)
        return None
    if done.returncode != 0:  # no commit yet, a broken repository, a foreign owner (safe.directory)
        log.info("git log in %s: %s", root, done.stderr.decode("utf-8", "replace").strip()[:200])
        return None
    return done.stdout


def _epoch(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
