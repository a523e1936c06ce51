#!/usr/bin/env python3
"""Query latency and build rate as the corpus grows: codecite beside tantivy (BM25), same files,
same queries, one run.

    python benchmarks/bench_scale.py --scale-data $SCALE_DATA --eval-data $EVAL_DATA \\
        --work /path/to/work [--tiers 0.25,0.5,1,2] [--per-kind 1000] [--no-tantivy]

For each tier T of the scale corpus (`benchmarks/scale_corpus.py`: nested subsets of about T GB
of real package code) it indexes the tier plus the eval kit's ``index`` split (so the eval's
positives stay positive) and measures: build seconds, MB/s and peak RSS; index bytes; peak RSS
of a process serving queries (in-process, `Searcher.attribute`); latency p50/p95/p99 for code
that is in the corpus and code that is not. Queries: the eval's 9,000 plus `--per-kind`
positives cut from files of the smallest tier (in every tier) and as many negatives cut from
the scale corpus's held-out packages, in the eval's sizes. tantivy indexes the same files (one
document per file, BM25 over its default tokenizer) and answers the same queries (an OR of the
query's distinct words, top 10). Built indexes and measurements are cached under --work, so a
run that stops resumes; --fresh rebuilds. Saves benchmarks/results/scale.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _common import CODECITE, percentile

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
SIZES = {"150c": 0, "5L": 5, "10L": 10, "20L": 20, "50L": 50}

_SERVE = r"""
import json, resource, sys, time
from indexer.backends import open_index
from search_api.engine.searcher import Searcher
index = open_index(sys.argv[1]); searcher = Searcher(index)
searcher.attribute("def warm_up(x):\n    return x + 1\n", "Python")
out = []
for line in open(sys.argv[2]):
    q = json.loads(line)
    started = time.perf_counter()
    report = searcher.attribute(q["text"], q["language"])
    out.append([q["kind"], (time.perf_counter() - started) * 1000.0, len(report.matches)])
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
status = dict(line.split(":", 1) for line in open("/proc/self/status") if line.startswith("Rss"))
kinds = {k: int(v.split()[0]) / 1024 for k, v in status.items()}  # anonymous vs file-backed (mapped index)
print(json.dumps({"queries": out, "serve_peak_rss_mb": rss, "rss_anon_mb": kinds.get("RssAnon", 0),
                  "rss_file_mb": kinds.get("RssFile", 0)}))
"""

_TANTIVY = r"""
import gzip, json, re, resource, sys, time, tantivy
files, index_dir, queries = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
builder = tantivy.SchemaBuilder()
builder.add_text_field("content", stored=False)
builder.add_text_field("path", stored=True)
schema = builder.build()
started = time.perf_counter()
index = tantivy.Index(schema, path=index_dir)
writer = index.writer(heap_size=256_000_000, num_threads=2)
size = 0
for shard in files:
    for line in gzip.open(shard, "rt"):
        row = json.loads(line)
        size += len(row["content"].encode("utf-8", "surrogatepass"))
        writer.add_document(tantivy.Document(content=row["content"], path=f"{row['repo_name']}/{row['path']}"))
writer.commit(); writer.wait_merging_threads()
build_s = time.perf_counter() - started
index.reload(); searcher = index.searcher()
word = re.compile(r"[A-Za-z0-9_]+")
out = []
for line in open(queries):
    q = json.loads(line)
    started = time.perf_counter()
    terms = list(dict.fromkeys(w.lower() for w in word.findall(q["text"])))[:64]
    query = tantivy.Query.boolean_query(
        [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "content", t)) for t in terms])
    hits = searcher.search(query, 10).hits if terms else []
    out.append([q["kind"], (time.perf_counter() - started) * 1000.0, len(hits)])
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"queries": out, "build_s": build_s, "corpus_bytes": size, "serve_peak_rss_mb": rss}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale-data", type=Path, default=Path(os.environ.get("SCALE_DATA", ".scale-data")))
    parser.add_argument("--eval-data", type=Path, default=Path(os.environ.get("EVAL_DATA", ".eval-data")))
    parser.add_argument("--work", type=Path, required=True, help="Indexes and cached measurements.")
    parser.add_argument("--tiers", default="0.25,0.5,1,2")
    parser.add_argument("--per-kind", type=int, default=1000, help="Scale positives (and negatives) cut.")
    parser.add_argument("--no-tantivy", action="store_true")
    parser.add_argument("--fresh", action="store_true", help="Rebuild indexes and measure again.")
    args = parser.parse_args()
    if not args.no_tantivy and importlib.util.find_spec("tantivy") is None:
        sys.exit("tantivy is not installed: pip install -e '.[bench]' (or pass --no-tantivy)")
    manifest = load_manifest(args.scale_data)
    args.work.mkdir(parents=True, exist_ok=True)
    tiers = [t.strip() for t in args.tiers.split(",")]
    queries = args.work / "queries.jsonl"
    if args.fresh or not queries.exists():
        _write_queries(queries, args, manifest, tiers[0])
    rows = []
    for tier in tiers:
        files = tier_files(args.scale_data, args.eval_data, manifest, tier)
        row = _cached(args.work / f"codecite-{tier}.json", args.fresh, _codecite, args, tier, files, queries)
        if not args.no_tantivy:
            anchor = _cached(
                args.work / f"tantivy-{tier}.json", args.fresh, _tantivy, args, tier, files, queries
            )
            row |= {f"tantivy_{k}": v for k, v in anchor.items()}
        rows.append({"tier_gb": tier, **row})
        print(json.dumps(rows[-1]), flush=True)
    _save(rows, args)


