"""Scan a tree or a git diff: collect files, attribute them, decide each with the policy.

    collect targets (walk PATHs honouring .gitignore, or the lines `git diff` adds)
        ─► query pieces (a whole file, or each added hunk)  ─► attribute (local index or --server)
        ─► map hunk lines back to the file  ─► Decision per file  ─► ScanResult

A target is a file to attribute, with the line ranges a diff added (None: the whole file). Files
that are not scanned are `Skipped` with a reason, and counted. Hunks are attributed one by one
and their matches moved back to file coordinates, so every line number in the output is the
file's own (1-based, inclusive). The diff part (`collect_diff`, `parse_diff`, pieces and mapping
back) is `search_api.gitdiff`; `collect_diff` and `parse_diff` are re-exported here.
"""

from __future__ import annotations

import concurrent.futures
import enum
import logging
import multiprocessing
import os
import stat
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pathspec

from indexer.backend import IndexBackend
from indexer.languages import NON_CODE, language_for_path
from search_api.gitdiff import Run, collect_diff, file_report, parse_diff, query_pieces  # noqa: F401
from search_api.options import QueryOptions
from search_api.policy import Decision, Outcome, Policy, decide, outcome_of
from search_api.query import QueryError, Searcher
from search_api.results import Report

log = logging.getLogger(__name__)


class SkipReason(str, enum.Enum):
    """Why a file was not attributed."""

    IGNORED_BY_POLICY = "ignored-by-policy"
    NOT_CODE = "not-code"
    BINARY = "binary"
    UNDECODABLE = "undecodable"
    TOO_LARGE = "too-large"
    EMPTY = "empty"
    SYMLINK = "symlink"
    UNREADABLE = "unreadable"
    REFUSED = "refused"  # the index or server refused the query


@dataclass(frozen=True, slots=True)
class Skipped:
    path: str
    reason: SkipReason
    detail: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason.value, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class ScanTarget:
    """A file to attribute: `path` is posix, relative to the scan root; `runs` are the line
    ranges a diff added (None: the whole file)."""

    path: str
    language: str
    text: str
    runs: tuple[Run, ...] | None = None


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """What is scanned. `max_file_bytes`: larger files are skipped; `include_non_code`: also
    attribute prose and data files (Markdown, JSON, YAML, ...)."""

    max_file_bytes: int = 1_000_000
    include_non_code: bool = False

    def __post_init__(self) -> None:
        if self.max_file_bytes < 1:
            raise ValueError(f"max_file_bytes={self.max_file_bytes} must be at least 1")


@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    language: str
    runs: tuple[Run, ...] | None
    report: Report
    decision: Decision
    text: str = field(repr=False, default="")

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "language": self.language,
                "scanned_lines": None if self.runs is None else [list(r) for r in self.runs],
                "report": self.report.to_dict(), "decision": self.decision.to_dict()}


@dataclass(slots=True)
class ScanResult:
    """Every attributed file with its decision, every skipped file with its reason."""

    root: str
    files: list[FileResult]
    skipped: list[Skipped]
    policy: Policy
    seconds: float = 0.0
    index: dict[str, object] = field(default_factory=dict)

    @property
    def outcome(self) -> Outcome:
        return outcome_of([f for r in self.files for f in r.decision.findings], self.policy.fail_on)

    @property
    def exit_code(self) -> int:
        return 1 if self.outcome is Outcome.FAIL else 0

    def skipped_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.skipped:
            out[s.reason.value] = out.get(s.reason.value, 0) + 1
        return out

    def summary(self) -> dict[str, object]:
        counts: dict[str, int] = {}
        for r in self.files:
            for key, n in r.decision.counts().items():
                counts[key] = counts.get(key, 0) + n
        return {"files_scanned": len(self.files), "files_skipped": len(self.skipped),
                "skipped": self.skipped_counts(), "findings": counts,
                "matches": sum(len(r.report.matches) for r in self.files), "seconds": round(self.seconds, 3),
                "files_per_second": round(len(self.files) / self.seconds, 1) if self.seconds > 0 else None}

    def to_dict(self) -> dict[str, object]:
        return {"outcome": self.outcome.value, "exit_code": self.exit_code, "root": self.root,
                "index": self.index, "policy": self.policy.name, "summary": self.summary(),
                "files": [f.to_dict() for f in self.files], "skipped": [s.to_dict() for s in self.skipped]}


