"""The Python distributions installed in an environment (``installed`` or ``installed:SITE_PACKAGES``).

Each distribution's files (its RECORD, via `importlib.metadata`) are read as documents whose path
is relative to site-packages (``click/core.py``). The license comes from, in order: the
``License-Expression`` field, the ``License`` field (an SPDX expression, a known name, or a whole
license text), the ``License ::`` trove classifiers (several are combined with AND, the cautious
reading), the license files the distribution ships (recognised by their text), and last a family
name such as "BSD" taken as its most common member. The repository comes from the project URLs
(a github.com / gitlab.com / ... URL), else it is the distribution's name. File URLs are not
given: an installed file's path in its repository (``src/`` layouts, build steps) is not known.
Provenance: the version is the document's revision; a distribution's metadata (METADATA, WHEEL,
RECORD) records no upload or build date, so there is none; files under ``_vendor/`` (pip's) are
vendored copies by their path.
"""

from __future__ import annotations

import importlib.metadata
import logging
import re
from collections.abc import Iterable, Iterator
from importlib.metadata import PackageMetadata
from pathlib import Path

from indexer.licenses.expressions import combine_expressions
from indexer.licenses.names import license_from_classifier, license_from_name
from indexer.licenses.readings import LicenseReading
from indexer.licenses.text import is_license_file_name
from indexer.records import Document, Skip, SkipReason
from indexer.sources.base import IngestOptions, Source, SourceError
from indexer.sources.files import RepoContext, license_of_files, read_document
from indexer.sources.filters import is_dependency_dir
from indexer.sources.repo_urls import RepoRef, repo_from_url

log = logging.getLogger(__name__)

# Project-URL labels (lower-cased): those naming the code come first, those naming money never.
_CODE_URL = re.compile(r"source|repo|code|github|gitlab")
_FUNDING_URL = re.compile(r"fund|donat|sponsor|tidelift")


def _field(meta: PackageMetadata, name: str) -> str | None:
    """The first value of a metadata field, or None."""
    values = meta.get_all(name) or []
    return str(values[0]) if values else None


def distribution_license(dist: importlib.metadata.Distribution) -> str | None:
    """The SPDX expression of an installed distribution's license, or None when none is stated."""
    return distribution_reading(dist).expression


def distribution_reading(dist: importlib.metadata.Distribution) -> LicenseReading:
    """An installed distribution's license and where in its metadata it was read."""
    meta = dist.metadata
    for field in ("License-Expression", "License"):
        found = license_from_name(_field(meta, field))
        if found:
            return LicenseReading(found, f"package metadata {field}")
    classifiers = [c for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    named = [spdx for c in classifiers if (spdx := license_from_classifier(c))]
    if named:
        return LicenseReading(combine_expressions(named), "package metadata License classifiers (AND)")
    shipped = license_of_files(_license_files(dist))
    if shipped:
        return LicenseReading(shipped, "license files in the package metadata")
    guesses = [license_from_name(_field(meta, "License"), guess_family=True)]
    guesses += [license_from_classifier(c, guess_family=True) for c in classifiers]
    guessed = combine_expressions(g for g in guesses if g)
    if guessed:
        return LicenseReading(guessed, "package metadata names a license family; its most common member")
    return LicenseReading(None, "package metadata states no license")


def _license_files(dist: importlib.metadata.Distribution) -> list[Path]:
    """The license files in the distribution's metadata directory (``*.dist-info/[licenses/]``)."""
    out = []
    for file in dist.files or []:
        parts = file.parts
        in_metadata = any(p.endswith((".dist-info", ".egg-info")) for p in parts[:-1])
        if in_metadata and is_license_file_name(parts[-1]):
            out.append(Path(str(dist.locate_file(file))))
    return out


def distribution_repo(dist: importlib.metadata.Distribution) -> RepoRef | None:
    """The code repository named by the distribution's project URLs, or None."""
    meta = dist.metadata
    code: list[str] = []
    other: list[str] = []
    for entry in meta.get_all("Project-URL") or []:
        label, _, url = entry.partition(",")
        label = label.strip().lower()
        if not _FUNDING_URL.search(label):
            (code if _CODE_URL.search(label) else other).append(url.strip())
    urls = [*code, _field(meta, "Home-page") or "", *other]
    return next((ref for url in urls if (ref := repo_from_url(url, forges_only=True))), None)


def _distributions(path: Path | None) -> Iterable[importlib.metadata.Distribution]:
    if path is None:
        return importlib.metadata.distributions()
    return importlib.metadata.distributions(path=[str(path)])


class InstalledDistributions(Source):
    """The source files of every Python distribution installed in an environment."""

    def __init__(self, spec: str, path: Path | None, options: IngestOptions) -> None:
        self.spec = spec
        self.options = options
        self.path = path
        if path is not None and not path.is_dir():
            raise SourceError(
                f"{path} is not a directory; give installed:SITE_PACKAGES_DIR, or just 'installed'"
            )
        self._dists = _unique(_distributions(path))
        if not self._dists:
            raise SourceError(
                f"no Python distributions (*.dist-info) found in {path or 'this environment'}; "
                f"give the site-packages directory of the environment to read"
            )
        where = path or "this environment"
        self.description = f"{len(self._dists)} Python distributions installed in {where}"

    def __iter__(self) -> Iterator[Document | Skip]:
        for dist in self._dists:
            yield from self._distribution(dist)

    def _distribution(self, dist: importlib.metadata.Distribution) -> Iterator[Document | Skip]:
        name = _field(dist.metadata, "Name") or "unknown"
        files = dist.files
        if files is None:
            log.warning("%s %s lists no files (no RECORD); its files are not read", name, dist.version)
            return
        ref = distribution_repo(dist)
        reading = distribution_reading(dist)
        context = RepoContext(
            ref.name if ref else name,
            reading.expression,
            dist.version,
            forge=None,
            license_basis=reading.basis,
        )
        log.debug(
            "distribution %s %s: repo %s, license %s", name, dist.version, context.name, context.license
        )
        for file in files:
            rel = file.as_posix()
            where = f"{name}:{rel}"
            if any(is_dependency_dir(part) for part in file.parts[:-1]):
                yield Skip(SkipReason.VENDORED_BUILD_OUTPUT, where, "cache or metadata directory")
                continue
            path = Path(str(dist.locate_file(file)))
            yield read_document(path, rel, where, context, self.options, self.spec)


def _unique(dists: Iterable[importlib.metadata.Distribution]) -> list[importlib.metadata.Distribution]:
    """The first distribution of each name, as the import system would find it."""
    seen: set[str] = set()
    out = []
    for dist in dists:
        key = re.sub(r"[-_.]+", "-", (_field(dist.metadata, "Name") or "").lower())
        if key and key not in seen:
            seen.add(key)
            out.append(dist)
    return out
