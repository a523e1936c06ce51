"""Turning one file on disk into a `Document` (or a `Skip`), with its repository and license.

Shared by the sources that read files: local repositories, installed Python distributions and
``node_modules`` trees. A file's license is, in order: its ``SPDX-License-Identifier`` header,
else a license notice in its first lines, else the license of the tree it lives in (a manifest's
expression, else its license files: see `indexer.licenses.readings`). The reading's basis is kept
in the document's provenance.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from indexer.licenses.expressions import combine_expressions, license_category, spdx_header_expressions
from indexer.licenses.manifests import MANIFEST_NAMES, manifest_reading
from indexer.licenses.readings import NOTICE_CHARS, LicenseReading, header_reading
from indexer.licenses.text import is_license_file_name, recognize_license
from indexer.records import EMPTY_PROVENANCE, Document, Provenance, Skip, SkipReason, git_blob_id
from indexer.sources.base import IngestOptions
from indexer.sources.filters import check_name, check_size, check_text, decode
from indexer.sources.repo_urls import RepoRef

log = logging.getLogger(__name__)

# ScanCode's key for "a license file is there but its license was not identified".
UNRECOGNIZED_LICENSE = "LicenseRef-scancode-unknown-license-reference"
# License files larger than this (bytes) are not license texts (an AUTHORS-like list, a bundle).
_MAX_LICENSE_FILE_BYTES = 512_000


@dataclass(frozen=True, slots=True)
class RepoContext:
    """Where the files of one tree come from.

    `name` is the repository (``owner/name``, else a package or folder name); `forge` is set only
    when file paths are the repository's own paths, so that file URLs can be written; `license` is
    the tree's SPDX expression (None: no license found) and `license_basis` where it was read;
    `revision` a commit id or a version; `provenance` what is known of the whole tree (a
    repository's head commit dates) and `first_added` the author date of the commit that first
    added each file (repository-relative path -> date; empty without git history).
    """

    name: str
    license: str | None
    revision: str | None = None
    forge: RepoRef | None = None
    license_basis: str | None = None
    provenance: Provenance = EMPTY_PROVENANCE
    first_added: Mapping[str, dt.datetime] = field(default_factory=dict)

    def with_reading(self, reading: LicenseReading | None) -> RepoContext:
        """This context with the license of a subtree that states its own (None, or a reading
        without an expression: unchanged)."""
        if reading is None or reading.expression is None:
            return self
        return replace(self, license=reading.expression, license_basis=reading.basis)


def license_of_files(paths: Iterable[Path]) -> str | None:
    """The license stated by a tree's license files (LICENSE, COPYING, ...), combined with AND;
    None when there are none. A license file whose text is not recognised counts as
    `UNRECOGNIZED_LICENSE`, so that its tree is never mistaken for one with no license.
    GPL text shipped beside an LGPL text is the LGPL's companion, not a second license.
    """
    found: list[str] = []
    for path in sorted(paths):
        try:
            if path.stat().st_size > _MAX_LICENSE_FILE_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            log.warning("cannot read license file %s: %s", path, err)
            continue
        found.append(recognize_license(text) or UNRECOGNIZED_LICENSE)
    if any(f.startswith("LGPL-") for f in found):
        found = [f for f in found if not f.startswith("GPL-")]
    if len(set(found)) > 1 and UNRECOGNIZED_LICENSE in found:
        found = [f for f in found if f != UNRECOGNIZED_LICENSE]  # a NOTICE or AUTHORS-like extra
    return combine_expressions(found)


def license_of_directory(directory: Path) -> str | None:
    """The license stated by the license files at the root of `directory`; None when there are
    none or it cannot be listed."""
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    return license_of_files(license_files_in(directory, names))


def tree_reading(directory: Path, names: Iterable[str]) -> LicenseReading | None:
    """The license the root of a tree states (`names`: its entries): a package manifest's
    expression (``Cargo.toml``, ``package.json``, ``pyproject.toml``), else its license files;
    None when it states none."""
    names = set(names)
    for name in MANIFEST_NAMES:
        path = directory / name
        if name in names and path.is_file() and not path.is_symlink():
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError as err:
                log.warning("cannot read %s: %s", path, err)
                continue
            reading = manifest_reading(name, text)
            if reading is not None:
                return reading
    files = license_files_in(directory, names)
    if not files:
        return None
    listed = ", ".join(sorted(f.name for f in files))
    return LicenseReading(license_of_files(files), f"license files ({listed})")


def reading_of_directory(directory: Path) -> LicenseReading | None:
    """`tree_reading` of `directory`; None when it states no license or cannot be listed."""
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    return tree_reading(directory, names)


def license_files_in(directory: Path, names: Iterable[str]) -> list[Path]:
    """The license files among `names` (entries of `directory`)."""
    return [directory / n for n in names if is_license_file_name(n) and (directory / n).is_file()]


def file_license(text: str, default: str | None) -> str | None:
    """A file's license: its SPDX-License-Identifier header(s), else a license notice in its
    first `NOTICE_CHARS` characters, else `default` (its tree's license)."""
    return file_reading(text, LicenseReading(default, "")).expression


def file_reading(text: str, tree: LicenseReading) -> LicenseReading:
    """A file's license reading: its SPDX-License-Identifier header(s), else a license notice in
    its first `NOTICE_CHARS` characters, else `tree` (the reading of the tree it lives in)."""
    header = header_reading(spdx_header_expressions(text))
    if header is not None:
        return header
    notice = recognize_license(text[:NOTICE_CHARS])
    if notice:
        return LicenseReading(notice, "license notice in the file's first lines")
    return tree


def read_document(
    path: Path, rel_path: str, where: str, context: RepoContext, options: IngestOptions, source: str
) -> Document | Skip:
    """Read the file at `path` (never following a symbolic link) as a `Document` whose path is
    `rel_path` (posix, relative to its tree); `where` locates it in a `Skip`."""
    language = check_name(rel_path, options, where=where)
    if isinstance(language, Skip):
        return language
    try:
        info = os.lstat(path)
    except OSError as err:
        return Skip(SkipReason.UNREADABLE, where, err.strerror or str(err))
    if stat.S_ISLNK(info.st_mode):
        return Skip(SkipReason.SYMLINK, where)
    if not stat.S_ISREG(info.st_mode):
        return Skip(SkipReason.UNREADABLE, where, "not a regular file")
    too_large = check_size(info.st_size, where, options)
    if too_large:
        return too_large
    try:
        with open(path, "rb") as handle:
            raw = handle.read(options.max_file_bytes + 1)
    except OSError as err:
        return Skip(SkipReason.UNREADABLE, where, err.strerror or str(err))
    text = decode(raw, where, options)
    if isinstance(text, Skip):
        return text
    rejected = check_text(text, where, options)
    if rejected:
        return rejected
    reading = file_reading(text, LicenseReading(context.license, context.license_basis or "no license found"))
    return Document(
        blob_id=git_blob_id(raw),
        repo=context.name,
        path=rel_path,
        language=language,
        content=text,
        license=reading.expression,
        license_category=license_category(reading.expression),
        source=source,
        url=context.forge.file_url(rel_path, context.revision) if context.forge else None,
        revision=context.revision,
        provenance=replace(
            context.provenance,
            first_commit_date=context.first_added.get(rel_path),
            license_basis=reading.basis,
        ),
    )
