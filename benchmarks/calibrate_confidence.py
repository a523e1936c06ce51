#!/usr/bin/env python3
"""Fit the confidence model on one half of the eval kit's packages; report it on the other half.

    python benchmarks/calibrate_confidence.py --data $EVAL_DATA [--index DIR] [--write-model]

Every eval query is attributed with no confidence floor, and every reported span is labelled: a
match to a ground-truth file of a positive query is a copy (1); any match of a clean negative
(cut from a never-indexed package, not a near copy) is not (0); other spans are left out. Packages
are split in two halves by a hash of their name: the model (`search_api.engine.evidence`, a
logistic regression over `Evidence.features`) and its reporting floor are fitted on the
calibration half only; the reliability table (confidence bucket -> share true), the false claims
and the recall are reported on the report half. `--write-model` writes the fitted model to
``search_api/data/confidence-model.json``. Tables go to ``benchmarks/results/calibration.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from _calibration import (
    FEATURES,
    FILE_WEIGHT,
    FLOORS,
    choose_floor,
    features,
    fit_model,
    query_rates,
    reliability,
)
from _common import ensure_index, half_of, load_scorer

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
MODEL = ROOT / "search_api" / "data" / "confidence-model.json"
LABELS = ROOT / "benchmarks" / "labels"
NEGATIVES = LABELS / "eval-negatives.jsonl"
FILES_LABELS = LABELS / "whole-files-calibration.jsonl"
FILES_SAMPLE = LABELS / "whole-files.jsonl"
COPIED = {"genuine": 1, "license": 0, "coincidence": 0}  # a reviewer's verdict -> copied or not


def main() -> None:
    args = _arguments()
    spans, as_notices = _spans(args)
    write_negatives(spans, args.negatives)
    apply_reviews(spans, _read_rows(args.negatives))
    training = [s for s in spans if s["half"] == "calibration"] + reviewed_file_spans(args.files_labels)
    weights = fit_model(
        np.array([features(s) for s in training]),
        np.array([s["label"] for s in training], float),
        np.array([FILE_WEIGHT if s["qid"] is None else 1.0 for s in training]),
    )
    for s in spans:
        s["p"] = float(1.0 / (1.0 + np.exp(-(weights[0] + np.dot(weights[1:], features(s))))))
    queries = _queries(args.data)
    floor, met = choose_floor(spans, queries, as_notices, "calibration")
    model = {
        "bias": round(float(weights[0]), 4),
        "weights": {name: round(float(w), 4) for name, w in zip(FEATURES, weights[1:], strict=True)},
        "floor": floor,
    }
    _save(
        {
            "model": model,
            "floor_keeps_recall_targets": met,
            "fitted_on": "calibration half",
            "reported_on": "report half",
            "reliability": reliability(spans, "report"),
            "reliability_whole_files": file_reliability(args.files_sample, model),
            "at_floor": query_rates(spans, queries, as_notices, "report", floor),
            "without_floor": query_rates(spans, queries, as_notices, "report", 0.0),
            "trade_off": [query_rates(spans, queries, as_notices, "report", f) for f in FLOORS],
            "meta": {"date": time.strftime("%Y-%m-%d"), "data": str(args.data)},
        }
    )
    if args.write_model:
        MODEL.write_text(json.dumps(model) + "\n")
        print(f"wrote {MODEL}", file=sys.stderr)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("EVAL_DATA", ".eval-data")))
    parser.add_argument("--eval-kit", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument(
        "--index", type=Path, default=None, help="Index of the eval's index split (built if missing)."
    )
    parser.add_argument(
        "--write-model", action="store_true", help="Write search_api/data/confidence-model.json."
    )
    parser.add_argument(
        "--negatives",
        type=Path,
        default=NEGATIVES,
        help="Matches of the eval's clean negatives, with a reviewer's labels (kept; new ones added).",
    )
    parser.add_argument(
        "--files-labels",
        type=Path,
        default=FILES_LABELS,
        help="Reviewed matches of whole never-indexed files of the calibration half (bench_files).",
    )
    parser.add_argument(
        "--files-sample",
        type=Path,
        default=FILES_SAMPLE,
        help="The report half's reviewed sample of gate findings (bench_files), for a reliability table.",
    )
    parser.add_argument(
        "--spans",
        type=Path,
        default=None,
        help="Keep the labelled spans in this file and reuse them (refit without querying).",
    )
    return parser.parse_args()


def _spans(args: argparse.Namespace) -> tuple[list[dict], set[int]]:
    """The labelled spans: from the `--spans` file when it exists, else by querying the index."""
    if args.spans is not None and args.spans.exists():
        cached = json.loads(args.spans.read_text())
        return cached["spans"], set(cached["as_notices"])
    index = args.index or args.data / "codecite-index"
    ensure_index(index, args.data / "corpus" / "index")
    spans, as_notices = labelled_spans(index, args.data, load_scorer(args.eval_kit))
    if args.spans is not None:
        args.spans.write_text(json.dumps({"spans": spans, "as_notices": sorted(as_notices)}))
    return spans, as_notices


def labelled_spans(index: Path, data: Path, scorer) -> tuple[list[dict], set[int]]:
    """Every span the engine verifies for an eval query (no floor), with features and a label; and
    the positive queries answered by their notices (license wording: found, as the scorer counts)."""
    from indexer.backends import open_index
    from search_api.engine.options import QueryOptions
    from search_api.engine.searcher import Searcher

    by_blob, by_repo_path, _ = scorer.load_corpus(data)
    searcher = Searcher(open_index(str(index)), QueryOptions(min_confidence=0.0))
    out, as_notices = [], set()
    for q in _queries(data).values():
        kind = "neg" if q["category"].startswith("negative/") else q["label"]
        report = searcher.attribute(q["text"], q["language"]).to_dict()
        if kind == "pos" and scorer.answered_as_notice(q, report):
            as_notices.add(q["qid"])
        for m in report["matches"] + report["boilerplate"]:
            hit = bool(set(q["gt"]) & scorer.sources_of(m, by_blob, by_repo_path))
            label = 1 if kind == "pos" and hit else 0 if kind == "neg" else None
            if label is None or m["evidence"] is None:
                continue
            span = {
                "key": f"eval:{q['qid']}:{m['query_span']['start_line']}:{m['source']['blob_id']}",
                "qid": q["qid"],
                "half": half_of(q["origin"].split("/")[0]),
                "label": label,
                "eval_label": label,
                "category": q["category"],
                "method": m["method"],
                "evidence": m["evidence"],
            }
            if kind == "neg":
                span |= {
                    "source": f"{m['source']['repo']}:{m['source']['path']}",
                    "source_span": m["source_span"],
                    "query_span": m["query_span"],
                    "query_text": _lines(q["text"], m["query_span"]),
                    "source_text": _source_lines(searcher.index, m),
                }
            out.append(span)
    return out, as_notices


def write_negatives(spans: list[dict], path: Path) -> None:
    """The clean negatives' matches, for a reviewer to label; labels already given are kept (also
    those of matches this run no longer finds, for a later one)."""
    given = {row["key"]: row for row in _read_rows(path)}
    rows = []
    for s in spans:
        if "query_text" in s:
            rows.append(
                given.get(s["key"])
                or {
                    k: s[k]
                    for k in (
                        "key",
                        "category",
                        "query_span",
                        "source",
                        "source_span",
                        "method",
                        "evidence",
                        "query_text",
                        "source_text",
                    )
                }
                | {"label": None, "note": ""}
            )
    found = {row["key"] for row in rows}
    rows += [row for key, row in given.items() if key not in found and row.get("label")]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def apply_reviews(spans: list[dict], reviewed: list[dict]) -> None:
    """A clean negative's match that a reviewer found to be genuinely shared code is a copy (1):
    the eval labels the query, the reviewer the match (the same span of the same text)."""
    verdicts = {row["key"]: row for row in reviewed}
    for s in spans:
        row = verdicts.get(s["key"], {})
        verdict = row.get("label") if row.get("query_text") == s.get("query_text") else None
        if verdict in COPIED:
            s["label"] = COPIED[verdict]
        s["reviewed"] = verdict


def reviewed_file_spans(path: Path) -> list[dict]:
    """Reviewed matches of whole never-indexed files (calibration half), as training spans; rows
    whose evidence is an older engine's (`bench_files.py --refresh` marks them stale) are left out."""
    rows = [r for r in _read_rows(path) if r.get("label") in COPIED]
    current = [r for r in rows if not r.get("stale") and {"run", "run_lines", "lines"} <= set(r["evidence"])]
    if len(current) < len(rows):
        print(f"{len(rows) - len(current)} reviewed file matches left out: stale evidence", file=sys.stderr)
    return [
        {
            "key": r["key"],
            "half": "calibration",
            "label": COPIED[r["label"]],
            "method": r["method"],
            "evidence": r["evidence"],
            "qid": None,
        }
        for r in current
    ]


