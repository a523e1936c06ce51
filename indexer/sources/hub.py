"""A Hugging Face hub dataset (``hf:NAME[:CONFIG][@SPLIT]``), streamed with ``datasets``.

``datasets`` is an optional extra (``pip install 'codecite[hf]'``), imported only here. A CONFIG
containing a slash is a data directory (The Stack v1: ``hf:bigcode/the-stack:data/python``).
NAME may also be a local directory of dataset files, which ``datasets`` reads the same way.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from typing import Any

from indexer.records import Document, Skip
from indexer.sources.base import IngestOptions, Source, SourceError
from indexer.sources.blob_store import require_s3
from indexer.sources.stack_columns import column_map
from indexer.sources.stack_rows import row_documents

log = logging.getLogger(__name__)


def parse_hub_spec(spec: str) -> tuple[str, str | None, str]:
    """``hf:NAME[:CONFIG][@SPLIT]`` -> (NAME, CONFIG or None, SPLIT, by default ``train``)."""
    rest = spec.removeprefix("hf:")
    split = "train"
    if "@" in rest:
        rest, _, split = rest.rpartition("@")
    name, _, config = rest.partition(":")
    if not name or not split:
        raise SourceError(
            f"cannot parse {spec!r}; write hf:NAME[:CONFIG][@SPLIT], e.g. hf:bigcode/the-stack-smol@train"
        )
    return name, config or None, split


def _load(name: str, config: str | None, split: str) -> Any:
    try:
        import datasets
    except ImportError:
        raise SourceError(
            "reading a Hugging Face dataset needs the datasets library: pip install 'codecite[hf]'"
        ) from None
    kwargs: dict[str, Any] = {"split": split, "streaming": True}
    if config and "/" in config:
        kwargs["data_dir"] = config
        config = None
    try:
        return datasets.load_dataset(name, config, **kwargs)
    except Exception as err:
        raise SourceError(
            f"cannot open Hugging Face dataset {name!r} (config {config!r}, split {split!r}): {err}. "
            f"Check the name, config and split on huggingface.co/datasets; for gated datasets "
            f"(bigcode/the-stack-v2) accept the terms and run `huggingface-cli login`; offline, "
            f"download the files and pass their path."
        ) from err


class HubDataset(Source):
    """The rows of a Hugging Face dataset, streamed: nothing is downloaded ahead of reading."""

    def __init__(self, spec: str, options: IngestOptions) -> None:
        self.spec = spec
        self.options = options
        self.name, self.config, self.split = parse_hub_spec(spec)
        self._dataset = _load(self.name, self.config, self.split)
        names = getattr(self._dataset, "column_names", None)
        self.columns = column_map(names, spec) if names else None
        if self.columns is not None and self.columns.fetch:
            require_s3()
        info = getattr(self._dataset, "info", None)
        self.estimated_bytes = getattr(info, "dataset_size", None) or None
        layout = self.columns.layout if self.columns else "unknown"
        self.description = (
            f"Hugging Face dataset {self.name} ({self.config or 'default'}, {self.split}; {layout} columns)"
        )

    def __iter__(self) -> Iterator[Document | Skip]:
        dataset, columns = self._dataset, self.columns
        if columns is not None:
            dataset = dataset.select_columns(columns.columns)
        rows = iter(dataset)
        try:
            if columns is None:  # a stream that announced no columns: take them from its first row
                first = next(rows, None)
                if first is None:
                    return
                columns = column_map(list(first), self.spec)
                rows = itertools.chain([first], rows)
            yield from row_documents(self._numbered(rows), columns, self.options, self.spec)
        except SourceError:
            raise
        except Exception as err:
            raise SourceError(
                f"reading {self.spec} stopped: {err}; run again, or download the files and pass their path"
            ) from err

    def _numbered(self, rows: Iterator[Any]) -> Iterator[tuple[str, Any]]:
        for number, row in enumerate(rows):
            yield f"{self.name}#{number}", row