class ScanError(ValueError):
    """The scan cannot run as asked (not a git repository, unknown revision, ...)."""


# ---------------------------------------------------------------------------------------------
# The pipeline


Attribute = Callable[[Sequence[tuple[str, str]]], list["Report | str"]]  # (code, language) -> Report or error


def scan(targets: Iterable[ScanTarget | Skipped], attribute: Attribute, policy: Policy, root: str = ".",
         batch: int = 256) -> ScanResult:
    """Attribute every target (`batch` at a time) and decide each file with `policy`."""
    started = time.perf_counter()
    result = ScanResult(root, [], [], policy)
    pending: list[ScanTarget] = []
    for item in targets:
        if isinstance(item, Skipped):
            result.skipped.append(item)
            continue
        pending.append(item)
        if len(pending) >= batch:
            _attribute_batch(pending, attribute, policy, result)
            pending = []
    if pending:
        _attribute_batch(pending, attribute, policy, result)
    result.files.sort(key=lambda f: f.path)
    result.seconds = time.perf_counter() - started
    return result


def _attribute_batch(targets: list[ScanTarget], attribute: Attribute, policy: Policy, result: ScanResult) -> None:
    pieces = [query_pieces(t) for t in targets]
    queries: list[tuple[str, str]] = []
    where: dict[tuple[str, str], int] = {}  # identical (code, language) queries run once
    for target, parts in zip(targets, pieces):
        for p in parts:
            if (p.code, target.language) not in where:
                where[(p.code, target.language)] = len(queries)
                queries.append((p.code, target.language))
    answers = attribute(queries) if queries else []
    for target, parts in zip(targets, pieces):
        reports = []
        for p in parts:
            reports.append((p, answers[where[(p.code, target.language)]]))
        errors = [r for _, r in reports if isinstance(r, str)]
        if errors:
            result.skipped.append(Skipped(target.path, SkipReason.REFUSED, errors[0]))
            continue
        report = file_report(target, reports)  # type: ignore[arg-type]
        result.files.append(FileResult(target.path, target.language, target.runs, report, decide(report, policy),
                                       target.text))
        if not result.index:
            result.index = {"id": report.index_id, "documents": report.index_documents}


class LocalAttributor:
    """Attributes queries against a local index; with `jobs` > 1, in forked worker processes
    (the index is memory-mapped, so they share it; the query pipeline's caches are per process)."""

    def __init__(self, index: IndexBackend, options: QueryOptions = QueryOptions(), jobs: int = 1) -> None:
        self.index = index
        self.searcher = Searcher(index, options)
        self.jobs = jobs if "fork" in multiprocessing.get_all_start_methods() else 1
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __call__(self, queries: Sequence[tuple[str, str]]) -> list[Report | str]:
        if self.jobs <= 1 or len(queries) < 2 * self.jobs:
            return [_attribute_one(self.searcher, q) for q in queries]
        if self._pool is None:
            global _WORKER_SEARCHER
            _WORKER_SEARCHER = self.searcher  # inherited by the forked workers
            self._pool = concurrent.futures.ProcessPoolExecutor(self.jobs, multiprocessing.get_context("fork"))
        return list(self._pool.map(_pool_attribute, queries, chunksize=2))

    def source_text(self, blob_id: str) -> str | None:
        doc_id = self.index.find_blob(blob_id)
        return self.index.text(doc_id) if doc_id is not None else None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


_WORKER_SEARCHER: Searcher | None = None


def _pool_attribute(query: tuple[str, str]) -> Report | str:
    assert _WORKER_SEARCHER is not None
    return _attribute_one(_WORKER_SEARCHER, query)


def _attribute_one(searcher: Searcher, query: tuple[str, str]) -> Report | str:
    try:
        return searcher.attribute(query[0], query[1])
    except QueryError as err:
        return str(err)


