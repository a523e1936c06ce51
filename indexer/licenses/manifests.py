"""License expressions stated by package manifests: ``Cargo.toml``, ``package.json``, ``pyproject.toml``.

A manifest that names an expression (``license = "MIT OR Apache-2.0"``, as most Rust crates do)
says what the authors offer more exactly than their license files can: two files, LICENSE-MIT and
LICENSE-APACHE, read as texts, only say that both licenses are there, not whether both apply.
So a manifest's expression wins over the license files (see `indexer.licenses.readings`).
"""

from __future__ import annotations

import json
import logging
import tomllib
from collections.abc import Mapping
from typing import Any

from indexer.licenses.expressions import join_expressions, normalize_expression
from indexer.licenses.names import PROPRIETARY, license_from_name
from indexer.licenses.readings import LicenseReading

log = logging.getLogger(__name__)

MANIFEST_NAMES = ("Cargo.toml", "package.json", "pyproject.toml")


def manifest_reading(name: str, text: str) -> LicenseReading | None:
    """The license a manifest named `name` (one of `MANIFEST_NAMES`) with content `text` states,
    or None when it states none (or points at a license file, or cannot be parsed)."""
    try:
        if name == "Cargo.toml":
            found = _cargo(tomllib.loads(text))
        elif name == "package.json":
            found = _package_json(json.loads(text))
        elif name == "pyproject.toml":
            found = _pyproject(tomllib.loads(text))
        else:
            return None
    except (ValueError, TypeError, AttributeError) as err:  # tomllib/json errors are ValueErrors
        log.debug("cannot read the license of %s: %s", name, err)
        return None
    if found is None:
        return None
    expression, field = found
    return LicenseReading(expression, f"{name} {field}")


def package_json_reading(manifest: Mapping[str, Any]) -> LicenseReading | None:
    """The license a parsed ``package.json`` states in ``license`` or ``licenses``, or None."""
    found = _package_json(manifest)
    return LicenseReading(found[0], f"package.json {found[1]}") if found else None


def _named(value: Any) -> str | None:
    return license_from_name(value) if isinstance(value, str) and value.strip() else None


def _cargo(manifest: Mapping[str, Any]) -> tuple[str, str] | None:
    package = manifest.get("package")
    if not isinstance(package, Mapping):
        return None
    found = _named(package.get("license"))
    return (found, "license field") if found else None


def _package_json(manifest: Any) -> tuple[str, str] | None:
    if not isinstance(manifest, Mapping):
        return None
    declared = manifest.get("license")
    if isinstance(declared, Mapping):  # legacy {"type": ..., "url": ...}
        declared = declared.get("type")
    if isinstance(declared, str) and declared.strip().upper() == "UNLICENSED":
        return PROPRIETARY, "license field (UNLICENSED)"
    found = _named(declared)
    if found:
        return found, "license field"
    legacy = manifest.get("licenses")  # alternatives, as npm documents them
    if isinstance(legacy, Mapping):
        legacy = [legacy]
    if isinstance(legacy, list):
        names = [item.get("type") if isinstance(item, Mapping) else item for item in legacy]
        alternatives = list(dict.fromkeys(f for n in names if (f := _named(n))))
        if alternatives:
            either = normalize_expression(join_expressions(alternatives, "OR"))
            return (either, "licenses list (alternatives)") if either else None
    return None


def _pyproject(manifest: Mapping[str, Any]) -> tuple[str, str] | None:
    project = manifest.get("project")
    if isinstance(project, Mapping):
        declared = project.get("license")
        if isinstance(declared, str):  # PEP 639: an SPDX expression
            found = _named(declared)
            return (found, "[project] license") if found else None
        if isinstance(declared, Mapping) and (found := _named(declared.get("text"))):
            return found, "[project] license text"
    poetry = manifest.get("tool", {}).get("poetry") if isinstance(manifest.get("tool"), Mapping) else None
    if isinstance(poetry, Mapping) and (found := _named(poetry.get("license"))):
        return found, "[tool.poetry] license"
    return None
