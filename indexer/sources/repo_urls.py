"""Repository names and links: ``owner/name`` from a git remote or project URL, a file's web URL,
and a checkout's remote and revision read straight from its ``.git`` directory (no subprocess)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
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


def remote_url(gitdir: Path, remote: str = "origin") -> str | None:
    """The URL of `remote` (else of the first remote) in ``<gitdir>/config``, or None."""
    config = _read(gitdir / "config")
    if config is None and (gitdir / "commondir").is_file():  # a worktree: the config is shared
        common = _read(gitdir / "commondir")
        config = _read((gitdir / (common or "").strip() / "config").resolve()) if common else None
    if not config:
        return None
    urls: dict[str, str] = {}
    section = None
    for line in config.splitlines():
        line = line.strip()
        header = re.match(r'^\[\s*remote\s+"([^"]+)"\s*\]', line)
        if header:
            section = header.group(1)
        elif line.startswith("["):
            section = None
        elif section and (m := re.match(r"^url\s*=\s*(.+?)\s*$", line)):
            urls.setdefault(section, m.group(1).strip('"'))
    return urls.get(remote) or next(iter(urls.values()), None)


def head_revision(gitdir: Path) -> str | None:
    """The commit id HEAD points to, read from ``HEAD``, the ref file or ``packed-refs``; None
    before the first commit or when the refs are somewhere we do not read."""
    head = _read(gitdir / "HEAD")
    if not head:
        return None
    head = head.strip()
    if re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", head):
        return head
    if not head.startswith("ref:"):
        return None
    ref = head.removeprefix("ref:").strip()
    loose = _read(gitdir / ref)
    if loose and re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", loose.strip()):
        return loose.strip()
    for line in (_read(gitdir / "packed-refs") or "").splitlines():
        sha, _, name = line.partition(" ")
        if name.strip() == ref:
            return sha
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
