"""Query options: typed, validated once; messages name the fix."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True, slots=True)
class QueryOptions:
    """How a query is matched and reported.

    Sizes: `min_match_chars` counts the non-whitespace characters an exact match must align (50
    is about 70 characters of ordinary code); a query shorter than that is matched when nearly
    all of it aligns and it has at least `min_short_match_chars`. A renamed (normalized) match
    must align `min_match_tokens` tokens and, unless it has `long_match_tokens`, most of the
    query: a short structural likeness inside a long text is too likely by chance (a query
    shorter than that matches when nearly all of it aligns, with `min_short_match_tokens`).
    `max_postings`: a fingerprint found in more places than this is boilerplate — counted, never
    used to find candidates. Candidates are the `max_candidates` best-scoring source regions
    whose score is at least `candidate_ratio` times the best one's. `boilerplate_repos`: a span
    most of whose fingerprints are found in at least this many files that are not copies of one
    another is common boilerplate, reported apart from the matches (None: 2% of the index's
    repositories, at least 3 and at most 10 — see `boilerplate_threshold`). `whole_file_match`: a query byte-identical to an indexed file is
    answered with that whole-file match alone, without a snippet search. `min_confidence`: matches
    the engine is less sure than this were copied are not reported (None: the calibrated model's
    floor, see `search_api.engine.evidence`). `find_notices`: license, copyright and warranty text
    and SPDX tags of the query are reported as notices and never matched.
    """

    min_match_chars: int = 50
    min_short_match_chars: int = 30
    min_match_tokens: int = 24
    min_short_match_tokens: int = 16
    long_match_tokens: int = 72
    min_identifier_consistency: float = 0.9
    max_matches: int = 20
    max_candidates: int = 12
    candidate_ratio: float = 0.1
    max_cluster_expansion: int = 16
    max_postings: int = 100
    boilerplate_repos: int | None = None
    max_gap_chars: int = 160
    max_gap_tokens: int = 12
    near_dup_min_lines: int = 20
    max_query_bytes: int = 4_000_000
    whole_file_match: bool = True
    min_confidence: float | None = None
    find_notices: bool = True

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("min_identifier_consistency", "candidate_ratio", "min_confidence"):
                if value is not None and not 0.0 <= value <= 1.0:
                    problems.append(f"{f.name}={value} must be between 0 and 1")
            elif isinstance(value, bool) or value is None:
                continue
            elif value < 1:
                problems.append(f"{f.name}={value} must be at least 1")
        if problems:
            raise ValueError("invalid query options: " + "; ".join(problems))

    def with_min_confidence(self, confidence: float | None) -> QueryOptions:
        """These options with another confidence floor (None: keep these options' floor)."""
        if confidence is None:
            return self
        if not 0.0 <= confidence <= 1.0:
            raise ValueError(f"min_confidence={confidence} must be between 0 and 1")
        return replace(self, min_confidence=confidence)

    def with_min_match(self, chars: int | None) -> QueryOptions:
        """These options with another minimum match size (in non-whitespace characters)."""
        if chars is None:
            return self
        if chars < 1:
            raise ValueError(f"min_match={chars} must be at least 1 character")
        return replace(self, min_match_chars=chars)


def boilerplate_threshold(repositories: int) -> int:
    """Independent files a span's fingerprints must be found in to be common boilerplate, in an
    index of `repositories`: 2% of them, at least 3 (a small index) and at most 10 (a large one,
    where 10 unrelated files sharing a span already make it an idiom)."""
    return min(10, max(3, math.ceil(repositories / 50)))
