"""A tiny corpus (one GPL-3.0 file, one MIT file, every license kept) and a git project that copies from it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from indexer.backends import open_writer
from indexer.licenses.expressions import license_category
from indexer.placement import BuildSettings
from indexer.records import Document, LicenseCategory, git_blob_id

GPL_SOURCE = '''# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (C) 2019 Free Regex Hackers <regex@example.org>
"""A tiny backtracking regular expression matcher."""


def match_here(pattern, text):
    if not pattern:
        return True
    if len(pattern) > 1 and pattern[1] == "*":
        return match_star(pattern[0], pattern[2:], text)
    if pattern[0] == "$" and len(pattern) == 1:
        return not text
    if text and pattern[0] in (".", text[0]):
        return match_here(pattern[1:], text[1:])
    return False


def match_star(literal, pattern, text):
    while True:
        if match_here(pattern, text):
            return True
        if not text or literal not in (".", text[0]):
            return False
        text = text[1:]


def search(pattern, text):
    if pattern.startswith("^"):
        return match_here(pattern[1:], text)
    while True:
        if match_here(pattern, text):
            return True
        if not text:
            return False
        text = text[1:]
'''

MIT_SOURCE = '''# Copyright (c) 2021 Jane Doe <jane@example.com>
# SPDX-License-Identifier: MIT
"""Streaming statistics."""

import math


class RunningStats:
    """Welford's online mean and variance."""

    def __init__(self):
        self.count = 0
        self.mean_value = 0.0
        self.squared_distance = 0.0

    def push(self, sample):
        self.count += 1
        delta = sample - self.mean_value
        self.mean_value += delta / self.count
        self.squared_distance += delta * (sample - self.mean_value)

    def variance(self):
        if self.count < 2:
            return 0.0
        return self.squared_distance / (self.count - 1)

    def deviation(self):
        return math.sqrt(self.variance())
'''

ORIGINAL = """def render_invoice(order, currency_symbol="EUR"):
    lines = [f"Invoice #{order['number']} for {order['customer']}"]
    for item in order["items"]:
        total = item["quantity"] * item["unit_price"]
        lines.append(f"  {item['name']:<30} {item['quantity']:>4} x {item['unit_price']:>8.2f} = {total:>9.2f}")
    lines.append(f"  Total due: {sum(i['quantity'] * i['unit_price'] for i in order['items']):.2f} {currency_symbol}")
    return "\\n".join(lines)
"""

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


def body(source: str) -> str:
    """The code of a corpus file without its header comments (what a model would reproduce)."""
    lines = source.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(("def ", "class ", "import ")))
    return "".join(lines[start:])


def document(repo: str, path: str, content: str, license_expr: str) -> Document:
    return Document(
        git_blob_id(content.encode()),
        repo,
        path,
        "Python",
        content,
        license_expr,
        license_category(license_expr),
        url=f"https://github.com/{repo}/blob/main/{path}",
    )


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of two files: a GPL-3.0-or-later regex matcher and MIT running statistics."""
    index_dir = tmp_path_factory.mktemp("gate-index") / "index"
    docs = [
        document("regexhackers/tinyregex", "tinyregex/core.py", GPL_SOURCE, "GPL-3.0-or-later"),
        document("janedoe/statkit", "statkit/running.py", MIT_SOURCE, "MIT"),
    ]
    open_writer(index_dir).build(
        docs, settings=BuildSettings(keep=frozenset(LicenseCategory)), sources=["gate-test"]
    )
    return index_dir


def git(cwd: Path, *args: str) -> str:
    return subprocess.run([*GIT, *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A git repository whose src/app.py holds a copied MIT span, original code and a copied GPL span."""
    if shutil.which("git") is None:
        pytest.skip("needs the git command")
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    git(root, "init", "-q")
    (root / "src" / "app.py").write_text(body(MIT_SOURCE) + "\n\n" + ORIGINAL + "\n\n" + body(GPL_SOURCE))
    (root / "src" / "own.py").write_text(ORIGINAL)
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    (root / ".gitignore").write_text("build/\n*.log\n")
    (root / "build").mkdir()
    (root / "build" / "copied.py").write_text(body(GPL_SOURCE))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


class Corpus:
    """The texts of the fixtures, for tests (importlib import mode: test modules cannot import conftest)."""

    GPL_SOURCE = GPL_SOURCE
    MIT_SOURCE = MIT_SOURCE
    ORIGINAL = ORIGINAL
    body = staticmethod(body)
    git = staticmethod(git)


@pytest.fixture()
def texts() -> type[Corpus]:
    return Corpus
