"""The Stack v2's contents fetched by blob id from an S3 API and indexed: files/s at 1, 8 and 32
concurrent fetches.

The S3 API is moto's server mode (an emulator, started here: tests/s3_emulator.py, the one the
tests use), reached directly and through a proxy that adds a fixed latency to every request
(``--latency-ms``, like the round trip to a real bucket). The corpus is real code (the eval kit's
index split), laid out as The Stack v2's -ids rows (one row per repository, a ``files`` list of
blob ids) in a parquet file; every blob is uploaded gzip-compressed under ``content/{blob_id}``.

For each concurrency: fetch only (the source iterated, nothing cached), then fetch + index (an
embedded index built from the source, nothing cached); last, a rerun that reads every content
from the blob cache. Numbers against an emulator on this shared 2-core machine say how codecite
overlaps fetching with indexing, not what Software Heritage's bucket would serve.

    python benchmarks/bench_s3_ingest.py --corpus /work/eval-data/corpus/index --files 1500
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from indexer.backends import open_writer
from indexer.placement import BuildSettings
from indexer.records import Document, LicenseCategory, git_blob_id
from indexer.sources import IngestOptions, open_source

RESULTS = Path(__file__).parent / "results"
CONCURRENCY = (1, 8, 32)


def _emulator() -> Any:
    path = Path(__file__).resolve().parents[1] / "tests" / "s3_emulator.py"
    spec = importlib.util.spec_from_file_location("s3_emulator", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["s3_emulator"] = module
    spec.loader.exec_module(module)
    return module


def read_corpus(corpus: Path, limit: int) -> list[dict[str, Any]]:
    """The first `limit` code files of the corpus's shards (The Stack v2 columns, with content)."""
    rows: list[dict[str, Any]] = []
    for shard in sorted(corpus.glob("*.jsonl.gz")):
        with gzip.open(shard, "rt", encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                if row.get("content") and row.get("language") in ("Python", "JavaScript", "TypeScript"):
                    rows.append(row)
                if len(rows) >= limit:
                    return rows
    return rows


def ids_rows(files: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """The files as -ids rows (grouped by repository) and the blobs to upload (id -> content)."""
    blobs: dict[str, bytes] = {}
    by_repo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in files:
        raw = f["content"].encode("utf-8")
        blob = git_blob_id(raw)
        blobs[blob] = raw
        by_repo[f["repo_name"]].append(
            {
                "blob_id": blob,
                "path": "/" + f["path"],
                "language": f["language"],
                "length_bytes": len(raw),
                "detected_licenses": list(f.get("detected_licenses") or []),
                "license_type": f.get("license_type") or "no_license",
                "src_encoding": "UTF-8",
                "is_vendor": False,
                "is_generated": False,
            }
        )
    rows = [
        {
            "repo_name": repo,
            "revision_id": git_blob_id(repo.encode()),
            "revision_date": dt.datetime(2020, 1, 1),
            "star_events_count": 1,
            "files": listed,
        }
        for repo, listed in by_repo.items()
    ]
    return rows, blobs


def upload(target: Any, blobs: dict[str, bytes]) -> None:
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda kv: target.put(kv[1], kv[0]), blobs.items()))


def run(parquet: Path, settings: Any, index: Path | None) -> tuple[float, int]:
    """Seconds to fetch (and index, when `index` is given) every file; documents kept."""
    source = open_source(str(parquet), IngestOptions(blob_store=settings))
    started = time.perf_counter()
    if index is None:
        kept = sum(isinstance(item, Document) for item in source)
    else:
        built = open_writer(index).build(source, settings=BuildSettings(keep=frozenset(LicenseCategory)))
        kept = built.stats.documents
    return time.perf_counter() - started, kept


