"""Input shards: the units of work a distributed build hands to its workers.

A dataset source (parquet, JSON lines, Arrow files) gives one shard per file; any other source
(repositories, installed packages, a hub dataset) is one shard. Shards keep the order in which a
single-process build reads the same sources, so documents get the same global ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from indexer.records import Document, Skip
from indexer.sources import IngestOptions, open_source
from indexer.sources.dataset_files import DatasetFiles


@dataclass(frozen=True, slots=True)
class ShardSpec:
    """One unit of input: the source `spec` as given, and one of its dataset files (None: the
    whole source). `number` is its place in reading order."""

    number: int
    spec: str
    file: str | None = None
    origin: str | None = None  # the directory a dataset file was found in


def plan_shards(sources: list[str], ingest: IngestOptions) -> list[ShardSpec]:
    """The shards of `sources`, in reading order (opening each source checks it up front)."""
    shards: list[ShardSpec] = []
    for spec in sources:
        source = open_source(spec, ingest)
        if isinstance(source, DatasetFiles) and len(source.files) > 1:
            origin = str(Path(spec).expanduser())
            for path in source.files:
                shards.append(ShardSpec(len(shards), spec, str(path), origin))
        else:
            shards.append(ShardSpec(len(shards), spec))
    return shards


def read_shard(shard: ShardSpec, ingest: IngestOptions) -> Iterator[Document | Skip]:
    """The items of one shard, exactly as the whole source yields them for that part."""
    if shard.file is None:
        yield from open_source(shard.spec, ingest)
        return
    yield from DatasetFiles([Path(shard.file)], shard.spec, ingest, Path(shard.origin or shard.file))
