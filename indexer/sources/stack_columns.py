"""Dataset rows to `Document`s: The Stack v1 and v2 columns, recognised from the schema.

The Stack v2: ``blob_id, repo_name, path, content, language, detected_licenses, license_type,
revision_id, ...``. The Stack v1: ``hexsha, max_stars_repo_name, max_stars_repo_path,
max_stars_repo_head_hexsha, max_stars_repo_licenses, lang, content``. Any dataset with ``content``
and ``path`` works too. A row's license is its detected licenses combined with AND.

A dataset is the corpus as the model saw it, so rows are not second-guessed: only the size, line
length (minified) and language limits of `IngestOptions` apply, not the generated-code heuristic.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from indexer.licenses.expressions import (
    combine_expressions,
    join_expressions,
    license_category,
    normalize_expression,
)
from indexer.records import Document, LicenseCategory, Skip, SkipReason, git_blob_id
from indexer.sources.base import IngestOptions, SourceError
from indexer.sources.filters import check_name, check_size, check_text, decode
from indexer.sources.repo_urls import RepoRef, looks_like_owner_name

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
_STACK_V2_CARD = "https://huggingface.co/datasets/bigcode/the-stack-v2"


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which column holds each `Document` field (None: the dataset has no such column)."""

    layout: str
    content: str
    path: str
    repo: str | None = None
    blob_id: str | None = None
    language: str | None = None
    licenses: str | None = None
    license_type: str | None = None
    revision: str | None = None

    @property
    def columns(self) -> list[str]:
        """The columns to read, in a stable order."""
        named = [
            self.content,
            self.path,
            self.repo,
            self.blob_id,
            self.language,
            self.licenses,
            self.license_type,
            self.revision,
        ]
        return list(dict.fromkeys(c for c in named if c))


def _first(columns: set[str], candidates: Sequence[str]) -> str | None:
    return next((c for c in candidates if c in columns), None)


def column_map(columns: Sequence[str], where: str) -> ColumnMap:
    """The `ColumnMap` for a dataset with these `columns`; `where` names the dataset in errors.

    Raises SourceError when the dataset lacks ``content`` or any path column, naming the columns
    found and those expected (and, for The Stack v2's file lists, how to get the content).
    """
    present = set(columns)
    found = ", ".join(sorted(present)) or "none"
    if "content" not in present:
        if "blob_id" in present and ("repo_name" in present or "files" in present):
            raise SourceError(
                f"{where} has The Stack v2's columns but no 'content': The Stack v2 lists files by blob_id "
                f"and keeps their content in Software Heritage's S3 bucket. Download the content first as "
                f"the dataset card shows ({_STACK_V2_CARD}: boto3 GET s3://softwareheritage/content/"
                f"{{blob_id}}, gunzip, decode with src_encoding), write the rows with a 'content' column to "
                f"parquet or jsonl files, and ingest those files."
            )
        raise SourceError(
            f"{where} has no 'content' column (columns found: {found}); codecite reads The Stack v1/v2 "
            f"columns, or any dataset with 'content' and 'path' columns"
        )
    path = _first(present, _PATH)
    if path is None:
        raise SourceError(
            f"{where} has no path column (columns found: {found}); expected one of: {', '.join(_PATH)}"
        )
    layout = "The Stack v2" if "blob_id" in present else "The Stack v1" if "hexsha" in present else "generic"
    return ColumnMap(
        layout=layout,
        content="content",
        path=path,
        repo=_first(present, _REPO),
        blob_id=_first(present, _BLOB_ID),
        language=_first(present, _LANGUAGE),
        licenses=_first(present, _LICENSES),
        license_type="license_type" if "license_type" in present else None,
        revision=_first(present, _REVISION),
    )


@functools.lru_cache(maxsize=8192)
def dataset_license(ids: tuple[str, ...], license_type: str | None) -> tuple[str | None, LicenseCategory]:
    """The SPDX expression and category of a row's detected license ids (combined with AND).

    An id that is not SPDX is kept as a ``LicenseRef-`` (its category: unknown), never dropped.
    Without ids: no license when `license_type` is ``no_license`` or absent, else unknown.
    """
    parts = [normalize_expression(i) or _license_ref(i) for i in ids if i and i.strip()]
    expression = combine_expressions(parts) if parts else None
    if expression is None and parts:
        expression = join_expressions(dict.fromkeys(parts), "AND")
    if expression:
        return expression, license_category(expression)
    if not license_type or license_type == "no_license":
        return None, LicenseCategory.NO_LICENSE
    return None, LicenseCategory.UNKNOWN


def _license_ref(license_id: str) -> str:
    return "LicenseRef-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", license_id.strip()).strip("-") or "unknown")


def _license_ids(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if v is not None)


class RowMapper:
    """Turns the rows of one dataset (dicts keyed by column) into `Document`s or `Skip`s."""

    def __init__(self, columns: ColumnMap, options: IngestOptions, source: str) -> None:
        self.columns = columns
        self.options = options
        self.source = source

    def document(self, row: Mapping[str, Any], where: str) -> Document | Skip:
        """The `Document` for `row`, or the `Skip` saying why not; `where` locates the row."""
        cols = self.columns
        path, repo = row.get(cols.path), (row.get(cols.repo) if cols.repo else None) or ""
        if isinstance(path, str):
            path = path.lstrip("/")  # The Stack v2 writes "/src/x.py": paths here are repo-relative
        if isinstance(path, str) and path and repo:
            where = f"{repo}/{path}"
        if not isinstance(path, str) or not path:
            return Skip(SkipReason.MISSING_FIELD, where, f"no value in column {cols.path!r}")
        content = self._content(row.get(cols.content), where)
        if isinstance(content, Skip):
            return content
        declared = row.get(cols.language) if cols.language else None
        language = check_name(path, self.options, declared if isinstance(declared, str) else None, where)
        if isinstance(language, Skip):
            return language
        rejected = check_text(content, where, self.options, generated=False)
        if rejected:
            return rejected
        ids = _license_ids(row.get(cols.licenses) if cols.licenses else None)
        license_type = row.get(cols.license_type) if cols.license_type else None
        license_expr, category = dataset_license(ids, license_type if isinstance(license_type, str) else None)
        revision = str(row.get(cols.revision) or "") if cols.revision else ""
        blob_id = row.get(cols.blob_id) if cols.blob_id else None
        return Document(
            blob_id=str(blob_id) if blob_id else git_blob_id(content.encode("utf-8", "surrogatepass")),
            repo=str(repo),
            path=path,
            language=language,
            content=content,
            license=license_expr,
            license_category=category,
            source=self.source,
            url=RepoRef("github.com", repo).file_url(path, revision) if looks_like_owner_name(repo) else None,
            revision=revision or None,
        )

    def _content(self, value: Any, where: str) -> str | Skip:
        if value is None or value == "" or value == b"":
            return Skip(SkipReason.MISSING_FIELD, where, f"no value in column {self.columns.content!r}")
        if isinstance(value, bytes):
            return decode(value, where, self.options)
        if not isinstance(value, str):
            detail = f"column 'content' holds {type(value).__name__}, not text"
            return Skip(SkipReason.MISSING_FIELD, where, detail)
        # Characters are at most 4 bytes: only long texts need encoding to measure them.
        if len(value) * 4 > self.options.max_file_bytes:
            too_large = check_size(len(value.encode("utf-8", "surrogatepass")), where, self.options)
            if too_large:
                return too_large
        return value
