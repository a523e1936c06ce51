"""SPDX license expressions and their categories.

Expressions are parsed and normalised with `license-expression`; each license's category comes
from the ScanCode LicenseDB index that `license-expression` bundles (no hand-written category
table). An expression's category combines its parts: ``A OR B`` is as free as its freest
alternative, ``A AND B`` as restricted as its most restricted part.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from license_expression import ExpressionError, Licensing, get_spdx_licensing

from indexer.records import LicenseCategory

log = logging.getLogger(__name__)

T = TypeVar("T")

# ScanCode category names -> ours.
_SCANCODE_CATEGORY = {
    "Permissive": LicenseCategory.PERMISSIVE,
    "Public Domain": LicenseCategory.PUBLIC_DOMAIN,
    "Copyleft Limited": LicenseCategory.WEAK_COPYLEFT,
    "Copyleft": LicenseCategory.COPYLEFT,
    "Proprietary Free": LicenseCategory.PROPRIETARY_FREE,
    "Free Restricted": LicenseCategory.FREE_RESTRICTED,
    "Source-available": LicenseCategory.SOURCE_AVAILABLE,
    "Commercial": LicenseCategory.COMMERCIAL,
    "Patent License": LicenseCategory.PATENT_LICENSE,
    "CLA": LicenseCategory.CLA,
    "Unstated License": LicenseCategory.UNSTATED,
}

# From freest to most restricted: used to combine the parts of an expression.
_RESTRICTION_ORDER = [
    LicenseCategory.PUBLIC_DOMAIN,
    LicenseCategory.PERMISSIVE,
    LicenseCategory.WEAK_COPYLEFT,
    LicenseCategory.COPYLEFT,
    LicenseCategory.PATENT_LICENSE,
    LicenseCategory.CLA,
    LicenseCategory.FREE_RESTRICTED,
    LicenseCategory.PROPRIETARY_FREE,
    LicenseCategory.SOURCE_AVAILABLE,
    LicenseCategory.COMMERCIAL,
    LicenseCategory.UNSTATED,
    LicenseCategory.UNKNOWN,
    LicenseCategory.NO_LICENSE,
]
_RANK = {c: i for i, c in enumerate(_RESTRICTION_ORDER)}

_SPDX_HEADER = re.compile(r"SPDX-License-Identifier:\s*([^\n\r*]+?)\s*(?:\*/|-->|$)", re.MULTILINE)


@functools.cache
def spdx_licensing() -> Licensing:
    """The SPDX expression parser, built once per process (it loads the whole license list)."""
    return get_spdx_licensing()


@functools.cache
def _category_by_key() -> dict[str, LicenseCategory]:
    """Lower-cased SPDX id (and its aliases) -> category, from the bundled ScanCode LicenseDB index."""
    raw = importlib.resources.files("license_expression").joinpath("data/scancode-licensedb-index.json")
    entries = json.loads(raw.read_text(encoding="utf-8"))
    out: dict[str, LicenseCategory] = {}
    for entry in entries:
        category = _SCANCODE_CATEGORY.get(entry.get("category", ""), LicenseCategory.UNKNOWN)
        for key in [entry.get("spdx_license_key"), *entry.get("other_spdx_license_keys", [])]:
            if key:
                out.setdefault(key.lower(), category)
    return out


def known_license_ids() -> list[str]:
    """Every license id the bundled ScanCode LicenseDB index knows (lower-cased SPDX ids and aliases)."""
    return sorted(_category_by_key())


def normalize_expression(expression: str | None) -> str | None:
    """A normalised SPDX expression (``mit or apache-2.0`` -> ``MIT OR Apache-2.0``), or None.

    Returns None for empty input and for strings that are not SPDX expressions at all (free text
    such as "BSD-like"); `LicenseRef-*` ids are kept as they are.
    """
    if not expression or not expression.strip() or len(expression) > 500:
        return None
    text = expression.strip()
    try:
        info = spdx_licensing().validate(text)
    except ExpressionError:
        return None
    except Exception as err:  # noqa: BLE001 - the parser raises assorted errors on malformed input
        log.debug("unparseable license expression %r: %s", text, err)
        return None
    unknown = [s for s in info.invalid_symbols if not s.startswith("LicenseRef-")]
    if info.errors and (unknown or not info.invalid_symbols):
        return None
    if info.normalized_expression:
        return str(info.normalized_expression)
    return text if info.invalid_symbols else None


def license_keys(expression: str) -> list[str]:
    """The license ids an SPDX expression mentions, in order, without duplicates."""
    try:
        return list(dict.fromkeys(spdx_licensing().license_keys(spdx_licensing().parse(expression))))
    except Exception:  # noqa: BLE001 - malformed expressions mention nothing we can use
        return []


@functools.lru_cache(maxsize=4096)  # a build asks once per file, for a few hundred distinct expressions
def license_category(expression: str | None) -> LicenseCategory:
    """The category of an SPDX expression; NO_LICENSE for None, UNKNOWN for unknown ids."""
    if not expression:
        return LicenseCategory.NO_LICENSE
    try:
        tree = spdx_licensing().parse(expression)
    except Exception:  # noqa: BLE001
        return LicenseCategory.UNKNOWN
    return fold_expression(tree, _category_of_symbol, _freest_or_strictest)


def fold_expression(
    node: object, leaf: Callable[[Any], T], combine: Callable[[bool, object, list[T]], T]
) -> T:
    """Fold a parsed SPDX expression bottom up: `leaf(symbol)` gives a license's value (a
    ``L WITH E`` symbol included), `combine(is_or, node, values)` merges the parts of an OR or an AND."""
    licensing = spdx_licensing()
    if isinstance(node, licensing.OR | licensing.AND):
        parts = [fold_expression(arg, leaf, combine) for arg in node.args]
        return combine(isinstance(node, licensing.OR), node, parts)
    return leaf(node)


def _category_of_symbol(symbol: object) -> LicenseCategory:
    # A LicenseWithExceptionSymbol's category is its license's (the exception only loosens it).
    license_symbol = getattr(symbol, "license_symbol", symbol)
    key = str(getattr(license_symbol, "key", license_symbol)).lower()
    return _category_by_key().get(key, LicenseCategory.UNKNOWN)


def _freest_or_strictest(is_or: bool, _node: object, parts: list[LicenseCategory]) -> LicenseCategory:
    return (min if is_or else max)(parts, key=_RANK.__getitem__)


def combine_expressions(expressions: Iterable[str]) -> str | None:
    """One expression that requires all the given ones (``A AND B``), normalised; None if empty."""
    parts = list(dict.fromkeys(e for e in expressions if e))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return normalize_expression(join_expressions(parts, "AND"))


def join_expressions(parts: Iterable[str], operator: str) -> str:
    """`parts` joined by `operator` (``AND`` or ``OR``), each compound part in parentheses;
    not normalised."""
    return f" {operator} ".join(f"({p})" if " " in p else p for p in parts)


def spdx_header_expressions(text: str, max_chars: int = 4000) -> list[str]:
    """Normalised expressions from ``SPDX-License-Identifier:`` lines in the head of a file."""
    found = []
    for match in _SPDX_HEADER.finditer(text[:max_chars]):
        expr = normalize_expression(match.group(1))
        if expr:
            found.append(expr)
    return list(dict.fromkeys(found))


def parse_keep(spec: str) -> frozenset[LicenseCategory]:
    """Parse a ``--keep`` value: comma-separated categories, or ``all``.

    Raises ValueError naming the valid categories when one is not recognised.
    """
    names = [s.strip() for s in spec.split(",") if s.strip()]
    if not names:
        raise ValueError("--keep needs at least one category, or 'all'")
    if any(name.lower() == "all" for name in names):
        return frozenset(LicenseCategory)
    try:
        return frozenset(LicenseCategory.parse(name) for name in names)
    except ValueError as err:
        raise ValueError(f"{err} (or 'all')") from None
