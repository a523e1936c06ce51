"""The Report and its parts: the JSON contract every front end renders (see DESIGN.md).

This package is the contract's one home: each part writes itself (`to_dict`) and reads itself back
(`from_dict`, for a Report that came over HTTP); the closed sets are enums serialised as their
values; the web layer's schemas describe these same fields (a test holds the two together).

Coordinates: lines are 1-based and inclusive; character and token offsets 0-based and
end-exclusive. Query side first, source side second.
"""

from search_api.engine.results.report import Evidence, Match, Method, Notice, Report
from search_api.engine.results.sources import (
    ContractError,
    Copy,
    DateKind,
    Origin,
    Relation,
    SourceRef,
    Span,
)

__all__ = [
    "ContractError",
    "Copy",
    "DateKind",
    "Evidence",
    "Match",
    "Method",
    "Notice",
    "Origin",
    "Relation",
    "Report",
    "SourceRef",
    "Span",
]
