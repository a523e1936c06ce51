"""Where a match's code lives: spans, source files with their provenance, copies, the origin.

Part of the JSON contract (`search_api.engine.results`): each part writes itself (`to_dict`) and
reads itself back (`from_dict`). Lines are 1-based and inclusive.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class Relation(enum.StrEnum):
    """How a copy relates to its match's source."""

    IDENTICAL = "identical"  # byte-identical files
    NEAR_DUPLICATE = "near-duplicate"  # in the source's copy cluster: the same file with edits
    SAME_SPAN = "same-span"  # another file holding the matched span


class DateKind(enum.StrEnum):
    """Which record a file's date (`SourceRef.date`) comes from, most precise first."""

    FIRST_COMMITTED = "first-committed"  # git: the commit that first added the file
    COMMITTED = "committed"  # the archived revision's author or committer date (The Stack v2)
    REPOSITORY_CREATED = "repository-created"  # the GitHub repository's creation (gha_created_at)
    ARCHIVED = "archived"  # Software Heritage's visit: the file existed by then


class ContractError(ValueError):
    """A JSON document that is not a codecite Report (e.g. from a server of another version)."""


@dataclass(frozen=True, slots=True)
class Span:
    """Lines `start_line`..`end_line`, 1-based, both inclusive."""

    start_line: int
    end_line: int

    def __post_init__(self) -> None:
        if not 1 <= self.start_line <= self.end_line:
            raise ValueError(
                f"bad span {self.start_line}-{self.end_line}: lines are 1-based and start <= end"
            )

    @property
    def lines(self) -> int:
        return self.end_line - self.start_line + 1

    def overlap(self, other: Span) -> int:
        return max(0, min(self.end_line, other.end_line) - max(self.start_line, other.start_line) + 1)

    def to_dict(self) -> dict[str, int]:
        return {"start_line": self.start_line, "end_line": self.end_line}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Span:
        return cls(int(d["start_line"]), int(d["end_line"]))


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A file of the index: where it lives and under which license.

    Provenance, for judging which copy came first: `vendored` (the corpus says so, or the path is
    under vendor/, _vendor/, third_party/, node_modules/), `date` (ISO 8601, UTC: the earliest
    date the corpus records for this file) with `date_kind` saying what it dates, and `stars`
    (the repository's GitHub star events); None where not known.
    """

    blob_id: str
    repo: str
    path: str
    license: str | None
    license_category: str
    url: str | None
    language: str
    vendored: bool = False
    date: str | None = None
    date_kind: DateKind | None = None
    stars: int | None = None
    license_basis: str | None = None

    def same_file(self, other: SourceRef) -> bool:
        """Whether both name one file of the index (identical copies share a blob id, not a path)."""
        return (self.blob_id, self.repo, self.path) == (other.blob_id, other.repo, other.path)

    def to_dict(self) -> dict[str, object]:
        return {
            "blob_id": self.blob_id,
            "repo": self.repo,
            "path": self.path,
            "license": self.license,
            "license_category": self.license_category,
            "url": self.url,
            "language": self.language,
            "vendored": self.vendored,
            "date": self.date,
            "date_kind": self.date_kind.value if self.date_kind else None,
            "stars": self.stars,
            "license_basis": self.license_basis,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SourceRef:
        kind, stars = d.get("date_kind"), d.get("stars")
        return cls(
            str(d.get("blob_id", "")),
            str(d["repo"]),
            str(d["path"]),
            d.get("license"),
            str(d.get("license_category", "unknown")),
            d.get("url"),
            str(d.get("language") or ""),
            bool(d.get("vendored", False)),
            d.get("date"),
            DateKind(kind) if kind else None,
            int(stars) if stars is not None else None,
            d.get("license_basis"),
        )


@dataclass(frozen=True, slots=True)
class Copy:
    """Another file holding the matched span: byte-identical to the source, or a verified
    near-duplicate (then with its own `source_span`)."""

    source: SourceRef
    relation: Relation
    source_span: Span | None = None

    def to_dict(self) -> dict[str, object]:
        out = self.source.to_dict() | {"relation": self.relation.value}
        if self.source_span is not None:
            out["source_span"] = self.source_span.to_dict()
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Copy:
        span = d.get("source_span")
        return cls(
            SourceRef.from_dict(d),
            Relation(d.get("relation", Relation.IDENTICAL)),
            Span.from_dict(span) if span else None,
        )


@dataclass(frozen=True, slots=True)
class Origin:
    """The most likely first author of a match's code, among the matched source and all its copies
    (identical files, near-duplicates, the same span elsewhere): the earliest dated file that is
    not vendored, more stars breaking a tie; a vendored copy only when every copy is vendored.
    `copies_weighed` counts the files compared (all of them, not only the copies listed);
    `reason` says why in words ("earliest committed of 14 copies, 2013-05-02; the others are
    vendored").
    """

    source: SourceRef
    copies_weighed: int
    reason: str

    def to_dict(self) -> dict[str, object]:
        return self.source.to_dict() | {"copies_weighed": self.copies_weighed, "reason": self.reason}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Origin:
        return cls(SourceRef.from_dict(d), int(d.get("copies_weighed", 1)), str(d.get("reason", "")))
