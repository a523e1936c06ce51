"""A segment's provenance columns (``provenance.arrow``): each document's `Provenance` — dates,
GitHub counts, Software Heritage snapshot, vendored and generated flags, license basis.

One row per document of the segment, in document order, typed columns (UTC timestamps in
seconds, 64-bit counts, booleans, strings; null where not known). They live in a file of their
own beside ``docs.arrow`` so that the document table's layout and this one change separately;
the manifest checks its digest like every other segment file.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from pyarrow import feather

from indexer.records import Provenance

PROVENANCE_FILE = "provenance.arrow"
_TIMESTAMP = pa.timestamp("s", tz="UTC")
SCHEMA = pa.schema(
    [
        ("revision_date", _TIMESTAMP),
        ("committer_date", _TIMESTAMP),
        ("visit_date", _TIMESTAMP),
        ("gha_created_at", _TIMESTAMP),
        ("first_commit_date", _TIMESTAMP),
        ("star_events_count", pa.int64()),
        ("fork_events_count", pa.int64()),
        ("snapshot_id", pa.string()),
        ("is_vendor", pa.bool_()),
        ("is_generated", pa.bool_()),
        ("license_basis", pa.string()),
    ]
)


class ProvenanceWriter:
    """Collects the provenance of a segment's documents, in order, and writes the file."""

    def __init__(self) -> None:
        self._rows: dict[str, list[object]] = {name: [] for name in SCHEMA.names}

    def add(self, provenance: Provenance) -> None:
        for name, values in self._rows.items():
            values.append(getattr(provenance, name))

    def write(self, directory: Path) -> None:
        table = pa.table(
            {n: pa.array(v, type=SCHEMA.field(n).type) for n, v in self._rows.items()}, schema=SCHEMA
        )
        feather.write_feather(table, directory / PROVENANCE_FILE, compression="zstd")


class ProvenanceColumns:
    """A segment's provenance file, read: `get(local id)` gives a document's `Provenance`."""

    def __init__(self, directory: Path) -> None:
        table = feather.read_table(directory / PROVENANCE_FILE, memory_map=True)
        missing = [n for n in SCHEMA.names if n not in table.column_names]
        if missing:
            raise KeyError(f"{PROVENANCE_FILE} lacks the columns {', '.join(missing)}")
        self._columns = {name: table.column(name) for name in SCHEMA.names}

    def get(self, local: int) -> Provenance:
        return Provenance.from_dict({name: column[local].as_py() for name, column in self._columns.items()})