def file_reliability(path: Path, model: dict) -> list[dict]:
    """Confidence bucket -> share genuine among the report half's reviewed gate findings (which the
    gate reports at the policy's min_confidence and up), under `model`."""
    from search_api.engine.evidence import ConfidenceModel
    from search_api.engine.results import Evidence, Method

    scorer = ConfidenceModel(model["bias"], model["weights"], model["floor"])
    rows = [r for r in _read_rows(path) if r.get("sample") and r.get("label") in COPIED]
    spans = [
        {
            "half": "report",
            "p": scorer.confidence(Evidence.from_dict(r["evidence"]), Method(r["method"])),
            "label": COPIED[r["label"]],
            "eval_label": COPIED[r["label"]],
        }
        for r in rows
    ]
    return reliability(spans, "report")


def _read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _lines(text: str, span: dict) -> str:
    return "\n".join(text.split("\n")[span["start_line"] - 1 : span["end_line"]])


def _source_lines(index, match: dict) -> str:
    doc_id = index.find_blob(match["source"]["blob_id"])
    return _lines(index.text(doc_id), match["source_span"]) if doc_id is not None else ""


def _queries(data: Path) -> dict[int, dict]:
    """The eval queries by id; clean negatives that are near copies of index code become
    "negative-nearcopy" (a match is welcome there), as the eval kit's scorer counts them."""
    near = set(json.loads((data / "near_copies.json").read_text())["qids"])
    with open(data / "queries.jsonl", encoding="utf-8") as f:
        queries = {q["qid"]: q for q in map(json.loads, f)}
    for qid in near:
        queries[qid]["category"] = queries[qid]["category"].replace("negative/", "negative-nearcopy/")
    return queries


