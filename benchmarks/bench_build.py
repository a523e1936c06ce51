#!/usr/bin/env python3
"""Single-process build speed on the scale corpus, beside an earlier checkout in the same run.

    python benchmarks/bench_build.py --scale-data /work/scale-data --eval-data /work/eval-data \\
        --before /tmp/before [--tiers 0.25,1] [--repeat 3]

For each tier (the same inputs as `bench_scale.py`: the tier's shards plus the eval's index split),
builds alternate between this checkout and `--before` (a worktree of an earlier commit:
`git worktree add /tmp/before REF`), `--repeat` times each, so load on this shared machine falls on
both alike. Prints and saves (benchmarks/results/build.{json,md}) the median seconds, MB/s, CPU
share and peak RSS of each, the ratio, and whether the two builds wrote byte-identical segments
(a speed change must not change the index).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_scale import load_manifest, tier_files

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# A fresh child process per build: its CPU seconds and peak RSS are the build's alone.
_MEASURED = (
    "import json, resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "use = resource.getrusage(resource.RUSAGE_CHILDREN); "
    "print(json.dumps({'rc': done.returncode, 'stdout': done.stdout, 'stderr': done.stderr[-2000:], "
    "'cpu_s': use.ru_utime + use.ru_stime, 'peak_rss_mb': use.ru_maxrss / 1024}))"
)


def main() -> int:
    args = _arguments()
    manifest = load_manifest(args.scale_data)
    rows = []
    for tier in args.tiers.split(","):
        files = tier_files(args.scale_data, args.eval_data, manifest, tier)
        rows.append(_tier(args, tier, files))
        print(_markdown_row(rows[-1]), flush=True)
    _save(args, rows)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale-data", type=Path, default=Path(os.environ.get("SCALE_DATA", ".scale-data")))
    parser.add_argument("--eval-data", type=Path, default=Path(os.environ.get("EVAL_DATA", ".eval-data")))
    parser.add_argument("--before", type=Path, required=True, help="A checkout of earlier code.")
    parser.add_argument("--tiers", default="0.25,1")
    parser.add_argument("--repeat", type=int, default=3, help="Builds per checkout and tier.")
    parser.add_argument("--work", type=Path, default=Path("/tmp/bench-build"), help="Where indexes go.")
    parser.add_argument("--output", type=Path, default=HERE / "results" / "build")
    return parser.parse_args()


def _tier(args: argparse.Namespace, tier: str, files: list[Path]) -> dict:
    runs: dict[str, list[dict]] = {"now": [], "before": []}
    for _ in range(args.repeat):
        for label, code in (("before", args.before), ("now", ROOT)):
            runs[label].append(_build(code, files, args.work / f"{label}-{tier}"))
    same = _segment_digests(args.work / f"now-{tier}") == _segment_digests(args.work / f"before-{tier}")
    now, before = _summary(runs["now"]), _summary(runs["before"])
    return {
        "tier_gb": tier,
        "corpus_mb": now["corpus_mb"],
        "documents": now["documents"],
        "now": now,
        "before": before,
        "speedup": round(before["seconds"] / now["seconds"], 3),
        "identical_segments": same,
    }


def _build(code: Path, files: list[Path], index: Path) -> dict:
    """One build with the CLI of checkout `code` (imports resolve there first: it is the cwd)."""
    shutil.rmtree(index, ignore_errors=True)
    command = [sys.executable, "-m", "search_api.cli", "index", "build", *map(str, files)]
    command += ["--index", str(index), "--keep", "all", "--quiet", "--json"]
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, *command], cwd=code, capture_output=True, text=True, check=True
    )
    wall = time.perf_counter() - started
    measured = json.loads(done.stdout)
    if measured["rc"]:
        sys.exit(f"the build with {code} failed:\n{measured['stderr']}")
    summary = json.loads(measured["stdout"])
    return {
        "seconds": summary["seconds"],
        "wall_s": wall,
        "bytes": summary["bytes"],
        "documents": summary["documents"],
        "cpu_share": measured["cpu_s"] / wall,
        "peak_rss_mb": measured["peak_rss_mb"],
    }


def _summary(runs: list[dict]) -> dict:
    seconds = statistics.median(r["seconds"] for r in runs)
    return {
        "seconds": round(seconds, 2),
        "all_seconds": [r["seconds"] for r in runs],
        "mb_per_s": round(runs[0]["bytes"] / 1e6 / seconds, 2),
        "cpu_share": round(statistics.median(r["cpu_share"] for r in runs), 2),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in runs)),
        "corpus_mb": round(runs[0]["bytes"] / 1e6, 1),
        "documents": runs[0]["documents"],
    }


def _segment_digests(index: Path) -> list[tuple[str, str]]:
    """(file name, sha256) of every segment file; segment directory names hold a timestamp."""
    digests = []
    for path in sorted((index / "segments").rglob("*")):
        if path.is_file():
            digests.append((path.name, hashlib.sha256(path.read_bytes()).hexdigest()))
    return sorted(digests)


_HEADER = (
    "| tier GB | corpus MB | documents | before s | now s | before MB/s | now MB/s | speedup | "
    "CPU share before / now | peak RSS MB before / now | identical segments |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|"
)


def _markdown_row(row: dict) -> str:
    b, n = row["before"], row["now"]
    return (
        f"| {row['tier_gb']} | {row['corpus_mb']} | {row['documents']:,} | {b['seconds']} | {n['seconds']} | "
        f"{b['mb_per_s']} | {n['mb_per_s']} | {row['speedup']}x | {b['cpu_share']} / {n['cpu_share']} | "
        f"{b['peak_rss_mb']} / {n['peak_rss_mb']} | {'yes' if row['identical_segments'] else 'NO'} |"
    )


def _save(args: argparse.Namespace, rows: list[dict]) -> None:
    load = os.getloadavg()[0]
    when = f"{datetime.now(UTC):%Y-%m-%d}"
    text = (
        f"# Single-process build speed ({when}, {os.cpu_count()} cores, load average {load:.1f} at the end)\n\n"
        f"`codecite index build --keep all` (2 fingerprinting threads), this checkout beside `{args.before}`, "
        f"{args.repeat} alternating builds each; medians. Target: 15 MB/s.\n\n"
        + _HEADER
        + "\n"
        + "\n".join(_markdown_row(r) for r in rows)
        + "\n"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.with_suffix(".md").write_text(text)
    args.output.with_suffix(".json").write_text(
        json.dumps({"date": when, "before": str(args.before), "load_average": load, "rows": rows}, indent=2)
    )
    print(text)


if __name__ == "__main__":
    sys.exit(main())
