"""The embedded on-disk index: the default backend, no server.

It serves the generation CURRENT named when it was opened; a build that commits a newer
generation meanwhile is picked up by `reopen_if_changed` (the web app calls it between requests).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import numpy as np
from cachetools import LRUCache
from datasketch import MinHashLSH

from indexer.analysis.channels import PostingChannel
from indexer.analysis.minhash import band_keys, lean, new_lsh
from indexer.backends.base import DocumentInfo, IndexReader, PostingHits
from indexer.backends.embedded.directory import IndexDirectory
from indexer.backends.embedded.segment import Segment
from indexer.backends.manifest import Manifest

log = logging.getLogger(__name__)

_INFO_CACHE = 8192  # document records kept (metadata only; they change only with a generation)


class EmbeddedIndex(IndexReader):
    """An index directory opened for reading."""

    def __init__(self, path: str | Path, verify: bool = True) -> None:
        self.directory = IndexDirectory(path)
        self.uri = str(path)
        self._verify = verify
        self.segments: list[Segment] = []
        self._load(self.directory.read_manifest())

    def _load(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self.options = manifest.options
        self.segments = self._open_segments(manifest)
        self._bases = np.array([s.doc_base for s in self.segments], dtype=np.int64)
        total = manifest.next_doc_base
        self._cluster = np.arange(total, dtype=np.int64)
        for seg in self.segments:
            ids = np.arange(seg.doc_base, seg.doc_base + len(seg))
            self._cluster[ids] = np.where(seg.cluster >= 0, seg.cluster, ids)
        self._removed = np.zeros(total, dtype=bool)
        self._removed[manifest.removed_documents] = True
        self._members_order = np.argsort(self._cluster, kind="stable")
        self._members_sorted = self._cluster[self._members_order]
        self._repo_of = self._codes("repo")
        self._infos: LRUCache[int, DocumentInfo] = LRUCache(_INFO_CACHE)
        for name, attr in vars(EmbeddedIndex).items():  # every cached map belongs to one generation
            if isinstance(attr, functools.cached_property):
                self.__dict__.pop(name, None)

    def _open_segments(self, manifest: Manifest) -> list[Segment]:
        """The manifest's segments, keeping those already open: a written segment never changes,
        so a generation switch checks and opens only the new ones."""
        opened = {seg.info.name: seg for seg in self.segments}
        return [
            opened[info.name]
            if info.name in opened and opened[info.name].info == info
            else Segment(self.directory.segments_dir / info.name, info, manifest.options, self._verify)
            for info in manifest.segments
        ]

    def reopen_if_changed(self) -> bool:
        """Switch to a newer generation if one was committed; True when it did."""
        latest = self.directory.read_manifest()
        if latest.generation == self.manifest.generation:
            return False
        self._load(latest)
        log.info("switched to index generation %d", latest.generation)
        return True

    @property
    def index_id(self) -> str:
        return f"{self.manifest.index_id}/gen-{self.manifest.generation}"

    @property
    def generation(self) -> int:
        return self.manifest.generation

    @property
    def document_count(self) -> int:
        return int(self._removed.shape[0] - np.count_nonzero(self._removed))

    def _segment(self, doc_id: int) -> Segment:
        if not 0 <= doc_id < self._removed.shape[0]:
            raise KeyError(f"no document {doc_id} in this index")
        return self.segments[int(np.searchsorted(self._bases, doc_id, side="right")) - 1]

    def lookup(self, channel: PostingChannel, hashes: np.ndarray, max_postings: int) -> PostingHits:
        """Postings of each hash; a hash with more than `max_postings` in the whole index (all
        segments together, so the answer does not depend on how documents fell into segments)
        returns none."""
        parts = []
        tables = [seg.postings[channel] for seg in self.segments]
        ranges = [table.ranges(hashes) for table in tables]
        frequency = np.zeros(hashes.shape[0], dtype=np.int32)
        for r in ranges:
            frequency += (r[:, 1] - r[:, 0]).astype(np.int32)
        wanted = frequency <= max_postings
        for seg, table, r in zip(self.segments, tables, ranges, strict=True):
            hits = table.lookup(hashes, wanted, r)
            if hits.refs.shape[0]:
                doc_ids, lines = seg.locate(hits.refs)
                parts.append((hits.query_index, doc_ids, lines))
        if not parts:
            return PostingHits(np.zeros(0, np.int32), np.zeros(0, np.int64), np.zeros(0, np.int32), frequency)
        query_index, doc_ids, lines = (np.concatenate(column) for column in zip(*parts, strict=True))
        return PostingHits(query_index, doc_ids, lines, frequency)

    def info(self, doc_id: int, with_content: bool = False) -> DocumentInfo:
        if not with_content:
            cached = self._infos.get(doc_id)
            if cached is not None:
                return cached
        doc = self._segment(doc_id).document(doc_id, with_content)
        info = DocumentInfo(doc_id, doc, int(self._cluster[doc_id]), bool(self._removed[doc_id]))
        if not with_content:
            self._infos[doc_id] = info
        return info

    def text(self, doc_id: int) -> str:
        return self._segment(doc_id).text(doc_id)

    def content_bytes(self, doc_id: int) -> bytes:
        return self._segment(doc_id).content_bytes(doc_id)

    def cluster_members(self, doc_id: int) -> np.ndarray:
        rep = self._cluster[doc_id]
        lo = np.searchsorted(self._members_sorted, rep, side="left")
        hi = np.searchsorted(self._members_sorted, rep, side="right")
        return self._members_order[lo:hi]

    def identical_members(self, doc_id: int) -> np.ndarray:
        members = self.cluster_members(doc_id)
        if members.shape[0] <= 1:
            return members
        return members[self._content_of[members] == self._content_of[doc_id]]

    @functools.cached_property
    def _content_of(self) -> np.ndarray:
        return self._codes("content_hash")

    def _codes(self, column: str) -> np.ndarray:
        """Global id -> a number shared exactly by the documents with equal `column` values."""
        out = np.zeros(self.manifest.next_doc_base, dtype=np.int64)
        values = [v for seg in self.segments for v in seg.column(column)]
        if values:
            ids = np.concatenate([np.arange(s.doc_base, s.doc_base + len(s)) for s in self.segments])
            out[ids] = np.unique(np.array(values, dtype=object), return_inverse=True)[1]
        return out

    @functools.cached_property
    def _blob_ids(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for seg in self.segments:
            for i, blob in enumerate(seg.column("blob_id")):
                out.setdefault(blob, seg.doc_base + i)
        return out

    @functools.cached_property
    def repository_count(self) -> int:
        return int(np.unique(self._repo_of[~self._removed]).shape[0])

    def repo_ids(self, doc_ids: np.ndarray) -> np.ndarray:
        return self._repo_of[doc_ids]

    def find_blob(self, blob_id: str) -> int | None:
        doc_id = self._blob_ids.get(blob_id)
        return None if doc_id is None or self._removed[doc_id] else doc_id

    @functools.cached_property
    def content_hashes(self) -> dict[str, int]:
        """Content hash -> global id of the first document with that content."""
        out: dict[str, int] = {}
        for seg in self.segments:
            for i, h in enumerate(seg.column("content_hash")):
                out.setdefault(h, seg.doc_base + i)
        return out

    def find_content(self, content_hash: str) -> int | None:
        doc_id = self._first_with_content(content_hash)
        if doc_id is None:
            return None
        live = [int(d) for d in self.identical_members(doc_id) if not self._removed[d]]
        return live[0] if live else None

    def _first_with_content(self, content_hash: str) -> int | None:
        """The lowest global id whose content has this hash (as `content_hashes` holds it)."""
        try:
            key = np.uint64(int(content_hash[:16], 16))
        except ValueError:
            return None
        for seg in self.segments:
            keys, order = seg.content_keys
            lo = int(np.searchsorted(keys, key, side="left"))
            hi = int(np.searchsorted(keys, key, side="right"))
            same = sorted(int(order[j]) + seg.doc_base for j in range(lo, hi))
            for doc_id in same:
                if seg.content_hash(doc_id) == content_hash:
                    return doc_id
        return None

    def signature(self, doc_id: int) -> np.ndarray:
        seg = self._segment(doc_id)
        signature = seg.signature(doc_id)
        if signature is None:
            raise KeyError(f"document {doc_id} is a copy: only cluster representatives keep a signature")
        return signature

    @property
    def next_doc_base(self) -> int:
        return self.manifest.next_doc_base

    def cluster_of(self, doc_id: int) -> int:
        return int(self._cluster[doc_id])

    @functools.cached_property
    def lsh(self) -> MinHashLSH:
        """MinHash LSH over the cluster representatives, built on first use: for clustering
        the documents an `add` appends (queries use `near_duplicates`)."""
        lsh = new_lsh(self.options)
        with lsh.insertion_session() as session:
            for seg in self.segments:
                for row, local in enumerate(seg.representatives.tolist()):
                    session.insert(
                        int(seg.doc_base + local), lean(np.asarray(seg.signatures[row]), self.options)
                    )
        return lsh

    def near_duplicates(self, signature: np.ndarray) -> list[int]:
        """Representatives sharing an LSH band with `signature`, from the segments' persisted
        band tables (the same answer as `lsh.query`, without building it)."""
        sig = np.asarray(signature, dtype=np.uint32)
        keys = band_keys(sig, self.options)[0]
        return sorted(int(d) for seg in self.segments for d in seg.near_duplicates(sig, keys).tolist())

    def multiline_tokens(self, doc_id: int) -> np.ndarray | None:
        return self._segment(doc_id).multiline_tokens(doc_id)

    def stats(self) -> dict[str, Any]:
        m = self.manifest
        languages: dict[str, int] = {}
        licenses: dict[str, int] = {}
        categories: dict[str, int] = {}
        repos: set[str] = set()
        for seg in self.segments:
            removed = self._removed[seg.doc_base : seg.doc_base + len(seg)]
            for column, counter in (
                ("language", languages),
                ("license", licenses),
                ("license_category", categories),
            ):
                for value, gone in zip(seg.column(column), removed):
                    if not gone:
                        key = value or "(none)"
                        counter[key] = counter.get(key, 0) + 1
            repos.update(r for r, gone in zip(seg.column("repo"), removed) if not gone)
        size = sum(int(f["bytes"]) for s in m.segments for f in s.files.values())
        corpus = sum(seg.corpus_bytes for seg in self.segments)
        return {
            "index_id": self.index_id,
            "uri": self.uri,
            "generation": m.generation,
            "created": m.created,
            "documents": self.document_count,
            "repos": len(repos),
            "clusters": int(np.unique(self._cluster[~self._removed]).shape[0]),
            "removed_documents": int(np.count_nonzero(self._removed)),
            "removed_repos": m.removed_repos,
            "removed_owners": m.removed_owners,
            "segments": len(m.segments),
            "postings": {c.value: sum(s.postings[c] for s in m.segments) for c in PostingChannel},
            "corpus_bytes": corpus,
            "index_bytes": size,
            "index_to_corpus": round(size / corpus, 3) if corpus else None,
            "languages": dict(sorted(languages.items(), key=lambda kv: -kv[1])),
            "licenses": dict(sorted(licenses.items(), key=lambda kv: -kv[1])),
            "license_categories": dict(sorted(categories.items(), key=lambda kv: -kv[1])),
            "options": m.options.to_dict(),
            "sources": m.sources,
        }