def load_manifest(scale_data: Path) -> dict:
    """The scale corpus's manifest (`scale_corpus.py` writes it): its tiers and their shards."""
    found = [p for p in (scale_data / "corpus" / "manifest.json", scale_data / "manifest.json") if p.exists()]
    if not found:
        raise SystemExit(f"no scale corpus at {scale_data}: build it with benchmarks/scale_corpus.py")
    return json.loads(found[0].read_text())


def tier_files(scale_data: Path, eval_data: Path, manifest: dict, tier: str) -> list[Path]:
    """The tier's shards (nested prefixes of corpus/) and the eval kit's index split."""
    shards = manifest["tiers"][_tier_key(manifest, tier)]["shards"]
    corpus = scale_data / "corpus"
    evals = sorted((eval_data / "corpus" / "index").glob("shard-*.jsonl.gz"))
    return [corpus / Path(s).name for s in shards] + evals


def _tier_key(manifest: dict, tier: str) -> str:
    for key in manifest["tiers"]:
        if key != "all" and float(key) == float(tier):
            return key
    raise SystemExit(f"no tier {tier} in the scale manifest: it has {sorted(manifest['tiers'])}")


def _cached(path: Path, fresh: bool, measure, *args) -> dict:
    """`measure(*args)`, or what it measured before (kept in `path`) unless `fresh`."""
    if path.exists() and not fresh:
        return json.loads(path.read_text())
    result = measure(*args)
    path.write_text(json.dumps(result))
    return result


def _write_queries(path: Path, args: argparse.Namespace, manifest: dict, smallest: str) -> None:
    """The eval's queries, plus snippets cut from the smallest tier (positives) and from the
    held-out packages (negatives), in the eval's sizes."""
    out = []
    for line in (args.eval_data / "queries.jsonl").open():
        q = json.loads(line)
        kind = "eval-in" if q["label"] == "pos" else "eval-out"
        out.append({"kind": kind, "text": q["text"], "language": q["language"]})
    rng = random.Random(14)
    corpus = args.scale_data / "corpus"
    inside = [corpus / Path(s).name for s in manifest["tiers"][_tier_key(manifest, smallest)]["shards"]]
    heldout = sorted((args.scale_data / "heldout").glob("shard-*.jsonl.gz"))
    out += [{"kind": "scale-in", **q} for q in _cut(inside, args.per_kind, rng)]
    out += [{"kind": "scale-out", **q} for q in _cut(heldout, args.per_kind, rng)]
    path.write_text("".join(json.dumps(q) + "\n" for q in out))


def _cut(shards: list[Path], count: int, rng: random.Random) -> list[dict]:
    """`count` snippets of random files of `shards`, sizes in turn (150 characters, 5..50 lines)."""
    rows = []
    for shard in shards:
        with gzip.open(shard, "rt") as f:
            rows += [json.loads(line) for line in f]
    rows = [r for r in rows if r["content"].count("\n") >= 60]
    out = []
    for i in range(count):
        row = rng.choice(rows)
        lines = row["content"].splitlines(keepends=True)
        size = list(SIZES.values())[i % len(SIZES)]
        start = rng.randrange(0, len(lines) - 55)
        text = "".join(lines[start : start + 5])[:150] if size == 0 else "".join(lines[start : start + size])
        out.append({"text": text, "language": row["language"]})
    return out


