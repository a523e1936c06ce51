"""The one interface every index backend implements, and the factory that opens one by URI.

The query pipeline (`search_api.query`) only talks to `IndexBackend`: the embedded on-disk index
(`indexer.embedded`, the default, no server) and Elasticsearch (`indexer.elastic`, extra ``es``)
answer the same calls with the same ids, so they give the same Report.

URIs: a directory path (or ``file://PATH``) for the embedded index; ``es+http://host:9200/name``
or ``es+https://...`` for Elasticsearch, where `name` is the alias that points at the current
build.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from indexer.options import IndexOptions
from indexer.records import Document


@dataclass(frozen=True, slots=True)
class PostingHits:
    """Postings found for an array of query hashes.

    For every posting: which query hash it answers (`query_index`), the global document id and
    the 1-based line where the fingerprint starts. `frequency` has, per query hash, the number of
    postings in the index (also those of hashes too common to return, which are boilerplate).
    """

    query_index: np.ndarray  # int32
    doc_ids: np.ndarray  # int64
    lines: np.ndarray  # int32
    frequency: np.ndarray  # int32


@dataclass(frozen=True, slots=True)
class DocumentInfo:
    """What the query pipeline needs to know of a document besides its text."""

    doc_id: int
    document: Document  # content may be empty when not asked for
    cluster: int  # global id of the copy cluster's representative (its own id when it is one)
    removed: bool  # opted out: never reported, but still evidence for its copies


class IndexBackend(abc.ABC):
    """A fingerprint index: postings, documents, copy clusters."""

    uri: str
    options: IndexOptions

    @property
    @abc.abstractmethod
    def index_id(self) -> str:
        """Identifies the index build (generation) that answers queries."""

    @property
    @abc.abstractmethod
    def document_count(self) -> int:
        """Documents that can be reported (removed ones excluded)."""

    @abc.abstractmethod
    def lookup(self, channel: str, hashes: np.ndarray, max_postings: int) -> PostingHits:
        """Postings of each hash in `channel` ("exact" or "normalized")."""

    @abc.abstractmethod
    def info(self, doc_id: int, with_content: bool = False) -> DocumentInfo:
        """A document's metadata (and content when asked)."""

    @abc.abstractmethod
    def text(self, doc_id: int) -> str:
        """A document's content."""

    def content_bytes(self, doc_id: int) -> bytes:
        """A document's content as stored (UTF-8); backends that store bytes override this."""
        return self.text(doc_id).encode("utf-8", "surrogatepass")

    @abc.abstractmethod
    def find_blob(self, blob_id: str) -> int | None:
        """The global id of a document with this blob id, or None."""

    def find_content(self, content_hash: str) -> int | None:
        """The global id of a live document whose UTF-8 bytes have this BLAKE2b-128 hash, or None.

        Backends that cannot look contents up answer None (the query then runs in full)."""
        return None

    def repo_ids(self, doc_ids: np.ndarray) -> np.ndarray:
        """An integer per document naming its repository (equal ints: same repository).

        Backends with a faster way (a column in memory) override this one-by-one default.
        """
        names: dict[str, int] = {}
        return np.array([names.setdefault(self.info(int(d)).document.repo, len(names)) for d in doc_ids],
                        dtype=np.int64)

    @abc.abstractmethod
    def cluster_members(self, doc_id: int) -> np.ndarray:
        """Global ids of all documents in the copy cluster of `doc_id` (itself included)."""

    @abc.abstractmethod
    def identical_members(self, doc_id: int) -> np.ndarray:
        """Global ids of the documents whose content is byte-identical to `doc_id`'s."""

    @abc.abstractmethod
    def near_duplicates(self, signature: np.ndarray) -> list[int]:
        """Cluster representatives whose MinHash LSH buckets collide with `signature`
        (candidates only: unverified)."""

    @abc.abstractmethod
    def stats(self) -> dict[str, object]:
        """Counts for `codecite index stats` and `/v1/stats`."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files and connections."""


class BackendUnavailableError(Exception):
    """An optional backend's dependencies are missing, or its URI is malformed."""


def is_elastic_uri(uri: str) -> bool:
    """Whether `uri` names an Elasticsearch index (``es+http(s)://...``) rather than a directory."""
    return uri.startswith(("es+http://", "es+https://"))


def elastic_backend() -> ModuleType:
    """The `indexer.elastic` package, or an error naming the extra it needs."""
    try:
        import indexer.elastic
    except ImportError as err:
        raise BackendUnavailableError(
            f"the Elasticsearch backend needs the 'es' extra: pip install 'codecite[es]' ({err})"
        ) from err
    return indexer.elastic


def open_index(uri: str, verify: bool = True) -> IndexBackend:
    """Open an index by URI (a directory path, ``file://PATH`` or ``es+http(s)://host:port/name``)."""
    if is_elastic_uri(uri):
        return elastic_backend().ElasticIndex(uri)
    from indexer.embedded import EmbeddedIndex

    return EmbeddedIndex(uri.removeprefix("file://"), verify=verify)
