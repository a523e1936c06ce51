"""Where a license reading comes from, and ``Apache-2.0 OR MIT`` staying OR from every source
codecite reads: manifests (Cargo.toml, pyproject.toml, package.json), installed metadata, license
names, SPDX headers, dataset rows."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from indexer.licenses.manifests import manifest_reading
from indexer.licenses.names import license_from_name
from indexer.records import Document
from indexer.sources import open_source

LICENSES = Path(__file__).resolve().parents[1] / "data" / "licenses"
RUST = "pub fn double(x: u32) -> u32 {\n    x * 2\n}\n"


def docs_of(spec: str) -> dict[str, Document]:
    return {d.path: d for d in open_source(spec) if isinstance(d, Document)}


def _crate(root: Path, manifest: str | None) -> None:
    (root / "src").mkdir(parents=True)
    (root / "src" / "lib.rs").write_text(RUST)
    (root / "LICENSE-MIT").write_text((LICENSES / "MIT.txt").read_text())
    (root / "LICENSE-APACHE").write_text((LICENSES / "Apache-2.0.txt").read_text())
    if manifest is not None:
        (root / "Cargo.toml").write_text(manifest)


def test_a_crates_manifest_states_or_where_its_license_files_cannot(tmp_path: Path) -> None:
    _crate(tmp_path / "crate", '[package]\nname = "double"\nlicense = "MIT OR Apache-2.0"\n')
    lib = docs_of(str(tmp_path / "crate"))["src/lib.rs"]
    assert lib.license == "MIT OR Apache-2.0" and lib.provenance.license_basis == "Cargo.toml license field"

    _crate(tmp_path / "bare", None)  # two license files, nothing saying how they combine: both apply
    bare = docs_of(str(tmp_path / "bare"))["src/lib.rs"]
    assert bare.license == "Apache-2.0 AND MIT"
    assert bare.provenance.license_basis == "license files (LICENSE-APACHE, LICENSE-MIT)"


def test_a_vendored_crate_in_a_subdirectory_keeps_its_own_expression(tmp_path: Path) -> None:
    (tmp_path / "LICENSE").write_text((LICENSES / "BSD-3-Clause.txt").read_text())
    (tmp_path / "main.py").write_text("def main():\n    return 0\n")
    _crate(tmp_path / "vendor" / "double", '[package]\nname = "double"\nlicense = "Apache-2.0/MIT"\n')
    docs = docs_of(str(tmp_path))
    assert docs["main.py"].license == "BSD-3-Clause"
    assert docs["vendor/double/src/lib.rs"].license == "Apache-2.0 OR MIT"
    assert docs["vendor/double/src/lib.rs"].vendored


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("Cargo.toml", '[package]\nlicense = "Apache-2.0 OR MIT"\n', "Apache-2.0 OR MIT"),
        ("Cargo.toml", '[package]\nlicense = "MIT/Apache-2.0"\n', "MIT OR Apache-2.0"),
        ("pyproject.toml", '[project]\nlicense = "Apache-2.0 OR MIT"\n', "Apache-2.0 OR MIT"),
        ("pyproject.toml", '[project]\nlicense = {text = "Apache 2.0 or MIT"}\n', "Apache-2.0 OR MIT"),
        ("pyproject.toml", '[tool.poetry]\nlicense = "Apache-2.0 OR MIT"\n', "Apache-2.0 OR MIT"),
        ("package.json", '{"license": "(Apache-2.0 OR MIT)"}', "Apache-2.0 OR MIT"),
        ("package.json", '{"licenses": [{"type": "Apache-2.0"}, {"type": "MIT"}]}', "Apache-2.0 OR MIT"),
        ("package.json", '{"license": "SEE LICENSE IN LICENSE.txt"}', None),
        ("Cargo.toml", "[package\nbroken", None),
    ],
)
def test_manifest_readings(name: str, text: str, expected: str | None) -> None:
    reading = manifest_reading(name, text)
    assert (reading.expression if reading else None) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Apache-2.0 OR MIT", "Apache-2.0 OR MIT"),
        ("MIT/Apache-2.0", "MIT OR Apache-2.0"),
        ("Apache 2.0 or MIT", "Apache-2.0 OR MIT"),
        ("MIT/X11", "MIT"),  # one license's name, not two
        ("BSD or something else", None),
    ],
)
def test_license_names_keep_alternatives(name: str, expected: str | None) -> None:
    assert license_from_name(name) == expected


def test_installed_and_npm_packages_keep_or(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    info = site / "dual-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.4\nName: dual\nVersion: 1.0\nLicense-Expression: Apache-2.0 OR MIT\n"
    )
    (site / "dual.py").write_text("def dual():\n    return 2\n")
    (info / "RECORD").write_text("dual.py,,\ndual-1.0.dist-info/METADATA,,\ndual-1.0.dist-info/RECORD,,\n")
    installed = docs_of(f"installed:{site}")["dual.py"]
    assert installed.license == "Apache-2.0 OR MIT"
    assert installed.provenance.license_basis == "package metadata License-Expression"

    package = tmp_path / "node_modules" / "dual"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": "dual", "license": "(Apache-2.0 OR MIT)"}))
    (package / "index.js").write_text("module.exports = function dual() {\n  return 2;\n};\n")
    npm = docs_of(f"npm:{tmp_path / 'node_modules'}")["index.js"]
    assert npm.license == "Apache-2.0 OR MIT" and npm.provenance.license_basis == "package.json license field"


def test_an_spdx_header_wins_over_the_dataset_list(tmp_path: Path) -> None:
    row = {
        "blob_id": "b" * 40,
        "repo_name": "acme/dual",
        "path": "/src/dual.rs",
        "language": "Rust",
        "detected_licenses": ["Apache-2.0", "GPL-2.0-only"],
        "license_type": "permissive",
        "content": "// SPDX-License-Identifier: Apache-2.0 OR MIT\n" + RUST,
    }
    (tmp_path / "rows.jsonl").write_text(json.dumps(row) + "\n")
    doc = docs_of(str(tmp_path / "rows.jsonl"))["src/dual.rs"]
    assert doc.license == "Apache-2.0 OR MIT"
    assert doc.provenance.license_basis == "SPDX-License-Identifier header in the file"


def _git(repo: Path, *args: str, date: str | None = None) -> None:
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.org", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@example.org", "PATH": "/usr/bin:/bin"}  # fmt: skip
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=env, capture_output=True)


def test_local_files_carry_the_date_of_the_commit_that_added_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "old.py").write_text("def old():\n    return 1\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "first", date="2013-05-02T10:00:00Z")
    (repo / "old.py").write_text("def old():\n    return 2\n")
    (repo / "dir with space").mkdir()
    (repo / "dir with space" / "new.py").write_text("def new():\n    return 3\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "second", date="2016-07-08T09:00:00Z")
    (repo / "untracked.py").write_text("def loose():\n    return 4\n")

    import indexer.sources.git_history as history

    calls: list[list[str]] = []
    real_run = subprocess.run
    monkeypatch.setattr(
        history.subprocess, "run", lambda args, **kw: calls.append(args) or real_run(args, **kw)
    )
    docs = docs_of(str(repo))
    assert len(calls) == 2, "one pass over the history for every file, one for HEAD's dates"
    old, new = docs["old.py"].provenance, docs["dir with space/new.py"].provenance
    assert (
        old.first_commit_date is not None and old.first_commit_date.isoformat() == "2013-05-02T10:00:00+00:00"
    )
    assert (
        new.first_commit_date is not None and new.first_commit_date.isoformat() == "2016-07-08T09:00:00+00:00"
    )
    assert old.revision_date == new.revision_date == new.first_commit_date  # HEAD is the second commit
    assert docs["untracked.py"].provenance.first_commit_date is None
