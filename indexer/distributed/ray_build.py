"""`codecite index build --executor ray`: an embedded index built by Ray workers.

    shards ─► fingerprint_shard ×N (map, emits R partitions) ─► reduce_partition ×R (shuffle)
          ─► replay (driver) ─► representative_hashes / write_shard ×N ─► commit

Every worker must see the index directory at the same path (one machine, or a shared
filesystem), and run the same codecite. The driver holds the index's write lock throughout, so a
failed build leaves the previous generation serving, as a single-process build does.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from indexer.backends.base import BuildResult
from indexer.backends.embedded.directory import IndexDirectory
from indexer.backends.manifest import SegmentInfo, merge_ingest_stats
from indexer.distributed.clusters import Placed, replay
from indexer.distributed.shards import ShardSpec, plan_shards
from indexer.distributed.shuffle import ShardSummary, fingerprint_shard, reduce_partition
from indexer.distributed.write import representative_hashes, segment_plan, write_segment
from indexer.options import IndexOptions
from indexer.placement import BuildSettings
from indexer.records import IngestStats
from indexer.sources import IngestOptions

log = logging.getLogger(__name__)


class RayUnavailableError(RuntimeError):
    """Ray is not installed, or its cluster cannot be reached."""


def build_with_ray(
    index_path: str | Path,
    sources: list[str],
    ingest: IngestOptions = IngestOptions(),
    options: IndexOptions = IndexOptions(),
    settings: BuildSettings = BuildSettings(),
    address: str | None = None,
) -> BuildResult:
    """Build a new generation of the embedded index at `index_path` from `sources` on Ray: the
    cluster at `address`, or a local one with `settings.workers` CPUs (when none is running)."""
    ray = _ray()
    started = time.perf_counter()
    shards = plan_shards(sources, ingest)
    if not ray.is_initialized():
        _connect(ray, address, settings.workers)
    directory = IndexDirectory(index_path)
    with directory.writing():
        reducers = max(1, min(len(shards), int(ray.cluster_resources().get("CPU", 1))))
        fingerprint = ray.remote(_fingerprint_task).options(num_returns=2 + reducers)
        submitted = {  # largest shards first: the last to finish is a small one
            s.number: fingerprint.remote(s, ingest, options, settings.keep, reducers)
            for s in sorted(shards, key=_shard_bytes, reverse=True)
        }
        mapped = [submitted[s.number] for s in shards]
        reduce = ray.remote(reduce_partition)
        reducing = [reduce.remote(*[refs[2 + r] for refs in mapped]) for r in range(reducers)]
        summaries: list[ShardSummary] = ray.get([refs[0] for refs in mapped])
        log.info("fingerprinted %d shards: %.1f s", len(shards), time.perf_counter() - started)
        reduced = ray.get(reducing)
        sizes = [s.documents for s in summaries]
        clustering = replay(sizes, reduced, options, settings.cached_representatives)
        log.info("clustered %d documents: %.1f s", sum(sizes), time.perf_counter() - started)
        bases = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
        infos = _write(ray, mapped, summaries, clustering.placed, bases, str(index_path), options, settings)
        log.info("wrote %d segments: %.1f s", len(infos), time.perf_counter() - started)
        manifest = directory.new_manifest(options)
        manifest.segments = sorted(infos, key=lambda info: info.doc_base)
        manifest.sources = list(dict.fromkeys(sources))
        stats = _merged([s.stats for s in summaries])
        manifest.ingest = merge_ingest_stats({}, stats)
        manifest = directory.commit(manifest)
    skips = [skip for s in summaries for skip in s.skips][:10_000]
    seconds = time.perf_counter() - started
    return BuildResult(manifest, stats, seconds, clustering.identical, clustering.near, skips)


def _shard_bytes(shard: ShardSpec) -> int:
    try:
        return Path(shard.file or shard.spec).stat().st_size
    except OSError:
        return 0


def _fingerprint_task(*args: Any) -> tuple[Any, ...]:
    summary, data, partitions = fingerprint_shard(*args)
    return (summary, data, *partitions)


def _write(
    ray: Any,
    mapped: list[Any],
    summaries: list[ShardSummary],
    placed: dict[int, Placed],
    bases: list[int],
    index_path: str,
    options: IndexOptions,
    settings: BuildSettings,
) -> list[SegmentInfo]:
    """Write every segment (laid out as a single-process build lays them), one task each;
    near-duplicates get their representatives' hashes from the shard holding them."""
    plans = segment_plan(
        [s.sizes for s in summaries], [s.lines for s in summaries], settings.max_segment_bytes
    )
    hashes = ray.remote(representative_hashes)
    writer = ray.remote(write_segment)
    pending = []
    for plan in plans:
        shards = {shard for shard, _, _ in plan.pieces}
        mine = {
            order: where
            for order, where in placed.items()
            if plan.first <= bases[order >> 32] + (order & 0xFFFFFFFF) < plan.end
        }
        wanted: dict[int, set[int]] = {}
        for where in mine.values():
            rep = where.missing_from
            if rep is not None and rep >> 32 not in shards:
                wanted.setdefault(rep >> 32, set()).add(rep & 0xFFFFFFFF)
        parts = [hashes.remote(mapped[owner][1], sorted(p)) for owner, p in sorted(wanted.items())]
        datas = [mapped[shard][1] for shard, _, _ in plan.pieces]
        pending.append(writer.remote(plan, bases, mine, index_path, options, *datas, *parts))
    return list(ray.get(pending))


def _merged(parts: Iterable[IngestStats]) -> IngestStats:
    out = IngestStats()
    for part in parts:
        out.documents += part.documents
        out.bytes += part.bytes
        for reason, n in part.skipped.items():
            out.skipped[reason] = out.skipped.get(reason, 0) + n
        for name, n in part.licenses.items():
            out.licenses[name] = out.licenses.get(name, 0) + n
        for category, n in part.categories.items():
            out.categories[category] = out.categories.get(category, 0) + n
    return out


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(
            "the Ray executor needs Ray: pip install 'codecite[ray]' (or build without --executor ray)"
        ) from None
    return ray


def _connect(ray: Any, address: str | None, workers: int) -> None:
    try:
        if address:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            ray.init(
                num_cpus=workers, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False
            )
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise RayUnavailableError(
            f"cannot start or reach a Ray cluster{f' at {address}' if address else ''} ({err}): "
            "start one with `ray start --head`, or leave --ray-address out for a local one"
        ) from err
    log.info("Ray cluster: %s", ray.cluster_resources())
