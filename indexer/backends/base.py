"""The interface every index backend implements: a reader the query pipeline talks to, a writer
the CLI builds with.

The embedded on-disk index (`indexer.backends.embedded`, the default, no server) and
Elasticsearch (`indexer.backends.elastic`, extra ``es``) answer the same calls with the same ids,
so they give the same Report. `indexer.backends.open_index` and `open_writer` pick one by URI.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from indexer.analysis.channels import PostingChannel
from indexer.backends.manifest import Manifest
from indexer.backends.removal import RemovalSpec
from indexer.options import IndexOptions
from indexer.placement import BuildSettings
from indexer.records import Document, IngestStats, Skip

Progress = Callable[[int, int], None]  # (documents done, bytes done)


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


class IndexReader(abc.ABC):
    """A fingerprint index opened for queries: postings, documents, copy clusters."""

    uri: str
    options: IndexOptions

    @property
    @abc.abstractmethod
    def index_id(self) -> str:
        """Identifies the index build (generation) that answers queries."""

    @property
    @abc.abstractmethod
    def generation(self) -> int:
        """The generation served (a build, an add or a removal makes the next one)."""

    @property
    @abc.abstractmethod
    def document_count(self) -> int:
        """Documents that can be reported (removed ones excluded)."""

    @property
    def repository_count(self) -> int:
        """Repositories with a document that can be reported (backends with a cheaper way override)."""
        return int(self.stats()["repos"])

    @abc.abstractmethod
    def lookup(self, channel: PostingChannel, hashes: np.ndarray, max_postings: int) -> PostingHits:
        """Postings of each hash in `channel`."""

    @abc.abstractmethod
    def info(self, doc_id: int, with_content: bool = False) -> DocumentInfo:
        """A document's metadata (and content when asked)."""

    @abc.abstractmethod
    def text(self, doc_id: int) -> str:
        """A document's content."""

    def content_bytes(self, doc_id: int) -> bytes:
        """A document's content as stored (UTF-8); backends that store bytes override this."""
        return self.text(doc_id).encode("utf-8", "surrogatepass")

    def multiline_tokens(self, doc_id: int) -> np.ndarray | None:
        """Byte ranges [start, end) of the document's tokens that span lines (int32[k, 2]), which
        let a window of it be lexed alone; None where the backend does not store them."""
        return None

    @abc.abstractmethod
    def find_blob(self, blob_id: str) -> int | None:
        """The global id of a live document with this blob id, or None."""

    def find_content(self, content_hash: str) -> int | None:
        """The global id of a live document whose UTF-8 bytes have this BLAKE2b-128 hash, or None.

        Backends that cannot look contents up answer None (the query then runs in full)."""
        return None

    def repo_ids(self, doc_ids: np.ndarray) -> np.ndarray:
        """An integer per document naming its repository (equal ints: same repository).

        Backends with a faster way (a column in memory) override this one-by-one default.
        """
        names: dict[str, int] = {}
        return np.array(
            [names.setdefault(self.info(int(d)).document.repo, len(names)) for d in doc_ids], dtype=np.int64
        )

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
    def stats(self) -> dict[str, Any]:
        """Counts for `codecite index stats` and `/v1/stats`."""

    def reopen_if_changed(self) -> bool:
        """Switch to a newer generation if one was committed meanwhile; True when it did."""
        return False

    def close(self) -> None:
        """Release files and connections."""


@dataclass(slots=True)
class BuildResult:
    """What a build or an add did: the manifest it committed, what it read, kept and skipped."""

    manifest: Manifest
    stats: IngestStats
    seconds: float
    identical_copies: int = 0
    near_copies: int = 0
    skips: list[Skip] = field(default_factory=list)

    @property
    def mb_per_second(self) -> float:
        return self.stats.bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Removal:
    """What an opt-out did: the manifest it committed, how many documents went, and the spec."""

    manifest: Manifest
    documents: int
    spec: RemovalSpec = field(default_factory=RemovalSpec)


class IndexWriter(abc.ABC):
    """Writes an index: a new generation from documents, documents appended, repositories removed.

    Every write holds the index's writer lock and commits a new generation atomically: readers
    see all of it or none of it, and a write that fails leaves the previous generation serving.
    """

    uri: str

    @abc.abstractmethod
    def build(
        self,
        items: Iterable[Document | Skip],
        options: IndexOptions = IndexOptions(),
        settings: BuildSettings = BuildSettings(),
        sources: list[str] | None = None,
        progress: Progress | None = None,
    ) -> BuildResult:
        """A new index from `items`, replacing what was served."""

    @abc.abstractmethod
    def add(
        self,
        items: Iterable[Document | Skip],
        settings: BuildSettings = BuildSettings(),
        sources: list[str] | None = None,
        progress: Progress | None = None,
    ) -> BuildResult:
        """`items` appended to the index (its options are kept; nothing is rebuilt)."""

    @abc.abstractmethod
    def remove(self, spec: RemovalSpec) -> Removal:
        """Opt out what `spec` names — repositories, and every repository of its owners — in one
        new generation: their documents are never reported again (no rebuild).

        Their postings stay as evidence for copies of the same code in other repositories."""

    def remove_repos(self, repos: list[str]) -> Removal:
        """Opt repositories (``owner/name``) out; see `remove`."""
        return self.remove(RemovalSpec.of(repos=repos))
