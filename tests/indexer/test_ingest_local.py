"""Local repositories: real git checkouts with real LICENSE texts, .gitignore, and bad files."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from indexer.records import Document, LicenseCategory, Skip, SkipReason, git_blob_id
from indexer.sources import IngestOptions, open_source
from indexer.sources import files as source_files

LICENSES = Path(__file__).resolve().parents[1] / "data" / "licenses"
APP = "def greet(name):\n    return f'hello {name}'\n"
GIT = [
    "git",
    "-c",
    "user.name=Test",
    "-c",
    "user.email=test@example.com",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
    "-c",
    "core.hooksPath=/dev/null",
]

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs the git command")


def ingest(spec: object, options: IngestOptions = IngestOptions()) -> tuple[list[Document], list[Skip]]:
    docs: list[Document] = []
    skips: list[Skip] = []
    for item in open_source(str(spec), options):
        (docs if isinstance(item, Document) else skips).append(item)
    return docs, skips


def make_repo(root: Path, remote: str | None, license_file: str | None, files: dict[str, str | bytes]) -> str:
    """A git repository at `root` with `files` committed; returns the commit id."""
    root.mkdir(parents=True)
    subprocess.run([*GIT, "init", "-q"], cwd=root, check=True)
    if remote:
        subprocess.run([*GIT, "remote", "add", "origin", remote], cwd=root, check=True)
    if license_file:
        shutil.copy(LICENSES / f"{license_file}.txt", root / "LICENSE")
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    subprocess.run([*GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "init"], cwd=root, check=True)
    return subprocess.run(
        [*GIT, "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture()
def folder_of_repos(tmp_path: Path) -> Path:
    """Five repositories, one per license (and one without), in one folder."""
    for name, license_file in [
        ("mit", "MIT"),
        ("apache", "Apache-2.0"),
        ("bsd", "BSD-3-Clause"),
        ("gpl", "GPL-3.0"),
        ("none", None),
    ]:
        make_repo(
            tmp_path / "repos" / name,
            f"https://github.com/acme/{name}-tool.git",
            license_file,
            {"src/app.py": APP + f"# {name}\n", "lib/util.js": f"export const who = '{name}';\n"},
        )
    return tmp_path / "repos"


def test_each_repository_gets_its_license_from_its_license_file(folder_of_repos: Path) -> None:
    docs, skips = ingest(folder_of_repos)
    assert {s.reason for s in skips} <= {SkipReason.UNSUPPORTED_LANGUAGE}  # the LICENSE files themselves
    licenses = {(d.repo, d.path): (d.license, d.license_category) for d in docs}
    expected = {
        "acme/mit-tool": ("MIT", LicenseCategory.PERMISSIVE),
        "acme/apache-tool": ("Apache-2.0", LicenseCategory.PERMISSIVE),
        "acme/bsd-tool": ("BSD-3-Clause", LicenseCategory.PERMISSIVE),
        "acme/gpl-tool": ("GPL-3.0-only", LicenseCategory.COPYLEFT),
        "acme/none-tool": (None, LicenseCategory.NO_LICENSE),
    }
    for repo, license_and_category in expected.items():
        assert licenses[(repo, "src/app.py")] == license_and_category
        assert licenses[(repo, "lib/util.js")] == license_and_category
    assert len(docs) == 10
    assert {d.language for d in docs} == {"Python", "JavaScript"}


def test_repo_name_revision_url_and_blob_id(tmp_path: Path) -> None:
    remote = "https://github.com/acme/widgets.git"
    commit = make_repo(tmp_path / "widgets", remote, "MIT", {"src/app.py": APP})
    [doc], _ = ingest(tmp_path / "widgets")
    assert (doc.repo, doc.path, doc.revision) == ("acme/widgets", "src/app.py", commit)
    assert doc.url == f"https://github.com/acme/widgets/blob/{commit}/src/app.py"
    assert doc.blob_id == git_blob_id(APP.encode())
    ls_tree = subprocess.run(
        [*GIT, "rev-parse", "HEAD:src/app.py"],
        cwd=tmp_path / "widgets",
        capture_output=True,
        text=True,
        check=True,
    )
    assert doc.blob_id == ls_tree.stdout.strip()  # the same id git gives the file
    assert doc.source == str(tmp_path / "widgets")


def test_a_worktree_gets_its_own_revision_and_the_shared_remote(tmp_path: Path) -> None:
    """A git worktree's .git is a file; its HEAD's branch lives in the shared (common) git directory."""
    make_repo(tmp_path / "main", "https://github.com/acme/widgets.git", "MIT", {"src/app.py": APP})
    worktree = tmp_path / "feature"
    subprocess.run(
        [*GIT, "worktree", "add", "-q", "-b", "feature", str(worktree)], cwd=tmp_path / "main", check=True
    )
    (worktree / "src" / "extra.py").write_text(APP.replace("greet", "wave"))
    subprocess.run([*GIT, "add", "-A"], cwd=worktree, check=True)
    subprocess.run([*GIT, "commit", "-q", "-m", "more"], cwd=worktree, check=True)
    subprocess.run([*GIT, "pack-refs", "--all"], cwd=worktree, check=True)  # refs only in packed-refs
    commit = subprocess.run(
        [*GIT, "rev-parse", "HEAD"], cwd=worktree, check=True, capture_output=True, text=True
    ).stdout.strip()
    (tmp_path / "main" / ".git" / "info").mkdir(exist_ok=True)
    (tmp_path / "main" / ".git" / "info" / "exclude").write_text("*.gen.py\n")
    (worktree / "src" / "skip.gen.py").write_text(APP)
    docs, _ = ingest(worktree)
    by_path = {d.path: d for d in docs}
    assert set(by_path) == {"src/app.py", "src/extra.py"}  # the shared info/exclude applies
    doc = by_path["src/extra.py"]
    assert (doc.repo, doc.revision) == ("acme/widgets", commit)
    assert doc.url == f"https://github.com/acme/widgets/blob/{commit}/src/extra.py"


def test_ssh_remote_and_plain_folder_names(tmp_path: Path) -> None:
    make_repo(tmp_path / "a", "git@gitlab.com:group/sub/thing.git", None, {"x.go": "package x\n"})
    [doc], _ = ingest(tmp_path / "a")
    assert doc.repo == "group/sub/thing"
    assert doc.url is not None and doc.url.startswith("https://gitlab.com/group/sub/thing/-/blob/")
    plain = tmp_path / "just-code"
    plain.mkdir()
    (plain / "main.rs").write_text("fn main() {}\n")
    [doc], _ = ingest(plain)
    assert (doc.repo, doc.revision, doc.url) == ("just-code", None, None)


def test_spdx_header_and_vendored_license_override_the_repo_license(tmp_path: Path) -> None:
    make_repo(
        tmp_path / "w",
        "https://github.com/acme/widgets.git",
        "MIT",
        {
            "src/app.py": APP,
            "src/gpl_part.py": "# SPDX-License-Identifier: GPL-2.0-or-later\n" + APP,
            "src/dual.c": "/* SPDX-License-Identifier: MIT OR Apache-2.0 */\nint x;\n",
            "third_party/zlib/inflate.c": "int inflate(void) { return 0; }\n",
            "third_party/zlib/LICENSE": (LICENSES / "Zlib.txt").read_text(),
            "src/notice.py": '# Licensed under the Apache License, Version 2.0 (the "License");\n' + APP,
        },
    )
    docs, _ = ingest(tmp_path / "w")
    got = {d.path: (d.license, d.license_category) for d in docs}
    assert got["src/app.py"] == ("MIT", LicenseCategory.PERMISSIVE)
    assert got["src/gpl_part.py"] == ("GPL-2.0-or-later", LicenseCategory.COPYLEFT)
    assert got["src/dual.c"] == ("MIT OR Apache-2.0", LicenseCategory.PERMISSIVE)
    assert got["third_party/zlib/inflate.c"] == ("Zlib", LicenseCategory.PERMISSIVE)
    assert got["src/notice.py"] == ("Apache-2.0", LicenseCategory.PERMISSIVE)


def test_gitignore_files_are_respected_nested_ones_too(tmp_path: Path) -> None:
    make_repo(
        tmp_path / "w",
        "https://github.com/acme/widgets.git",
        None,
        {
            ".gitignore": "build/\n*.gen.py\n!keep.gen.py\n",
            "src/app.py": APP,
            "src/a.gen.py": APP,
            "src/keep.gen.py": APP,
            "src/.gitignore": "local_*.py\n",
            "src/local_settings.py": APP,
            "other/local_settings.py": APP,
        },
    )
    (tmp_path / "w" / "build").mkdir()
    (tmp_path / "w" / "build" / "out.py").write_text(APP)
    docs, skips = ingest(tmp_path / "w")
    assert sorted(d.path for d in docs) == ["other/local_settings.py", "src/app.py", "src/keep.gen.py"]
    ignored = sorted(s.where for s in skips if s.reason is SkipReason.GITIGNORED)
    assert ignored == ["build/", "src/a.gen.py", "src/local_settings.py"]


def test_every_bad_file_becomes_a_counted_skip(tmp_path: Path) -> None:
    root = tmp_path / "bad"
    make_repo(
        root,
        None,
        None,
        {
            "ok.py": APP,
            "empty.py": "",
            "blank.py": "\n   \n",
            "latin1.py": "caf\xe9 = 1\n".encode("latin-1"),
            "nul.c": b"int x;\0\0\0",
            "logo.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
            "bundle.min.js": "var a=1;\n",
            "wide.js": "var x = '" + "y" * 1500 + "';\n",
            "gen_pb2.py": "# Generated by the protocol buffer compiler.  DO NOT EDIT!\nX = 1\n",
            "lexer.py": '"""Tokens generated by the lexer, with their lines."""\nX = 1\n',  # not a marker
            "notes.txt": "prose\n",
            "data.xyz": "?\n",
            "node_modules/dep/index.js": APP,
            "pkg/__pycache__/m.py": APP,
            "vendor/lib.py": APP,  # vendored code is kept: copies are what the index must find
        },
    )
    (root / "big.py").write_text("x = 1\n" * 400)
    (root / "loop").symlink_to(".")
    (root / "link.py").symlink_to("ok.py")
    (root / "dangling.py").symlink_to("missing.py")
    os.mkfifo(root / "pipe.py")
    docs, skips = ingest(root, IngestOptions(max_file_bytes=2000))
    assert sorted(d.path for d in docs) == ["lexer.py", "ok.py", "vendor/lib.py"]
    reasons = {s.where: s.reason for s in skips}
    assert reasons == {
        "empty.py": SkipReason.EMPTY,
        "blank.py": SkipReason.EMPTY,
        "latin1.py": SkipReason.UNDECODABLE,
        "nul.c": SkipReason.BINARY,
        "logo.png": SkipReason.BINARY,
        "bundle.min.js": SkipReason.MINIFIED,
        "wide.js": SkipReason.MINIFIED,
        "gen_pb2.py": SkipReason.GENERATED,
        "notes.txt": SkipReason.UNSUPPORTED_LANGUAGE,
        "data.xyz": SkipReason.UNSUPPORTED_LANGUAGE,
        "node_modules/": SkipReason.VENDORED_BUILD_OUTPUT,
        "pkg/__pycache__/": SkipReason.VENDORED_BUILD_OUTPUT,
        "big.py": SkipReason.TOO_LARGE,
        "loop": SkipReason.SYMLINK,
        "link.py": SkipReason.SYMLINK,
        "dangling.py": SkipReason.SYMLINK,
        "pipe.py": SkipReason.UNREADABLE,
    }


@pytest.fixture
def modes_bind_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Root reads files whatever their mode; as root, make a mode-000 path refuse the two calls
    ingestion reads through (a directory listing, a file open) the way the kernel refuses a user."""
    if os.geteuid() != 0:
        return

    def refusing_mode_000(real: Callable[..., Any]) -> Callable[..., Any]:
        def call(path: Any, *args: Any, **kwargs: Any) -> Any:
            if os.stat(path).st_mode & 0o777 == 0:
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real(path, *args, **kwargs)

        return call

    monkeypatch.setattr(os, "scandir", refusing_mode_000(os.scandir))
    monkeypatch.setattr(source_files, "open", refusing_mode_000(open), raising=False)


