"""Writing an embedded index: build a generation, append one, remove repositories.

    placed documents (`indexer.placement`) ─► segments (sealed every `max_segment_bytes`) ─► commit

Every write holds the directory's lock and ends with an atomic switch of CURRENT, so readers see
the whole new generation or none of it (see `indexer.backends.embedded.directory`).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from indexer.backends.base import BuildResult, IndexWriter, Progress, Removal
from indexer.backends.embedded.directory import IndexDirectory
from indexer.backends.embedded.reader import EmbeddedIndex
from indexer.backends.embedded.segment import SegmentWriter
from indexer.backends.errors import IndexOptionsError
from indexer.backends.manifest import SegmentInfo, merge_ingest_stats
from indexer.backends.removal import RemovalSpec
from indexer.options import IndexOptions
from indexer.placement import BuildSettings, Placement
from indexer.records import Document, Skip


class EmbeddedWriter(IndexWriter):
    """Writes the embedded index in the directory `path`."""

    def __init__(self, path: str | Path) -> None:
        self.directory = IndexDirectory(path)
        self.uri = str(path)

    def build(
        self,
        items: Iterable[Document | Skip],
        options: IndexOptions = IndexOptions(),
        settings: BuildSettings = BuildSettings(),
        sources: list[str] | None = None,
        progress: Progress | None = None,
    ) -> BuildResult:
        return self._write_generation(items, options, settings, sources or [], progress, append=False)

    def add(
        self,
        items: Iterable[Document | Skip],
        settings: BuildSettings = BuildSettings(),
        sources: list[str] | None = None,
        progress: Progress | None = None,
    ) -> BuildResult:
        options = self.directory.read_manifest().options
        return self._write_generation(items, options, settings, sources or [], progress, append=True)

    def remove(self, spec: RemovalSpec) -> Removal:
        with self.directory.writing():
            index = EmbeddedIndex(self.directory.path, verify=False)
            manifest = index.manifest
            removed = set(manifest.removed_documents)
            for seg in index.segments:
                removed.update(seg.doc_base + i for i, r in enumerate(seg.column("repo")) if spec.matches(r))
            gone = len(removed) - len(manifest.removed_documents)
            manifest.removed_documents = sorted(removed)
            manifest.record_removal(spec)
            return Removal(self.directory.commit(manifest), gone, spec)

    def _write_generation(
        self,
        items: Iterable[Document | Skip],
        options: IndexOptions,
        settings: BuildSettings,
        sources: list[str],
        progress: Progress | None,
        append: bool,
    ) -> BuildResult:
        started = time.perf_counter()
        directory = self.directory
        with directory.writing():
            existing = EmbeddedIndex(directory.path, verify=False) if append else None
            if existing is not None and existing.options.options_hash != options.options_hash:
                raise IndexOptionsError("cannot add to an index built with other options")
            manifest = existing.manifest if existing is not None else directory.new_manifest(options)
            placement = Placement(options, settings, manifest.next_doc_base, existing)
            sink = SegmentSink(directory, options, settings.max_segment_bytes, manifest.next_doc_base)
            for placed in placement.documents(items):
                writer = sink.writer(placed.fingerprints.n_lines)
                twin = placed.same_content_as
                same = (
                    twin if twin is not None and twin >= writer.doc_base else None
                )  # shared text: same segment
                writer.add(
                    placed.document,
                    placed.raw,
                    placed.fingerprints,
                    placed.cluster,
                    placed.postings,
                    placed.content_hash,
                    same,
                )
                sink.after_add()
                if progress:
                    progress(placement.stats.documents, placement.stats.bytes)
            manifest.segments = list(manifest.segments) + sink.close()
            manifest.sources = list(dict.fromkeys([*manifest.sources, *sources]))
            manifest.ingest = merge_ingest_stats(manifest.ingest if append else {}, placement.stats)
            manifest = directory.commit(manifest)
        return BuildResult(
            manifest,
            placement.stats,
            time.perf_counter() - started,
            placement.identical,
            placement.near,
            placement.skips,
        )


class SegmentSink:
    """Hands out the segment being written; seals it and starts another when it is full."""

    def __init__(
        self, directory: IndexDirectory, options: IndexOptions, max_bytes: int, doc_base: int
    ) -> None:
        self._directory = directory
        self._options = options
        self._max_bytes = max_bytes
        self._next_base = doc_base
        self._current: SegmentWriter | None = None
        self._sealed: list[SegmentInfo] = []

    def writer(self, n_lines: int) -> SegmentWriter:
        """The segment to add a document of `n_lines` lines to (a new one when it is full)."""
        if self._current is not None and not self._current.has_room(n_lines):
            self._seal()
        if self._current is None:
            name, path = self._directory.new_segment()
            self._current = SegmentWriter(path, name, self._next_base, self._options)
        return self._current

    def after_add(self) -> None:
        assert self._current is not None
        if self._current.content_bytes >= self._max_bytes:
            self._seal()

    def _seal(self) -> None:
        assert self._current is not None
        info = self._current.finish()
        self._directory.seal_segment(info.name)
        self._sealed.append(info)
        self._next_base = info.doc_base + info.documents
        self._current = None

    def close(self) -> list[SegmentInfo]:
        if self._current is not None:
            self._seal()
        return self._sealed
