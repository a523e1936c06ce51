"""Fixtures for the backend contract tests: a small corpus, and the same corpus indexed by each
backend.

The Elasticsearch backend runs against the server at ``CODECITE_ES_URL`` (``http://host:9200``)
when it is set, and otherwise against an ``osmem-server`` started for the session (an in-memory
OpenSearch-API emulator shipped as a binary in the ``osmem-server`` PyPI package). Without
either, the Elasticsearch tests skip and say why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from indexer.backends import open_index, open_writer
from indexer.backends.base import BuildResult, IndexReader, IndexWriter, Removal
from indexer.backends.removal import RemovalSpec
from indexer.licenses.expressions import license_category
from indexer.placement import BuildSettings
from indexer.records import Document, LicenseCategory, Skip, SkipReason, git_blob_id

DATA = Path(__file__).parent / "data"
KINDS = ("embedded", "elastic")
KEEP_ALL = BuildSettings(keep=frozenset(LicenseCategory))


def _doc(repo: str, path: str, language: str, text: str, license_expr: str | None) -> Document:
    return Document(
        git_blob_id(text.encode()),
        repo,
        path,
        language,
        text,
        license_expr,
        license_category(license_expr),
        source="fixture",
        url=f"https://example.org/{repo}/{path}",
    )


def fork_of_geometry(text: str) -> str:
    """A near-duplicate: the same file with one more function."""
    return text + (
        "\n\ndef centroid(vertices):\n"
        "    n = len(vertices)\n"
        "    return (sum(p[0] for p in vertices) / n, sum(p[1] for p in vertices) / n)\n"
    )


def corpus() -> list[Document | Skip]:
    """Seven repositories: an original, a byte-identical vendored copy, a near-duplicate fork, a
    file that copies one function, two unrelated files, a copyleft file and a skipped file."""
    geometry = (DATA / "geometry.py.txt").read_text()
    return [
        _doc("acme/geometry", "geometry/plane.py", "python", geometry, "MIT"),
        _doc("beta/vendor", "third_party/geometry/plane.py", "python", geometry, "Apache-2.0"),
        _doc("gamma/fork", "src/plane.py", "python", fork_of_geometry(geometry), "BSD-3-Clause"),
        _doc("delta/calc", "lib/evaluate.js", "javascript", (DATA / "parser.js.txt").read_text(), None),
        _doc("eta/limiter", "limiter/bucket.go", "go", (DATA / "limiter.go.txt").read_text(), "Apache-2.0"),
        _doc("zeta/maps", "maps/zones.py", "python", (DATA / "app.py.txt").read_text(), "MIT"),
        _doc("eps/gpl", "levenshtein.py", "python", (DATA / "copyleft.py.txt").read_text(), "GPL-3.0-only"),
        Skip(SkipReason.BINARY, "acme/geometry/logo.png"),
    ]


@dataclass
class Built:
    """One backend's index of a corpus."""

    kind: str
    uri: str
    index: IndexReader
    result: BuildResult


class Backends:
    """Builds indices of either kind; Elasticsearch ones under fresh alias names."""

    def __init__(self, tmp: Path, request: pytest.FixtureRequest) -> None:
        self._tmp = tmp
        self._request = request

    def uri(self, kind: str) -> str:
        if kind == "embedded":
            return str(self._tmp / f"index-{uuid.uuid4().hex[:8]}")
        base = self._request.getfixturevalue("es_url")
        return base.replace("http", "es+http", 1) + f"/codecite-test-{uuid.uuid4().hex[:10]}"

    def build(
        self,
        kind: str,
        items: list[Document | Skip],
        settings: BuildSettings = KEEP_ALL,
        uri: str | None = None,
    ) -> Built:
        uri = uri or self.uri(kind)
        result = writer(kind, uri).build(items, settings=settings, sources=["fixture"])
        return Built(kind, uri, open_index(uri), result)

    def add(self, built: Built, items: list[Document | Skip], settings: BuildSettings = KEEP_ALL) -> Built:
        result = writer(built.kind, built.uri).add(items, settings=settings, sources=["added"])
        built.index.close()
        return Built(built.kind, built.uri, open_index(built.uri), result)

    def remove(self, built: Built, repos: list[str]) -> Removal:
        return writer(built.kind, built.uri).remove_repos(repos)

    def opt_out(self, built: Built, spec: RemovalSpec) -> Removal:
        return writer(built.kind, built.uri).remove(spec)


