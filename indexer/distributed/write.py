"""The last stage of a distributed build: workers write the segments, one task per segment.

Segments are laid out exactly as a single-process build lays them (`segment_plan`): which
documents share a segment decides how many hash bits its posting tables compare, so the same
layout gives the same postings, the same hits and the same Reports. A segment's task reads the
fingerprinted shards it spans from the object store. Identical copies store no postings,
near-duplicates store what their representative lacks (its hashes come from the shard holding
it), everything else stores its own. Segments are written under ``segments/*.tmp`` and sealed by
the worker; the driver commits the generation that names them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.analysis.channels import PostingChannel
from indexer.analysis.fingerprints import DocFingerprints
from indexer.backends.embedded.directory import IndexDirectory
from indexer.backends.embedded.segment import MAX_SEGMENT_LINES, SegmentWriter
from indexer.backends.manifest import SegmentInfo
from indexer.distributed.clusters import Placed
from indexer.distributed.shuffle import ShardData, order_key
from indexer.options import IndexOptions
from indexer.placement import Postings, missing_from

RepHashes = dict[int, dict[PostingChannel, np.ndarray]]  # order -> channel -> a representative's hashes


@dataclass(frozen=True, slots=True)
class SegmentPlan:
    """Global ids [first, end) of one segment, and the (shard, first, end) positions they are."""

    first: int
    end: int
    pieces: tuple[tuple[int, int, int], ...]


def segment_plan(sizes: list[list[int]], lines: list[list[int]], max_segment_bytes: int) -> list[SegmentPlan]:
    """Where a single-process build seals segments for documents of these byte sizes and line
    counts (per shard, in order): when the next document's lines do not fit, or once a segment
    holds `max_segment_bytes` of content (see `indexer.backends.embedded.writer.SegmentSink`)."""
    flat_sizes = [s for shard in sizes for s in shard]
    flat_lines = [n for shard in lines for n in shard]
    bounds, used_bytes, used_lines, start = [], 0, 0, 0
    for doc, (size, n_lines) in enumerate(zip(flat_sizes, flat_lines, strict=True)):
        if doc > start and used_lines + n_lines > MAX_SEGMENT_LINES:
            bounds.append((start, doc))
            start, used_bytes, used_lines = doc, 0, 0
        used_bytes += size
        used_lines += n_lines
        if used_bytes >= max_segment_bytes:
            bounds.append((start, doc + 1))
            start, used_bytes, used_lines = doc + 1, 0, 0
    if start < len(flat_sizes):
        bounds.append((start, len(flat_sizes)))
    shard_bases = np.cumsum([0, *(len(s) for s in sizes)]).tolist()
    return [SegmentPlan(a, b, _pieces(a, b, shard_bases)) for a, b in bounds]


def _pieces(first: int, end: int, bases: list[int]) -> tuple[tuple[int, int, int], ...]:
    out = []
    for shard in range(len(bases) - 1):
        lo, hi = max(first, bases[shard]), min(end, bases[shard + 1])
        if lo < hi:
            out.append((shard, lo - bases[shard], hi - bases[shard]))
    return tuple(out)


def representative_hashes(data: ShardData, positions: list[int]) -> RepHashes:
    """The exact and normalized hashes of some documents of a shard (representatives whose
    near-duplicates leave those out of their postings)."""
    out: RepHashes = {}
    for position in positions:
        fp = data.documents[position][2]
        out[order_key(data.shard, position)] = {
            PostingChannel.EXACT: fp.exact_hashes,
            PostingChannel.NORMALIZED: fp.normalized_hashes,
        }
    return out


def write_segment(
    plan: SegmentPlan,
    bases: list[int],
    placed: dict[int, Placed],
    index_path: str,
    options: IndexOptions,
    *inputs: ShardData | RepHashes,
) -> SegmentInfo:
    """Write and seal the segment `plan` from the shards it spans (`inputs`: those shards in its
    pieces' order, then representatives' hashes from other shards; one flat argument list, so
    that a task runner hands over each of them resolved); `bases` is the first global id of
    every shard."""
    datas = [part for part in inputs if isinstance(part, ShardData)]
    hashes: RepHashes = {}
    for part in inputs:
        if not isinstance(part, ShardData):
            hashes.update(part)
    here = {data.shard: data for data in datas}
    for needed in placed.values():
        owner = needed.missing_from
        if owner is not None and owner not in hashes and owner >> 32 in here:
            hashes.update(representative_hashes(here[owner >> 32], [owner & 0xFFFFFFFF]))

    def global_id(order: int) -> int:
        return bases[order >> 32] + (order & 0xFFFFFFFF)

    directory = IndexDirectory(Path(index_path))
    name, path = directory.new_segment()
    writer = SegmentWriter(path, name, plan.first, options)
    for (shard, lo, hi), data in zip(plan.pieces, datas, strict=True):
        for position in range(lo, hi):
            doc, raw, fp, digest = data.documents[position]
            where = placed.get(order_key(shard, position))
            cluster, postings, same = -1, _full(fp), None
            if where is not None:
                cluster = global_id(where.cluster)
                if where.same_content_as is not None:
                    postings, twin = {}, global_id(where.same_content_as)
                    same = twin if twin >= plan.first else None  # shared text: same segment only
                elif where.missing_from is not None:
                    lacking = hashes[where.missing_from]
                    postings = {c: missing_from(h, lines, lacking[c]) for c, (h, lines) in postings.items()}
            writer.add(doc, raw, fp, cluster, postings, digest, same)
    info = writer.finish()
    directory.seal_segment(info.name)
    return info


def _full(fp: DocFingerprints) -> Postings:
    return {
        PostingChannel.EXACT: (fp.exact_hashes, fp.exact_lines),
        PostingChannel.NORMALIZED: (fp.normalized_hashes, fp.normalized_lines),
    }
