"""A license *reading*: the SPDX expression a file is offered under, and where it was read from.

Several statements can name a file's license; the most explicit one wins:

1. an ``SPDX-License-Identifier`` header in the file,
2. a package manifest that states an expression (``Cargo.toml``, ``package.json``,
   ``pyproject.toml``, an installed distribution's ``License-Expression``),
3. the license files of its tree (LICENSE, COPYING, ...), combined with AND,
4. a dataset's record. The Stack v2 lists ``detected_licenses`` without the operator that joined
   them; its ``license_type`` keeps the curators' reading (``permissive`` or ``no_license``). When
   the two disagree — ``[GPL-3.0-or-later, MIT]`` read with AND is copyleft, but the curators call
   it permissive — the licenses are alternatives the author offers: ``MIT OR GPL-3.0-or-later``,
   the permissive choice first and named in the basis.

Every reading says its `basis`, so a reviewer can see why a source carries its license.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from indexer.licenses.expressions import (
    combine_expressions,
    join_expressions,
    license_category,
    normalize_expression,
)
from indexer.records import LicenseCategory

_FREE = (LicenseCategory.PERMISSIVE, LicenseCategory.PUBLIC_DOMAIN)
NOTICE_CHARS = 4000  # a file's license notice is looked for in its first this many characters


@dataclass(frozen=True, slots=True)
class LicenseReading:
    """An SPDX expression (None: no license found) and the words saying where it came from."""

    expression: str | None
    basis: str

    @property
    def category(self) -> LicenseCategory:
        return license_category(self.expression)


def license_ref(license_id: str) -> str:
    """A dataset's license id that is not SPDX, kept as a ``LicenseRef-`` (never dropped)."""
    return "LicenseRef-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", license_id.strip()).strip("-") or "unknown")


@functools.lru_cache(maxsize=8192)
def dataset_reading(
    ids: tuple[str, ...], license_type: str | None, dataset: str = "The Stack v2"
) -> LicenseReading:
    """The reading of a dataset row's detected license ids and its curators' `license_type`.

    One id is that license. Several are combined with AND (the cautious reading: every license
    applies) unless `license_type` says ``permissive`` while the AND reading is not: then they are
    alternatives, joined with OR, permissive ones first. No ids: no license when `license_type`
    is ``no_license`` or absent, else a license that was not identified (expression None,
    category unknown: see `unidentified`).
    """
    parts = list(dict.fromkeys(normalize_expression(i) or license_ref(i) for i in ids if i and i.strip()))
    listed = f"{dataset} detected_licenses [{', '.join(parts)}]"
    if not parts:
        kind = license_type or "absent"
        return LicenseReading(None, f"{dataset}: no license detected (license_type {kind})")
    if len(parts) == 1:
        return LicenseReading(parts[0], listed)
    both = combine_expressions(parts) or join_expressions(parts, "AND")
    if license_type == "permissive" and license_category(both) not in _FREE:
        free = [p for p in parts if license_category(p) in _FREE]
        if free:
            ordered = free + [p for p in parts if p not in free]
            either = normalize_expression(join_expressions(ordered, "OR")) or join_expressions(ordered, "OR")
            return LicenseReading(
                either,
                f"{listed} read as alternatives: the list keeps no operator and license_type says "
                f"permissive, so {free[0]} may be chosen",
            )
    return LicenseReading(both, f"{listed} combined with AND (the list keeps no operator)")


def unidentified(reading: LicenseReading, license_type: str | None) -> bool:
    """Whether a reading without an expression still means "some license" (category unknown):
    a dataset that says the file is licensed (`license_type` other than ``no_license``) without
    naming the license."""
    return reading.expression is None and bool(license_type) and license_type != "no_license"


def header_reading(expressions: list[str]) -> LicenseReading | None:
    """The reading of a file's ``SPDX-License-Identifier`` header(s) (several: AND), or None."""
    if not expressions:
        return None
    return LicenseReading(combine_expressions(expressions), "SPDX-License-Identifier header in the file")