def measure(parquet: Path, target: Any, endpoint: str, tmp: Path, label: str) -> list[dict[str, Any]]:
    out = []
    for concurrency in CONCURRENCY:
        settings = target.settings(None, endpoint=endpoint, concurrency=concurrency)
        fetch_s, kept = run(parquet, settings, None)
        index_s, indexed = run(parquet, settings, tmp / f"idx-{label}-{concurrency}")
        out.append(
            {
                "store": label,
                "concurrency": concurrency,
                "files": kept,
                "fetch_s": round(fetch_s, 2),
                "fetch_files_per_s": round(kept / fetch_s, 1),
                "fetch_index_s": round(index_s, 2),
                "fetch_index_files_per_s": round(indexed / index_s, 1),
            }
        )
        print(out[-1], file=sys.stderr)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="/work/eval-data/corpus/index", type=Path)
    parser.add_argument("--files", type=int, default=1500, help="Code files to upload and ingest.")
    parser.add_argument("--latency-ms", type=float, default=20.0, help="Added to every request by the proxy.")
    args = parser.parse_args()
    emulator = _emulator()
    files = read_corpus(args.corpus, args.files)
    rows, blobs = ids_rows(files)
    moto = emulator.MotoS3()
    proxy = emulator.FaultProxy(moto.url, latency_s=args.latency_ms / 1000)
    try:
        upload(moto.target, blobs)
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            parquet = tmp / "train-ids.parquet"
            pq.write_table(pa.Table.from_pylist(rows), parquet)
            table = measure(parquet, moto.target, moto.url, tmp, "emulator, direct")
            table += measure(
                parquet, moto.target, proxy.url, tmp, f"emulator + {args.latency_ms:g} ms a request"
            )
            cache = tmp / "cache"
            run(parquet, moto.target.settings(cache, concurrency=32), None)  # fill the cache
            cached_s, cached_n = run(parquet, moto.target.settings(cache, concurrency=32), tmp / "idx-cached")
    finally:
        proxy.stop()
        moto.stop()
    write(args, files, blobs, rows, table, (cached_s, cached_n))


def write(args: Any, files: list, blobs: dict[str, bytes], rows: list, table: list, cached: tuple) -> None:
    load = os.getloadavg()
    meta = {
        "corpus": str(args.corpus),
        "files": len(files),
        "repositories": len(rows),
        "megabytes": round(sum(map(len, blobs.values())) / 1e6, 2),
        "latency_ms": args.latency_ms,
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "load_average": [round(x, 1) for x in load],
        "server": "moto server mode (S3 emulator), one process on this machine",
        "cached_rerun": {"seconds": round(cached[0], 2), "files_per_s": round(cached[1] / cached[0], 1)},
    }
    result = {"meta": meta, "runs": table}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "s3_ingest.json").write_text(json.dumps(result, indent=1) + "\n")
    lines = [
        "# The Stack v2 ingest from an S3 API: files/s by concurrent fetches",
        "",
        (
            f"Server: **{meta['server']}**, reached directly and through a proxy adding {args.latency_ms:g} ms "
            f"to every request. Corpus: {meta['files']:,} code files ({meta['megabytes']} MB) of {args.corpus} "
            f"in {meta['repositories']:,} -ids rows. Machine: {meta['machine']}, shared (load average "
            f"{', '.join(map(str, meta['load_average']))}); {meta['date']}; "
            "`python benchmarks/bench_s3_ingest.py` regenerates this file. Nothing is cached in these runs."
        ),
        "",
        "| store | concurrent fetches | fetch only: files/s | fetch + index: files/s | fetch + index: seconds |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for r in table:
        lines.append(
            f"| {r['store']} | {r['concurrency']} | {r['fetch_files_per_s']:,} | "
            f"{r['fetch_index_files_per_s']:,} | {r['fetch_index_s']} |"
        )
    by = {(r["store"], r["concurrency"]): r["fetch_index_files_per_s"] for r in table}
    slow = next(s for s, _ in by if "ms" in s)
    ratio = by[(slow, 32)] / by[(slow, 1)]
    lines += [
        "",
        (
            f"With {args.latency_ms:g} ms a request, 32 concurrent fetches index {ratio:.1f}x the files/s of one "
            f"at a time. A rerun with every content in the blob cache: "
            f"{meta['cached_rerun']['files_per_s']:,} files/s read from the cache and indexed (no request sent)."
        ),
        "",
    ]
    (RESULTS / "s3_ingest.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
