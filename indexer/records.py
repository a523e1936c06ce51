"""The records that flow out of ingestion: one `Document` per kept file, one `Skip` per dropped one.

Provenance is the product, so every provenance field is a named field (repo, path, license, url),
never a free-form metadata dict.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any


class LicenseCategory(str, enum.Enum):
    """What a license asks of a user, in the ScanCode LicenseDB's categories (lower-cased).

    `NO_LICENSE` means no license was found at all (The Stack v2's ``no_license``);
    `UNKNOWN` means something was found but could not be identified.
    """

    PERMISSIVE = "permissive"
    PUBLIC_DOMAIN = "public-domain"
    WEAK_COPYLEFT = "weak-copyleft"
    COPYLEFT = "copyleft"
    PROPRIETARY_FREE = "proprietary-free"
    FREE_RESTRICTED = "free-restricted"
    SOURCE_AVAILABLE = "source-available"
    COMMERCIAL = "commercial"
    PATENT_LICENSE = "patent-license"
    CLA = "cla"
    UNSTATED = "unstated"
    NO_LICENSE = "no-license"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, name: str) -> LicenseCategory:
        """The category `name` means: case-insensitive, ``_`` or ``-`` alike (``source_available``).
        Raises ValueError naming every category otherwise."""
        key = name.strip().lower().replace("_", "-")
        try:
            return cls(key)
        except ValueError:
            valid = ", ".join(c.value for c in cls)
            raise ValueError(f"unknown license category {name!r}; the categories are: {valid}") from None


class NoticeKind(str, enum.Enum):
    """What a notice in a text is (see `indexer.licenses.notices`)."""

    LICENSE = "license"  # a license's text or its standard notice ("Licensed under the Apache License...")
    WARRANTY = "warranty"  # a disclaimer of warranty or liability without a grant
    COPYRIGHT = "copyright"  # a copyright statement ("Copyright (c) 2014 Jane Doe")
    SPDX_TAG = "spdx-tag"  # an SPDX-License-Identifier tag


# What The Stack v2 keeps, and what `codecite index build --keep` defaults to.
DEFAULT_KEEP = frozenset(
    {LicenseCategory.PERMISSIVE, LicenseCategory.PUBLIC_DOMAIN, LicenseCategory.NO_LICENSE}
)


# Path segments under which a file is someone else's code carried along (The Stack's is_vendor is
# set from the same kind of rule): vendor/, _vendor/, third_party/, node_modules/, ...
_VENDOR_DIRS = re.compile(
    r"(?:^|/)(?:vendor|vendors|_vendor|vendored|third[_-]?party|3rdparty|node_modules|bower_components)/",
    re.IGNORECASE,
)


def vendored_path(path: str) -> bool:
    """Whether a repository-relative path lies under a vendoring directory (``vendor/``,
    ``_vendor/``, ``third_party/``, ``thirdparty/``, ``node_modules/``, ...)."""
    return bool(_VENDOR_DIRS.search(path))


def parse_timestamp(value: object) -> dt.datetime | None:
    """A UTC datetime from what datasets hold: a datetime (naive ones are UTC, as Arrow
    timestamps without a zone are), an ISO 8601 string, or seconds since the epoch; None for
    anything else (missing, empty, unparseable: a bad date is no date, never an error)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            return parse_timestamp(dt.datetime.fromisoformat(value.strip()))
        except ValueError:
            return None
    return None


def format_timestamp(value: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, to the second (``2013-05-02T10:11:12Z``); None stays None."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


_DATE_FIELDS = ("revision_date", "committer_date", "visit_date", "gha_created_at", "first_commit_date")
_COUNT_FIELDS = ("star_events_count", "fork_events_count")
_FLAG_FIELDS = ("is_vendor", "is_generated")


@dataclass(frozen=True, slots=True)
class Provenance:
    """What the corpus records about when and where a file was published. Every field is optional
    (None: not known); dates are UTC.

    From The Stack v2 (per repository): `revision_date` and `committer_date` of the archived
    revision (author and committer dates), `visit_date` (when Software Heritage archived it),
    `gha_created_at` (when the GitHub repository was created, from GH Archive),
    `star_events_count` and `fork_events_count` (GH Archive events), `snapshot_id` (the Software
    Heritage snapshot); per file: `is_vendor` and `is_generated`. The revision id is
    `Document.revision`. From git (local repositories): `first_commit_date`, the author date of
    the first commit that added the file, and the head commit's dates. `license_basis` says where
    the file's license reading came from ("SPDX-License-Identifier header", "LICENSE file", ...).
    """

    revision_date: dt.datetime | None = None
    committer_date: dt.datetime | None = None
    visit_date: dt.datetime | None = None
    gha_created_at: dt.datetime | None = None
    first_commit_date: dt.datetime | None = None
    star_events_count: int | None = None
    fork_events_count: int | None = None
    snapshot_id: str | None = None
    is_vendor: bool | None = None
    is_generated: bool | None = None
    license_basis: str | None = None

    def to_dict(self) -> dict[str, object]:
        """Every field, dates as ISO 8601 strings (`format_timestamp`)."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = format_timestamp(value) if f.name in _DATE_FIELDS else value
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> Provenance:
        """The record `to_dict` wrote (unknown keys ignored, malformed values read as unknown)."""
        if not raw:
            return EMPTY_PROVENANCE
        values: dict[str, Any] = {}
        for name in _DATE_FIELDS:
            values[name] = parse_timestamp(raw.get(name))
        for name in _COUNT_FIELDS:
            count = raw.get(name)
            values[name] = (
                int(count) if isinstance(count, int | float) and not isinstance(count, bool) else None
            )
        for name in _FLAG_FIELDS:
            flag = raw.get(name)
            values[name] = flag if isinstance(flag, bool) else None
        for name in ("snapshot_id", "license_basis"):
            text = raw.get(name)
            values[name] = str(text) if text else None
        return cls(**values)

    @property
    def known(self) -> bool:
        """Whether anything at all is recorded."""
        return self != EMPTY_PROVENANCE


EMPTY_PROVENANCE = Provenance()


@dataclass(frozen=True, slots=True)
class Document:
    """One source file of the corpus, with where it came from and under which license.

    `blob_id` is the git blob id (sha1 of ``b"blob <size>\\0" + content``) unless the dataset
    supplies its own (The Stack v2 does; v1 calls it ``hexsha``). `license` is a normalised SPDX
    expression, or None when no license was found. `source` names the input it was read from;
    `revision` is the commit (The Stack v2's ``revision_id``) or version; `provenance` what the
    corpus says about its dates, popularity and vendoring.
    """

    blob_id: str
    repo: str
    path: str
    language: str
    content: str
    license: str | None
    license_category: LicenseCategory
    source: str = ""
    url: str | None = None
    revision: str | None = None
    provenance: Provenance = EMPTY_PROVENANCE

    @property
    def size_bytes(self) -> int:
        return len(self.content.encode("utf-8", "surrogatepass"))

    @property
    def vendored(self) -> bool:
        """Someone else's code carried along: the dataset says so (``is_vendor``), or the path lies
        under a vendoring directory (`vendored_path`)."""
        return bool(self.provenance.is_vendor) or vendored_path(self.path)

    def to_dict(self, with_content: bool = True) -> dict[str, object]:
        out: dict[str, object] = {
            "blob_id": self.blob_id,
            "repo": self.repo,
            "path": self.path,
            "language": self.language,
            "license": self.license,
            "license_category": self.license_category.value,
            "source": self.source,
            "url": self.url,
            "revision": self.revision,
            "provenance": self.provenance.to_dict(),
        }
        if with_content:
            out["content"] = self.content
        return out


class SkipReason(str, enum.Enum):
    """Why a file was not indexed (by a build) or not attributed (by `codecite check`). Every
    dropped file is counted under one of these."""

    BINARY = "binary"
    UNDECODABLE = "undecodable"
    EMPTY = "empty"
    TOO_LARGE = "too-large"
    MINIFIED = "minified"
    GENERATED = "generated"
    VENDORED_BUILD_OUTPUT = "build-output"
    GITIGNORED = "gitignored"
    UNSUPPORTED_LANGUAGE = "unsupported-language"
    UNREADABLE = "unreadable"
    SYMLINK = "symlink"
    MISSING_FIELD = "missing-field"
    LICENSE_FILTERED = "license-filtered"
    DUPLICATE = "duplicate"
    NOT_CODE = "not-code"
    IGNORED_BY_POLICY = "ignored-by-policy"
    REFUSED = "refused"
    MISSING_BLOB = "missing-blob"
    SPECIAL_FILE = "special-file"
    EXCLUDED = "excluded"

    @property
    def explanation(self) -> str:
        return _SKIP_EXPLANATIONS[self]


_SKIP_EXPLANATIONS = {
    SkipReason.BINARY: "contains NUL bytes or is a known binary format",
    SkipReason.UNDECODABLE: "not valid UTF-8 text",
    SkipReason.EMPTY: "empty or whitespace only",
    SkipReason.TOO_LARGE: "larger than the size limit",
    SkipReason.MINIFIED: "minified (very long lines)",
    SkipReason.GENERATED: "marked as generated code",
    SkipReason.VENDORED_BUILD_OUTPUT: "build output or dependency directory",
    SkipReason.GITIGNORED: "ignored by .gitignore",
    SkipReason.UNSUPPORTED_LANGUAGE: "no programming language recognised",
    SkipReason.UNREADABLE: "could not be read (permissions, broken link, I/O error)",
    SkipReason.SYMLINK: "symbolic link (followed links could loop or leave the tree)",
    SkipReason.MISSING_FIELD: "dataset record lacks a required field",
    SkipReason.LICENSE_FILTERED: "license category not kept by the index's license filter",
    SkipReason.DUPLICATE: "same blob already ingested",
    SkipReason.NOT_CODE: "not a programming language file (prose or data)",
    SkipReason.IGNORED_BY_POLICY: "left out by the policy's ignore.paths",
    SkipReason.REFUSED: "the index or server refused the query",
    SkipReason.MISSING_BLOB: "the content store has no blob with this id",
    SkipReason.SPECIAL_FILE: "not a regular file (a FIFO, socket or device): never read",
    SkipReason.EXCLUDED: "left out by --exclude",
}


@dataclass(frozen=True, slots=True)
class Skip:
    """A file that was dropped, and why: `where` locates it (a path, or a dataset row); `detail`
    says more when there is more to say."""

    reason: SkipReason
    where: str
    detail: str = ""


@dataclass(slots=True)
class IngestStats:
    """Running counts of an ingestion: documents, bytes, skips by reason, documents by license."""

    documents: int = 0
    bytes: int = 0
    skipped: dict[SkipReason, int] = field(default_factory=dict)
    licenses: dict[str, int] = field(default_factory=dict)
    categories: dict[LicenseCategory, int] = field(default_factory=dict)

    def count_document(self, doc: Document, size_bytes: int | None = None) -> None:
        """Count a kept document (`size_bytes`: its UTF-8 size, when the caller has it)."""
        self.documents += 1
        self.bytes += doc.size_bytes if size_bytes is None else size_bytes
        key = doc.license or "(none)"
        self.licenses[key] = self.licenses.get(key, 0) + 1
        self.categories[doc.license_category] = self.categories.get(doc.license_category, 0) + 1

    def count_skip(self, skip: Skip) -> None:
        self.skipped[skip.reason] = self.skipped.get(skip.reason, 0) + 1

    def to_dict(self) -> dict[str, object]:
        return {
            "documents": self.documents,
            "bytes": self.bytes,
            "skipped": {r.value: n for r, n in sorted(self.skipped.items(), key=lambda kv: -kv[1])},
            "licenses": dict(sorted(self.licenses.items(), key=lambda kv: -kv[1])),
            "license_categories": {
                c.value: n for c, n in sorted(self.categories.items(), key=lambda kv: -kv[1])
            },
        }


def content_hash(data: bytes) -> str:
    """The hash that finds byte-identical copies: the index keys whole-file matches on it."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def git_blob_id(data: bytes) -> str:
    """The id git (and Software Heritage's sha1_git, The Stack v2's blob_id) gives these bytes."""
    header = b"blob %d\0" % len(data)
    return hashlib.sha1(header + data).hexdigest()
