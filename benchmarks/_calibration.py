"""The confidence model's fit and its measures, for ``calibrate_confidence.py``: features of a
labelled span, a weighted logistic regression, the reporting floor, recall and false claims per
half, and reliability tables."""

from __future__ import annotations

import collections

import numpy as np
from _common import half_of

FLOORS = [round(0.25 + 0.05 * i, 2) for i in range(15)]  # 0.25 .. 0.95
# Recall (%) the floor must keep on the calibration half, per variant (the engine issue's targets); a
# variant already below its target without a floor may lose at most RECALL_SLACK points more.
RECALL_TARGETS = {"verbatim": 99.5, "reformat": 99.0, "nocomment": 99.0, "embedded": 99.0, "rename": 90.0}
RECALL_SLACK = 0.3
# A reviewed match of a whole never-indexed file weighs as much as this many eval spans. Nine in
# ten of the eval's queries are copies, and so are nearly all the spans the engine verifies for
# them; most code a gate checks is not. The reviewed files bring the gate's setting into the fit
# (chosen by cross-validation on the calibration half's reviewed files: 1, 10 and 30 tried).
FILE_WEIGHT = 10.0
BUCKETS = [(0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 0.95), (0.95, 0.99), (0.99, 1.01)]

FEATURES = ("share", "rarity", "lines", "run", "renamed", "edited")
# A renamed or an edited match is never stronger evidence than an exact one of the same run: their
# weights may not be positive (the reviewed whole files would otherwise make "edited" a bonus,
# because the edited copies reviewers saw were mostly long and genuine).
NOT_POSITIVE = ("renamed", "edited")


def features(span: dict) -> list[float]:
    from search_api.engine.results import Evidence, Method

    named = Evidence.from_dict(span["evidence"]).features(Method(span["method"]))
    return [named[f] for f in FEATURES]


def fit_model(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Bias and coefficients (in `FEATURES` order) of the weighted logistic regression, refitted
    without each NOT_POSITIVE feature whose coefficient comes out positive (it is then 0)."""
    kept = list(range(len(FEATURES)))
    while True:
        w = logistic_fit(x[:, kept], y, weights)
        wrong = [i for i, c in zip(kept, w[1:], strict=True) if FEATURES[i] in NOT_POSITIVE and c > 0]
        if not wrong:
            full = np.zeros(len(FEATURES) + 1)
            full[0], full[[i + 1 for i in kept]] = w[0], w[1:]
            return full
        kept.remove(wrong[0])


def logistic_fit(x: np.ndarray, y: np.ndarray, weights: np.ndarray, l2: float = 1e-3) -> np.ndarray:
    """Bias and coefficients of an L2-regularised logistic regression with sample `weights`
    (Newton's method)."""
    xb = np.hstack([np.ones((x.shape[0], 1)), x])
    w = np.zeros(xb.shape[1])
    ridge = l2 * np.eye(w.shape[0])
    ridge[0, 0] = 0.0
    total = weights.sum()
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-xb @ w))
        gradient = xb.T @ (weights * (p - y)) / total + ridge @ w
        hessian = (xb.T * (weights * p * (1 - p))) @ xb / total + ridge
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w


def choose_floor(
    spans: list[dict], queries: dict[int, dict], as_notices: set[int], half: str
) -> tuple[float, bool]:
    """The highest floor at which every variant's recall on `half` keeps its target (or, where it
    misses it already without a floor, loses at most RECALL_SLACK points), and True; the lowest
    floor tried and False when none does."""
    base = query_rates(spans, queries, as_notices, half, 0.0)["recall"]
    need = {v: min(RECALL_TARGETS.get(v, 0.0), base[v] - RECALL_SLACK) for v in base}
    keeping = [
        floor
        for floor in FLOORS
        if all(
            r >= need[v] for v, r in query_rates(spans, queries, as_notices, half, floor)["recall"].items()
        )
    ]
    return (max(keeping), True) if keeping else (FLOORS[0], False)


def query_rates(
    spans: list[dict], queries: dict[int, dict], as_notices: set[int], half: str, floor: float
) -> dict:
    """Per variant, recall (a true span at or above `floor`, or the notices answering a license-text
    query); per size, false claims on clean negatives as the eval counts them, and those left once
    the matches a reviewer found genuinely shared are set aside."""
    kept: dict[int, list[dict]] = collections.defaultdict(list)
    for s in spans:
        if s["p"] >= floor:
            kept[s["qid"]].append(s)
    recall, claims = collections.defaultdict(lambda: [0, 0]), collections.defaultdict(lambda: [0, 0, 0])
    for q in queries.values():
        if half_of(q["origin"].split("/")[0]) != half:
            continue
        variant, size = q["category"].split("/")
        mine = kept[q["qid"]]
        if q["label"] == "pos" and variant != "heldout-in-index":
            recall[variant][0] += any(s["eval_label"] == 1 for s in mine) or q["qid"] in as_notices
            recall[variant][1] += 1
        elif variant == "negative":
            claims[size][0] += bool(mine)
            claims[size][1] += any(s["label"] == 0 for s in mine)  # not found genuine by the reviewer
            claims[size][2] += 1
    claims["all"] = [sum(c[i] for c in claims.values()) for i in range(3)]
    pct = lambda h, n: round(100.0 * h / n, 2) if n else None
    return {
        "floor": floor,
        "recall": {v: pct(*hn) for v, hn in sorted(recall.items())},
        "false_claims": {s: pct(c[0], c[2]) for s, c in claims.items()},
        "false_claims_not_shared": {s: pct(c[1], c[2]) for s, c in claims.items()},
        "negatives": claims["all"][2],
    }


def reliability(spans: list[dict], half: str) -> list[dict]:
    rows = []
    for lo, hi in BUCKETS:
        bucket = [s for s in spans if s["half"] == half and lo <= s["p"] < hi]
        rows.append(
            {
                "confidence": f"[{lo:.2f}, {min(hi, 1.0):.2f}{')' if hi <= 1.0 else ']'}",
                "spans": len(bucket),
                "share_true": _share(bucket, "eval_label"),
                "share_copied": _share(bucket, "label"),
            }
        )
    return rows


def _share(spans: list[dict], key: str) -> float | None:
    return round(sum(s[key] for s in spans) / len(spans), 3) if spans else None