def _codecite(args: argparse.Namespace, tier: str, files: list[Path], queries: Path) -> dict:
    index = args.work / f"index-{tier}"
    if args.fresh or not (index / "CURRENT").exists():
        shutil.rmtree(index, ignore_errors=True)
        build = _timed(
            [
                *CODECITE,
                "index",
                "build",
                *map(str, files),
                "--index",
                str(index),
                "--keep",
                "all",
                "--quiet",
                "--json",
            ]
        )
        summary = json.loads(build["stdout"])
        (args.work / f"build-{tier}.json").write_text(
            json.dumps(summary | {"peak_rss_mb": build["peak_rss_mb"]})
        )
    summary = json.loads((args.work / f"build-{tier}.json").read_text())
    served = json.loads(_timed([sys.executable, "-c", _SERVE, str(index), str(queries)])["stdout"])
    index_bytes = sum(p.stat().st_size for p in (index / "segments").rglob("*") if p.is_file())
    return {
        "corpus_mb": round(summary["bytes"] / 1e6, 1),
        "documents": summary["documents"],
        "build_s": summary["seconds"],
        "build_mb_s": summary["mb_per_second"],
        "build_peak_rss_mb": round(summary["peak_rss_mb"]),
        "index_mb": round(index_bytes / 1e6, 1),
        "serve_peak_rss_mb": round(served["serve_peak_rss_mb"]),
        "serve_rss_anon_mb": round(served.get("rss_anon_mb", 0)),  # at the end: private memory
        "serve_rss_file_mb": round(served.get("rss_file_mb", 0)),  # mapped index and libraries
        **_latencies(served["queries"]),
    }


def _tantivy(args: argparse.Namespace, tier: str, files: list[Path], queries: Path) -> dict:
    index = args.work / f"tantivy-{tier}"
    shutil.rmtree(index, ignore_errors=True)
    index.mkdir(parents=True)
    code = [sys.executable, "-c", _TANTIVY, json.dumps([str(f) for f in files]), str(index), str(queries)]
    result = json.loads(_timed(code)["stdout"])
    index_bytes = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
    return {
        "build_s": round(result["build_s"], 1),
        "build_mb_s": round(result["corpus_bytes"] / 1e6 / result["build_s"], 1),
        "index_mb": round(index_bytes / 1e6, 1),
        "serve_peak_rss_mb": round(result["serve_peak_rss_mb"]),
        **_latencies(result["queries"]),
    }


def _latencies(rows: list[list]) -> dict:
    out: dict[str, float] = {}
    groups = {"all": rows, "in": [r for r in rows if r[0].endswith("-in")]}
    groups["not_in"] = [r for r in rows if r[0].endswith("-out")]
    groups["eval"] = [r for r in rows if r[0].startswith("eval")]
    for name, group in groups.items():
        ms = [r[1] for r in group]
        for p in (50, 95, 99):
            out[f"{name}_p{p}_ms"] = round(percentile(ms, p), 2)
    return out


_PEAK = "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)"


def _timed(command: list[str]) -> dict:
    """Run `command` (under a wrapper whose only child it is, so the peak RSS is its own); its
    stdout, wall seconds and peak RSS (MB)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, *command], check=False, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])}... failed:\n{done.stderr[-3000:]}")
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return {"stdout": done.stdout, "seconds": time.perf_counter() - started, "peak_rss_mb": peak_kb / 1024}


def _save(rows: list[dict], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    meta = {
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "load_avg": [round(x, 1) for x in load],
    }
    (RESULTS / "scale.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    columns = [c for c in rows[0] if not c.startswith("tantivy_")] if rows else []
    anchors = [c for c in (rows[0] if rows else {}) if c.startswith("tantivy_")]
    lines = [
        f"# Scale benchmark ({meta['date']}, {meta['cpus']} cores, load average {load[0]:.1f} at the end)",
        "",
        "codecite (in-process `Searcher.attribute`); `in`: code that is in the corpus, `not_in`: code that is not.",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
        *("| " + " | ".join(str(r[c]) for c in columns) + " |" for r in rows),
    ]
    if anchors:
        lines += [
            "",
            "tantivy (BM25), same files and queries, same run:",
            "",
            "| tier_gb | " + " | ".join(anchors) + " |",
            "|" + "---|" * (len(anchors) + 1),
            *(f"| {r['tier_gb']} | " + " | ".join(str(r[c]) for c in anchors) + " |" for r in rows),
        ]
    (RESULTS / "scale.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
