"""Build, extend and prune an Elasticsearch index, as `indexer.placement` does an embedded one.

    build:  lock ─► new concrete indices ─► placed documents ─► bulk ─► seal ─► verify counts
                 ─► commit manifest ─► swap alias ─► delete old builds ─► unlock
    add:    lock ─► drop uncommitted leftovers ─► placed documents (ids from next_doc_base) ─► bulk
                 ─► verify ─► commit manifest (readers see the new documents from here on) ─► unlock
    remove: lock ─► flag the repos' documents removed ─► commit manifest ─► unlock

Filtering, fingerprinting and clustering are `indexer.placement`'s, through its `Placement`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Iterator

import numpy as np
from elasticsearch import Elasticsearch, helpers

from indexer.analysis.channels import PostingChannel
from indexer.backends.base import BuildResult, IndexWriter, Progress, Removal
from indexer.backends.elastic.admin import (
    collect_old_builds,
    commit,
    create_build,
    drop_build,
    read_current,
    seal_build,
    swap_alias,
    writer_lock,
)
from indexer.backends.elastic.connection import ElasticBackendError, ElasticURI, connect, translate_errors
from indexer.backends.elastic.existing import ExistingElastic
from indexer.backends.elastic.schema import (
    BuildNames,
    ElasticSettings,
    band_keys,
    encode_signature,
    hash_keys,
)
from indexer.backends.manifest import Manifest, SegmentInfo, merge_ingest_stats
from indexer.backends.removal import RemovalSpec
from indexer.options import IndexOptions
from indexer.placement import BuildSettings, PlacedDocument, Placement
from indexer.records import Document, Skip

log = logging.getLogger(__name__)


class ElasticWriter(IndexWriter):
    """Writes the Elasticsearch index that the alias of `uri` names.

    `elastic` defaults to `ElasticSettings.from_env()` (``CODECITE_ES_*`` variables); `client`
    to one made from the URI (see `indexer.backends.elastic.connection`).
    """

    def __init__(
        self, uri: str, elastic: ElasticSettings | None = None, client: Elasticsearch | None = None
    ) -> None:
        self.uri = uri
        self.target = ElasticURI.parse(uri)
        self.elastic = elastic or ElasticSettings.from_env()
        self._client = client

    @property
    def es(self) -> Elasticsearch:
        if self._client is None:
            self._client = connect(self.target, self.elastic.request_timeout)
        return self._client

    def build(
        self,
        items: Iterable[Document | Skip],
        options: IndexOptions = IndexOptions(),
        settings: BuildSettings = BuildSettings(),
        sources: list[str] | None = None,
        progress: Progress | None = None,
    ) -> BuildResult:
        """Build into new concrete indices and swap the alias to them: the build that was served keeps
        serving until the swap; a build that fails is deleted."""
        started = time.perf_counter()
        target, elastic, es = self.target, self.elastic, self.es
        with writer_lock(es, target, "build"):
            names = create_build(es, target, elastic)
            try:
                placement = Placement(options, settings, 0)
                batch, posting_docs = _write(
                    es, target, names, placement, items, progress, elastic, options, elastic.block_lines
                )
                seal_build(es, target, names, elastic)
                _verify(es, target, names, batch, posting_docs)
                manifest = Manifest(
                    generation=0,
                    index_id=names.build,
                    created="",
                    options=options,
                    segments=[batch],
                    sources=list(dict.fromkeys(sources or [])),
                    ingest=merge_ingest_stats({}, placement.stats),
                )
                manifest = commit(es, target, names, manifest, elastic.block_lines)
                swap_alias(es, target, names)
            except BaseException:
                with contextlib.suppress(
                    Exception
                ):  # keep the original error; leftovers go with the next build
                    drop_build(es, names)
                raise
            collect_old_builds(es, target, names, elastic.keep_builds)
        return BuildResult(
            manifest,
            placement.stats,
            time.perf_counter() - started,
            placement.identical,
            placement.near,
            placement.skips,
        )

    def add(
        self,
        items: Iterable[Document | Skip],
        settings: BuildSettings = BuildSettings(),
        sources: list[str] | None = None,
        progress: Progress | None = None,
    ) -> BuildResult:
        """Append to the build the alias serves (readers see the documents once the manifest commits).

        Clustering against what is indexed needs the content hashes, clusters and representative
        signatures of every indexed document in memory, as the embedded writer's add does.
        """
        started = time.perf_counter()
        target, elastic, es = self.target, self.elastic, self.es
        with writer_lock(es, target, "add"):
            current = read_current(es, target)
            manifest, names = current.manifest, current.names
            base = manifest.next_doc_base
            _drop_uncommitted(es, target, names, base)
            existing = ExistingElastic.load(es, target, names, manifest)
            placement = Placement(manifest.options, settings, base, existing)
            batch, posting_docs = _write(
                es, target, names, placement, items, progress, elastic, manifest.options, current.block_lines
            )
            with translate_errors(target, "refresh the index"):
                es.indices.refresh(index=f"{names.docs},{names.postings}")
            _verify(es, target, names, batch, posting_docs)
            if batch.documents:
                manifest.segments = [*manifest.segments, batch]
            manifest.sources = list(dict.fromkeys([*manifest.sources, *(sources or [])]))
            manifest.ingest = merge_ingest_stats(manifest.ingest, placement.stats)
            manifest = commit(es, target, names, manifest, current.block_lines)
        return BuildResult(
            manifest,
            placement.stats,
            time.perf_counter() - started,
            placement.identical,
            placement.near,
            placement.skips,
        )

    def remove(self, spec: RemovalSpec) -> Removal:
        """Flag the opted-out documents removed (their postings stay, as in the embedded index),
        then commit one new manifest: readers see the whole opt-out at once."""
        target, elastic, es = self.target, self.elastic, self.es
        with writer_lock(es, target, "remove"):
            current = read_current(es, target)
            manifest, names = current.manifest, current.names
            ids: set[str] = set()
            for clauses in _removal_clauses(spec):
                query = {
                    "bool": {
                        "filter": [
                            {"range": {"doc": {"lt": manifest.next_doc_base}}},
                            {"term": {"removed": False}},
                        ],
                        "should": clauses,
                        "minimum_should_match": 1,
                    }
                }
                with translate_errors(target, "find the opted-out documents"):
                    ids.update(
                        hit["_id"]
                        for hit in helpers.scan(
                            es, index=names.docs, query={"query": query}, source=False, size=5000
                        )
                    )
            actions = (
                {"_op_type": "update", "_index": names.docs, "_id": i, "doc": {"removed": True}}
                for i in sorted(ids)
            )
            _bulk(es, target, actions, elastic)
            with translate_errors(target, "refresh the index"):
                es.indices.refresh(index=names.docs)
            manifest.record_removal(spec)
            return Removal(commit(es, target, names, manifest, current.block_lines), len(ids), spec)


_CLAUSES_PER_QUERY = 512  # well under indices.query.bool.max_clause_count


def _removal_clauses(spec: RemovalSpec) -> Iterator[list[dict]]:
    """Query clauses matching the spec's repositories (exact names) and owners (``owner/``
    prefixes), case-insensitive as GitHub names are, in chunks a bool query accepts."""
    clauses = [{"term": {"repo": {"value": r, "case_insensitive": True}}} for r in sorted(spec.repos)]
    clauses += [
        {"prefix": {"repo": {"value": f"{o}/", "case_insensitive": True}}} for o in sorted(spec.owners)
    ]
    for i in range(0, len(clauses), _CLAUSES_PER_QUERY):
        yield clauses[i : i + _CLAUSES_PER_QUERY]


def _write(
    es: Elasticsearch,
    target: ElasticURI,
    names: BuildNames,
    placement: Placement,
    items: Iterable[Document | Skip],
    progress: Progress | None,
    elastic: ElasticSettings,
    options: IndexOptions,
    block_lines: int,
) -> tuple[SegmentInfo, int]:
    """Bulk-index the placed documents and their postings; returns what the batch holds and how
    many posting documents carry its postings."""
    first = placement.next_doc_id
    counts = {c.value: 0 for c in PostingChannel}
    lines = 0
    posting_docs = 0

    def actions() -> Iterator[dict]:
        nonlocal lines, posting_docs
        for placed in placement.documents(items):
            yield _document_action(names.docs, placed, options)
            for channel, (hashes, at) in placed.postings.items():
                counts[channel] += int(hashes.shape[0])
                for action in _posting_actions(
                    names.postings, placed.doc_id, channel, hashes, at, block_lines
                ):
                    posting_docs += 1
                    yield action
            lines += placed.fingerprints.n_lines
            if progress:
                progress(placement.stats.documents, placement.stats.bytes)

    _bulk(es, target, actions(), elastic)
    return SegmentInfo(
        f"batch-{first:012d}", first, placement.next_doc_id - first, lines, counts
    ), posting_docs


def _document_action(index: str, placed: PlacedDocument, options: IndexOptions) -> dict:
    doc = placed.document
    source = doc.to_dict(with_content=False) | {
        "doc": placed.doc_id,
        "content_hash": placed.content_hash,
        "size_bytes": len(placed.raw),
        "n_lines": placed.fingerprints.n_lines,
        "cluster": placed.doc_id if placed.cluster < 0 else placed.cluster,
        "removed": False,
    }
    if placed.same_content_as is None:
        source["content"] = doc.content
    else:
        source["content_doc"] = placed.same_content_as
    if placed.cluster < 0:  # a representative: findable by near_duplicates, and by later adds
        source["signature"] = encode_signature(placed.fingerprints.signature)
        source["bands"] = band_keys(placed.fingerprints.signature, options)
    return {"_index": index, "_id": str(placed.doc_id), "_source": source}


def _posting_actions(
    index: str, doc_id: int, channel: str, hashes: np.ndarray, lines: np.ndarray, block_lines: int
) -> Iterator[dict]:
    """One posting document per (block of lines, part); see `indexer.backends.elastic.schema`."""
    if hashes.shape[0] == 0:
        return
    lines = lines.astype(np.int64)
    blocks = (lines - 1) // block_lines
    order = np.lexsort((lines, hashes, blocks))
    blocks, hashes, lines = blocks[order], hashes[order], lines[order]
    same = np.zeros(hashes.shape[0], dtype=bool)
    same[1:] = (blocks[1:] == blocks[:-1]) & (hashes[1:] == hashes[:-1])
    run_start = np.maximum.accumulate(np.where(same, 0, np.arange(hashes.shape[0])))
    parts = np.arange(hashes.shape[0]) - run_start  # k-th occurrence of the hash in its block
    order = np.lexsort((lines, parts, blocks))
    blocks, parts, keys, lines = blocks[order], parts[order], np.array(hash_keys(hashes[order])), lines[order]
    cuts = np.flatnonzero((blocks[1:] != blocks[:-1]) | (parts[1:] != parts[:-1])) + 1
    tag = f"{doc_id}:{channel[0]}"
    for lo, hi in zip([0, *cuts.tolist()], [*cuts.tolist(), hashes.shape[0]]):
        block, part = int(blocks[lo]), int(parts[lo])
        yield {
            "_index": index,
            "_id": f"{tag}{block}.{part}",
            "_source": {
                "c": channel,
                "d": doc_id,
                "b": block,
                "p": part,
                "h": keys[lo:hi].tolist(),
                "l": lines[lo:hi].tolist(),
            },
        }


def _bulk(es: Elasticsearch, target: ElasticURI, actions: Iterable[dict], elastic: ElasticSettings) -> int:
    """Send `actions` with `streaming_bulk`, retrying items the cluster rejects as overloaded."""
    done = 0
    with translate_errors(target, "bulk-index documents"):
        try:
            for ok, _item in helpers.streaming_bulk(
                es,
                actions,
                chunk_size=elastic.chunk_size,
                max_chunk_bytes=elastic.max_chunk_bytes,
                max_retries=elastic.max_retries,
                initial_backoff=elastic.initial_backoff,
                max_backoff=elastic.max_backoff,
                raise_on_error=True,
                yield_ok=True,
            ):
                done += int(ok)
        except helpers.BulkIndexError as err:
            first = next(iter(err.errors[0].values())) if err.errors else {}
            raise ElasticBackendError(
                f"Elasticsearch at {target.base_url} rejected {len(err.errors)} bulk items, e.g. "
                f"{first.get('_id')}: {first.get('error')}; the build was not swapped in (see the server's log)"
            ) from err
    return done


def _verify(
    es: Elasticsearch, target: ElasticURI, names: BuildNames, batch: SegmentInfo, posting_docs: int
) -> None:
    """The batch's documents and posting documents are all there (before anything points at them)."""
    lo, hi = batch.doc_base, batch.doc_base + batch.documents
    with translate_errors(target, "count the indexed documents"):
        docs = es.count(index=names.docs, query={"range": {"doc": {"gte": lo, "lt": hi}}})["count"]
        postings = es.count(index=names.postings, query={"range": {"d": {"gte": lo, "lt": hi}}})["count"]
    if docs != batch.documents or postings != posting_docs:
        raise ElasticBackendError(
            f"{names.docs} holds {docs} of {batch.documents} documents and {names.postings} {postings} of "
            f"{posting_docs} posting documents just written; nothing was committed: run the command again"
        )


def _drop_uncommitted(es: Elasticsearch, target: ElasticURI, names: BuildNames, base: int) -> None:
    """Delete what an add that died left above the committed documents."""
    with translate_errors(target, "clear an unfinished add"):
        es.indices.refresh(index=f"{names.docs},{names.postings}")
        for index, field in ((names.docs, "doc"), (names.postings, "d")):
            r = es.delete_by_query(
                index=index, query={"range": {field: {"gte": base}}}, refresh=True, conflicts="proceed"
            )
            if r.get("deleted"):
                log.warning("removed %d entries of an unfinished add from %s", r["deleted"], index)
