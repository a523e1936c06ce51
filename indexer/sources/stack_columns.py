"""Which dataset columns hold what: The Stack v1 and v2 layouts, recognised from the schema.

The Stack v2 comes in two shapes (columns as the dataset cards of ``bigcode/the-stack-v2`` and
``bigcode/the-stack-v2-train-full-ids`` list them):

- **flat** (``the-stack-v2``, ``-dedup``): one row per file, ``blob_id, directory_id, path,
  content_id, detected_licenses, license_type, repo_name, snapshot_id, revision_id, branch_name,
  visit_date, revision_date, committer_date, github_id, star_events_count, fork_events_count,
  gha_license_id, gha_created_at, gha_language, src_encoding, language, is_vendor, is_generated,
  length_bytes, extension`` — and no ``content``;
- **by repository** (``the-stack-v2-train-full-ids``, ``-smol-ids``): one row per repository,
  ``repo_name, repo_url, snapshot_id, revision_id, directory_id, branch_name, visit_date,
  revision_date, committer_date, github_id, star_events_count, fork_events_count, gha_license_id,
  gha_created_at, gha_updated_at, gha_pushed_at, gha_language, files, num_files``, where ``files``
  lists ``{blob_id, path, content_id, language, length_bytes, detected_licenses, license_type,
  src_encoding, is_vendor, is_generated, alphanum_fraction, ...}``.

Neither holds file contents: they are fetched by blob id from Software Heritage's S3 bucket
(`indexer.sources.blob_store`). A v2 export that adds a ``content`` column is read as it is. The
Stack v1 (``hexsha, max_stars_repo_name, max_stars_repo_path, max_stars_repo_licenses, lang,
content``) and any dataset with ``content`` and ``path`` columns work too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from indexer.records import Provenance, parse_timestamp
from indexer.sources.base import SourceError

# Candidate columns for each field, most specific first (v2 name, then v1 name, then generic).
_PATH = (
    "path",
    "max_stars_repo_path",
    "max_forks_repo_path",
    "max_issues_repo_path",
    "file_path",
    "filepath",
)
_REPO = (
    "repo_name",
    "max_stars_repo_name",
    "max_forks_repo_name",
    "max_issues_repo_name",
    "repo",
    "repository",
)
_BLOB_ID = ("blob_id", "hexsha")
_LANGUAGE = ("language", "lang")
_LICENSES = ("detected_licenses", "max_stars_repo_licenses", "max_forks_repo_licenses", "licenses", "license")
_REVISION = ("revision_id", "max_stars_repo_head_hexsha", "max_forks_repo_head_hexsha", "commit", "revision")
# Provenance field -> candidate columns (The Stack v1 counts stars and forks per repository too).
_PROVENANCE = {
    "revision_date": ("revision_date",),
    "committer_date": ("committer_date",),
    "visit_date": ("visit_date",),
    "gha_created_at": ("gha_created_at",),
    "star_events_count": ("star_events_count", "max_stars_count"),
    "fork_events_count": ("fork_events_count", "max_forks_count"),
    "snapshot_id": ("snapshot_id",),
    "is_vendor": ("is_vendor",),
    "is_generated": ("is_generated",),
}
# The fields of each entry of an -ids row's ``files`` list that codecite reads.
IDS_FILE_FIELDS = (
    "blob_id",
    "path",
    "language",
    "length_bytes",
    "detected_licenses",
    "license_type",
    "src_encoding",
    "is_vendor",
    "is_generated",
)
_DATES = ("revision_date", "committer_date", "visit_date", "gha_created_at")
_COUNTS = ("star_events_count", "fork_events_count")


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which column holds each `Document` field (None: the dataset has no such column).

    `fetch`: contents are not in the rows but fetched by blob id from a content store.
    `files`: the column listing each repository's files (the -ids layout; the other names are
    then those of the rows flattened to one per file: repository columns plus file fields).
    `provenance`: provenance field -> column.
    """

    layout: str
    content: str
    path: str
    repo: str | None = None
    blob_id: str | None = None
    language: str | None = None
    licenses: str | None = None
    license_type: str | None = None
    revision: str | None = None
    src_encoding: str | None = None
    length: str | None = None
    fetch: bool = False
    files: str | None = None
    provenance: Mapping[str, str] = field(default_factory=dict)
    repo_columns: tuple[str, ...] = ()

    @property
    def columns(self) -> list[str]:
        """The columns to read from the dataset, in a stable order."""
        if self.files:
            return [self.files, *self.repo_columns]
        named = [
            None if self.fetch else self.content,
            self.path,
            self.repo,
            self.blob_id,
            self.language,
            self.licenses,
            self.license_type,
            self.revision,
            self.src_encoding,
            self.length,
            *self.provenance.values(),
        ]
        return list(dict.fromkeys(c for c in named if c))