def _r4(value: float) -> float:
    return round(float(value), 4)


def _save(report: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "calibration.json").write_text(json.dumps(report, indent=1) + "\n")
    lines = [
        f"# Confidence calibration ({report['meta']['date']})",
        "",
        f"Model fitted on the calibration half of the eval's packages: `{json.dumps(report['model'])}`",
        "",
        "Reliability on the report half (spans the engine verified, no floor):",
        "",
        "| confidence | spans | share true (eval labels) | share copied (reviewed labels) |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['confidence']} | {r['spans']} | {r['share_true']} | {r['share_copied']} |"
        for r in report["reliability"]
    ]
    lines += [
        "",
        (
            "Reliability on the report half's reviewed sample of gate findings in whole never-indexed files"
            " (benchmarks/labels/whole-files.jsonl; the gate reports from the policy's min_confidence up):"
        ),
        "",
        "| confidence | matches | share genuine (reviewed) |",
        "|---|---|---|",
    ]
    lines += [
        f"| {r['confidence']} | {r['spans']} | {r['share_copied']} |"
        for r in report["reliability_whole_files"]
        if r["spans"]
    ]
    if not report["floor_keeps_recall_targets"]:
        lines += [
            "",
            f"No floor keeps every recall target on the calibration half: {report['model']['floor']} is the lowest tried.",
        ]
    for key, title in (("without_floor", "no floor"), ("at_floor", f"floor {report['model']['floor']}")):
        rates = report[key]
        lines += [
            "",
            f"Report half, {title}: recall % "
            + ", ".join(f"{v} {p}" for v, p in rates["recall"].items())
            + f"; false claims % on {rates['negatives']} clean negatives: "
            + ", ".join(f"{s} {p}" for s, p in rates["false_claims"].items())
            + "; of them not genuinely shared code (reviewed): "
            + ", ".join(f"{s} {p}" for s, p in rates["false_claims_not_shared"].items()),
        ]
    variants = list(report["without_floor"]["recall"])
    lines += [
        "",
        "Trade-off on the report half (recall % per variant; false claims % on clean negatives):",
        "",
        "| floor | " + " | ".join(variants) + " | false claims | 150c | 5L | 10L | 20L | 50L |",
        "|---" * (len(variants) + 7) + "|",
    ]
    for rates in report["trade_off"]:
        fc = rates["false_claims"]
        lines.append(
            f"| {rates['floor']} | "
            + " | ".join(str(rates["recall"][v]) for v in variants)
            + f" | {fc['all']} | "
            + " | ".join(str(fc.get(s)) for s in ("150c", "5L", "10L", "20L", "50L"))
            + " |"
        )
    text = "\n".join(lines) + "\n"
    (RESULTS / "calibration.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
