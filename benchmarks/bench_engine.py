#!/usr/bin/env python3
"""Benchmark the attribution engine on ../shared/eval's corpus and queries, beside a baseline.

    python benchmarks/bench_engine.py --data $EVAL_DATA [--eval-kit ../shared/eval] [--no-baseline]
        [--before CHECKOUT] [--half report]

Measures, in one run on this machine: build time and MB/s, index bytes per corpus byte, peak RSS
of the build and of a process serving queries, in-process query latency p50/p95, recall per
category and size, false claims on clean negatives, line-span accuracy (the eval kit's scorer,
`score_batch.py`, does the scoring) — and the same recall/false-claim/speed numbers for the
datasketch MinHashLSH baseline with BigCode's near-dedup settings (5-gram shingles of
[A-Za-z_0-9]+ tokens, 256 permutations, Jaccard 0.7, whole files). Saves JSON and Markdown
tables under benchmarks/results/.

`--before CHECKOUT` (a worktree of an earlier commit: `git worktree add /tmp/before REF`) builds
and serves the same corpus and queries with that code too, in the same run, so a change is
quoted beside what it replaced. `--half report` scores only the queries of the eval's report
half (the packages no threshold was fitted on; see `_common.half_of`).
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import half_of, load_scorer, percentile

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

_SERVE = r"""
import json, resource, sys, time
try:
    from indexer.backends import open_index
    from search_api.engine.searcher import Searcher
except ImportError:  # a --before checkout from before the indexer/search_api layout
    from indexer.backend import open_index
    from search_api.query import Searcher
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
    parser.add_argument(
        "--before", type=Path, default=None, help="A checkout of earlier code to measure beside this one."
    )
    parser.add_argument(
        "--half", choices=("all", "calibration", "report"), default="all", help="Score only this half."
    )
    args = parser.parse_args()
    if not (args.data / "queries.jsonl").exists():
        sys.exit(
            f"no {args.data / 'queries.jsonl'}: build the eval data first (see {args.eval_kit}/README.md)"
        )
    scorer = load_scorer(args.eval_kit)
    work = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    data = _half_data(args.data, args.half, work)
    try:
        rows = {}
        if args.before is not None:
            rows["before"] = _measured(args.before, data, work / "before", None, args.workers, scorer)
        rows["codecite"] = _measured(ROOT, data, work / "codecite", args.keep_index, args.workers, scorer)
        if args.before is not None:
            rows["codecite"] |= _ratios(rows["codecite"], rows["before"])
        if not args.no_baseline:
            rows["minhash-lsh (BigCode)"] = _baseline(data, work / "baseline.jsonl", scorer)
        _save(rows, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _measured(code: Path, data: Path, work: Path, keep_index: Path | None, workers: int, scorer) -> dict:
    """Build, serve and score with the code of checkout `code`."""
    work.mkdir(parents=True)
    index_dir = keep_index or work / "index"
    build = _build(data / "corpus" / "index", index_dir, workers, code)
    serve = _serve(index_dir, data / "queries.jsonl", work / "reports.jsonl", code)
    return _scored(scorer, data, work / "reports.jsonl") | build | serve


def _ratios(now: dict, before: dict) -> dict:
    keys = ("query_p50_ms", "query_p95_ms", "build_s", "serve_peak_rss_mb")
    return {f"{k}_vs_before": round(now[k] / before[k], 3) for k in keys if before.get(k)}


def _half_data(data: Path, half: str, work: Path) -> Path:
    """`data`, or a view of it whose queries.jsonl holds only the queries of one half."""
    if half == "all":
        return data
    view = work / "data"
    view.mkdir()
    (view / "corpus").symlink_to((data / "corpus").resolve())
    kept = set()
    with open(data / "queries.jsonl") as src, open(view / "queries.jsonl", "w") as out:
        for line in src:
            query = json.loads(line)
            if half_of(query["origin"].split("/")[0]) == half:
                kept.add(query["qid"])
                out.write(line)
    near = data / "near_copies.json"
    if near.exists():
        qids = [q for q in json.loads(near.read_text())["qids"] if q in kept]
        (view / "near_copies.json").write_text(json.dumps({"qids": qids}))
    return view


# Runs a command and prints the peak RSS (KB) of it and its workers last on stderr: a fresh
# process for each build, so one build's peak is not another's.
_PEAK_RSS = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(done.returncode)"
)


def _build(corpus: Path, index_dir: Path, workers: int, code: Path = ROOT) -> dict:
    """Build with the CLI of checkout `code` in a child process: wall time, MB/s, size ratio, peak RSS."""
    shutil.rmtree(index_dir, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            _PEAK_RSS,
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
        cwd=code,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"index build failed:\n{done.stderr}")
    summary = json.loads(done.stdout)
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    index_bytes = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    return {
        "documents": summary["documents"],
        "corpus_mb": round(summary["bytes"] / 1e6, 1),
        "build_s": round(seconds, 2),
        "build_mb_s": round(summary["bytes"] / 1e6 / seconds, 1),
        "build_peak_rss_mb": round(peak_kb / 1024, 0),
        "index_mb": round(index_bytes / 1e6, 1),
        "index_per_corpus_byte": round(index_bytes / summary["bytes"], 3),
    }


def _serve(index_dir: Path, queries: Path, out: Path, code: Path = ROOT) -> dict:
    """Answer every query in one child process with the code of checkout `code`: latency and the
    RSS of serving."""
    done = subprocess.run(
        [sys.executable, "-c", _SERVE, str(index_dir), str(queries), str(out)],
        capture_output=True,
        text=True,
        cwd=code,
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
    per_cat, ious, missing, _total, as_notice = scorer.score(data, out)
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
    result["answered_as_notice"] = as_notice  # license-text queries answered by the Report's notices
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
        "half": args.half,
        "before": str(args.before) if args.before else None,
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
        "query_p50_ms_vs_before",
        "query_p95_ms_vs_before",
        "build_s_vs_before",
        "serve_peak_rss_mb_vs_before",
    ]
    half = "" if args.half == "all" else f", {args.half} half"
    lines = [
        f"# Engine benchmark ({meta['date']}, {meta['machine']}, {rows['codecite'].get('queries')} queries{half})",
        "",
        "| metric | " + " | ".join(rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for key in keys:
        lines.append(f"| {key} | " + " | ".join(str(r.get(key, "")) for r in rows.values()) + " |")
    scored = {name: row["per_category"] for name, row in rows.items() if "per_category" in row}
    lines += ["", "Per category, % matched (negative/*: false claims):", ""]
    lines += ["| category | " + " | ".join(scored) + " |", "|---|" + "---|" * len(scored)]
    for category in rows["codecite"]["per_category"]:
        lines.append(
            f"| {category} | " + " | ".join(str(c.get(category, "")) for c in scored.values()) + " |"
        )
    table = "\n".join(lines) + "\n"
    (RESULTS / "engine.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
