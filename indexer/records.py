"""The records that flow out of ingestion: one `Document` per kept file, one `Skip` per dropped one.

Provenance is the product, so every provenance field is a named field (repo, path, license, url),
never a free-form metadata dict.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field


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


@dataclass(frozen=True, slots=True)
class Document:
    """One source file of the corpus, with where it came from and under which license.

    `blob_id` is the git blob id (sha1 of ``b"blob <size>\\0" + content``) unless the dataset
    supplies its own (The Stack v2 does; v1 calls it ``hexsha``). `license` is a normalised SPDX
    expression, or None when no license was found. `source` names the input it was read from.
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

    @property
    def size_bytes(self) -> int:
        return len(self.content.encode("utf-8", "surrogatepass"))

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
