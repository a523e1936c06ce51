"""Index management on the cluster: the writer lock, creating a build, committing it, swapping
the alias atomically and removing builds nobody serves any more."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
from collections.abc import Iterator

from elasticsearch import BadRequestError, ConflictError, Elasticsearch, NotFoundError

from indexer.backends.elastic.connection import ElasticBackendError, ElasticURI, translate_errors
from indexer.backends.elastic.schema import (
    DOCS_MAPPING,
    LOCK_MAPPING,
    POSTINGS_MAPPING,
    BuildNames,
    CurrentBuild,
    ElasticSettings,
    manifest_meta,
    read_manifest_meta,
)
from indexer.backends.errors import IndexLockedError
from indexer.backends.manifest import Manifest

log = logging.getLogger(__name__)

_LOCK_ID = "writer"


class _AlreadyExists(Exception):
    pass


@contextlib.contextmanager
def writer_lock(es: Elasticsearch, uri: ElasticURI, doing: str) -> Iterator[None]:
    """Hold `uri`'s writer lock (a document created only if absent); a second writer fails at once."""
    lock = BuildNames.lock(uri.name)
    with translate_errors(uri, "take the writer lock"):
        if not es.indices.exists(index=lock):
            with contextlib.suppress(ConflictError, _AlreadyExists):
                _create_index(es, lock, {"number_of_shards": 1}, LOCK_MAPPING)
        holder = f"{socket.gethostname()}:{os.getpid()}"
        since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        try:
            es.create(
                index=lock,
                id=_LOCK_ID,
                document={"holder": holder, "since": since, "doing": doing},
                refresh="true",
            )
        except ConflictError:
            other = es.get(index=lock, id=_LOCK_ID)["_source"]
            raise IndexLockedError(
                f"another process ({other.get('holder')}, {other.get('doing')} since {other.get('since')}) is "
                f"writing the index {uri.display()}; wait for it to finish (the current build keeps serving "
                f"meanwhile). If that process died, release the lock: curl -X DELETE "
                f"'{uri.base_url}/{lock}/_doc/{_LOCK_ID}'"
            ) from None
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # a lock left behind names itself and how to release it
            es.delete(index=lock, id=_LOCK_ID, refresh="true")


def _create_index(es: Elasticsearch, name: str, settings: dict, mappings: dict) -> None:
    try:
        es.indices.create(index=name, settings=settings, mappings=mappings)
    except BadRequestError as err:
        if "already_exists" in str(err.message) or "already_exists" in str(err.body):
            raise _AlreadyExists(name) from err
        raise


def create_build(es: Elasticsearch, uri: ElasticURI, settings: ElasticSettings) -> BuildNames:
    """Create the two empty concrete indices of a new build of `uri`'s alias."""
    names = BuildNames.new(uri.name)
    with translate_errors(uri, "create the indices of a new build"):
        if es.indices.exists(index=uri.name) and not es.indices.exists_alias(name=uri.name):
            raise ElasticBackendError(
                f"{uri.base_url} has an index named '{uri.name}' that is not a codecite alias: "
                "choose another name in the --index URI, or delete that index"
            )
        _create_index(es, names.docs, settings.build_index_settings(postings=False), DOCS_MAPPING)
        _create_index(es, names.postings, settings.build_index_settings(postings=True), POSTINGS_MAPPING)
    log.info("created %s and %s", names.docs, names.postings)
    return names


def drop_build(es: Elasticsearch, names: BuildNames) -> None:
    """Delete a build's indices (a failed build's, or one no longer served); best effort."""
    for index in (names.docs, names.postings):
        with contextlib.suppress(NotFoundError):
            es.indices.delete(index=index)


def seal_build(es: Elasticsearch, uri: ElasticURI, names: BuildNames, settings: ElasticSettings) -> None:
    """Make a freshly written build searchable: replicas and refreshes back on, one refresh."""
    with translate_errors(uri, "finish the new build's indices"):
        for index in (names.docs, names.postings):
            es.indices.put_settings(index=index, settings=settings.serving_settings())
        es.indices.refresh(index=f"{names.docs},{names.postings}")
        if settings.force_merge:
            es.indices.forcemerge(index=f"{names.docs},{names.postings}", max_num_segments=1)


def read_current(es: Elasticsearch, uri: ElasticURI) -> CurrentBuild:
    """The manifest and indices the alias points at now."""
    with translate_errors(uri, "read the index manifest"):
        mappings = es.indices.get_mapping(index=uri.name)
    if len(mappings) != 1:
        raise ElasticBackendError(
            f"the alias '{uri.name}' at {uri.base_url} points at {len(mappings)} indices ({', '.join(mappings)}); "
            "a codecite alias points at one: rebuild with `codecite index build SOURCE... --index "
            f"{uri.display()}`"
        )
    index, body = next(iter(mappings.items()))
    return read_manifest_meta(body.get("mappings", {}).get("_meta"), uri.name, index, uri.display())


def commit(
    es: Elasticsearch, uri: ElasticURI, names: BuildNames, manifest: Manifest, block_lines: int
) -> Manifest:
    """Record `manifest` as the build's next generation (one mapping update: atomic for readers)."""
    manifest.generation += 1
    manifest.created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with translate_errors(uri, "write the index manifest"):
        es.indices.put_mapping(index=names.docs, meta=manifest_meta(manifest, names, block_lines))
    log.info("%s: generation %d is current", uri.display(), manifest.generation)
    return manifest


def swap_alias(es: Elasticsearch, uri: ElasticURI, names: BuildNames) -> list[str]:
    """Point the alias at `names` in one `_aliases` request; returns the indices it left."""
    with translate_errors(uri, "swap the alias to the new build"):
        try:
            previous = list(es.indices.get_alias(name=uri.name))
        except NotFoundError:
            previous = []
        actions: list[dict] = [{"remove": {"index": i, "alias": uri.name}} for i in previous]
        actions.append({"add": {"index": names.docs, "alias": uri.name}})
        es.indices.update_aliases(actions=actions)
    log.info("alias %s -> %s (was %s)", uri.name, names.docs, ", ".join(previous) or "nothing")
    return previous


def collect_old_builds(es: Elasticsearch, uri: ElasticURI, serving: BuildNames, keep: int) -> list[str]:
    """Delete builds that are neither served nor among the `keep` newest committed ones, and
    builds that never committed (a build that died). Returns the build ids deleted."""
    with translate_errors(uri, "list the builds of the index"):
        mappings = es.indices.get_mapping(index=BuildNames.pattern(uri.name))
    committed, broken = [], set()
    for index, body in mappings.items():
        build = BuildNames.build_of(uri.name, index)
        if build is None or build == serving.build:
            continue
        if index.endswith("-docs") and (body.get("mappings", {}).get("_meta") or {}).get("codecite"):
            committed.append(build)
        else:
            broken.add(build)
    committed = sorted(set(committed))
    doomed = (broken - set(committed)) | set(committed[: max(0, len(committed) - (keep - 1))])
    with translate_errors(uri, "delete old builds"):
        for build in sorted(doomed):
            drop_build(es, BuildNames(uri.name, build))
    if doomed:
        log.info("deleted old builds of %s: %s", uri.name, ", ".join(sorted(doomed)))
    return sorted(doomed)
