"""The on-disk layout of an embedded index, and atomic generation swaps.

::

    INDEX/
      CURRENT                    name of the generation being served (replaced atomically)
      LOCK                       held (flock) by the one process writing a new generation
      generations/gen-000007.json  manifest: format version, options + hash, segments, removals
      segments/seg-<id>/         immutable segment files (see indexer.backends.embedded.segment)

A writer builds new segments under ``segments/*.tmp``, renames them into place, writes the new
manifest, fsyncs, then replaces CURRENT. Readers only ever follow CURRENT, so a build that dies
at any point leaves the previous generation serving; its leftovers are removed by the next one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from indexer.backends.errors import IndexLockedError, IndexNotFoundError, IndexVersionError
from indexer.backends.manifest import Manifest
from indexer.options import IndexOptions

log = logging.getLogger(__name__)


class IndexDirectory:
    """An index's directory: read the current manifest, write a new generation atomically."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)

    @property
    def segments_dir(self) -> Path:
        return self.path / "segments"

    def exists(self) -> bool:
        return (self.path / "CURRENT").is_file()

    def read_manifest(self) -> Manifest:
        current = self.path / "CURRENT"
        rebuild = f"rebuild it with `codecite index build SOURCE... --index {self.path}`"
        if not current.is_file():
            raise IndexNotFoundError(
                f"no codecite index at {self.path}: build one with `codecite index build SOURCE... --index {self.path}`"
            )
        name = current.read_text(encoding="utf-8", errors="replace").strip()
        if not re.fullmatch(r"gen-\d{1,12}", name):
            raise IndexVersionError(f"{current} names no generation ({name[:80]!r}): {rebuild}")
        manifest_path = self.path / "generations" / f"{name}.json"
        try:
            raw = json.loads(manifest_path.read_bytes().decode("utf-8"))
        except (OSError, ValueError, RecursionError) as err:  # ValueError: not UTF-8, not JSON
            reason = err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__
            raise IndexVersionError(
                f"the manifest {manifest_path} of the index at {self.path} is unreadable ({reason}: "
                f"{str(err)[:200]}): {rebuild}"
            ) from err
        return Manifest.from_dict(raw, f"the index at {self.path} ({manifest_path})", rebuild)

    def new_manifest(self, options: IndexOptions) -> Manifest:
        return Manifest(
            generation=0, index_id=uuid.uuid4().hex[:12], created="", options=options, segments=[]
        )

    def new_segment(self) -> tuple[str, Path]:
        """A fresh segment name and the temporary directory to write it in."""
        name = f"seg-{dt.datetime.now(dt.UTC).strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"
        self.segments_dir.mkdir(parents=True, exist_ok=True)
        return name, self.segments_dir / f"{name}.tmp"

    def seal_segment(self, name: str) -> None:
        """Move a finished segment from its temporary directory into place."""
        tmp = self.segments_dir / f"{name}.tmp"
        _fsync_tree(tmp)
        os.replace(tmp, self.segments_dir / name)
        _fsync_dir(self.segments_dir)

    def commit(self, manifest: Manifest) -> Manifest:
        """Write `manifest` as the next generation and make it current, atomically."""
        manifest.generation = self._last_generation() + 1
        manifest.created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        gen_dir = self.path / "generations"
        gen_dir.mkdir(parents=True, exist_ok=True)
        name = f"gen-{manifest.generation:06d}"
        _write_atomic(gen_dir / f"{name}.json", json.dumps(manifest.to_dict(), indent=1))
        _write_atomic(self.path / "CURRENT", name + "\n")
        log.info("index %s: generation %d is current", self.path, manifest.generation)
        return manifest

    def _last_generation(self) -> int:
        """The highest generation number written here (readable or not: a rebuild replaces an
        index of another format without reading it)."""
        numbers = [0]
        gen_dir = self.path / "generations"
        if gen_dir.exists():
            for gen in gen_dir.glob("gen-*.json"):
                with contextlib.suppress(ValueError):
                    numbers.append(int(gen.stem.removeprefix("gen-")))
        return max(numbers)

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the index's write lock; a second writer fails at once with a clear message."""
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / "LOCK", "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise IndexLockedError(
                    f"another process is writing the index at {self.path}; wait for it to finish "
                    "(the current generation keeps serving meanwhile)"
                ) from None
            try:
                self.collect_garbage()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def collect_garbage(self, keep_generations: int = 2) -> None:
        """Remove unfinished segments and those no kept generation refers to."""
        if not self.segments_dir.exists():
            return
        gen_dir = self.path / "generations"
        generations = sorted(gen_dir.glob("gen-*.json")) if gen_dir.exists() else []
        current = (self.path / "CURRENT").read_text().strip() if self.exists() else None
        kept = [g for g in generations[-keep_generations:]] + [g for g in generations if g.stem == current]
        for old in generations:
            if old not in kept:
                old.unlink(missing_ok=True)
        referenced = set()
        for gen in kept:
            with contextlib.suppress(OSError, json.JSONDecodeError, KeyError):
                referenced |= {s["name"] for s in json.loads(gen.read_text())["segments"]}
        for seg in self.segments_dir.iterdir():
            if seg.name.endswith(".tmp") or seg.name not in referenced:
                shutil.rmtree(seg, ignore_errors=True)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(path: Path) -> None:
    for child in path.iterdir():
        with open(child, "rb") as f:
            os.fsync(f.fileno())
    _fsync_dir(path)
