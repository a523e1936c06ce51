"""`codecite index stats` for an Elasticsearch build: the embedded index's keys, from aggregations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer.analysis.channels import PostingChannel
from indexer.backends.elastic.connection import translate_errors

if TYPE_CHECKING:
    from indexer.backends.elastic.reader import ElasticIndex

# Cardinality aggregations are exact below this many distinct values (HyperLogLog++ above).
_EXACT_BELOW = 40_000
_MAX_TERMS = 10_000


def collect_stats(index: ElasticIndex) -> dict[str, object]:
    """The keys `EmbeddedIndex.stats` returns, plus where the build lives on the cluster."""
    m, names = index.manifest, index.names
    live = {"bool": {"filter": [{"term": {"removed": False}}, {"range": {"doc": {"lt": m.next_doc_base}}}]}}
    every = {"range": {"doc": {"lt": m.next_doc_base}}}
    with translate_errors(index.target, "collect index statistics"):
        counted = index.es.search(
            index=names.docs,
            size=0,
            query=live,
            aggs={
                "repos": {"cardinality": {"field": "repo", "precision_threshold": _EXACT_BELOW}},
                "clusters": {"cardinality": {"field": "cluster", "precision_threshold": _EXACT_BELOW}},
                "languages": {"terms": {"field": "language", "size": _MAX_TERMS, "missing": ""}},
                "licenses": {"terms": {"field": "license", "size": _MAX_TERMS, "missing": ""}},
                "license_categories": {
                    "terms": {"field": "license_category", "size": _MAX_TERMS, "missing": ""}
                },
            },
        )["aggregations"]
        totals = index.es.search(
            index=names.docs,
            size=0,
            query=every,
            aggs={
                "bytes": {"sum": {"field": "size_bytes"}},
                "removed": {"filter": {"term": {"removed": True}}},
            },
        )["aggregations"]
        store = index.es.indices.stats(index=f"{names.docs},{names.postings}", metric="store")["indices"]
    primaries = {name: int(s["primaries"]["store"]["size_in_bytes"]) for name, s in store.items()}
    size = sum(primaries.values())
    corpus = int(totals["bytes"]["value"] or 0)
    return {
        "index_id": index.index_id,
        "uri": index.uri,
        "generation": m.generation,
        "created": m.created,
        "documents": index.document_count,
        "repos": int(counted["repos"]["value"]),
        "clusters": int(counted["clusters"]["value"]),
        "removed_documents": int(totals["removed"]["doc_count"]),
        "removed_repos": m.removed_repos,
        "removed_owners": m.removed_owners,
        "segments": len(m.segments),
        "postings": {c.value: sum(int(s.postings.get(c, 0)) for s in m.segments) for c in PostingChannel},
        "corpus_bytes": corpus,
        "index_bytes": size,
        "index_to_corpus": round(size / corpus, 3) if corpus else None,
        "languages": _buckets(counted["languages"]),
        "licenses": _buckets(counted["licenses"]),
        "license_categories": _buckets(counted["license_categories"]),
        "options": m.options.to_dict(),
        "sources": m.sources,
        "backend": "elasticsearch",
        "indices": {"alias": names.alias, "documents": names.docs, "postings": names.postings},
        "index_bytes_by_index": primaries,
        "approximate_counts": [k for k in ("repos", "clusters") if counted[k]["value"] >= _EXACT_BELOW],
    }


def _buckets(agg: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for bucket in agg["buckets"]:
        key = str(bucket["key"]) or "(none)"
        out[key] = out.get(key, 0) + int(bucket["doc_count"])
    return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))
