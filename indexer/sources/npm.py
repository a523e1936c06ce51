"""A ``node_modules`` tree (``npm:PATH``): every installed package, nested and scoped ones too.

A package's license comes from its ``package.json``: ``license`` (an SPDX expression, a known
name, ``SEE LICENSE IN <file>``, or ``UNLICENSED``, which npm defines as "not licensed for use by
others"), else the legacy ``licenses`` list or object (alternatives, so combined with OR, as npm
documents), else its LICENSE files. The repository comes from ``repository`` (``github:o/n``,
``o/n``, a git URL or ``{"url": ...}``), else it is the package name. Paths are relative to the
package; file URLs are not given (a published package is often built, not the repository's tree).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from indexer.licenses.expressions import join_expressions, normalize_expression
from indexer.licenses.manifests import package_json_reading
from indexer.licenses.names import PROPRIETARY, license_from_name
from indexer.records import Document, Skip, SkipReason
from indexer.sources.base import IngestOptions, Source, SourceError
from indexer.sources.files import RepoContext, license_of_directory, license_of_files
from indexer.sources.local import walk_tree
from indexer.sources.repo_urls import RepoRef, repo_from_url

log = logging.getLogger(__name__)

_SHORTHAND_HOSTS = {"github": "github.com", "gitlab": "gitlab.com", "bitbucket": "bitbucket.org"}


def find_packages(node_modules: Path) -> Iterator[Path]:
    """The package directories in a ``node_modules`` directory, in name order, each followed by
    the packages nested in its own ``node_modules``; pnpm's ``.pnpm`` store is searched too.
    Linked packages (symbolic links) are not followed."""
    try:
        entries = sorted(os.scandir(node_modules), key=lambda e: e.name)
    except OSError as err:
        log.warning("cannot list %s: %s", node_modules, err)
        return
    for entry in entries:
        path = Path(entry.path)
        if entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
            continue
        if entry.name == ".pnpm":
            for store in sorted(path.iterdir()):
                if (store / "node_modules").is_dir():
                    yield from find_packages(store / "node_modules")
        elif entry.name.startswith("@"):
            yield from find_packages(path)
        elif not entry.name.startswith(".") and (path / "package.json").is_file():
            yield path
            if (path / "node_modules").is_dir():
                yield from find_packages(path / "node_modules")


def package_license(manifest: dict[str, Any], package_dir: Path) -> str | None:
    """The SPDX expression of a package's license from its ``package.json`` and license files."""
    declared = manifest.get("license")
    if isinstance(declared, dict):  # legacy {"type": ..., "url": ...}
        declared = declared.get("type")
    if isinstance(declared, str) and declared.strip():
        text = declared.strip()
        if text.upper() == "UNLICENSED":
            return PROPRIETARY
        see = re.match(r"SEE LICEN[CS]E IN (.+)", text, re.IGNORECASE)
        if see:
            named = license_of_files([package_dir / see.group(1).strip()])
            return named or license_of_directory(package_dir)
        found = license_from_name(text)
        if found:
            return found
    legacy = manifest.get("licenses")
    if isinstance(legacy, dict):
        legacy = [legacy]
    if isinstance(legacy, list):
        names = [item.get("type") if isinstance(item, dict) else item for item in legacy]
        found_names = [found for n in names if isinstance(n, str) and (found := license_from_name(n))]
        if found_names:
            alternatives = list(dict.fromkeys(found_names))
            return normalize_expression(join_expressions(alternatives, "OR"))
    return license_of_directory(package_dir) or license_from_name(
        declared if isinstance(declared, str) else None, guess_family=True
    )


def package_repo(manifest: dict[str, Any]) -> RepoRef | None:
    """The repository a ``package.json`` names in ``repository`` (else ``homepage``), or None."""
    repository = manifest.get("repository")
    url = repository.get("url") if isinstance(repository, dict) else repository
    if isinstance(url, str):
        shorthand = re.fullmatch(r"(?:(github|gitlab|bitbucket):)?([\w.-]+/[\w.-]+)", url.strip())
        if shorthand:
            host = _SHORTHAND_HOSTS[shorthand.group(1) or "github"]
            return RepoRef(host, shorthand.group(2).removesuffix(".git"))
        ref = repo_from_url(url)
        if ref:
            return ref
    homepage = manifest.get("homepage")
    return repo_from_url(homepage, forges_only=True) if isinstance(homepage, str) else None


class NodeModules(Source):
    """The code files of the npm packages installed in a ``node_modules`` tree."""

    def __init__(self, spec: str, path: Path, options: IngestOptions) -> None:
        if not path.is_dir():
            raise SourceError(
                f"no such directory: {path}; give npm:PATH with PATH a node_modules directory "
                f"or a project directory holding one"
            )
        if path.name != "node_modules" and (path / "node_modules").is_dir():
            path = path / "node_modules"
        self.spec = spec
        self.options = options
        self.root = path
        self.description = f"npm packages in {path}"

    def __iter__(self) -> Iterator[Document | Skip]:
        found = False
        for package_dir in find_packages(self.root):
            found = True
            yield from self._package(package_dir)
        if not found:
            log.warning("no npm packages (directories with a package.json) in %s", self.root)

    def _package(self, package_dir: Path) -> Iterator[Document | Skip]:
        where = package_dir.relative_to(self.root).as_posix()
        try:
            manifest = json.loads((package_dir / "package.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            yield Skip(SkipReason.UNREADABLE, f"{where}/package.json", f"package not read: {err}")
            return
        if not isinstance(manifest, dict):
            yield Skip(SkipReason.UNREADABLE, f"{where}/package.json", "package not read: not a JSON object")
            return
        ref = package_repo(manifest)
        name = ref.name if ref else str(manifest.get("name") or package_dir.name)
        revision = manifest.get("gitHead") or manifest.get("version")
        license_expr = package_license(manifest, package_dir)
        stated = package_json_reading(manifest)
        basis = (
            stated.basis if stated and stated.expression == license_expr else "the package's license files"
        )
        context = RepoContext(name, license_expr, str(revision) if revision else None, license_basis=basis)
        nested = frozenset({"node_modules"})  # read as packages of their own
        for item in walk_tree(package_dir, context, self.options, self.spec, prune=nested):
            yield item if isinstance(item, Document) else _relocated(item, where)


def _relocated(skip: Skip, package: str) -> Skip:
    """A skip located relative to the ``node_modules`` root rather than to its package."""
    return Skip(skip.reason, f"{package}/{skip.where}", skip.detail)
