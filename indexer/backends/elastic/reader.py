"""`ElasticIndex`: the `IndexReader` over an Elasticsearch build (see `indexer.backends.elastic.schema`).

It serves the build and generation its alias named when it was opened (reads skip documents
at or above that generation's ``next_doc_base``); `reopen_if_changed` moves to a newer one.
Document records are cached (they change only with a generation); postings are not.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
from cachetools import LRUCache
from elasticsearch import Elasticsearch

from indexer.analysis.channels import PostingChannel
from indexer.backends.base import DocumentInfo, IndexReader, PostingHits
from indexer.backends.elastic.admin import read_current
from indexer.backends.elastic.connection import ElasticURI, connect, translate_errors
from indexer.backends.elastic.schema import CurrentBuild, band_keys, hash_keys
from indexer.records import Document, LicenseCategory, Provenance

_TERMS_PER_REQUEST = 10_000  # well under index.max_terms_count (65,536) and search.max_buckets
_PAGE = 10_000  # index.max_result_window
_META_FIELDS = ["content", "signature", "bands"]


class ElasticIndex(IndexReader):
    """An Elasticsearch build opened for reading through its alias."""

    def __init__(self, uri: str, client: Elasticsearch | None = None, cached_documents: int = 50_000) -> None:
        self.target = ElasticURI.parse(uri)
        self.uri = self.target.display()
        self.es = client or connect(self.target)
        self._lock = threading.Lock()
        self._docs: LRUCache[int, dict] = LRUCache(cached_documents)
        self._texts: LRUCache[int, str] = LRUCache(256)
        self._members: LRUCache[int, tuple[np.ndarray, list[str]]] = LRUCache(4096)
        self._load(read_current(self.es, self.target))

    def _load(self, current: CurrentBuild) -> None:
        manifest, names = current.manifest, current.names
        self.manifest = manifest
        self.options = manifest.options
        self.names = names
        self._end = manifest.next_doc_base
        with self._lock:
            self._docs.clear()
            self._texts.clear()
            self._members.clear()
        self._live = self._count(self.names.docs, [{"term": {"removed": False}}])
        self._repositories: int | None = None

    @property
    def repository_count(self) -> int:
        """Asked of the cluster once per build or generation (a cardinality aggregation)."""
        if self._repositories is None:
            self._repositories = int(self.stats()["repos"])
        return self._repositories

    def reopen_if_changed(self) -> bool:
        """Switch to a newer build or generation if one was committed; True when it did."""
        current = read_current(self.es, self.target)
        if (current.names.build, current.manifest.generation) == (self.names.build, self.manifest.generation):
            return False
        self._load(current)
        return True

    @property
    def generation(self) -> int:
        return self.manifest.generation

    @property
    def index_id(self) -> str:
        return f"{self.manifest.index_id}/gen-{self.manifest.generation}"

    @property
    def document_count(self) -> int:
        return self._live

    # -- postings ---------------------------------------------------------------------------

    def lookup(self, channel: PostingChannel, hashes: np.ndarray, max_postings: int) -> PostingHits:
        keys = hash_keys(hashes)
        where: dict[str, list[int]] = {}
        for i, key in enumerate(keys):
            where.setdefault(key, []).append(i)
        frequency = np.zeros(len(keys), dtype=np.int32)
        wanted = []
        for key, count in self._frequencies(channel, list(where)).items():
            frequency[where[key]] = count
            if count <= max_postings:
                wanted.append(key)
        q: list[int] = []
        docs: list[int] = []
        lines: list[int] = []
        for key, doc, line in self._postings(channel, wanted):
            for i in where[key]:
                q.append(i)
                docs.append(doc)
                lines.append(line)
        return PostingHits(
            np.array(q, np.int32), np.array(docs, np.int64), np.array(lines, np.int32), frequency
        )

    def _postings_filter(self, channel: str, keys: list[str]) -> dict:
        return {
            "bool": {
                "filter": [
                    {"term": {"c": channel}},
                    {"terms": {"h": keys}},
                    {"range": {"d": {"lt": self._end}}},
                ]
            }
        }

    def _frequencies(self, channel: str, keys: list[str]) -> dict[str, int]:
        """Postings per hash (those of hashes too common to return included): posting documents
        hold each hash at most once, so the documents holding a hash are its postings."""
        out: dict[str, int] = {}
        for chunk in _chunks(keys, _TERMS_PER_REQUEST):
            with translate_errors(self.target, "look fingerprints up"):
                r = self.es.search(
                    index=self.names.postings,
                    size=0,
                    track_total_hits=False,
                    query=self._postings_filter(channel, chunk),
                    aggs={
                        "h": {
                            "terms": {
                                "field": "h",
                                "include": chunk,
                                "size": len(chunk),
                                "shard_size": len(chunk),
                            }
                        }
                    },
                )
            out.update((b["key"], int(b["doc_count"])) for b in r["aggregations"]["h"]["buckets"])
        return out

    def _postings(self, channel: str, keys: list[str]) -> Iterator[tuple[str, int, int]]:
        """(hash key, document, line) of every posting of `keys`."""
        for chunk in _chunks(keys, _TERMS_PER_REQUEST):
            wanted = set(chunk)
            for hit in self._paged(
                self.names.postings,
                self._postings_filter(channel, chunk),
                [{"d": "asc"}, {"b": "asc"}, {"p": "asc"}],
                ["h", "l", "d"],
            ):
                src = hit["_source"]
                for key, line in zip(src["h"], src["l"]):
                    if key in wanted:
                        yield key, int(src["d"]), int(line)

    def _paged(self, index: str, query: dict, sort: list, source: list[str]) -> Iterator[dict]:
        """Every hit of `query` with these `_source` fields, in `sort` order (which must be unique)."""
        after = None
        while True:
            extra: dict[str, Any] = {"search_after": after} if after is not None else {}
            with translate_errors(self.target, "search the index"):
                r = self.es.search(
                    index=index,
                    query=query,
                    sort=sort,
                    size=_PAGE,
                    source_includes=source,
                    track_total_hits=False,
                    **extra,
                )
            hits = r["hits"]["hits"]
            yield from hits
            if len(hits) < _PAGE:
                return
            after = hits[-1]["sort"]

    # -- documents --------------------------------------------------------------------------

    def _record(self, doc_id: int) -> dict:
        if not 0 <= doc_id < self._end:
            raise KeyError(f"no document {doc_id} in this index")
        with self._lock:
            cached = self._docs.get(doc_id)
        if cached is not None:
            return cached
        with translate_errors(self.target, "read a document"):
            r = self.es.get(index=self.names.docs, id=str(doc_id), source_excludes=_META_FIELDS)
        record = r["_source"]
        with self._lock:
            self._docs[doc_id] = record
        return record

    def info(self, doc_id: int, with_content: bool = False) -> DocumentInfo:
        r = self._record(doc_id)
        doc = Document(
            blob_id=r["blob_id"],
            repo=r["repo"],
            path=r["path"],
            language=r["language"],
            content=self.text(doc_id) if with_content else "",
            license=r.get("license"),
            license_category=LicenseCategory(r["license_category"]),
            source=r.get("source") or "",
            url=r.get("url"),
            revision=r.get("revision"),
            provenance=Provenance.from_dict(r.get("provenance")),
        )
        return DocumentInfo(doc_id, doc, int(r["cluster"]), bool(r["removed"]))

    def text(self, doc_id: int) -> str:
        holder = int(self._record(doc_id).get("content_doc", doc_id))
        with self._lock:
            cached = self._texts.get(holder)
        if cached is not None:
            return cached
        with translate_errors(self.target, "read a document's text"):
            r = self.es.get(index=self.names.docs, id=str(holder), source_includes=["content"])
        text = r["_source"].get("content", "")
        with self._lock:
            self._texts[holder] = text
        return text

    def find_blob(self, blob_id: str) -> int | None:
        query = {"bool": {"filter": [{"term": {"blob_id": blob_id}}, {"range": {"doc": {"lt": self._end}}}]}}
        with translate_errors(self.target, "find a blob"):
            hits = self.es.search(
                index=self.names.docs,
                query=query,
                sort=[{"doc": "asc"}],
                size=1,
                source_includes=["doc", "removed"],
            )["hits"]["hits"]
        if not hits or hits[0]["_source"]["removed"]:
            return None
        return int(hits[0]["_source"]["doc"])

    def _cluster(self, rep: int) -> tuple[np.ndarray, list[str]]:
        """Members of the cluster whose representative is `rep` (ascending ids), with content hashes."""
        with self._lock:
            cached = self._members.get(rep)
        if cached is not None:
            return cached
        query = {"bool": {"filter": [{"term": {"cluster": rep}}, {"range": {"doc": {"lt": self._end}}}]}}
        hits = [
            h["_source"]
            for h in self._paged(self.names.docs, query, [{"doc": "asc"}], ["doc", "content_hash"])
        ]
        ids = [int(h["doc"]) for h in hits]
        hashes = [h["content_hash"] for h in hits]
        members = (np.array(ids, dtype=np.int64), hashes)
        with self._lock:
            self._members[rep] = members
        return members

    def cluster_members(self, doc_id: int) -> np.ndarray:
        return self._cluster(int(self._record(doc_id)["cluster"]))[0]

    def identical_members(self, doc_id: int) -> np.ndarray:
        record = self._record(doc_id)
        ids, hashes = self._cluster(int(record["cluster"]))
        if ids.shape[0] <= 1:
            return ids
        return ids[np.array([h == record["content_hash"] for h in hashes], dtype=bool)]

    def near_duplicates(self, signature: np.ndarray) -> list[int]:
        query = {
            "bool": {
                "filter": [
                    {"terms": {"bands": band_keys(signature, self.options)}},
                    {"range": {"doc": {"lt": self._end}}},
                ]
            }
        }
        return sorted(
            int(h["_source"]["doc"]) for h in self._paged(self.names.docs, query, [{"doc": "asc"}], ["doc"])
        )

    # -- counts -----------------------------------------------------------------------------

    def _count(self, index: str, filters: list[dict]) -> int:
        field = "doc" if index == self.names.docs else "d"
        query = {"bool": {"filter": [*filters, {"range": {field: {"lt": self._end}}}]}}
        with translate_errors(self.target, "count documents"):
            return int(self.es.count(index=index, query=query)["count"])

    def stats(self) -> dict[str, Any]:
        from indexer.backends.elastic.stats import collect_stats

        return collect_stats(self)

    def close(self) -> None:
        self.es.close()


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
