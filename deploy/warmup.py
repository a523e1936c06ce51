"""Compile and cache codecite's numba kernels, and build the license notice table (run at image
build time; see deploy/Dockerfile).

Builds a one-file index in a temporary directory and queries it, which runs every kernel the
API uses, so their compiled code lands in NUMBA_CACHE_DIR, and the notice table in
CODECITE_CACHE, before the first request.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from indexer.backends import open_index, open_writer
from indexer.licenses.expressions import license_category
from indexer.records import Document, git_blob_id
from search_api.engine.notices import warm_up
from search_api.engine.searcher import Searcher

log = logging.getLogger("codecite.warmup")
SAMPLE = "\n".join(
    f"def step_{i}(state, rate):\n    return state * rate + {i} - len(str(state))" for i in range(12)
)


def main() -> None:
    logging.basicConfig(level=logging.INFO)
    warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        doc = Document(
            git_blob_id(SAMPLE.encode()),
            "warmup/warmup",
            "warmup.py",
            "python",
            SAMPLE,
            "MIT",
            license_category("MIT"),
        )
        open_writer(Path(tmp) / "index").build([doc])
        report = Searcher(open_index(str(Path(tmp) / "index"))).attribute(SAMPLE, "python")
    log.info("warm-up query: %d match(es); numba kernels cached", len(report.matches))


if __name__ == "__main__":
    main()
