"""Dataset files on disk: parquet, JSON lines (plain or gzipped), Arrow IPC, and ``datasets``'
``save_to_disk`` directories, all read streaming (a batch of rows at a time), so a dataset of any
size never has to fit in memory.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from indexer.analysis.languages import NON_CODE, language_for_path
from indexer.records import Document, Skip, SkipReason
from indexer.sources.base import IngestOptions, Source, SourceError
from indexer.sources.blob_store import require_s3
from indexer.sources.filters import is_dependency_dir
from indexer.sources.stack_columns import ColumnMap, column_map
from indexer.sources.stack_rows import row_documents

log = logging.getLogger(__name__)

DATA_SUFFIXES = (".parquet", ".jsonl", ".jsonl.gz", ".json.gz", ".arrow")
_BATCH_ROWS = 512
_SAVE_TO_DISK_FILES = ("state.json", "dataset_info.json", "dataset_dict.json")

# Batches of rows; a row that could not be parsed is the reason why, as a str.
Rows = Iterator[list[dict[str, Any] | str]]
RowReader = Callable[[list[str]], Rows]


def data_suffix(name: str) -> str | None:
    """The dataset file suffix `name` ends with (``.jsonl.gz``, ``.parquet``, ...), or None."""
    lower = name.lower()
    return next((s for s in DATA_SUFFIXES if lower.endswith(s)), None)


def looks_like_dataset_dir(directory: Path) -> bool:
    """Whether `directory` holds a dataset rather than source code: a ``save_to_disk`` directory,
    or dataset files at least as many as code files (a Hugging Face dataset clone holds a few
    scripts beside its data; a repository holds no data files, or a few test fixtures)."""
    if any((directory / name).is_file() for name in _SAVE_TO_DISK_FILES):
        return True
    data = code = 0
    for _, dirnames, filenames in os.walk(directory):
        dirnames[:] = [d for d in dirnames if d != ".git" and not is_dependency_dir(d)]
        for name in filenames:
            if data_suffix(name):
                data += 1
            elif (language := language_for_path(name)) is not None and language not in NON_CODE:
                code += 1
        if code > 2 * data + 50:
            return False
    return data > 0 and data >= code


def find_data_files(directory: Path) -> list[Path]:
    """The dataset files under `directory` in reading order: a ``save_to_disk`` directory's own
    list (every split of a DatasetDict), else every data file found, sorted by path."""
    if (directory / "state.json").is_file():
        state = _read_json(directory / "state.json")
        return [directory / f["filename"] for f in state.get("_data_files", [])]
    if (directory / "dataset_dict.json").is_file():
        splits = _read_json(directory / "dataset_dict.json").get("splits", [])
        log.info("reading every split of %s: %s", directory, ", ".join(splits))
        return [f for split in splits for f in find_data_files(directory / split)]
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath) / n for n in filenames if data_suffix(n))
    return sorted(found)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise SourceError(
            f"cannot read {path}: {err}; is this a complete datasets save_to_disk directory?"
        ) from err
    return value if isinstance(value, dict) else {}


def open_rows(path: Path) -> tuple[list[str], RowReader]:
    """The column names of the dataset file at `path`, and a function that reads its rows in
    batches, given the columns to read. A row that cannot be parsed comes as the reason (a str).

    Raises SourceError when the file cannot be opened as what its suffix says it is.
    """
    suffix = data_suffix(path.name)
    try:
        if suffix == ".parquet":
            return _parquet_rows(path)
        if suffix == ".arrow":
            return _arrow_rows(path)
        if suffix in (".jsonl", ".jsonl.gz", ".json.gz"):
            return _json_lines_rows(path)
    except SourceError:
        raise
    except (OSError, pa.ArrowException, EOFError, ValueError) as err:
        raise SourceError(f"cannot read {path}: {err}; {_hint(path)}") from err
    raise SourceError(f"{path} is not a dataset file; codecite reads {', '.join(DATA_SUFFIXES)}")


def _hint(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(64)
    except OSError:
        return "check that the file exists and is readable"
    if head.startswith(b"version https://git-lfs"):
        return "it is a Git LFS pointer, not the data: run `git lfs pull` in its repository"
    return "is it complete (not truncated) and of the format its name says?"


def _parquet_rows(path: Path) -> tuple[list[str], RowReader]:
    parquet = pq.ParquetFile(path)

    def read(columns: list[str]) -> Rows:
        for batch in parquet.iter_batches(batch_size=_BATCH_ROWS, columns=columns):
            yield batch.to_pylist()

    return list(parquet.schema_arrow.names), read


def _arrow_rows(path: Path) -> tuple[list[str], RowReader]:
    source = pa.memory_map(str(path))
    try:
        reader: Any = pa.ipc.open_file(source)
        batches: Iterator[pa.RecordBatch] = (reader.get_batch(i) for i in range(reader.num_record_batches))
    except pa.ArrowInvalid:  # datasets writes the streaming format
        source.seek(0)
        reader = pa.ipc.open_stream(source)
        batches = iter(reader)

    def read(columns: list[str]) -> Rows:
        for batch in batches:
            for start in range(0, batch.num_rows, _BATCH_ROWS):
                yield batch.slice(start, _BATCH_ROWS).select(columns).to_pylist()

    return list(reader.schema.names), read


def _json_lines_rows(path: Path) -> tuple[list[str], RowReader]:
    with _open_binary(path) as handle:
        first = next((line for line in handle if line.strip()), b"")
    if first.lstrip().startswith(b"["):
        raise SourceError(
            f"{path} holds one JSON array, not JSON lines; "
            f"convert it with `jq -c '.[]'` and ingest the result"
        )
    try:
        names = list(json.loads(first)) if first else []
    except ValueError as err:
        raise SourceError(
            f"{path} does not start with a JSON object ({err}); codecite reads JSON lines"
        ) from err

    def read(columns: list[str]) -> Rows:
        with _open_binary(path) as handle:
            batch: list[dict[str, Any] | str] = []
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    batch.append(_json_row(line, number))
                if len(batch) >= _BATCH_ROWS:
                    yield batch
                    batch = []
            if batch:
                yield batch

    return names, read


def _json_row(line: bytes, number: int) -> dict[str, Any] | str:
    try:
        row = json.loads(line)
    except ValueError as err:  # also UnicodeDecodeError: invalid UTF-8
        return f"line {number} is not valid JSON: {err}"
    except RecursionError:  # not a ValueError: it stopped the whole build
        return f"line {number} is not valid JSON: arrays or objects nested too deeply"
    return row if isinstance(row, dict) else f"line {number} is not a JSON object"


def _open_binary(path: Path) -> BinaryIO:
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


class DatasetFiles(Source):
    """The rows of one or more local dataset files (all with the same kind of columns)."""

    def __init__(self, files: list[Path], spec: str, options: IngestOptions, origin: Path) -> None:
        if not files:
            raise SourceError(f"no dataset files in {origin}; codecite reads {', '.join(DATA_SUFFIXES)}")
        self.files = files
        self.spec = spec
        self.options = options
        names, _ = open_rows(files[0])  # fail now, not mid-build, on a dataset we cannot read
        self.columns = column_map(names, str(files[0]))
        if self.columns.fetch:
            require_s3()
        kinds = sorted({data_suffix(f.name) or "?" for f in files})
        self.description = (
            f"{len(files)} dataset file(s) ({', '.join(kinds)}; {self.columns.layout} columns) in {origin}"
        )
        self.estimated_bytes = sum(f.stat().st_size for f in files if f.exists())

    def __iter__(self) -> Iterator[Document | Skip]:
        """Every row of every file; a file that turns out unreadable (checked up front for the
        first one only) is one UNREADABLE skip, logged as an error, and reading goes on."""
        for path in self.files:
            yield from self._file(path)

    def _file(self, path: Path) -> Iterator[Document | Skip]:
        try:
            names, read = open_rows(path)
            columns: ColumnMap = column_map(names, str(path))
        except SourceError as err:  # one bad shard of many: counted, and the others still read
            log.error("%s", err)
            yield Skip(SkipReason.UNREADABLE, path.name, f"file not read: {err}")
            return
        stopped: list[Skip] = []
        yield from row_documents(_rows(path, read, columns, stopped), columns, self.options, self.spec)
        yield from stopped


def _rows(path: Path, read: RowReader, columns: ColumnMap, stopped: list[Skip]) -> Iterator[tuple[str, Any]]:
    """(where, row) for every row of the file; a read error ends the rows and is put in `stopped`."""
    number = 0
    try:
        for batch in read(columns.columns):
            for row in batch:
                yield f"{path.name}#{number}", row
                number += 1
    except (OSError, pa.ArrowException, EOFError) as err:
        log.error("stopped reading %s at row %d: %s", path, number, err)
        stopped.append(
            Skip(SkipReason.UNREADABLE, f"{path.name}#{number}", f"rest of file unreadable: {err}")
        )