def _first(columns: set[str], candidates: Sequence[str]) -> str | None:
    return next((c for c in candidates if c in columns), None)


def column_map(columns: Sequence[str], where: str) -> ColumnMap:
    """The `ColumnMap` for a dataset with these `columns`; `where` names the dataset in errors.

    Raises SourceError when the dataset has neither contents nor blob ids to fetch them by, or
    no path column, naming the columns found and those expected.
    """
    present = set(columns)
    found = ", ".join(sorted(present)) or "none"
    if "content" not in present and "files" in present and "repo_name" in present:
        return _ids_map(present)
    fetch = "content" not in present
    if fetch and "blob_id" not in present:
        raise SourceError(
            f"{where} has no 'content' column (columns found: {found}); codecite reads The Stack v1/v2 "
            f"columns (v2 contents are fetched by blob_id), or any dataset with 'content' and 'path' columns"
        )
    path = _first(present, _PATH)
    if path is None:
        raise SourceError(
            f"{where} has no path column (columns found: {found}); expected one of: {', '.join(_PATH)}"
        )
    layout = "The Stack v2" if "blob_id" in present else "The Stack v1" if "hexsha" in present else "generic"
    return ColumnMap(
        layout=layout + (", contents fetched by blob_id" if fetch else ""),
        content="content",
        path=path,
        repo=_first(present, _REPO),
        blob_id=_first(present, _BLOB_ID),
        language=_first(present, _LANGUAGE),
        licenses=_first(present, _LICENSES),
        license_type="license_type" if "license_type" in present else None,
        revision=_first(present, _REVISION),
        src_encoding="src_encoding" if "src_encoding" in present else None,
        length="length_bytes" if "length_bytes" in present else None,
        fetch=fetch,
        provenance=_provenance_columns(present),
    )


def _ids_map(present: set[str]) -> ColumnMap:
    """The -ids layout: repository columns at the top, file fields (`IDS_FILE_FIELDS`) in ``files``."""
    repo_columns = [c for c in ("repo_name", *_REVISION[:1]) if c in present]
    provenance = {
        name: column
        for name, column in _provenance_columns(present).items()
        if name not in ("is_vendor", "is_generated")
    }
    provenance |= {"is_vendor": "is_vendor", "is_generated": "is_generated"}  # per file, in `files`
    repo_columns += [c for c in provenance.values() if c in present]
    return ColumnMap(
        layout="The Stack v2 by repository (-ids), contents fetched by blob_id",
        content="content",
        path="path",
        repo="repo_name",
        blob_id="blob_id",
        language="language",
        licenses="detected_licenses",
        license_type="license_type",
        revision="revision_id" if "revision_id" in present else None,
        src_encoding="src_encoding",
        length="length_bytes",
        fetch=True,
        files="files",
        provenance=provenance,
        repo_columns=tuple(dict.fromkeys(repo_columns)),
    )


def _provenance_columns(present: set[str]) -> dict[str, str]:
    out = {}
    for name, candidates in _PROVENANCE.items():
        column = _first(present, candidates)
        if column:
            out[name] = column
    return out


def row_provenance(row: Mapping[str, Any], columns: ColumnMap, license_basis: str | None) -> Provenance:
    """The provenance a (flattened) row records, as `Provenance` (malformed values: unknown)."""
    values: dict[str, Any] = {"license_basis": license_basis}
    for name, column in columns.provenance.items():
        value = row.get(column)
        if name in _DATES:
            values[name] = parse_timestamp(value)
        elif name in _COUNTS:
            values[name] = (
                int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
            )
        elif name in ("is_vendor", "is_generated"):
            values[name] = value if isinstance(value, bool) else None
        else:
            values[name] = str(value) if value else None
    return Provenance(**values)


def flatten_repository(row: Mapping[str, Any], columns: ColumnMap) -> list[dict[str, Any]]:
    """An -ids row as one row per file: the repository's columns plus the file's fields."""
    repo = {c: row.get(c) for c in columns.repo_columns}
    files = row.get(columns.files or "files") or []
    return [repo | dict(f) for f in files if isinstance(f, Mapping)]
