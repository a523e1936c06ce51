#!/usr/bin/env python3
"""Benchmark the attribution engine on ../shared/eval's corpus and queries, beside a baseline.

    python benchmarks/bench_engine.py --data $EVAL_DATA [--eval-kit ../shared/eval] [--no-baseline]

Measures, in one run on this machine: build time and MB/s, index bytes per corpus byte, peak RSS
of the build and of a process serving queries, in-process query latency p50/p95, recall per
category and size, false claims on clean negatives, line-span accuracy (the eval kit's scorer,
`score_batch.py`, does the scoring) — and the same recall/false-claim/speed numbers for the
datasketch MinHashLSH baseline with BigCode's near-dedup settings (5-gram shingles of
[A-Za-z_0-9]+ tokens, 256 permutations, Jaccard 0.7, whole files). Saves JSON and Markdown
tables under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import importlib.util
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import percentile

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

_SERVE = r"""
import json, resource, sys, time
from indexer.backends import open_index
from search_api.engine.searcher import Searcher
index = open_index(sys.argv[1]); searcher = Searcher(index)
searcher.attribute("def warm_up(x):\n    return x + 1\n", "Python")
latencies = []
with open(sys.argv[2]) as queries, open(sys.argv[3], "w") as out:
    for line in queries:
        q = json.loads(line)
        started = time.perf_counter()
        report = searcher.attribute(q["text"], q["language"])
        latencies.append((time.perf_counter() - started) * 1000.0)
        out.write(json.dumps({"id": q["qid"], **report.to_dict()}) + "\n")