def writer(kind: str, uri: str) -> IndexWriter:
    """The index writer of a backend kind, with settings that suit a test cluster of one node."""
    if kind == "embedded":
        return open_writer(uri)
    from indexer.backends.elastic import ElasticSettings, ElasticWriter

    return ElasticWriter(uri, ElasticSettings(replicas=0, chunk_size=100))


@pytest.fixture(scope="session")
def es_url() -> Iterator[str]:
    """Base URL of an Elasticsearch-API server: CODECITE_ES_URL, else an osmem-server started here."""
    pytest.importorskip("elasticsearch", reason="the Elasticsearch backend needs the 'es' extra")
    configured = os.environ.get("CODECITE_ES_URL")
    if configured:
        yield configured.rstrip("/")
        _delete_test_indices(configured.rstrip("/"))
        return
    try:
        from osmem_server import OsmemError, OsmemServer
    except ImportError:
        pytest.skip("no Elasticsearch: set CODECITE_ES_URL=http://host:9200 or pip install osmem-server")
    try:
        server = OsmemServer.start(freeze=False, japanese=False)
    except (OsmemError, OSError) as err:
        pytest.skip(f"no Elasticsearch: CODECITE_ES_URL is unset and osmem-server did not start ({err})")
    try:
        yield server.url
    finally:
        server.close()


@pytest.fixture
def corpus_items() -> list[Document | Skip]:
    return corpus()


@pytest.fixture
def keep_all() -> BuildSettings:
    return KEEP_ALL


@pytest.fixture
def vendored_copy() -> Document:
    """One more byte-identical copy of the geometry file, in another repository."""
    return _doc("theta/copy", "vendor/plane.py", "python", (DATA / "geometry.py.txt").read_text(), "MIT")


def _delete_test_indices(base: str) -> None:
    """Remove what the tests created on a real cluster (by name: wildcard deletes are refused)."""
    from indexer.backends.elastic.connection import ElasticURI, connect

    es = connect(ElasticURI.parse(base.replace("http", "es+http", 1) + "/x"))
    for index in es.indices.get_mapping(index="codecite-test-*"):
        es.indices.delete(index=index)


@pytest.fixture(scope="session")
def backends(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Backends:
    return Backends(tmp_path_factory.mktemp("backends"), request)


@pytest.fixture
def fresh(tmp_path: Path, request: pytest.FixtureRequest) -> Backends:
    """Builds that a test may change (remove, add)."""
    return Backends(tmp_path, request)


@pytest.fixture(scope="session")
def shared_builds(backends: Backends) -> dict[str, Built]:
    return {}


@pytest.fixture(params=[pytest.param("embedded"), pytest.param("elastic", marks=pytest.mark.es)])
def built(request: pytest.FixtureRequest, backends: Backends, shared_builds: dict[str, Built]) -> Built:
    """The corpus indexed (every license kept) by the backend named by the parameter, built once."""
    kind = request.param
    if kind not in shared_builds:
        shared_builds[kind] = backends.build(kind, corpus(), KEEP_ALL)
    return shared_builds[kind]


@pytest.fixture
def both(backends: Backends, shared_builds: dict[str, Built]) -> dict[str, Built]:
    """The corpus indexed by both backends, for tests that compare their answers."""
    for kind in KINDS:
        if kind not in shared_builds:
            shared_builds[kind] = backends.build(kind, corpus(), KEEP_ALL)
    return shared_builds
