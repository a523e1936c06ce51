"""The manifest: what one generation of an index holds and how it was built (every backend).

It records the format version and the index options with their hash (an index answers only with
the code that fingerprints as it was built), the batches of documents it holds (`SegmentInfo`:
a segment of the embedded index, a bulk batch of Elasticsearch), what was removed, and what was
read. A manifest of another format or other options is an error that names the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from indexer.backends.errors import IndexOptionsError, IndexVersionError
from indexer.backends.removal import RemovalSpec
from indexer.options import IndexOptions
from indexer.records import IngestStats

FORMAT = "codecite-index"
FORMAT_VERSION = 4  # 4: provenance.arrow in every segment; removed_owners

# A segment's name is one path component the index itself made (seg-..., batch-...): never a path
# that could lead out of the index directory.
_SEGMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


@dataclass(slots=True)
class SegmentInfo:
    """What the manifest records about a segment."""

    name: str
    doc_base: int
    documents: int
    lines: int
    postings: dict[str, int]
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "doc_base": self.doc_base,
            "documents": self.documents,
            "lines": self.lines,
            "postings": self.postings,
            "files": self.files,
        }

    @classmethod
    def from_dict(cls, raw: dict) -> SegmentInfo:
        """Raises ValueError for a name that is not a plain segment name (``../x``, ``a/b``)."""
        name = raw["name"]
        if not isinstance(name, str) or not _SEGMENT_NAME.fullmatch(name) or ".." in name:
            raise ValueError(f"segment name {str(name)[:80]!r} is not a plain segment name")
        return cls(
            name,
            int(raw["doc_base"]),
            int(raw["documents"]),
            int(raw["lines"]),
            dict(raw["postings"]),
            dict(raw.get("files", {})),
        )


@dataclass(slots=True)
class Manifest:
    """One generation of an index: what it holds and how it was built."""

    generation: int
    index_id: str
    created: str
    options: IndexOptions
    segments: list[SegmentInfo]
    removed_repos: list[str] = field(default_factory=list)
    removed_documents: list[int] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    ingest: dict[str, Any] = field(default_factory=dict)
    removed_owners: list[str] = field(default_factory=list)

    @property
    def next_doc_base(self) -> int:
        return max((s.doc_base + s.documents for s in self.segments), default=0)

    def record_removal(self, spec: RemovalSpec) -> None:
        """Remember what an opt-out named (the documents it flagged are recorded by the backend)."""
        self.removed_repos = sorted(set(self.removed_repos) | spec.repos)
        self.removed_owners = sorted(set(self.removed_owners) | spec.owners)

    def to_dict(self) -> dict[str, object]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "generation": self.generation,
            "index_id": self.index_id,
            "created": self.created,
            "options": self.options.to_dict(),
            "options_hash": self.options.options_hash,
            "segments": [s.to_dict() for s in self.segments],
            "removed_repos": self.removed_repos,
            "removed_owners": self.removed_owners,
            "removed_documents": self.removed_documents,
            "sources": self.sources,
            "ingest": self.ingest,
        }

    @classmethod
    def from_dict(cls, raw: dict, where: str, rebuild: str) -> Manifest:
        """The manifest `raw` records, if this codecite reads it the same way. Errors name the
        index as `where` ("the index at PATH") and end with `rebuild`, the command that fixes it."""
        if not isinstance(raw, dict):
            raise IndexVersionError(
                f"{where} has a damaged manifest (a JSON {type(raw).__name__}, not an object): {rebuild}"
            )
        if raw.get("format") != FORMAT:
            raise IndexVersionError(f"{where} has no codecite index manifest: {rebuild}")
        version = raw.get("format_version")
        if version != FORMAT_VERSION:
            raise IndexVersionError(
                f"{where} has format version {version}, this codecite reads version "
                f"{FORMAT_VERSION}: {rebuild} (or install the codecite release that wrote it)"
            )
        try:
            options = IndexOptions.from_dict(raw["options"])
        except (KeyError, TypeError, ValueError) as err:
            raise IndexVersionError(
                f"{where} records options this codecite does not know ({err}): {rebuild}"
            ) from err
        if options.options_hash != raw.get("options_hash"):
            raise IndexOptionsError(
                f"{where} was built with fingerprinting code or options this codecite "
                f"computes differently: {rebuild}"
            )
        try:
            return cls(
                generation=int(raw["generation"]),
                index_id=raw["index_id"],
                created=raw["created"],
                options=options,
                segments=[SegmentInfo.from_dict(s) for s in raw["segments"]],
                removed_repos=list(raw.get("removed_repos", [])),
                removed_owners=list(raw.get("removed_owners", [])),
                removed_documents=[int(d) for d in raw.get("removed_documents", [])],
                sources=list(raw.get("sources", [])),
                ingest=dict(raw.get("ingest", {})),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise IndexVersionError(f"{where} has a damaged manifest ({err!r}): {rebuild}") from err


def merge_ingest_stats(previous: dict[str, Any], stats: IngestStats) -> dict[str, Any]:
    """The manifest's ingest counts after adding `stats` to `previous`."""
    out = dict(previous)
    out["documents"] = int(out.get("documents", 0)) + stats.documents
    out["bytes"] = int(out.get("bytes", 0)) + stats.bytes
    skipped = dict(out.get("skipped", {}))
    for reason, n in sorted(stats.skipped.items(), key=lambda kv: -kv[1]):
        skipped[reason.value] = skipped.get(reason.value, 0) + n
    out["skipped"] = skipped
    return out
