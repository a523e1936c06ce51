#!/usr/bin/env python3
"""What the gate reports on whole files of code that was never indexed: `codecite check` over the
eval kit's held-out packages, laid out as a source tree.

    python benchmarks/bench_files.py --data $EVAL_DATA [--index DIR] [--half report|calibration|all]
        [--sample 100] [--labels benchmarks/labels/whole-files.jsonl]

Prints and saves (``benchmarks/results/files.{json,md}``): files scanned and flagged, findings by
decision, notices, and reported matches by method, size and confidence. With `--sample N` it
writes a seeded random sample of N reported matches, each with the query's and the source's
lines, to the labels file for a compliance reviewer to judge (``genuine`` shared code, ``license``
text, ``coincidence``, ``unclear``); labels already in that file are kept, and the precision they
give (genuine / labelled) is reported. The packages are the eval's held-out split; `--half`
keeps those of one half (the confidence model is fitted on the calibration half's snippets, so the
report half is the fair test).
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import CODECITE, ensure_index, half_of

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
LABELS = ROOT / "benchmarks" / "labels" / "whole-files.jsonl"
SIZES = [(0, 100), (100, 200), (200, 500), (500, 10**9)]
VERDICTS = ("genuine", "license", "coincidence", "unclear")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("EVAL_DATA", ".eval-data")))
    parser.add_argument(
        "--index", type=Path, default=None, help="Index of the eval's index split (built if missing)."
    )
    parser.add_argument("--half", choices=["report", "calibration", "all"], default="report")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--sample", type=int, default=0, help="Write a sample of N matches to label.")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument(
        "--policy", type=Path, default=None, help="Policy file (default: the built-in policy)."
    )
    parser.add_argument(
        "--min-confidence", type=float, default=None, help="The engine's floor (check's option)."
    )
    args = parser.parse_args()
    index = args.index or args.data / "codecite-index"
    ensure_index(index, args.data / "corpus" / "index")
    work = Path(tempfile.mkdtemp(prefix="bench-files-"))
    try:
        tree, packages = lay_out(args.data, work / "tree", args.half)
        extra = [
            *(["--policy", str(args.policy.resolve())] if args.policy else []),
            *(["--min-confidence", str(args.min_confidence)] if args.min_confidence is not None else []),
        ]
        result, seconds = check(tree, index, args.jobs, work / "check.json", extra)
        matches = reported_matches(result)
        reviewed = {_key(m) for m in matches}
        if args.sample:
            reviewed = write_sample(matches, args.labels, args.sample, tree, index)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    table = summarize(result, matches) | {
        "packages": packages,
        "seconds": round(seconds, 1),
        "half": args.half,
    }
    table["review"] = precision(args.labels, reviewed)
    _save(table)


def lay_out(data: Path, tree: Path, half: str) -> tuple[Path, list[str]]:
    """The held-out packages of `half` as files under `tree/<package>/<path>`."""
    packages = set()
    for shard in sorted((data / "corpus" / "heldout").glob("shard-*.jsonl.gz")):
        with gzip.open(shard, "rt", encoding="utf-8") as f:
            for row in map(json.loads, f):
                if half != "all" and half_of(row["package"]) != half:
                    continue
                path = tree / row["package"].replace(":", "-") / row["path"]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(row["content"], encoding="utf-8")
                packages.add(row["package"])
    return tree, sorted(packages)


def check(tree: Path, index: Path, jobs: int, out: Path, extra: list[str]) -> tuple[dict, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [
            *CODECITE,
            "check",
            str(tree),
            "--index",
            str(index),
            "--format",
            "json",
            "-o",
            str(out),
            "--jobs",
            str(jobs),
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=tree,
        check=False,
    )
    if done.returncode not in (0, 1):
        sys.exit(f"codecite check failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(out.read_text()), time.perf_counter() - started


def reported_matches(result: dict) -> list[dict]:
    """Every match the gate reports (a finding that is not boilerplate), with its file's text."""
    out = []
    for file in result["files"]:
        report, decision = file["report"], file["decision"]
        for finding in decision["findings"]:
            if finding["boilerplate"]:
                continue
            match = (report["matches"] + report["boilerplate"])[finding["match"]]
            out.append({"file": file["path"], "action": finding["action"], "match": match})
    return out


