"""What one query found: verified matches with their evidence, the query's notices, the Report.

Part of the JSON contract (`search_api.engine.results`). Query side first, source side second.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from indexer.records import NoticeKind
from search_api.engine.results.sources import ContractError, Copy, Origin, SourceRef, Span


class Method(enum.StrEnum):
    """How a match was verified (see `Match`)."""

    EXACT = "exact"
    NORMALIZED = "normalized"
    NEAR_DUP = "near-dup"


@dataclass(frozen=True, slots=True)
class Evidence:
    """What a verified span rests on, measured on the query side.

    `chars`: non-whitespace characters aligned (for a renamed match, the characters of the span
    times the share of its tokens that align); `share`: `chars` over the query's non-whitespace
    characters (1.0: the match is the whole query); `fingerprints`: distinct index fingerprints
    in the span, and `median_files`: in how many files of the index the median one occurs (1: only
    the source; many: common wording); `structure`: how varied the span's structure is, 0..1
    (tables, lists, import blocks and repeated lines little, varied code fully); `lines`: query
    lines the span touches; `run` and `run_lines`: the characters and the query lines of its
    longest gap-free run (an edited copy keeps long runs; look-alike code built from the same calls
    only short ones; 0: not measured, taken as `chars` and `lines`).
    """

    chars: int
    share: float
    fingerprints: int
    median_files: int
    structure: float
    lines: int = 1
    run: int = 0
    run_lines: int = 0

    def features(self, method: Method) -> dict[str, float]:
        """The confidence model's inputs (see `search_api.engine.evidence`): the characters and the
        lines of the longest run in bits, both counted by the span's structural variety (a run
        through a table of structure 0.3 counts 30% of its characters and lines); the share of the
        query; the rarity in bits (0: only the source holds the span; -3: eight files do); and the
        method."""
        return {
            "share": min(self.share, 1.0),
            "rarity": -math.log2(max(self.median_files, 1)),
            "lines": math.log2(max((self.run_lines or self.lines) * self.structure, 1.0)),
            "run": math.log2(max((self.run or self.chars) * self.structure, 1.0)),
            "renamed": 1.0 if method is Method.NORMALIZED else 0.0,
            "edited": 1.0 if method is Method.NEAR_DUP else 0.0,
        }

    def to_dict(self) -> dict[str, object]:
        return {
            "chars": self.chars,
            "query_share": round(self.share, 3),
            "fingerprints": self.fingerprints,
            "median_files": self.median_files,
            "structure": round(self.structure, 3),
            "lines": self.lines,
            "run": self.run or self.chars,
            "run_lines": self.run_lines or self.lines,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evidence:
        return cls(
            int(d["chars"]),
            float(d["query_share"]),
            int(d["fingerprints"]),
            int(d["median_files"]),
            float(d["structure"]),
            int(d.get("lines", 1)),
            int(d.get("run", 0)),
            int(d.get("run_lines", 0)),
        )


@dataclass(frozen=True, slots=True)
class Match:
    """A verified match: these query lines correspond to these source lines.

    `method`: ``exact`` (at least 90% of the span's code characters equal, whitespace aside),
    ``normalized`` (same tokens with identifiers and literals renamed consistently) or
    ``near-dup`` (the same code with edits). `similarity` is the share of the span's code that
    aligns (0..1). `repos_with_span` counts the repositories of the index holding this span
    (for boilerplate, an estimate from how often its fingerprints occur). `confidence` (0..1,
    calibrated) is how sure the engine is that the span was copied rather than written
    independently; `evidence` is what it rests on (see `search_api.engine.evidence`). `origin`
    names the file most likely to be where the code was first written (None in Reports of older
    servers).
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
    confidence: float = 1.0
    evidence: Evidence | None = None
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
            "confidence": round(self.confidence, 3),
            "evidence": self.evidence.to_dict() if self.evidence is not None else None,
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
            confidence=float(d.get("confidence", 1.0)),
            evidence=Evidence.from_dict(d["evidence"]) if d.get("evidence") else None,
            origin=Origin.from_dict(origin) if origin else None,
        )


@dataclass(frozen=True, slots=True)
class Notice:
    """License, copyright or warranty text, or an SPDX tag, in the query: what the query says of
    its own license and authors, never a match to a source. `license` is the SPDX expression it
    names (None for a copyright statement) and `license_category` that license's category;
    `score` (0..1) is how closely the wording follows the license document that named it."""

    query_span: Span
    kind: NoticeKind
    license: str | None = None
    license_category: str | None = None
    score: float = 1.0

    def to_dict(self) -> dict[str, object]:
        return {
            "query_span": self.query_span.to_dict(),
            "kind": self.kind.value,
            "license": self.license,
            "license_category": self.license_category,
            "score": round(self.score, 3),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Notice:
        return cls(
            Span.from_dict(d["query_span"]),
            NoticeKind(d["kind"]),
            d.get("license"),
            d.get("license_category"),
            float(d.get("score", 1.0)),
        )


@dataclass(frozen=True, slots=True)
class Report:
    """Everything codecite found for one query.

    `matches` are the attributable matches; `boilerplate` holds verified spans too common to
    attribute (every fingerprint of them is found in many independent files: idioms, generated
    stubs) — listed so a reviewer or a policy can still see them; `notices` are the license,
    copyright and warranty texts and SPDX tags of the query, which are never matched. `discarded`
    counts what was found and not reported, by reason (`low_confidence`, `license_text`: the
    source side was the source's own notice, `removed_sources`, `matches_over_limit`, and the
    candidate stage's cuts).
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
    notices: tuple[Notice, ...] = ()

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
            "notices": [n.to_dict() for n in self.notices],
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
                notices=tuple(Notice.from_dict(n) for n in d.get("notices", [])),
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
