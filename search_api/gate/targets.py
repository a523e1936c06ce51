"""What a scan reads: the files under the given paths, each a `ScanTarget` or a `Skip` with its reason.

    PATHs ─► walk (every .gitignore and .git/info/exclude; never into .git) ─► the policy's ignore.paths
        ─► read each file: code only, size, bytes that are text ─► ScanTarget | Skip

A target is a file to attribute, with the line ranges a diff added (None: the whole file). Paths are
posix and relative to the scan root (see `search_api.gate.git.find_root`).
"""

from __future__ import annotations

import functools
import logging
import os
import stat
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

from indexer.analysis.languages import NON_CODE, language_for_path
from indexer.analysis.text_input import decode_lenient
from indexer.records import Skip, SkipReason
from search_api.gate.policy import Policy

log = logging.getLogger(__name__)

Run = tuple[int, int]  # lines a..b of a file, 1-based, inclusive


class ScanError(ValueError):
    """The scan cannot run as asked (no such path, not a git repository, unknown revision, ...)."""


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What is scanned. `max_file_bytes`: larger files are skipped; `include_non_code`: also
    attribute prose and data files (Markdown, JSON, YAML, ...); `exclude`: gitignore-style patterns
    (from the scan root) of files to leave out, each listed as excluded."""

    max_file_bytes: int = 1_000_000
    include_non_code: bool = False
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_file_bytes < 1:
            raise ValueError(f"max_file_bytes={self.max_file_bytes} must be at least 1")
        for pattern in self.exclude:
            try:
                pathspec.GitIgnoreSpec.from_lines([pattern])
            except Exception as err:  # noqa: BLE001 - pathspec raises several error types
                raise ValueError(f"--exclude {pattern!r} is not a gitignore-style pattern ({err})") from None

    def excluded(self, path: str) -> Skip | None:
        """A Skip when `path` (posix, from the scan root) matches an --exclude pattern."""
        if not self.exclude:
            return None
        for pattern in self.exclude:
            if _gitignore_spec((pattern,)).match_file(path):
                return Skip(SkipReason.EXCLUDED, path, f"--exclude {pattern}")
        return None


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """A file to attribute: `path` is posix, relative to the scan root; `runs` are the line
    ranges a diff added (None: the whole file)."""

    path: str
    language: str
    text: str
    runs: tuple[Run, ...] | None = None
    decoding: str = ""  # how bytes that were not exact UTF-8 text were read ('' when they were)


def collect_files(
    paths: Sequence[str], root: Path, policy: Policy, options: ScanOptions = ScanOptions()
) -> Iterator[ScanTarget | Skip]:
    """Files under `paths` (files named explicitly are taken even when gitignored), honouring
    every .gitignore on the way and `.git/info/exclude`; directories named `.git` are never entered."""
    seen: set[str] = set()
    for given in paths or ["."]:
        path = Path(given)
        if not path.exists() and not path.is_symlink():
            raise ScanError(f"no such file or directory: {given}")
        if path.is_dir():
            files: Iterable[Path] = _walk(path.resolve(), _root_specs(root, path.resolve()))
        else:
            files = [path.absolute()]
        for file in files:
            rel = relative_path(file, root)
            if rel in seen:
                continue
            seen.add(rel)
            if policy.ignores_path(rel):
                yield Skip(SkipReason.IGNORED_BY_POLICY, rel)
                continue
            yield options.excluded(rel) or read_target(file, rel, options)


def read_target(
    file: Path, rel: str, options: ScanOptions, runs: tuple[Run, ...] | None = None, raw: bytes | None = None
) -> ScanTarget | Skip:
    """The file as a target, or why it is skipped (`raw`: its bytes, when they come from git).

    Only regular files are opened (a FIFO or a device would block or never end), and at most
    `max_file_bytes` + 1 bytes are read. Bytes that are not all UTF-8 text are still scanned for
    their text (`decode_lenient`): a gate must not pass a file because one byte was changed."""
    language = language_for_path(rel)
    if language is None or (language in NON_CODE and not options.include_non_code):
        return Skip(SkipReason.NOT_CODE, rel, language or "unknown file type")
    if raw is None:
        read = read_regular_file(file, rel, options.max_file_bytes)
        if isinstance(read, Skip):
            return read
        raw = read
    if len(raw) > options.max_file_bytes:
        return Skip(
            SkipReason.TOO_LARGE, rel, f"more than {options.max_file_bytes:,} bytes (--max-file-bytes)"
        )
    decoded = decode_lenient(raw)
    if not decoded.text.strip():
        return Skip(SkipReason.EMPTY, rel)
    return ScanTarget(rel, language, decoded.text, runs, decoded.note)


def read_regular_file(file: Path, rel: str, limit: int) -> bytes | Skip:
    """At most `limit` + 1 bytes of a regular file (more than `limit` means too large), or why the
    file is not read: a symbolic link, a special file (never opened), or an OS error."""
    try:
        info = os.lstat(file)
        if stat.S_ISLNK(info.st_mode):
            return Skip(SkipReason.SYMLINK, rel)
        if not stat.S_ISREG(info.st_mode):
            return Skip(SkipReason.SPECIAL_FILE, rel, _file_kind(info.st_mode))
        if info.st_size > limit:
            return Skip(
                SkipReason.TOO_LARGE, rel, f"{info.st_size:,} bytes, more than {limit:,} (--max-file-bytes)"
            )
        # O_NONBLOCK: should the path be swapped for a FIFO after the lstat, opening it does not wait.
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                return Skip(SkipReason.SPECIAL_FILE, rel, "changed into a special file while scanned")
            raw = f.read(limit + 1)
    except OSError as err:
        return Skip(SkipReason.UNREADABLE, rel, err.strerror or str(err))
    if len(raw) > limit:
        return Skip(SkipReason.TOO_LARGE, rel, f"more than {limit:,} bytes (--max-file-bytes)")
    return raw


def _file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a directory"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def relative_path(file: Path, root: Path) -> str:
    """`file` relative to `root`, posix; its directory is resolved, a symbolic link itself is not."""
    where = Path(os.path.abspath(file))
    where = where.parent.resolve() / where.name
    try:
        return where.relative_to(root).as_posix()
    except ValueError:
        return where.as_posix()


_Spec = tuple[Path, pathspec.GitIgnoreSpec]


def _root_specs(root: Path, start: Path) -> list[_Spec]:
    """The ignore files that apply above `start`: .git/info/exclude and .gitignore from the root down."""
    specs: list[_Spec] = []
    exclude = root / ".git" / "info" / "exclude"
    if exclude.is_file():
        specs.append((root, _spec(exclude)))
    if start != root and root in start.parents:
        for directory in [root, *reversed([p for p in start.parents if root in p.parents])]:
            if (directory / ".gitignore").is_file():
                specs.append((directory, _spec(directory / ".gitignore")))
    return specs


def _walk(directory: Path, specs: list[_Spec]) -> Iterator[Path]:
    if (directory / ".gitignore").is_file():
        specs = [*specs, (directory, _spec(directory / ".gitignore"))]
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as err:
        log.warning("cannot list %s: %s", directory, err)
        return
    for entry in entries:
        if entry.name == ".git":
            continue
        is_dir = entry.is_dir(follow_symlinks=False)
        if _ignored(Path(entry.path), is_dir, specs):
            continue
        if is_dir:
            yield from _walk(Path(entry.path), specs)
        else:
            yield Path(entry.path)


def _ignored(path: Path, is_dir: bool, specs: list[_Spec]) -> bool:
    for base, spec in reversed(specs):  # the deepest .gitignore decides first
        rel = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        verdict = spec.check_file(rel).include
        if verdict is not None:
            return verdict
    return False


@functools.cache
def _gitignore_spec(patterns: tuple[str, ...]) -> pathspec.GitIgnoreSpec:
    return pathspec.GitIgnoreSpec.from_lines(patterns)


def _spec(file: Path) -> pathspec.GitIgnoreSpec:
    try:
        return pathspec.GitIgnoreSpec.from_lines(
            file.read_text(encoding="utf-8", errors="replace").splitlines()
        )
    except OSError:
        return pathspec.GitIgnoreSpec.from_lines([])
