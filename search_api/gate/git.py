"""Running git: where the work tree is, and the output of git commands (for diffs).

Every call has a timeout; failures become a `ScanError` that says what to do (fetch the revision,
install git), or None where the caller can do without git.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from search_api.gate.targets import ScanError

GIT_TIMEOUT_SECONDS = 300


def find_root(paths: Sequence[str]) -> Path:
    """The git work tree holding the first path (or the current directory); outside git, the current
    directory when the path is inside it, else the path's directory. Output paths are relative to it."""
    start = Path(paths[0]) if paths else Path.cwd()
    start = start if start.is_dir() else start.parent
    start = start.resolve()
    top = git_text(["rev-parse", "--show-toplevel"], start, check=False)
    if top is not None and top.strip():
        return Path(top.strip()).resolve()
    cwd = Path.cwd().resolve()
    return cwd if start == cwd or cwd in start.parents else start


def git_text(args: list[str], cwd: Path, check: bool = True) -> str | None:
    """What ``git ARGS`` prints, decoded (bad bytes replaced); None when it fails and not `check`."""
    out = git_bytes(args, cwd, check)
    return out.decode("utf-8", "replace") if out is not None else None


def git_bytes(args: list[str], cwd: Path, check: bool = False) -> bytes | None:
    """What ``git ARGS`` prints; with `check`, a failure raises ScanError, else gives None."""
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=cwd,
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except FileNotFoundError:
        if check:
            raise ScanError("git is not installed, and --diff needs it") from None
        return None
    except subprocess.TimeoutExpired:
        raise ScanError(f"git {' '.join(args[:2])} took more than 5 minutes") from None
    if done.returncode != 0:
        if check:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ScanError(
                f"git {' '.join(args[:1])} failed: {message[-1] if message else done.returncode}"
                " (is the revision fetched? in CI use actions/checkout with fetch-depth: 0)"
            )
        return None
    return done.stdout