print(json.dumps({"latencies_ms": latencies, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("EVAL_DATA", ".eval-data")))
    parser.add_argument("--eval-kit", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-baseline", action="store_true", help="Skip the MinHashLSH baseline.")
    parser.add_argument("--keep-index", type=Path, default=None, help="Build the index here and keep it.")
    args = parser.parse_args()
    queries = args.data / "queries.jsonl"
    if not queries.exists():
        sys.exit(f"no {queries}: build the eval data first (see {args.eval_kit}/README.md)")
    scorer = _load_scorer(args.eval_kit)
    work = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    index_dir = args.keep_index or work / "index"
    try:
        build = _build(args.data / "corpus" / "index", index_dir, args.workers)
        serve = _serve(index_dir, queries, work / "codecite.jsonl")
        codecite = _scored(scorer, args.data, work / "codecite.jsonl") | build | serve
        rows = {"codecite": codecite}
        if not args.no_baseline:
            rows["minhash-lsh (BigCode)"] = _baseline(args.data, work / "baseline.jsonl", scorer)
        _save(rows, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _load_scorer(kit: Path):
    spec = importlib.util.spec_from_file_location("score_batch", kit / "score_batch.py")
    if spec is None or spec.loader is None:
        sys.exit(f"cannot load {kit}/score_batch.py; pass --eval-kit")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _build(corpus: Path, index_dir: Path, workers: int) -> dict:
    """Build with the CLI in a child process: wall time, MB/s, size ratio, peak RSS."""
    shutil.rmtree(index_dir, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "search_api.cli",
            "index",
            "build",
            str(corpus),
            "--index",
            str(index_dir),
            "--keep",
            "all",
            "--workers",
            str(workers),
            "--json",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"index build failed:\n{done.stderr}")
    summary = json.loads(done.stdout)
    index_bytes = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    return {
        "documents": summary["documents"],
        "corpus_mb": round(summary["bytes"] / 1e6, 1),
        "build_s": round(seconds, 2),
        "build_mb_s": round(summary["bytes"] / 1e6 / seconds, 1),
        "build_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 0),
        "index_mb": round(index_bytes / 1e6, 1),
        "index_per_corpus_byte": round(index_bytes / summary["bytes"], 3),
    }


def _serve(index_dir: Path, queries: Path, out: Path) -> dict:
    """Answer every query in one child process: latency and the RSS of serving."""
    done = subprocess.run(
        [sys.executable, "-c", _SERVE, str(index_dir), str(queries), str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if done.returncode:
        sys.exit(f"querying failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return _latency(result["latencies_ms"]) | {"serve_peak_rss_mb": round(result["peak_rss_mb"], 0)}


def _latency(values: list[float]) -> dict:
    ordered = sorted(values)
    return {
        "queries": len(values),
        "query_p50_ms": round(percentile(ordered, 50), 2),
        "query_p95_ms": round(percentile(ordered, 95), 2),
    }


def _scored(scorer, data: Path, out: Path) -> dict:
    per_cat, ious, missing, _total = scorer.score(data, out)
    variants: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for cat, (hits, n) in per_cat.items():
        variants[cat.split("/")[0]][0] += hits
        variants[cat.split("/")[0]][1] += n
    pct = lambda h, n: round(100.0 * h / n, 1) if n else None
    result = {
        f"recall_{v}": pct(*variants[v]) for v in ("verbatim", "reformat", "rename", "nocomment", "embedded")
    }
    r20 = [per_cat.get(c, [0, 0]) for c in ("rename/20L", "rename/50L")]
    result["recall_rename_20L+"] = pct(sum(h for h, _ in r20), sum(n for _, n in r20))
    result["false_claims"] = pct(*variants["negative"])
    result["nearcopy_matched"] = pct(*variants["negative-nearcopy"])
    result["span_ok"] = pct(sum(i >= 0.8 for i in ious), len(ious))
    result["per_category"] = {cat: pct(h, n) for cat, (h, n) in sorted(per_cat.items())}
    result["unanswered"] = missing
    return result


_TOKEN = re.compile(r"[A-Za-z_0-9]+")


def _shingles(text: str) -> set[bytes]:
    tokens = _TOKEN.findall(text)
    return {" ".join(tokens[i : i + 5]).encode() for i in range(max(len(tokens) - 4, 0))}


def _baseline(data: Path, out: Path, scorer) -> dict:
    """BigCode near-dedup settings used as a search: LSH candidates are the reported matches."""
    from datasketch import MinHash, MinHashLSH

    started = time.perf_counter()
    lsh = MinHashLSH(threshold=0.7, num_perm=256)
    rows = []
    for shard in sorted((data / "corpus" / "index").glob("shard-*.jsonl.gz")):
        with gzip.open(shard, "rt", encoding="utf-8") as f:
            rows.extend(json.loads(line) for line in f)
    with lsh.insertion_session() as session:
        for i, (row, mh) in enumerate(
            zip(rows, MinHash.generator((_shingles(r["content"]) for r in rows), num_perm=256))
        ):
            session.insert(i, mh)
    build_s = time.perf_counter() - started
    latencies = []
    with open(data / "queries.jsonl") as queries, open(out, "w") as sink:
        for line in queries:
            q = json.loads(line)
            t0 = time.perf_counter()
            mh = MinHash(num_perm=256)
            mh.update_batch(list(_shingles(q["text"])))
            found = sorted(lsh.query(mh))[:10]
            latencies.append((time.perf_counter() - t0) * 1000.0)
            matches = [
                {
                    "source": {
                        "blob_id": rows[i]["blob_id"],
                        "repo": rows[i]["repo_name"],
                        "path": rows[i]["path"],
                    },
                    "copies": [],
                }
                for i in found
            ]
            sink.write(json.dumps({"id": q["qid"], "matches": matches}) + "\n")
    return _scored(scorer, data, out) | _latency(latencies) | {"build_s": round(build_s, 2)}


def _save(rows: dict[str, dict], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    meta = {
        "machine": f"{os.cpu_count()} cores",
        "python": sys.version.split()[0],
        "date": time.strftime("%Y-%m-%d"),
        "data": str(args.data),
        "workers": args.workers,
    }
    (RESULTS / "engine.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    keys = [
        "recall_verbatim",
        "recall_reformat",
        "recall_rename",
        "recall_rename_20L+",
        "recall_nocomment",
        "recall_embedded",
        "false_claims",
        "span_ok",
        "query_p50_ms",
        "query_p95_ms",
        "build_s",
        "build_mb_s",
        "index_per_corpus_byte",
        "build_peak_rss_mb",
        "serve_peak_rss_mb",
    ]
    lines = [
        f"# Engine benchmark ({meta['date']}, {meta['machine']}, {rows['codecite'].get('queries')} queries)",
        "",
        "| metric | " + " | ".join(rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for key in keys:
        lines.append(f"| {key} | " + " | ".join(str(r.get(key, "")) for r in rows.values()) + " |")
    lines += ["", "Recall per category (codecite):", "", "| category | % |", "|---|---|"]
    lines += [f"| {c} | {v} |" for c, v in rows["codecite"]["per_category"].items()]
    table = "\n".join(lines) + "\n"
    (RESULTS / "engine.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
