"""Query options: typed, validated once; messages name the fix."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True, slots=True)
class QueryOptions:
    """How a query is matched and reported.

    Sizes: `min_match_chars` counts the non-whitespace characters an exact or near-duplicate
    match must align (50 is about 70 characters of ordinary code, the shortest span worth an
    attribution); `min_match_tokens` counts the tokens a normalized (renamed) match must align.
    `max_postings`: a fingerprint found in more places than this is boilerplate — counted, never
    used to find candidates. `boilerplate_repos`: a span held by at least this many repositories
    is flagged as common boilerplate.
    """

    min_match_chars: int = 50
    min_match_tokens: int = 24
    min_identifier_consistency: float = 0.9
    max_matches: int = 20
    max_candidates: int = 32
    max_cluster_expansion: int = 16
    max_postings: int = 2000
    boilerplate_repos: int = 25
    max_gap_chars: int = 160
    max_gap_tokens: int = 12
    near_dup_min_lines: int = 20
    max_query_bytes: int = 4_000_000

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "min_identifier_consistency":
                if not 0.0 <= value <= 1.0:
                    problems.append(f"{f.name}={value} must be between 0 and 1")
            elif value < 1:
                problems.append(f"{f.name}={value} must be at least 1")
        if problems:
            raise ValueError("invalid query options: " + "; ".join(problems))

    def with_min_match(self, chars: int | None) -> QueryOptions:
        """These options with another minimum match size (in non-whitespace characters)."""
        if chars is None:
            return self
        if chars < 1:
            raise ValueError(f"min_match={chars} must be at least 1 character")
        return replace(self, min_match_chars=chars)
