"""Bulk indexing into the Elasticsearch backend: documents/s, postings/s, bytes sent and stored.

Runs against ``osmem-server`` (an in-memory OpenSearch-API emulator from PyPI) unless --es-url
names a real cluster; the table says which, and emulator numbers say nothing about a real
cluster's speed or disk use. The same documents are also built into an embedded index, for
comparison and for the sizing note in deploy/README.md.

    python benchmarks/bench_es_bulk.py --corpus /work/eval-data/corpus/index
    python benchmarks/bench_es_bulk.py --corpus DIR --limit 2000 --chunk-size 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import tempfile
import time
from pathlib import Path

from elasticsearch import Elasticsearch

from indexer.backends import open_index, open_writer
from indexer.backends.elastic import ElasticSettings, ElasticWriter
from indexer.backends.elastic.connection import PlainJsonNode
from indexer.placement import BuildSettings
from indexer.records import Document, LicenseCategory
from indexer.sources import open_source

RESULTS = Path(__file__).parent / "results"


class CountingNode(PlainJsonNode):
    """Counts the bytes of every request body (the bulk payload, mostly)."""

    sent = 0
    plain = True

    def perform_request(self, method, target, body=None, headers=None, **kwargs):
        CountingNode.sent += len(body or b"")
        if CountingNode.plain:
            return super().perform_request(method, target, body=body, headers=headers, **kwargs)
        return super(PlainJsonNode, self).perform_request(
            method, target, body=body, headers=headers, **kwargs
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", default="/work/eval-data/corpus/index", help="A source codecite can index."
    )
    parser.add_argument("--limit", type=int, default=None, help="Index only the first N documents.")
    parser.add_argument(
        "--es-url",
        default=os.environ.get("CODECITE_ES_URL"),
        help="http://host:9200 of a cluster (default: start osmem-server).",
    )
    parser.add_argument("--chunk-size", type=int, default=5000, help="Actions per bulk request.")
    parser.add_argument("--out", default=str(RESULTS / "es_bulk.md"))
    args = parser.parse_args()

    docs = [d for d in open_source(args.corpus) if isinstance(d, Document)][: args.limit]
    settings = BuildSettings(keep=frozenset(LicenseCategory))
    embedded = _embedded(docs, settings)
    server, label = _server(args.es_url)
    try:
        elastic = _elastic(docs, settings, server, args.chunk_size)
    finally:
        if hasattr(server, "close"):
            server.close()
    row = {
        "corpus": args.corpus,
        "documents": len(docs),
        "corpus_mb": embedded["corpus_mb"],
        "server": label,
        "chunk_size": args.chunk_size,
        "embedded": embedded,
        "elastic": elastic,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
    }
    _write(row, Path(args.out))


def _embedded(docs: list[Document], settings: BuildSettings) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = open_writer(Path(tmp) / "index").build(docs, settings=settings)
        seconds = time.perf_counter() - started
        stats = open_index(str(Path(tmp) / "index")).stats()
    postings = sum(stats["postings"].values())
    return {
        "seconds": round(seconds, 2),
        "docs_per_s": round(len(docs) / seconds),
        "postings": postings,
        "corpus_mb": round(result.stats.bytes / 1e6, 2),
        "index_bytes": stats["index_bytes"],
        "bytes_per_corpus_mb": round(stats["index_bytes"] / (result.stats.bytes / 1e6)),
        "bytes_per_posting": round(stats["index_bytes"] / postings, 1),
    }


def _server(url: str | None) -> tuple[object, str]:
    if url:
        info = Elasticsearch(url).info()
        return (
            url,
            f"{info['version'].get('distribution', 'elasticsearch')} {info['version']['number']} at {url}",
        )
    from osmem_server import OsmemServer

    server = OsmemServer.start(freeze=False, japanese=False)
    return server, f"osmem-server {server.version} (in-memory OpenSearch-API emulator, not Elasticsearch)"


def _elastic(docs: list[Document], settings: BuildSettings, server: object, chunk_size: int) -> dict:
    url = server if isinstance(server, str) else server.url  # type: ignore[attr-defined]
    CountingNode.plain = "opensearch" in str(Elasticsearch(url).info()["version"].get("distribution", ""))
    client = Elasticsearch(url, node_class=CountingNode, request_timeout=600)
    uri = url.replace("http", "es+http", 1) + "/bench-bulk"
    CountingNode.sent = 0
    started = time.perf_counter()
    result = ElasticWriter(
        uri, elastic=ElasticSettings(replicas=0, chunk_size=chunk_size), client=client
    ).build(docs, settings=settings)
    seconds = time.perf_counter() - started
    sent = CountingNode.sent
    stats = open_index(uri).stats()
    postings = sum(stats["postings"].values())
    corpus_mb = result.stats.bytes / 1e6
    return {
        "seconds": round(seconds, 2),
        "docs_per_s": round(len(docs) / seconds),
        "postings_per_s": round(postings / seconds),
        "postings": postings,
        "bulk_bytes": sent,
        "bulk_bytes_per_posting": round(sent / postings, 1),
        "store_bytes": stats["index_bytes"],
        "store_bytes_per_corpus_mb": round(stats["index_bytes"] / corpus_mb),
        "store_bytes_per_posting": round(
            stats["index_bytes_by_index"][stats["indices"]["postings"]] / postings, 1
        ),
        "docs_store_bytes": stats["index_bytes_by_index"][stats["indices"]["documents"]],
    }


def _write(row: dict, out: Path) -> None:
    e, s = row["elastic"], row["embedded"]
    lines = [
        "# Bulk indexing into the Elasticsearch backend",
        "",
        (
            f"Server: **{row['server']}**. Numbers against the emulator measure codecite's side (fingerprinting, "
            "building and sending bulk requests) plus an in-memory store; they are not Elasticsearch's speed or "
            "disk use."
        ),
        (
            f"Corpus: {row['corpus']} — {row['documents']:,} documents, {row['corpus_mb']} MB; every license kept. "
            f"Machine: {row['machine']}; {row['date']}; bulk chunk {row['chunk_size']} actions; "
            "`python benchmarks/bench_es_bulk.py` regenerates this file."
        ),
        "",
        (
            "| backend | seconds | documents/s | postings | postings/s | bytes sent per posting | "
            "stored bytes per corpus MB | stored bytes per posting |"
        ),
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        (
            f"| embedded (segments on disk) | {s['seconds']} | {s['docs_per_s']:,} | {s['postings']:,} | "
            f"{round(s['postings'] / s['seconds']):,} | — | {s['bytes_per_corpus_mb']:,} | {s['bytes_per_posting']} |"
        ),
        (
            f"| elasticsearch backend → {row['server'].split(' (')[0]} | {e['seconds']} | {e['docs_per_s']:,} | "
            f"{e['postings']:,} | {e['postings_per_s']:,} | {e['bulk_bytes_per_posting']} | "
            f"{e['store_bytes_per_corpus_mb']:,} (emulator's count) | {e['store_bytes_per_posting']} (emulator's count) |"
        ),
        "",
        (
            "Embedded: 5 bytes a posting plus the bucket directory, contents zstd-compressed; its stored bytes are all "
            "files of the index. Elasticsearch backend: bytes sent are the bulk request bodies (JSON); stored bytes "
            "are what the server reports as primary store size, which for the emulator is its own in-memory "
            "accounting."
        ),
        "",
        "```json",
        json.dumps(row, indent=1),
        "```",
        "",
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    out.with_suffix(".json").write_text(json.dumps(row, indent=1) + "\n")
    print("\n".join(lines[:12]))


if __name__ == "__main__":
    main()
