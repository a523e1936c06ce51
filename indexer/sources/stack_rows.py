"""Dataset rows to `Document`s: the columns a `ColumnMap` names, contents from the rows or fetched
by blob id, provenance and a license reading for every file.

    rows ─► one row per file (an -ids repository row is flattened; its root manifests first)
         ─► checks that need no content (path, language, declared size)
         ─► contents fetched, in order, with bounded concurrency (`indexer.sources.blob_store`)
         ─► decoded with the row's src_encoding ─► Document, or a counted Skip

A dataset is the corpus as the model saw it, so rows are not second-guessed: only the size, line
length (minified) and language limits of `IngestOptions` apply, not the generated-code heuristic.
A file's license is its SPDX header, else what its repository's manifest states (-ids layout:
``Cargo.toml``, ``package.json``, ``pyproject.toml`` at the repository root), else the row's
detected licenses read with its ``license_type`` (`indexer.licenses.readings`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from indexer.licenses.expressions import spdx_header_expressions
from indexer.licenses.manifests import MANIFEST_NAMES, manifest_reading
from indexer.licenses.readings import (
    NOTICE_CHARS,
    LicenseReading,
    dataset_reading,
    header_reading,
    unidentified,
)
from indexer.licenses.text import recognize_license
from indexer.records import Document, LicenseCategory, Skip, SkipReason, git_blob_id, vendored_path
from indexer.sources.base import IngestOptions
from indexer.sources.blob_store import BlobFailed, BlobMissing, BlobStore, BlobStoreSettings, Fetched
from indexer.sources.filters import check_name, check_size, check_text, decode
from indexer.sources.repo_urls import RepoRef, looks_like_owner_name
from indexer.sources.stack_columns import ColumnMap, flatten_repository, row_provenance

log = logging.getLogger(__name__)

Rows = Iterator[tuple[str, Mapping[str, Any] | str]]  # (where, row or why it could not be parsed)
_UTF8 = frozenset({"utf-8", "utf8", "ascii", "us-ascii"})


def _license_ids(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if v is not None)


class RowMapper:
    """Turns the (flattened) rows of one dataset into `Document`s or `Skip`s."""

    def __init__(self, columns: ColumnMap, options: IngestOptions, source: str) -> None:
        self.columns = columns
        self.options = options
        self.source = source

    def locate(self, row: Mapping[str, Any], where: str) -> str:
        """``repo/path`` when the row has both, else `where` (the row's place in the dataset)."""
        path, repo = self.path_of(row), self._repo(row)
        return f"{repo}/{path}" if path and repo else where

    def precheck(self, row: Mapping[str, Any], where: str) -> str | Skip:
        """The file's language, or the Skip its row earns before any content is read: no path,
        a language not kept, a declared size (``length_bytes``) over the limit."""
        cols = self.columns
        path = self.path_of(row)
        if not path:
            return Skip(SkipReason.MISSING_FIELD, where, f"no value in column {cols.path!r}")
        declared = row.get(cols.language) if cols.language else None
        language = check_name(path, self.options, declared if isinstance(declared, str) else None, where)
        if isinstance(language, Skip):
            return language
        size = row.get(cols.length) if cols.length else None
        if isinstance(size, int) and not isinstance(size, bool):
            too_large = check_size(size, where, self.options)
            if too_large:
                return too_large
        return language

    def document(
        self, row: Mapping[str, Any], where: str, repo_reading: LicenseReading | None = None
    ) -> Document | Skip:
        """The `Document` for `row`, or the `Skip` saying why not; `where` locates the row;
        `repo_reading` is the license its repository's manifest states, if any."""
        where = self.locate(row, where)
        language = self.precheck(row, where)
        if isinstance(language, Skip):
            return language
        content = self._content(row.get(self.columns.content), where)
        if isinstance(content, Skip):
            return content
        rejected = check_text(content, where, self.options, generated=False)
        if rejected:
            return rejected
        reading, category = self._license(row, content, repo_reading)
        revision = str(row.get(self.columns.revision) or "") if self.columns.revision else ""
        blob_id = row.get(self.columns.blob_id) if self.columns.blob_id else None
        repo, path = self._repo(row), self.path_of(row)
        return Document(
            blob_id=str(blob_id) if blob_id else git_blob_id(content.encode("utf-8", "surrogatepass")),
            repo=repo,
            path=path,
            language=language,
            content=content,
            license=reading.expression,
            license_category=category,
            source=self.source,
            url=RepoRef("github.com", repo).file_url(path, revision) if looks_like_owner_name(repo) else None,
            revision=revision or None,
            provenance=row_provenance(row, self.columns, reading.basis),
        )

    def path_of(self, row: Mapping[str, Any]) -> str:
        """The row's repository-relative path ('' when it has none)."""
        path = row.get(self.columns.path)
        return path.lstrip("/") if isinstance(path, str) else ""  # v2 writes "/src/x.py"

    def _repo(self, row: Mapping[str, Any]) -> str:
        return str((row.get(self.columns.repo) if self.columns.repo else None) or "")

    def _license(
        self, row: Mapping[str, Any], content: str, repo_reading: LicenseReading | None
    ) -> tuple[LicenseReading, LicenseCategory]:
        cols = self.columns
        license_type = row.get(cols.license_type) if cols.license_type else None
        license_type = license_type if isinstance(license_type, str) else None
        header = header_reading(spdx_header_expressions(content))
        if header is not None:
            return header, header.category
        vendored = self._vendored_reading(row, content)
        if vendored is not None:
            return vendored, vendored.category
        if repo_reading is not None and repo_reading.expression:
            return repo_reading, repo_reading.category
        ids = _license_ids(row.get(cols.licenses) if cols.licenses else None)
        dataset = "The Stack v2" if cols.license_type else "the dataset's"
        reading = dataset_reading(ids, license_type, dataset)
        category = LicenseCategory.UNKNOWN if unidentified(reading, license_type) else reading.category
        return reading, category

    def _vendored_reading(self, row: Mapping[str, Any], content: str) -> LicenseReading | None:
        """A vendored file's own license notice: code a repository vendors keeps its license (six
        under sqlmap's thirdparty/ is MIT, not sqlmap's GPL), which the dataset's repository-wide
        licenses cannot say. Only vendored files are read for it: a build reads every row."""
        flag = (
            row.get(self.columns.provenance["is_vendor"]) if "is_vendor" in self.columns.provenance else None
        )
        if flag is not True and not vendored_path(self.path_of(row)):
            return None
        notice = recognize_license(content[:NOTICE_CHARS])
        return LicenseReading(notice, "license notice in the vendored file's first lines") if notice else None

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


def row_documents(
    rows: Rows, columns: ColumnMap, options: IngestOptions, source: str
) -> Iterator[Document | Skip]:
    """Every row of a dataset as Documents and Skips, contents fetched when the rows lack them."""
    mapper = RowMapper(columns, options, source)
    if not columns.fetch:
        for where, row in rows:
            yield (
                Skip(SkipReason.UNREADABLE, where, row)
                if isinstance(row, str)
                else mapper.document(row, where)
            )
        return
    store = BlobStore(options.blob_store or BlobStoreSettings.from_env())
    log.info("fetching contents from %s (%d at once)", store.where, store.settings.concurrency)
    try:
        yield from _fetched_documents(_file_jobs(rows, mapper), mapper, store)
    finally:
        log.info("contents: %s", ", ".join(f"{k} {v:,}" for k, v in store.stats.to_dict().items()))


@dataclass(frozen=True, slots=True)
class _Job:
    """One file row: `unit` numbers its repository (or row), `skip` is set when it fails before any
    content is needed, `manifest` when it is a root manifest read for its repository's license."""

    unit: int
    where: str
    row: Mapping[str, Any] | None
    skip: Skip | None
    manifest: bool = False

    def blob(self, columns: ColumnMap) -> str | None:
        if self.row is None or (self.skip is not None and not self.manifest):
            return None
        value = self.row.get(columns.blob_id) if columns.blob_id else None
        return str(value) if value else ""


def _file_jobs(rows: Rows, mapper: RowMapper) -> Iterator[_Job]:
    """One job per file, repository by repository (root manifests first in each)."""
    for unit, (where, row) in enumerate(rows):
        if isinstance(row, str):
            yield _Job(unit, where, None, Skip(SkipReason.UNREADABLE, where, row))
        else:
            yield from _repository_jobs(unit, where, row, mapper)


def _repository_jobs(unit: int, where: str, row: Mapping[str, Any], mapper: RowMapper) -> list[_Job]:
    """The jobs of one row: its files (an -ids row) or itself, root manifests first, in
    `MANIFEST_NAMES` order (the first that states a license decides)."""
    by_repository = bool(mapper.columns.files)
    files = flatten_repository(row, mapper.columns) if by_repository else [dict(row)]
    ranked = []
    for file_row in files:
        at = mapper.locate(file_row, where)
        checked = mapper.precheck(file_row, at)
        name = mapper.path_of(file_row)
        rank = MANIFEST_NAMES.index(name) if by_repository and name in MANIFEST_NAMES else len(MANIFEST_NAMES)
        skip = checked if isinstance(checked, Skip) else None
        ranked.append((rank, _Job(unit, at, file_row, skip, rank < len(MANIFEST_NAMES))))
    ranked.sort(key=lambda pair: pair[0])  # stable: other files keep their order
    return [job for _, job in ranked]


def _fetched_documents(
    jobs: Iterator[_Job], mapper: RowMapper, store: BlobStore
) -> Iterator[Document | Skip]:
    unit, reading = -1, None
    for job, fetched in store.fetch_ordered(jobs, lambda j: j.blob(mapper.columns)):
        if job.unit != unit:
            unit, reading = job.unit, None
        if job.manifest and isinstance(fetched, bytes) and reading is None:
            text = fetched.decode("utf-8", "replace")
            reading = manifest_reading(mapper.path_of(job.row or {}), text)
        if job.skip is not None:
            yield job.skip
        elif job.row is not None:
            yield _document(job, fetched, mapper, store, reading)


def _document(
    job: _Job, fetched: Fetched | None, mapper: RowMapper, store: BlobStore, reading: LicenseReading | None
) -> Document | Skip:
    assert job.row is not None
    if fetched is None:
        return Skip(SkipReason.MISSING_FIELD, job.where, f"no value in column {mapper.columns.blob_id!r}")
    if isinstance(fetched, BlobMissing):
        return Skip(SkipReason.MISSING_BLOB, job.where, f"blob {fetched.blob_id} is not in {store.where}")
    if isinstance(fetched, BlobFailed):
        return Skip(SkipReason.UNREADABLE, job.where, f"blob {fetched.blob_id} not fetched: {fetched.reason}")
    content = _decoded(fetched, job, mapper)
    if isinstance(content, Skip):
        return content
    return mapper.document({**job.row, mapper.columns.content: content}, job.where, reading)


def _decoded(raw: bytes, job: _Job, mapper: RowMapper) -> str | bytes | Skip:
    """The file's text in its declared ``src_encoding`` (UTF-8 ones are left to `decode`, which
    also refuses binary data)."""
    column = mapper.columns.src_encoding
    encoding = str(job.row.get(column) or "utf-8") if column and job.row else "utf-8"
    if encoding.strip().lower() in _UTF8:
        return raw
    try:
        return raw.decode(encoding)
    except (LookupError, UnicodeDecodeError) as err:
        return Skip(SkipReason.UNDECODABLE, job.where, f"not {encoding} text: {err}")
