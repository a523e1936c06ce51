"""Installed Python distributions and node_modules trees."""

from __future__ import annotations

import importlib.metadata
import json
import shutil
from pathlib import Path

from indexer.records import Document, LicenseCategory, Skip, SkipReason
from indexer.sources import IngestOptions, open_source
from indexer.sources.installed import distribution_license, distribution_repo

LICENSES = Path(__file__).resolve().parents[1] / "data" / "licenses"
CODE = "def run():\n    return 1\n"


def ingest(spec: str, options: IngestOptions = IngestOptions()) -> tuple[list[Document], list[Skip]]:
    docs: list[Document] = []
    skips: list[Skip] = []
    for item in open_source(spec, options):
        (docs if isinstance(item, Document) else skips).append(item)
    return docs, skips


def copy_distribution(name: str, site: Path) -> importlib.metadata.Distribution:
    """Copy an installed distribution (its RECORD's files) into the directory `site`."""
    dist = importlib.metadata.distribution(name)
    for file in dist.files or []:
        source = Path(str(dist.locate_file(file)))
        if file.as_posix().startswith("..") or not source.is_file():
            continue
        target = site / file
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return dist


def fake_distribution(site: Path, name: str, metadata: str, files: dict[str, str]) -> None:
    """A minimal *.dist-info with METADATA and a RECORD listing `files` (written too)."""
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n{metadata}\n")
    for rel, text in files.items():
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text(text)
    record = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD"]
    (info / "RECORD").write_text("".join(f"{r},,\n" for r in record))


