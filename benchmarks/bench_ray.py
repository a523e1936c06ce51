#!/usr/bin/env python3
"""Build rate of the Ray executor with 1 and 2 workers (local clusters), beside the single-process
build, on the same input files, in one run.

    python benchmarks/bench_ray.py SHARD_OR_DIR... --work /path/to/work [--segment-mb 64] [--repeat 3]

Every build uses the same `--segment-mb` (Ray writes one segment per task, as a single-process
build would lay them out: with one segment per input there is nothing to write in parallel).
`seconds` is the build (`BuildResult.seconds`); `with_start_s` adds starting the local Ray cluster
(a build on a running cluster does not pay it). Saves benchmarks/results/ray.{json,md}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

_BUILD = r"""
import json, logging, sys, time
phases = []  # the Ray build logs when each phase ends: "fingerprinted ...: 16.5 s"
class Phases(logging.Handler):
    def emit(self, record):
        phases.append(record.getMessage())
logging.getLogger("indexer.distributed.ray_build").addHandler(Phases())
logging.getLogger("indexer.distributed.ray_build").setLevel(logging.INFO)
from indexer.licenses.expressions import parse_keep
from indexer.placement import BuildSettings
executor, workers, segment, index, *sources = sys.argv[1:]
settings = BuildSettings(keep=parse_keep("all"), workers=int(workers), max_segment_bytes=int(segment))
started = time.perf_counter()
if executor == "ray":
    import ray
    from indexer.distributed.ray_build import build_with_ray
    ray.init(num_cpus=int(workers), include_dashboard=False, log_to_driver=False)
    result = build_with_ray(index, sources, settings=settings)
else:
    from indexer.backends import open_writer
    from indexer.sources import open_source
    import itertools
    items = itertools.chain.from_iterable(open_source(s) for s in sources)
    result = open_writer(index).build(items, settings=settings, sources=sources)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": result.seconds, "with_start_s": seconds, "bytes": result.stats.bytes,
                  "documents": result.stats.documents, "segments": len(result.manifest.segments),
                  "phases": [p for p in phases if p.endswith(" s")]}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("sources", nargs="+")
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--segment-mb", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3, help="Rounds; the table gives medians.")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    runs = [("local", 2), ("ray", 1), ("ray", 2)]
    measured: dict[tuple[str, int], list[dict]] = {run: [] for run in runs}
    for _ in range(args.repeat):  # rounds interleave the runs, so load drifts hit them alike
        for executor, workers in runs:
            measured[(executor, workers)].append(_build(args, executor, workers))
            print(json.dumps(measured[(executor, workers)][-1]), flush=True)
    rows = []
    for (executor, workers), results in measured.items():
        row = min(results, key=lambda r: r["seconds"]) | {"executor": executor, "workers": workers}
        row["seconds"] = statistics.median(r["seconds"] for r in results)
        row["with_start_s"] = statistics.median(r["with_start_s"] for r in results)
        row["mb_s"] = round(row["bytes"] / 1e6 / row["seconds"], 2)
        rows.append(row)
    one = next(r for r in rows if r["executor"] == "ray" and r["workers"] == 1)
    for row in rows:
        row["speedup_vs_ray_1"] = round(one["seconds"] / row["seconds"], 2)
    _save(rows, args)


def _build(args: argparse.Namespace, executor: str, workers: int) -> dict:
    index = args.work / f"index-{executor}-{workers}"
    shutil.rmtree(index, ignore_errors=True)
    command = [sys.executable, "-c", _BUILD, executor, str(workers), str(args.segment_mb << 20), str(index)]
    done = subprocess.run([*command, *args.sources], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"executor": executor, "workers": workers}


def _save(rows: list[dict], args: argparse.Namespace) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    meta = {
        "date": dt.date.today().isoformat(),
        "cpus": os.cpu_count(),
        "load_avg": [round(x, 1) for x in load],
        "sources": args.sources,
        "segment_mb": args.segment_mb,
    }
    (RESULTS / "ray.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [
        f"# Ray build benchmark ({meta['date']}, {meta['cpus']} cores, load average {load[0]:.1f} at the end)",
        "",
        (
            f"{rows[0]['documents']:,} documents, {rows[0]['bytes'] / 1e6:.0f} MB, segments of {args.segment_mb} MB; "
            f"medians of {args.repeat} interleaved rounds."
        ),
        "",
        "| executor | workers | build s | with cluster start s | MB/s | segments | speed-up vs Ray with 1 worker |",
        "|---|---|---|---|---|---|---|",
        *(
            f"| {r['executor']} | {r['workers']} | {r['seconds']:.1f} | {r['with_start_s']:.1f} | {r['mb_s']} | "
            f"{r['segments']} | {r['speedup_vs_ray_1']} |"
            for r in rows
        ),
    ]
    (RESULTS / "ray.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
