"""Index backends, opened by URI: the only code that reads a URI.

    open_index("path/to/index")                      # the embedded on-disk index (the default)
    open_index("es+http://localhost:9200/corpus")    # Elasticsearch (extra ``es``); the name is an alias
    open_writer(uri).build(open_source("corpus/"))

A directory path or ``file://PATH`` is an embedded index; ``es+http://host:9200/NAME`` or
``es+https://...`` is Elasticsearch, where NAME is the alias that points at the current build.
Optional backends are imported only when a URI names them, with an error that names the extra.
"""

from __future__ import annotations

import os
from types import ModuleType
from typing import TYPE_CHECKING

from indexer.backends.errors import BackendUnavailableError

if TYPE_CHECKING:  # the backends themselves load when a URI names them
    from indexer.backends.base import IndexReader, IndexWriter

__all__ = ["BackendUnavailableError", "open_index", "open_writer"]

_ELASTIC_SCHEMES = ("es+http://", "es+https://")


def open_index(uri: str | os.PathLike[str], verify: bool = True) -> IndexReader:
    """Open an index for queries (`verify`: check the embedded index's file digests first)."""
    uri = os.fspath(uri)
    if uri.startswith(_ELASTIC_SCHEMES):
        return _elastic().ElasticIndex(uri)
    from indexer.backends.embedded.reader import EmbeddedIndex

    return EmbeddedIndex(_embedded_path(uri), verify=verify)


def open_writer(uri: str | os.PathLike[str]) -> IndexWriter:
    """The writer of the index at `uri` (it need not exist yet for a build)."""
    uri = os.fspath(uri)
    if uri.startswith(_ELASTIC_SCHEMES):
        return _elastic().ElasticWriter(uri)
    from indexer.backends.embedded.writer import EmbeddedWriter

    return EmbeddedWriter(_embedded_path(uri))


def _embedded_path(uri: str) -> str:
    return uri.removeprefix("file://")


def _elastic() -> ModuleType:
    """The `indexer.backends.elastic` package, or an error naming the extra it needs."""
    try:
        import indexer.backends.elastic
    except ImportError as err:
        raise BackendUnavailableError(
            f"the Elasticsearch backend needs the 'es' extra: pip install 'codecite[es]' ({err})"
        ) from err
    return indexer.backends.elastic