def test_real_installed_distributions_pytest_and_click(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    copy_distribution("pytest", site)
    copy_distribution("click", site)
    docs, skips = ingest(f"installed:{site}")
    pytest_docs = [d for d in docs if d.path.startswith("_pytest/")]
    click_docs = [d for d in docs if d.path.startswith("click/")]
    assert any(d.path == "_pytest/python.py" for d in pytest_docs)
    assert any(d.path == "click/core.py" for d in click_docs)
    assert {(d.repo, d.license, d.language) for d in pytest_docs} == {("pytest-dev/pytest", "MIT", "Python")}
    assert {(d.repo, d.license, d.license_category) for d in click_docs} == {
        ("pallets/click", "BSD-3-Clause", LicenseCategory.PERMISSIVE)
    }
    assert {d.revision for d in click_docs} == {importlib.metadata.version("click")}
    assert all(d.url is None for d in docs)  # an installed file's path in its repository is not known
    assert all(s.reason is not SkipReason.UNREADABLE for s in skips)


def test_installed_metadata_helpers_on_this_environment() -> None:
    dist = importlib.metadata.distribution("pytest")
    assert distribution_license(dist) == "MIT"
    repo = distribution_repo(dist)
    assert repo is not None and (repo.host, repo.name) == ("github.com", "pytest-dev/pytest")


def test_license_from_license_field_classifiers_and_shipped_files(tmp_path: Path) -> None:
    site = tmp_path / "site"
    fake_distribution(
        site,
        "by_name",
        "License: Apache 2.0\nHome-page: https://gitlab.com/acme/by-name",
        {"by_name/__init__.py": CODE},
    )
    fake_distribution(
        site,
        "by_classifier",
        "Classifier: License :: OSI Approved :: MIT License\n"
        "Project-URL: Funding, https://github.com/sponsors/acme\n"
        "Project-URL: Source, https://github.com/acme/by-classifier",
        {"by_classifier/core.py": CODE},
    )
    fake_distribution(
        site,
        "by_file",
        "License: BSD\nClassifier: License :: OSI Approved :: BSD License",
        {"by_file/core.py": CODE},
    )
    shutil.copy(LICENSES / "BSD-2-Clause.txt", site / "by_file-1.0.dist-info" / "LICENSE")
    with open(site / "by_file-1.0.dist-info" / "RECORD", "a") as record:
        record.write("by_file-1.0.dist-info/LICENSE,,\n")
    fake_distribution(site, "nothing_known", "", {"nothing_known.py": CODE})
    docs, _ = ingest(f"installed:{site}")
    got = {d.path: (d.repo, d.license, d.license_category) for d in docs}
    assert got["by_name/__init__.py"] == ("acme/by-name", "Apache-2.0", LicenseCategory.PERMISSIVE)
    assert got["by_classifier/core.py"] == ("acme/by-classifier", "MIT", LicenseCategory.PERMISSIVE)
    # "BSD" names a family: the shipped LICENSE text says which member.
    assert got["by_file/core.py"] == ("by_file", "BSD-2-Clause", LicenseCategory.PERMISSIVE)
    assert got["nothing_known.py"] == ("nothing_known", None, LicenseCategory.NO_LICENSE)


def write_package(root: Path, manifest: dict[str, object], files: dict[str, str]) -> None:
    root.mkdir(parents=True)
    (root / "package.json").write_text(json.dumps(manifest))
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_node_modules_packages_with_modern_and_legacy_license_fields(tmp_path: Path) -> None:
    modules = tmp_path / "app" / "node_modules"
    write_package(
        modules / "left-pad",
        {
            "name": "left-pad",
            "version": "1.3.0",
            "license": "WTFPL",
            "repository": "github:stevemao/left-pad",
        },
        {"index.js": "module.exports = leftPad;\n", "README.md": "# left-pad\n"},
    )
    write_package(
        modules / "@acme" / "legacy",
        {
            "name": "@acme/legacy",
            "version": "0.1.0",
            "licenses": [{"type": "MIT", "url": "http://x"}, {"type": "Apache 2.0", "url": "http://y"}],
            "repository": {"type": "git", "url": "git+https://github.com/acme/legacy.git"},
        },
        {
            "lib/a.js": "exports.a = 1;\n",
            "dist/a.min.js": "exports.a=1;\n",
            "types.d.ts": "export declare const a: number;\n",
        },
    )
    write_package(
        modules / "@acme" / "legacy" / "node_modules" / "dep",
        {"name": "dep", "version": "2.0.0", "gitHead": "abc123", "repository": "acme/dep"},
        {"index.js": "module.exports = 2;\n", "LICENSE": (LICENSES / "ISC.txt").read_text()},
    )
    docs, skips = ingest(f"npm:{tmp_path / 'app'}")  # a project dir: its node_modules is used
    got = {(d.repo, d.path): (d.license, d.license_category, d.revision) for d in docs}
    assert got == {
        ("stevemao/left-pad", "index.js"): ("WTFPL", LicenseCategory.PUBLIC_DOMAIN, "1.3.0"),
        ("acme/legacy", "lib/a.js"): ("MIT OR Apache-2.0", LicenseCategory.PERMISSIVE, "0.1.0"),
        ("acme/legacy", "types.d.ts"): ("MIT OR Apache-2.0", LicenseCategory.PERMISSIVE, "0.1.0"),
        ("acme/dep", "index.js"): ("ISC", LicenseCategory.PERMISSIVE, "abc123"),
    }
    assert {(s.where, s.reason) for s in skips} >= {
        ("left-pad/README.md", SkipReason.UNSUPPORTED_LANGUAGE),
        ("@acme/legacy/dist/a.min.js", SkipReason.MINIFIED),
    }
    # Nested packages are read as packages, not skipped as a dependency directory.
    assert not any(s.reason is SkipReason.VENDORED_BUILD_OUTPUT for s in skips)


def test_unlicensed_npm_package_is_not_mistaken_for_unlicensed_code(tmp_path: Path) -> None:
    modules = tmp_path / "node_modules"
    write_package(modules / "private", {"name": "private", "license": "UNLICENSED"}, {"i.js": "x();\n"})
    [doc], _ = ingest(str(modules))  # a node_modules directory is read as npm packages without the prefix
    assert doc.source == str(modules)
    assert doc.license == "LicenseRef-scancode-proprietary-license"
    assert doc.license_category not in (LicenseCategory.NO_LICENSE, LicenseCategory.PERMISSIVE)
