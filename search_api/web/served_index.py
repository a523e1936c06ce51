"""The index and the `Searcher` of one server process: opened lazily, refreshed between requests.

The index is opened on first use (never at import, so a gunicorn worker opens its own after the
fork). Every few seconds a request checks for a newer generation (`reopen_if_changed`, where the
backend has it), so a rebuilt index is served without a restart. One lock serialises the use of
the index and the Searcher's cache within the process: scale with worker processes, not threads.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from indexer.backends import open_index
from indexer.backends.base import IndexReader
from search_api.engine.options import QueryOptions
from search_api.engine.results import Report
from search_api.engine.searcher import Searcher

log = logging.getLogger(__name__)

T = TypeVar("T")


class IndexUnavailableError(Exception):
    """The index cannot be opened; the message says why and what to do."""


class ServedIndex:
    """Opens the index once, answers queries, follows new generations."""

    def __init__(
        self, uri: str | None, recheck_seconds: float = 5.0, options: QueryOptions | None = None
    ) -> None:
        self.uri = uri
        self.recheck_seconds = recheck_seconds
        self.options = options or QueryOptions()
        self._lock = threading.RLock()
        self._index: IndexReader | None = None
        self._searcher: Searcher | None = None
        self._error: str | None = None
        self._checked = 0.0  # monotonic time of the last open attempt or generation check
        self._stats: tuple[str, dict[str, object]] | None = None
        self._last_status: dict[str, object] | None = None

    def attribute(
        self,
        code: str | bytes,
        language: str | None = None,
        options: QueryOptions | None = None,
        filename: str | None = None,
    ) -> Report:
        """`Searcher.attribute` on the current index (raises QueryError, IndexUnavailableError)."""
        return self.run(lambda index, searcher: searcher.attribute(code, language, options, filename))

    def run(self, work: Callable[[IndexReader, Searcher], T]) -> T:
        """Call `work(index, searcher)` with the index held still (no reopen meanwhile)."""
        with self._lock:
            self._refresh()
            if self._index is None or self._searcher is None:
                raise IndexUnavailableError(self._error or "no index is configured")
            return work(self._index, self._searcher)

    def status(self, wait_seconds: float = 1.0) -> dict[str, object]:
        """For /readyz: the generation served, or raises IndexUnavailableError.

        A long query holds the lock; after `wait_seconds` the last known status is given instead
        (with ``"busy": true``), so a readiness probe never times out behind real work.
        """
        if not self._lock.acquire(timeout=wait_seconds):
            if self._last_status is None:
                raise IndexUnavailableError("the index is still being opened: retry in a few seconds")
            return {**self._last_status, "busy": True}
        try:
            self._refresh()
            index = self._index
            if index is None:
                raise IndexUnavailableError(self._error or "no index is configured")
            manifest = getattr(index, "manifest", None)
            self._last_status = {
                "index": index.index_id,
                "generation": getattr(manifest, "generation", None),
                "documents": index.document_count,
            }
            return dict(self._last_status)
        finally:
            self._lock.release()

    def stats(self) -> dict[str, Any]:
        """The index's stats (cached per generation: they read every document's metadata)."""

        def compute(index: IndexReader, _: Searcher) -> dict[str, object]:
            if self._stats is None or self._stats[0] != index.index_id:
                stats = dict(index.stats())
                stats.pop("uri", None)  # a server path is nobody's business
                self._stats = (index.index_id, stats)
            return dict(self._stats[1])

        return self.run(compute)

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
            self._index = self._searcher = None

    def _refresh(self) -> None:
        now = time.monotonic()
        due = now - self._checked >= self.recheck_seconds
        if self._index is None:
            if self._error is None or due:
                self._checked = now
                self._open()
            return
        if due and hasattr(self._index, "reopen_if_changed"):
            self._checked = now
            try:
                if self._index.reopen_if_changed():
                    assert self._searcher is not None
                    self._searcher.clear_cache()
                    self._stats = None
            except Exception as err:  # noqa: BLE001 - keep serving the generation we have
                log.warning(
                    "could not switch to a newer index generation (still serving %s): %s",
                    self._index.index_id,
                    err,
                )

    def _open(self) -> None:
        if not self.uri:
            self._error = (
                "no index is configured: set CODECITE_INDEX (or INDEX in the app config, or "
                "`codecite serve --index PATH`) to an index built with `codecite index build`"
            )
            return
        try:
            index = open_index(self.uri)
        except Exception as err:  # noqa: BLE001 - any failure makes the server not ready, with the reason
            self._error = f"the index at {self.uri} cannot be opened: {err}"
            log.error("%s", self._error)
            return
        self._index, self._searcher, self._error = index, Searcher(index, self.options), None
        log.info("serving index %s (%d documents)", index.index_id, index.document_count)
