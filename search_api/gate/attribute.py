"""What answers a scan's queries: a local index (here), or a server (`search_api.gate.remote`).

Both are `Attributor`s: called with (code, language) pairs, they give a Report for each, or the
reason it was refused. The local one can spread the work over forked worker processes: the index
is memory-mapped, so the workers share it; each keeps its own query caches.
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
from collections.abc import Sequence
from typing import Protocol

from indexer.backends.base import IndexReader
from search_api.engine.notices import warm_up
from search_api.engine.options import QueryOptions
from search_api.engine.results import Report
from search_api.engine.searcher import QueryError, Searcher

Query = tuple[str, str]  # (code, language)


class Attributor(Protocol):
    """Answers a batch of queries, in order: a Report, or why the query was refused."""

    def __call__(self, queries: Sequence[Query]) -> list[Report | str]: ...

    def source_text(self, blob_id: str) -> str | None:
        """An indexed file's text (for the copyright lines of a notice), None if unknown."""

    def describe(self) -> dict[str, object]:
        """Where the answers come from, for the scan's output."""

    def close(self) -> None: ...


class LocalAttributor:
    """Attributes queries against a local index; with `jobs` > 1, in forked worker processes."""

    def __init__(self, index: IndexReader, options: QueryOptions = QueryOptions(), jobs: int = 1) -> None:
        self.index = index
        self.searcher = Searcher(index, options)
        self.jobs = jobs if "fork" in multiprocessing.get_all_start_methods() else 1
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None

    def __call__(self, queries: Sequence[Query]) -> list[Report | str]:
        if self.jobs <= 1 or len(queries) < 2 * self.jobs:
            return [_attribute_one(self.searcher, q) for q in queries]
        if self._pool is None:
            warm_up()  # the workers inherit the license notice table instead of each loading it
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.jobs, multiprocessing.get_context("fork"), initializer=_adopt, initargs=(self.searcher,)
            )
        return list(self._pool.map(_in_worker, queries, chunksize=2))

    def source_text(self, blob_id: str) -> str | None:
        doc_id = self.index.find_blob(blob_id)
        return self.index.text(doc_id) if doc_id is not None else None

    def describe(self) -> dict[str, object]:
        return {"uri": self.index.uri, "id": self.index.index_id, "documents": self.index.document_count}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


# The searcher of a worker process. Set only inside the forked workers (by the pool's initializer,
# which fork hands the parent's searcher without pickling it), never in the parent.
_worker_searcher: Searcher | None = None


def _adopt(searcher: Searcher) -> None:
    global _worker_searcher
    _worker_searcher = searcher


def _in_worker(query: Query) -> Report | str:
    assert _worker_searcher is not None, "the pool's initializer sets the worker's searcher"
    return _attribute_one(_worker_searcher, query)


def _attribute_one(searcher: Searcher, query: Query) -> Report | str:
    try:
        return searcher.attribute(query[0], query[1])
    except QueryError as err:
        return str(err)
