"""How fast `codecite check` scans a tree: files per second against a local index.

    build the eval index (once)  ─►  lay out a tree of N code files  ─►  codecite check --format json
        ─►  files/s, matches, verdict  ─►  a table under benchmarks/results/

The tree takes every code file of the held-out packages (not in the index: mostly original code)
and fills up to N with files of indexed packages (in the index: every one matches), so both the
"clean" and the "copied" paths of the pipeline are timed. Each half is also reported on its own.

    python benchmarks/bench_check.py                       # 10,000 files, all cores
    python benchmarks/bench_check.py --files 2000 --jobs 1

Needs /work/eval-data (unpacked packages and the corpus shards made from them), or --src/--corpus.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import CODECITE, document_count, ensure_index

from indexer.analysis.languages import NON_CODE, language_for_path

HERE = Path(__file__).resolve().parent


def main() -> int:
    args = _arguments()
    index = Path(args.index)
    ensure_index(index, Path(args.corpus))
    manifest = json.loads((Path(args.corpus).parent / "manifest.json").read_text())
    heldout, indexed = _package_files(Path(args.src), manifest)
    chosen_heldout = heldout[: args.files]
    chosen_indexed = indexed[: max(0, args.files - len(chosen_heldout))]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        tree = Path(tmp) / "tree"
        _lay_out(tree / "heldout", chosen_heldout, Path(args.src))
        _lay_out(tree / "indexed", chosen_indexed, Path(args.src))
        parts = [p for p in (tree / "heldout", tree / "indexed") if p.exists()]
        for label, paths in (
            ("held-out packages (not indexed)", [tree / "heldout"]),
            ("indexed packages (copies)", [tree / "indexed"]),
            ("whole tree", parts),
        ):
            if (label != "whole tree" and not args.parts) or not all(p.exists() for p in paths):
                continue
            rows.append(_time_check(label, paths, index, args.jobs, tree))
    _write_table(rows, args)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--src", default="/work/eval-data/src", help="Unpacked package sources (pypi/, npm/)."
    )
    parser.add_argument("--corpus", default="/work/eval-data/corpus/index", help="Corpus shards to index.")
    parser.add_argument(
        "--index",
        default=str(Path(tempfile.gettempdir()) / "codecite-bench-eval-index"),
        help="Index directory (built with --keep all when missing).",
    )
    parser.add_argument("--files", type=int, default=10_000, help="Files in the scanned tree.")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="codecite check --jobs.")
    parser.add_argument(
        "--parts", action="store_true", help="Also time the held-out and indexed halves apart."
    )
    parser.add_argument("--out", default=str(HERE / "results" / "check.md"), help="Markdown table to write.")
    return parser.parse_args()


def _package_files(src: Path, manifest: dict) -> tuple[list[Path], list[Path]]:
    """Code files of the held-out and of the indexed packages, in a stable order."""
    split = {}
    for package in manifest["packages"]:
        name = package["package"].split(":", 1)[1].lstrip("@").replace("/", "-").lower()
        split[name] = package["split"]
    heldout, indexed = [], []
    for ecosystem in ("pypi", "npm"):
        for directory in sorted((src / ecosystem).iterdir()):
            name = directory.name.lower().rsplit("-", 1)[0]
            kind = split.get(name)
            if kind is None:
                continue
            files = sorted(
                p for p in directory.rglob("*") if p.is_file() and not p.is_symlink() and _is_code(p)
            )
            (heldout if kind == "heldout" else indexed).extend(files)
    return heldout, indexed


def _is_code(path: Path) -> bool:
    language = language_for_path(path.name)
    return language is not None and language not in NON_CODE and path.stat().st_size <= 1_000_000


def _lay_out(target: Path, files: list[Path], src: Path) -> None:
    for file in files:
        dest = target / file.relative_to(src)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(file, dest)
        except OSError:
            shutil.copyfile(file, dest)


def _time_check(label: str, paths: list[Path], index: Path, jobs: int, cwd: Path) -> dict[str, object]:
    command = [
        *CODECITE,
        "check",
        *map(str, paths),
        "--index",
        str(index),
        "--jobs",
        str(jobs),
        "--format",
        "json",
        "--output",
        str(cwd / "result.json"),
    ]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"codecite check failed (exit {done.returncode}): {done.stderr}")
    result = json.loads((cwd / "result.json").read_text())
    summary = result["summary"]
    files = summary["files_scanned"]
    row = {
        "part": label,
        "files": files,
        "skipped": summary["files_skipped"],
        "bytes": sum(f["report"]["query"]["chars"] for f in result["files"]),
        "matches": summary["matches"],
        "files_with_matches": sum(1 for f in result["files"] if f["report"]["matches"]),
        "findings": summary["findings"],
        "exit": done.returncode,
        "wall_s": round(seconds, 1),
        "scan_s": summary["seconds"],
        "files_per_s": round(files / seconds, 1),
        "scan_files_per_s": summary["files_per_second"],
    }
    print(json.dumps(row), file=sys.stderr)
    return row


def _write_table(rows: list[dict[str, object]], args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# `codecite check` throughput",
        "",
        (
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {platform.machine()} with "
            f"{os.cpu_count()} cores (`--jobs {args.jobs}`), Python {platform.python_version()}; "
            f"index `{args.index}` ({document_count(Path(args.index)):,} documents; built from `{args.corpus}` with "
            f"`--keep all` when missing). Command: `python benchmarks/bench_check.py --files {args.files} "
            f"--jobs {args.jobs}{' --parts' if args.parts else ''}`. Machine load average at the end: "
            f"{os.getloadavg()[0]:.1f}."
        ),
        "`wall` includes process start, index open and tree walk; `scan` is the attribution loop only.",
        "",
        (
            "| part | files | MB | files with matches | matches | findings | exit | wall s | files/s (wall) "
            "| files/s (scan) |"
        ),
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        findings = ", ".join(f"{k} {v}" for k, v in r["findings"].items()) or "-"  # type: ignore[union-attr]
        lines.append(
            f"| {r['part']} | {r['files']:,} | {r['bytes'] / 1e6:.1f} | {r['files_with_matches']:,} "
            f"| {r['matches']:,} | {findings} | {r['exit']} | {r['wall_s']} | {r['files_per_s']} "
            f"| {r['scan_files_per_s']} |"
        )
    out.write_text("\n".join(lines) + "\n")
    out.with_suffix(".json").write_text(
        json.dumps(
            {
                "measured": f"{datetime.now(UTC):%Y-%m-%dT%H:%M}Z",
                "jobs": args.jobs,
                "index": args.index,
                "rows": rows,
            },
            indent=1,
        )
        + "\n"
    )
    print(out.read_text())


if __name__ == "__main__":
    sys.exit(main())
