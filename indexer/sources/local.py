"""Local repositories: a checkout, a plain folder of code, or a folder of many checkouts.

The tree is walked in name order without following symbolic links. Every directory holding a
``.git`` (a directory, or a submodule's ``.git`` file) starts a repository of its own, named from
its ``origin`` remote (``owner/name``) or else after its folder, so a folder of clones needs no
special case. ``.gitignore`` files (nested ones too) and ``.git/info/exclude`` are respected;
dependency and cache directories (`filters.DEPENDENCY_DIRS`) are not walked. A LICENSE file or a
manifest stating a license (``Cargo.toml``, ``package.json``, ``pyproject.toml``) in a
subdirectory, a vendored library's, decides the license of that subtree. Each repository's git
history gives every file the date of the commit that first added it (`git_history`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pathspec

from indexer.records import Document, Provenance, Skip, SkipReason
from indexer.sources.base import IngestOptions, Source
from indexer.sources.files import RepoContext, read_document, reading_of_directory, tree_reading
from indexer.sources.filters import is_dependency_dir
from indexer.sources.git_history import read_history
from indexer.sources.repo_urls import git_dir, read_checkout, repo_from_url

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Ignore:
    """The patterns of one ignore file; `base` is its directory relative to the repository root."""

    base: str
    spec: pathspec.GitIgnoreSpec


@dataclass(frozen=True, slots=True)
class _Walk:
    """What stays the same for a whole walk: `root` (for `Skip.where`), options, source name, and
    the directory names handled elsewhere (`prune`: not walked and not counted)."""

    root: Path
    options: IngestOptions
    source: str
    prune: frozenset[str]


def repo_context(root: Path, license_default: str | None = None) -> RepoContext:
    """Name, revision, forge, license and commit dates of the repository (or plain folder) at `root`.

    The license is the one `root` states (a manifest's expression, else its license files), else
    `license_default`.
    """
    checkout = read_checkout(root)
    ref = repo_from_url(checkout.remote_url) if checkout else None
    name = ref.name if ref else root.resolve().name
    context = RepoContext(name, license_default, checkout.revision if checkout else None, ref)
    context = context.with_reading(reading_of_directory(root))
    gitdir = git_dir(root)
    if gitdir is None:
        return context
    history = read_history(root, gitdir)
    dates = Provenance(revision_date=history.head_author, committer_date=history.head_committer)
    return replace(context, provenance=dates, first_added=history.first_added)


def walk_tree(
    top: Path,
    context: RepoContext,
    options: IngestOptions,
    source: str,
    *,
    prune: frozenset[str] = frozenset(),
) -> Iterator[Document | Skip]:
    """Every file under `top` as a `Document` or a `Skip`; paths are relative to `top`, which is
    the root of the repository described by `context`. Skipped directories count once."""
    walk = _Walk(top, options, source, prune)
    yield from _walk_dir(walk, top, "", context, _repo_ignores(top))


def _walk_dir(
    walk: _Walk, directory: Path, rel: str, context: RepoContext, ignores: tuple[_Ignore, ...]
) -> Iterator[Document | Skip]:
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as err:
        yield Skip(SkipReason.UNREADABLE, _where(walk, directory) + "/", err.strerror or str(err))
        return
    names = [e.name for e in entries]
    if ".gitignore" in names:
        ignores = ignores + _load_ignores(directory / ".gitignore", rel)
    if rel:
        context = context.with_reading(tree_reading(directory, names))
    for entry in entries:
        if entry.name == ".git":
            continue
        child_rel = f"{rel}/{entry.name}" if rel else entry.name
        where = _where(walk, Path(entry.path))
        if entry.is_symlink():
            yield Skip(SkipReason.SYMLINK, where)
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk_subdir(walk, Path(entry.path), child_rel, context, ignores)
        elif not entry.is_file(follow_symlinks=False):
            yield Skip(SkipReason.UNREADABLE, where, "not a regular file")
        elif _is_ignored(ignores, child_rel, is_dir=False):
            yield Skip(SkipReason.GITIGNORED, where)
        else:
            yield read_document(Path(entry.path), child_rel, where, context, walk.options, walk.source)


def _walk_subdir(
    walk: _Walk, directory: Path, rel: str, context: RepoContext, ignores: tuple[_Ignore, ...]
) -> Iterator[Document | Skip]:
    if directory.name in walk.prune:
        return
    where = _where(walk, directory) + "/"
    if is_dependency_dir(directory.name):
        yield Skip(SkipReason.VENDORED_BUILD_OUTPUT, where, "directory not walked")
    elif _is_ignored(ignores, rel, is_dir=True):
        yield Skip(SkipReason.GITIGNORED, where, "directory not walked")
    elif git_dir(directory) is not None:  # a nested repository: a submodule or another clone
        nested = repo_context(directory)
        log.debug("repository %s at %s", nested.name, directory)
        yield from _walk_dir(walk, directory, "", nested, _repo_ignores(directory))
    else:
        yield from _walk_dir(walk, directory, rel, context, ignores)


def _repo_ignores(repo_root: Path) -> tuple[_Ignore, ...]:
    """The repository-wide ignore patterns: ``info/exclude`` of the git directory (shared by worktrees)."""
    checkout = read_checkout(repo_root)
    return _load_ignores(checkout.common_dir / "info" / "exclude", "") if checkout else ()


def _load_ignores(path: Path, base: str) -> tuple[_Ignore, ...]:
    if path.is_symlink() or not path.is_file():
        return ()
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as err:
        log.warning("cannot read %s (%s); its patterns are not applied", path, err)
        return ()
    return (_Ignore(base, pathspec.GitIgnoreSpec.from_lines(lines)),)


def _is_ignored(ignores: tuple[_Ignore, ...], rel: str, *, is_dir: bool) -> bool:
    """Git's rule: the deepest ignore file with a pattern matching `rel` decides, and in it the
    last matching pattern (a ``!pattern`` re-includes)."""
    for ignore in reversed(ignores):
        if ignore.base:
            if not rel.startswith(ignore.base + "/"):
                continue
            sub = rel[len(ignore.base) + 1 :]
        else:
            sub = rel
        result = ignore.spec.check_file(sub + "/" if is_dir else sub)
        if result.include is not None:
            return bool(result.include)
    return False


def _where(walk: _Walk, path: Path) -> str:
    try:
        return path.relative_to(walk.root).as_posix()
    except ValueError:
        return str(path)


class LocalRepos(Source):
    """The files of a local repository, plain folder, or folder of repositories at `root`."""

    def __init__(self, root: Path, spec: str, options: IngestOptions) -> None:
        self.root = root
        self.spec = spec
        self.options = options
        self.description = f"local repositories under {root}"

    def __iter__(self) -> Iterator[Document | Skip]:
        context = repo_context(self.root)
        log.info("reading %s as repository %s (license %s)", self.root, context.name, context.license)
        yield from walk_tree(self.root, context, self.options, self.spec)
