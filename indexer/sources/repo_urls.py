"""Repository names and links: ``owner/name`` from a git remote or project URL, a file's web URL,
and a checkout's remote and revision.

A checkout is read with dulwich (a maintained, pure-Python implementation of git's repository
format): it follows a worktree's or submodule's ``.git`` file and its ``commondir``, loose and
packed refs, and the shared config, as git does, with no subprocess per repository.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

# Forges whose file URLs we know how to write: host -> URL template.
_FILE_URL = {
    "github.com": "https://github.com/{repo}/blob/{revision}/{path}",
    "gitlab.com": "https://gitlab.com/{repo}/-/blob/{revision}/{path}",
    "bitbucket.org": "https://bitbucket.org/{repo}/src/{revision}/{path}",
    "codeberg.org": "https://codeberg.org/{repo}/src/commit/{revision}/{path}",
}
# host[:/]path, with an optional scheme and user (https://, git+ssh://git@, git@host:).
_REMOTE = re.compile(
    r"^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/]+@)?(?P<host>[a-z0-9.-]+\.[a-z]{2,})(?::\d+)?[:/](?P<path>[^?#]+)",
    re.IGNORECASE,
)
# First path parts on a forge that are not owners (github.com/sponsors/x, github.com/orgs/x).
_NOT_OWNERS = frozenset(
    {"sponsors", "orgs", "apps", "marketplace", "features", "topics", "settings", "about"}
)
_OWNER_NAME = re.compile(r"^[\w.-]+/[\w.-]+$")


@dataclass(frozen=True, slots=True)
class RepoRef:
    """A repository on a code forge: its host and its ``owner/name`` (GitLab: ``group/sub/name``)."""

    host: str
    name: str

    def file_url(self, path: str, revision: str | None = None) -> str | None:
        """The web URL of `path` (posix, relative to the repository root) at `revision` (a commit,
        tag or branch; HEAD when unknown), or None for forges whose URLs we do not know."""
        template = _FILE_URL.get(self.host)
        if template is None:
            return None
        revision = quote(revision or "HEAD", safe="")
        return template.format(repo=self.name, revision=revision, path=quote(path.lstrip("/"), safe="/"))


def repo_from_url(url: str | None, *, forges_only: bool = False) -> RepoRef | None:
    """The repository a git remote or project URL points to, or None when it names none.

    ``https://github.com/acme/widgets.git``, ``git@github.com:acme/widgets``,
    ``git+https://github.com/acme/widgets/tree/main/docs`` all give ``github.com``, ``acme/widgets``.
    On GitHub, Bitbucket and Codeberg only the first two path parts count; on other hosts (GitLab
    subgroups) the whole path does, up to a ``/-/`` or ``/tree/`` part.
    """
    if not url:
        return None
    match = _REMOTE.match(url.strip())
    if not match:
        return None
    host = match.group("host").lower().removeprefix("www.")
    if forges_only and host not in _FILE_URL:
        return None
    parts = [p for p in re.split(r"/-/|/tree/|/blob/", match.group("path"))[0].split("/") if p]
    if host in ("github.com", "bitbucket.org", "codeberg.org"):
        parts = parts[:2]
    if len(parts) < 2 or parts[0].lower() in _NOT_OWNERS:
        return None
    parts[-1] = parts[-1].removesuffix(".git")
    if not all(re.fullmatch(r"[\w.-]+", p) for p in parts):
        return None
    return RepoRef(host, "/".join(parts))


def looks_like_owner_name(repo: str) -> bool:
    """Whether `repo` has the ``owner/name`` shape of a GitHub repository name."""
    return bool(_OWNER_NAME.match(repo))


def git_dir(repo_root: Path) -> Path | None:
    """The git directory of a checkout: ``.git``, or where a ``.git`` file (a submodule's or a
    worktree's ``gitdir: ...`` pointer) points; None when there is none."""
    dot_git = repo_root / ".git"
    if dot_git.is_dir() and not dot_git.is_symlink():
        return dot_git
    if dot_git.is_file():
        try:
            first = dot_git.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None
        if first.startswith("gitdir:"):
            target = (repo_root / first.removeprefix("gitdir:").strip()).resolve()
            return target if target.is_dir() else None
    return None


@dataclass(frozen=True, slots=True)
class Checkout:
    """What a git checkout says about itself: its remote's URL and the commit HEAD points to (None
    when unknown: no remote, no commit yet); `common_dir` holds what worktrees share (info/exclude)."""

    remote_url: str | None
    revision: str | None
    common_dir: Path


def read_checkout(repo_root: Path, remote: str = "origin") -> Checkout | None:
    """The checkout at `repo_root` (`remote`'s URL, else the first remote's), or None when there is
    no git directory. A git directory dulwich cannot open as a repository (a copied ``.git`` with
    only its config, say) still gives its remote, without a revision."""
    from dulwich.config import ConfigFile
    from dulwich.repo import Repo

    gitdir = git_dir(repo_root)
    if gitdir is None:
        return None
    try:
        with Repo(str(repo_root)) as repo:
            try:
                revision: str | None = repo.head().decode("ascii")
            except KeyError:  # no commit yet
                revision = None
            config = repo.get_config()
            common = Path(repo.commondir()).resolve()
    except Exception as err:  # noqa: BLE001 - a damaged or partial .git must not stop an index build
        log.debug("cannot open the git repository at %s (%s): reading its config only", repo_root, err)
        revision, common = None, gitdir
        try:
            config = ConfigFile.from_path(str(gitdir / "config"))
        except Exception:  # noqa: BLE001 - no readable config: nothing to say about the checkout
            return Checkout(None, None, gitdir)
    urls = _remote_urls(config)
    return Checkout(urls.get(remote) or next(iter(urls.values()), None), revision, common)


def _remote_urls(config: Any) -> dict[str, str]:
    """Remote name -> URL of a dulwich config."""
    urls: dict[str, str] = {}
    for section in config.sections():
        if len(section) == 2 and section[0] == b"remote":
            with contextlib.suppress(KeyError):
                url = config.get(section, b"url").decode("utf-8", "replace")
                urls.setdefault(section[1].decode("utf-8", "replace"), url)
    return urls
