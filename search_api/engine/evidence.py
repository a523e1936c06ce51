"""How strongly a verified span says "copied", not "written independently": its evidence, and a
calibrated confidence.

Verification proves that two texts share a span; it does not prove that one was copied from the
other. Short spans, spans made of common fingerprints (idioms, generated helpers), and spans of
low structural variety (import blocks, tables, keyword lists, slot tables) turn up in unrelated
code by chance. `measure` takes a span's `Evidence` on the query side from the index's own
statistics; `ConfidenceModel` turns it into a probability with a logistic model whose weights are
fitted on labelled data by ``benchmarks/calibrate_confidence.py`` (on one half of the eval kit's
packages; its report on the other half is in ``benchmarks/results/calibration.md``) and shipped
as ``search_api/data/confidence-model.json``.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
from dataclasses import dataclass

import numpy as np

from search_api.engine.results import Evidence, Method
from search_api.engine.views import ChannelView, TextViews

MODEL_FILE = "data/confidence-model.json"


def measure(
    chars: float,
    query: TextViews,
    frequencies: np.ndarray,
    q_bytes: tuple[int, int],
    run: tuple[float, tuple[int, int]],
) -> Evidence:
    """The evidence of a span of `chars` aligned characters at `q_bytes` of `query`, whose longest
    gap-free run is `run` (its characters and its bytes of the query); `frequencies` are the index
    postings of the span's distinct fingerprints (0: a k-gram the index did not select)."""
    hit = frequencies[frequencies > 0]
    run_chars, run_bytes = run
    return Evidence(
        chars=round(chars),
        share=float(chars) / max(query.whole_chars, 1),
        fingerprints=int(hit.shape[0]),
        median_files=int(np.median(hit)) if hit.shape[0] else 0,
        structure=structure_of(query, q_bytes),
        lines=_lines(query, q_bytes),
        run=round(run_chars),
        run_lines=_lines(query, run_bytes),
    )


def structure_of(query: TextViews, q_bytes: tuple[int, int]) -> float:
    """The span's structural variety (`structural_variety`), less the share of its lines that are
    import statements."""
    return structural_variety(query.normalized_view, q_bytes) * (1.0 - _import_share(query, q_bytes))


def _import_share(query: TextViews, byte_range: tuple[int, int]) -> float:
    """The share of the span's non-blank lines that are import statements: a module system
    dictates them, so they count as no structure at all."""
    start, end = byte_range
    first, last = query.line_of(start) - 1, query.line_of(max(end - 1, start))
    filled = ~query.lexed.blank_lines[first:last]
    if not filled.any():
        return 0.0
    return float(np.count_nonzero(query.lexed.import_lines[first:last] & filled)) / float(
        np.count_nonzero(filled)
    )


def _lines(query: TextViews, byte_range: tuple[int, int]) -> int:
    start, end = byte_range
    return query.line_of(max(end - 1, start)) - query.line_of(start) + 1


FULL_VOCABULARY = 12  # distinct structural symbols (keywords, punctuation, ID, NUM, ...) of varied code


def structural_variety(normalized: ChannelView, q_bytes: tuple[int, int]) -> float:
    """How varied the span's structure is, 0..1: the share of its normalized k-grams that are
    distinct (repeated lines and rows repeat them), times the square of its structural vocabulary
    over `FULL_VOCABULARY`, every number counting as one symbol (an import block, a list of names,
    a table of numbers or a CSS rule set uses 3 to 7 symbols; ordinary code 12 or more)."""
    offsets = normalized.channel.offsets
    lo, hi = int(np.searchsorted(offsets, q_bytes[0])), int(np.searchsorted(offsets, q_bytes[1]))
    vocabulary = min(1.0, _symbols(normalized, lo, hi) / FULL_VOCABULARY) ** 2
    grams = normalized.kgrams[lo : min(hi, normalized.kgrams.shape[0])]
    if grams.shape[0] < 2:
        return vocabulary
    return vocabulary * float(np.unique(grams).shape[0]) / float(grams.shape[0])


def _symbols(normalized: ChannelView, lo: int, hi: int) -> int:
    """Distinct structural symbols among values lo..hi: every number is one symbol."""
    values = normalized.values[lo:hi]
    if normalized.data is None or values.shape[0] == 0:
        return int(np.unique(values).shape[0])
    first = normalized.data[normalized.channel.offsets[lo:hi]]
    is_number = (first >= ord("0")) & (first <= ord("9"))
    return int(np.unique(values[~is_number]).shape[0]) + int(bool(is_number.any()))


@dataclass(frozen=True, slots=True)
class ConfidenceModel:
    """confidence = 1 / (1 + exp(-(bias + sum(weights[f] * features[f])))), a logistic model over
    `Evidence.features`. `floor` is the confidence below which the engine does not report a match."""

    bias: float
    weights: dict[str, float]
    floor: float

    def confidence(self, evidence: Evidence, method: Method) -> float:
        features = evidence.features(method)
        z = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in features.items())
        return 1.0 / (1.0 + math.exp(-max(min(z, 40.0), -40.0)))

    def to_dict(self) -> dict[str, object]:
        return {"bias": self.bias, "weights": self.weights, "floor": self.floor}


@functools.cache
def calibrated_model() -> ConfidenceModel:
    """The shipped model (``search_api/data/confidence-model.json``)."""
    raw = json.loads(importlib.resources.files("search_api").joinpath(MODEL_FILE).read_text(encoding="utf-8"))
    return ConfidenceModel(
        float(raw["bias"]), {k: float(v) for k, v in raw["weights"].items()}, float(raw["floor"])
    )