# ---------------------------------------------------------------------------------------------
# Collecting targets: a tree


def find_root(paths: Sequence[str]) -> Path:
    """The git work tree holding the first path (or the current directory); outside git, the current
    directory when the path is inside it, else the path's directory. Output paths are relative to it."""
    start = Path(paths[0]) if paths else Path.cwd()
    start = start if start.is_dir() else start.parent
    start = start.resolve()
    top = _git(["rev-parse", "--show-toplevel"], start, check=False)
    if top is not None and top.strip():
        return Path(top.strip()).resolve()
    cwd = Path.cwd().resolve()
    return cwd if start == cwd or cwd in start.parents else start


def collect_files(paths: Sequence[str], root: Path, policy: Policy,
                  options: ScanOptions = ScanOptions()) -> Iterator[ScanTarget | Skipped]:
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
            rel = _relative(file, root)
            if rel in seen:
                continue
            seen.add(rel)
            if policy.ignores_path(rel):
                yield Skipped(rel, SkipReason.IGNORED_BY_POLICY)
                continue
            yield read_target(file, rel, options)


def read_target(file: Path, rel: str, options: ScanOptions, runs: tuple[Run, ...] | None = None,
                raw: bytes | None = None) -> ScanTarget | Skipped:
    """The file as a target, or why it is skipped (`raw`: its bytes, when they come from git)."""
    language = language_for_path(rel)
    if language is None or (language in NON_CODE and not options.include_non_code):
        return Skipped(rel, SkipReason.NOT_CODE, language or "unknown file type")
    if raw is None:
        try:
            info = os.lstat(file)
            if stat.S_ISLNK(info.st_mode):
                return Skipped(rel, SkipReason.SYMLINK)
            if info.st_size > options.max_file_bytes:
                return Skipped(rel, SkipReason.TOO_LARGE, f"{info.st_size:,} bytes")
            raw = file.read_bytes()
        except OSError as err:
            return Skipped(rel, SkipReason.UNREADABLE, err.strerror or str(err))
    if len(raw) > options.max_file_bytes:
        return Skipped(rel, SkipReason.TOO_LARGE, f"{len(raw):,} bytes")
    if b"\0" in raw[:8192]:
        return Skipped(rel, SkipReason.BINARY)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return Skipped(rel, SkipReason.UNDECODABLE, f"not UTF-8 at byte {err.start}")
    if not text.strip():
        return Skipped(rel, SkipReason.EMPTY)
    return ScanTarget(rel, language, text, runs)


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


def _spec(file: Path) -> pathspec.GitIgnoreSpec:
    try:
        return pathspec.GitIgnoreSpec.from_lines(file.read_text(encoding="utf-8", errors="replace").splitlines())
    except OSError:
        return pathspec.GitIgnoreSpec.from_lines([])


def _relative(file: Path, root: Path) -> str:
    """`file` relative to `root`, posix; its directory is resolved, a symbolic link itself is not."""
    where = Path(os.path.abspath(file))
    where = where.parent.resolve() / where.name
    try:
        return where.relative_to(root).as_posix()
    except ValueError:
        return where.as_posix()


# ---------------------------------------------------------------------------------------------
# Running git (for find_root here, and collect_diff in search_api.gitdiff)


def _git(args: list[str], cwd: Path, check: bool = True) -> str | None:
    out = _git_bytes(args, cwd, check)
    return out.decode("utf-8", "replace") if out is not None else None


def _git_bytes(args: list[str], cwd: Path, check: bool = False) -> bytes | None:
    try:
        done = subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=cwd, capture_output=True,
                              timeout=300, check=False)
    except FileNotFoundError:
        if check:
            raise ScanError("git is not installed, and --diff needs it") from None
        return None
    except subprocess.TimeoutExpired:
        raise ScanError(f"git {' '.join(args[:2])} took more than 5 minutes") from None
    if done.returncode != 0:
        if check:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise ScanError(f"git {' '.join(args[:1])} failed: {message[-1] if message else done.returncode}"
                            " (is the revision fetched? in CI use actions/checkout with fetch-depth: 0)")
        return None
    return done.stdout