@pytest.mark.usefixtures("modes_bind_root")
def test_unreadable_file_and_directory(tmp_path: Path) -> None:
    root = tmp_path / "perm"
    (root / "locked").mkdir(parents=True)
    (root / "ok.py").write_text(APP)
    (root / "secret.py").write_text(APP)
    (root / "locked" / "inner.py").write_text(APP)
    (root / "secret.py").chmod(0)
    (root / "locked").chmod(0)
    try:
        docs, skips = ingest(root)
    finally:
        (root / "locked").chmod(0o755)
        (root / "secret.py").chmod(0o644)
    assert [d.path for d in docs] == ["ok.py"]
    assert {(s.where, s.reason) for s in skips} == {
        ("secret.py", SkipReason.UNREADABLE),
        ("locked/", SkipReason.UNREADABLE),
    }


def test_languages_option_and_non_code_defaults(tmp_path: Path) -> None:
    root = tmp_path / "mixed"
    root.mkdir()
    (root / "a.py").write_text(APP)
    (root / "b.go").write_text("package b\n")
    (root / "c.yaml").write_text("key: value\n")
    docs, skips = ingest(root)
    assert sorted(d.language for d in docs) == ["Go", "Python"]
    assert [(s.where, s.reason) for s in skips] == [("c.yaml", SkipReason.UNSUPPORTED_LANGUAGE)]
    docs, _ = ingest(root, IngestOptions(languages=frozenset({"YAML", "Go"})))
    assert sorted(d.language for d in docs) == ["Go", "YAML"]
