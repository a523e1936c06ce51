"""The Report and its parts: the JSON contract every front end renders (see DESIGN.md).

This module is the contract's one home: each part writes itself (`to_dict`) and reads itself back
(`from_dict`, for a Report that came over HTTP); the closed sets are enums serialised as their
values; the web layer's schemas describe these same fields (a test holds the two together).

Coordinates: lines are 1-based and inclusive; character and token offsets 0-based and
end-exclusive. Query side first, source side second.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class Method(enum.StrEnum):
    """How a match was verified (see `Match`)."""

    EXACT = "exact"
    NORMALIZED = "normalized"
    NEAR_DUP = "near-dup"


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


# ---- the origin of a match -------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Match:
    """A verified match: these query lines correspond to these source lines.

    `method`: ``exact`` (at least 90% of the span's code characters equal, whitespace aside),
    ``normalized`` (same tokens with identifiers and literals renamed consistently) or
    ``near-dup`` (the same code with edits). `similarity` is the share of the span's code that
    aligns (0..1). `repos_with_span` counts the repositories of the index holding this span
    (for boilerplate, an estimate from how often its fingerprints occur). `origin` names the file
    most likely to be where the code was first written (None in Reports of older servers).
    """

    query_span: Span
    source: SourceRef
    source_span: Span
    similarity: float
    method: Method
    matched_tokens: int
    matched_chars: int
    repos_with_span: int
    copies: tuple[Copy, ...] = ()
    boilerplate: bool = False
    query_chars: tuple[int, int] = (0, 0)  # 0-based, end-exclusive character offsets in the query
    origin: Origin | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "query_span": self.query_span.to_dict(),
            "query_chars": {"start": self.query_chars[0], "end": self.query_chars[1]},
            "source": self.source.to_dict(),
            "source_span": self.source_span.to_dict(),
            "similarity": round(self.similarity, 4),
            "method": self.method.value,
            "matched_tokens": self.matched_tokens,
            "matched_chars": self.matched_chars,
            "repos_with_span": self.repos_with_span,
            "boilerplate": self.boilerplate,
            "copies": [c.to_dict() for c in self.copies],
            "origin": self.origin.to_dict() if self.origin else None,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Match:
        chars, origin = d.get("query_chars") or {}, d.get("origin")
        return cls(
            query_span=Span.from_dict(d["query_span"]),
            source=SourceRef.from_dict(d["source"]),
            source_span=Span.from_dict(d["source_span"]),
            similarity=float(d["similarity"]),
            method=Method(d["method"]),
            matched_tokens=int(d.get("matched_tokens", 0)),
            matched_chars=int(d.get("matched_chars", 0)),
            repos_with_span=int(d.get("repos_with_span", 1)),
            copies=tuple(Copy.from_dict(c) for c in d.get("copies", [])),
            boilerplate=bool(d.get("boilerplate", False)),
            query_chars=(int(chars.get("start", 0)), int(chars.get("end", 0))),
            origin=Origin.from_dict(origin) if origin else None,
        )


@dataclass(frozen=True, slots=True)
class Report:
    """Everything codecite found for one query.

    `matches` are the attributable matches; `boilerplate` holds verified spans too common to
    attribute (every fingerprint of them is found in many independent files: license headers,
    import blocks, idioms) — listed so a reviewer or a policy can still see them.
    """

    query_lines: int
    query_tokens: int
    query_chars: int
    language: str | None
    matches: tuple[Match, ...]
    index_id: str
    index_documents: int
    elapsed_ms: float = 0.0
    boilerplate: tuple[Match, ...] = ()
    discarded: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def licenses(self) -> dict[str, int]:
        """SPDX expression -> query lines covered by matches whose source or a copy carries it."""
        return _lines_by(self.matches, lambda ref: ref.license or "NOASSERTION")

    @property
    def license_categories(self) -> dict[str, int]:
        return _lines_by(self.matches, lambda ref: ref.license_category)

    def to_dict(self) -> dict[str, object]:
        return {
            "query": {
                "lines": self.query_lines,
                "tokens": self.query_tokens,
                "chars": self.query_chars,
                "language": self.language,
            },
            "matches": [m.to_dict() for m in self.matches],
            "boilerplate": [m.to_dict() for m in self.boilerplate],
            "licenses": self.licenses,
            "license_categories": self.license_categories,
            "index": {"id": self.index_id, "documents": self.index_documents},
            "discarded": self.discarded,
            "warnings": list(self.warnings),
            "elapsed_ms": round(self.elapsed_ms, 3),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Report:
        """The Report a `to_dict()` document describes. Raises ContractError for anything else."""
        try:
            query, index = d.get("query", {}), d.get("index", {})
            return cls(
                query_lines=int(query.get("lines", 0)),
                query_tokens=int(query.get("tokens", 0)),
                query_chars=int(query.get("chars", 0)),
                language=query.get("language"),
                matches=tuple(Match.from_dict(m) for m in d.get("matches", [])),
                boilerplate=tuple(Match.from_dict(m) for m in d.get("boilerplate", [])),
                index_id=str(index.get("id", "")),
                index_documents=int(index.get("documents", 0)),
                elapsed_ms=float(d.get("elapsed_ms", 0.0)),
                discarded=dict(d.get("discarded", {})),
                warnings=tuple(d.get("warnings", [])),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as err:
            raise ContractError(f"not a codecite Report ({type(err).__name__}: {err})") from None


def _lines_by(matches: tuple[Match, ...], key: Callable[[SourceRef], str]) -> dict[str, int]:
    covered: dict[str, set[int]] = {}
    for m in matches:
        lines = range(m.query_span.start_line, m.query_span.end_line + 1)
        for ref in [m.source, *(c.source for c in m.copies)]:
            covered.setdefault(key(ref), set()).update(lines)
    return dict(sorted(((k, len(v)) for k, v in covered.items()), key=lambda kv: (-kv[1], kv[0])))
