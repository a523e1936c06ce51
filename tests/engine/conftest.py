"""Fixtures for the attribution engine tests: a small real corpus, indexed once per session.

The corpus lives in ``data/corpus/<owner>/<repo>/...`` (origins and licenses in
``data/README.md``); ``data/corpus/repos.json`` gives each repository's license. Queries and
their golden reports live in ``data/queries``; set ``CODECITE_REGEN_GOLDEN=1`` to rewrite the
golden files after an intended change of the engine's answers. Helpers live in
``engine_testlib.py``, loaded here under that name for the test modules to import.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from indexer.backends import open_writer
from indexer.backends.base import BuildResult
from indexer.backends.embedded.reader import EmbeddedIndex


def _load_testlib():
    spec = importlib.util.spec_from_file_location(
        "engine_testlib", Path(__file__).with_name("engine_testlib.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["engine_testlib"] = module
    spec.loader.exec_module(module)
    return module


testlib = sys.modules.get("engine_testlib") or _load_testlib()


@dataclass
class CorpusIndex:
    path: Path
    result: BuildResult
    index: EmbeddedIndex
    searcher: testlib.CheckedSearcher


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> CorpusIndex:
    """The whole corpus, every license kept, indexed once for the session (read-only: copy it
    with `index_copy` to change it)."""
    path = tmp_path_factory.mktemp("engine") / "index"
    result = open_writer(path).build(
        testlib.corpus_documents(), settings=testlib.KEEP_ALL, sources=["engine-tests"]
    )
    index = EmbeddedIndex(path)
    return CorpusIndex(path, result, index, testlib.CheckedSearcher(index))


@pytest.fixture
def index_copy(corpus_index: CorpusIndex, tmp_path: Path) -> Path:
    """A private copy of the session index, free to damage."""
    target = tmp_path / "index"
    shutil.copytree(corpus_index.path, target, ignore=shutil.ignore_patterns("LOCK"))
    return target
