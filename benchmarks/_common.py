"""What the benchmark scripts share: the codecite command, an index that opens with this build,
and one definition of a percentile. Scripts import it as `_common` (run from any directory)."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

# The CLI of the codecite this interpreter imports (the checkout, not whatever is on PATH).
CODECITE = [
    sys.executable,
    "-c",
    "import sys; from search_api.cli import main; sys.argv[0] = 'codecite'; main()",
]


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0 < p < 100), linearly interpolated between ranks (p=50: the median)."""
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=1000, method="inclusive")[round(p * 10) - 1]


def ensure_index(index: Path, corpus: Path) -> None:
    """Build `index` from `corpus` (every license kept) unless it opens with this codecite: one
    missing, or built by other fingerprinting code, is built anew."""
    from indexer.backends import open_index

    try:
        open_index(str(index)).close()
        return
    except Exception as err:  # noqa: BLE001 - any failure means: build it again
        print(f"building the index at {index} ({err})", file=sys.stderr)
    if (index / "CURRENT").exists():
        shutil.rmtree(index)
    subprocess.run(
        [*CODECITE, "index", "build", str(corpus), "--index", str(index), "--keep", "all", "--quiet"],
        check=True,
    )


def document_count(index: Path) -> int:
    from indexer.backends import open_index

    opened = open_index(str(index))
    try:
        return opened.document_count
    finally:
        opened.close()


def half_of(package: str) -> str:
    """The eval package's half, by a hash of its name: thresholds and models are fitted on
    "calibration" and reported on "report" (a query's package is its `origin` up to the first /)."""
    return "calibration" if int(hashlib.sha1(package.encode()).hexdigest(), 16) % 2 == 0 else "report"


def load_scorer(kit: Path):
    """The eval kit's `score_batch.py` as a module (the kit is not a package)."""
    spec = importlib.util.spec_from_file_location("score_batch", kit / "score_batch.py")
    if spec is None or spec.loader is None:
        sys.exit(f"cannot load {kit}/score_batch.py; pass --eval-kit")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