def summarize(result: dict, matches: list[dict]) -> dict:
    findings = collections.Counter()
    for file in result["files"]:
        for key, n in file["decision"]["counts"].items():
            findings[key] += n
    flagged = sum(
        1 for f in result["files"] if any(x["action"] != "allow" for x in f["decision"]["findings"])
    )
    by_size = collections.Counter(
        next(f"{lo}-{hi if hi < 10**9 else ''}" for lo, hi in SIZES if lo <= m["match"]["matched_chars"] < hi)
        for m in matches
    )
    return {
        "files_scanned": len(result["files"]),
        "files_flagged": flagged,
        "files_flagged_pct": round(100.0 * flagged / max(len(result["files"]), 1), 2),
        "findings": dict(findings),
        "notices": sum(len(f["report"].get("notices", [])) for f in result["files"]),
        "matches_by_method": dict(collections.Counter(m["match"]["method"] for m in matches)),
        "matches_by_size": dict(sorted(by_size.items())),
        "matches_by_action": dict(collections.Counter(m["action"] for m in matches)),
    }


def write_sample(matches: list[dict], labels: Path, n: int, tree: Path, index: Path) -> set[str]:
    """A seeded sample of `n` reported matches to label, with the lines of both sides, written
    first (`"sample": true`); the verdicts already given for a match (same file, line and source)
    are kept, and labelled matches outside this sample stay in the file for a later one. Returns
    the sample's keys."""
    from indexer.backends import open_index

    source_index = open_index(str(index))
    given = {row["key"]: row for row in _read_labels(labels)}
    rows = []
    for m in random.Random(20261203).sample(matches, min(n, len(matches))):
        match, key = m["match"], _key(m)
        doc_id = source_index.find_blob(match["source"]["blob_id"])
        source_text = source_index.text(doc_id) if doc_id is not None else ""
        review = given.pop(key, {})
        rows.append(
            {
                "key": key,
                "sample": True,
                "file": m["file"],
                "query_span": match["query_span"],
                "action": m["action"],
                "source": f"{match['source']['repo']}:{match['source']['path']}",
                "source_span": match["source_span"],
                "method": match["method"],
                "matched_chars": match["matched_chars"],
                "confidence": match["confidence"],
                "evidence": match["evidence"],
                "query_text": _lines((tree / m["file"]).read_text(encoding="utf-8"), match["query_span"]),
                "source_text": _lines(source_text, match["source_span"]),
                "label": review.get("label"),
                "note": review.get("note", ""),
            }
        )
    rows += [row | {"sample": False} for row in given.values() if row.get("label") in VERDICTS]
    labels.parent.mkdir(parents=True, exist_ok=True)
    labels.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return {row["key"] for row in rows if row["sample"]}


def _key(reported: dict) -> str:
    match = reported["match"]
    return f"{reported['file']}:{match['query_span']['start_line']}:{match['source']['blob_id']}"


def _lines(text: str, span: dict) -> str:
    return "\n".join(text.split("\n")[span["start_line"] - 1 : span["end_line"]])


def precision(labels: Path, keys: set[str]) -> dict:
    """The reviewed verdicts on the matches of `keys` (this run's sample, or every match it
    reported), and the share of genuine ones among those judged."""
    rows = [r for r in _read_labels(labels) if r.get("label") in VERDICTS and r["key"] in keys]
    counts = collections.Counter(r["label"] for r in rows)
    judged = len(rows) - counts["unclear"]
    return {
        "labelled": len(rows),
        "verdicts": dict(counts),
        "precision_pct": round(100.0 * counts["genuine"] / judged, 1) if judged else None,
    }


def _read_labels(labels: Path) -> list[dict]:
    if not labels.exists():
        return []
    return [json.loads(line) for line in labels.read_text().splitlines() if line.strip()]


def _save(table: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "files.json").write_text(json.dumps(table, indent=1) + "\n")
    lines = [
        f"# `codecite check` on never-indexed packages ({time.strftime('%Y-%m-%d')}, {table['half']} half)",
        "",
        f"Packages: {', '.join(table['packages'])}",
        "",
        "| figure | value |",
        "|---|---|",
    ]
    for key in (
        "files_scanned",
        "files_flagged",
        "files_flagged_pct",
        "findings",
        "notices",
        "matches_by_method",
        "matches_by_size",
        "matches_by_action",
        "seconds",
        "review",
    ):
        lines.append(f"| {key} | {json.dumps(table[key]) if isinstance(table[key], dict) else table[key]} |")
    text = "\n".join(lines) + "\n"
    (RESULTS / "files.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
