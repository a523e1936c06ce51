"""What only the Elasticsearch backend has: URIs, settings, LSH band keys, media types (no server
needed), and builds, alias swaps, the writer lock, unfinished adds and errors (a server needed)."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("elasticsearch", reason="the Elasticsearch backend needs the 'es' extra")

from datasketch import MinHashLSH

from indexer.analysis.minhash import lean
from indexer.backends import BackendUnavailableError, open_index
from indexer.backends.elastic import ElasticSettings, ElasticURI, ElasticWriter
from indexer.backends.elastic.admin import writer_lock
from indexer.backends.elastic.connection import ElasticBackendError, connect
from indexer.backends.elastic.schema import BuildNames, band_keys, manifest_meta, read_manifest_meta
from indexer.backends.embedded.directory import IndexDirectory
from indexer.backends.errors import IndexLockedError, IndexNotFoundError, IndexOptionsError, IndexVersionError
from indexer.backends.manifest import FORMAT_VERSION
from indexer.options import IndexOptions
from search_api.engine.searcher import Searcher

# -- no server -------------------------------------------------------------------------------


def test_uri_forms() -> None:
    u = ElasticURI.parse("es+https://ann:p%40ss@search.example:9243/corpus.v2?media_type=json")
    assert (u.base_url, u.name, u.username, u.password, u.media_type) == (
        "https://search.example:9243",
        "corpus.v2",
        "ann",
        "p@ss",
        "json",
    )
    assert "p@ss" not in u.display()
    assert ElasticURI.parse("es+http://localhost/c").base_url == "http://localhost:9200"
    assert ElasticURI.parse("es+http://[::1]:9200/c").base_url == "http://[::1]:9200"


@pytest.mark.parametrize(
    "bad",
    [
        "es+http://host:9200/",
        "es+http://host:9200/Upper",
        "es+http://host/a/b",
        "es+http:///name",
        "es+http://host/name?shards=3",
        "es+http://host/_x",
        "es+http://host/name?media_type=xml",
        "http://host/name",
    ],
)
def test_bad_uris_name_the_form(bad: str) -> None:
    with pytest.raises(BackendUnavailableError, match="es\\+http://host:9200/NAME|media_type"):
        ElasticURI.parse(bad)


def test_settings_from_environment() -> None:
    s = ElasticSettings.from_env(
        {
            "CODECITE_ES_SHARDS": "3",
            "CODECITE_ES_REPLICAS": "0",
            "CODECITE_ES_FORCE_MERGE": "true",
            "CODECITE_ES_INITIAL_BACKOFF": "0.5",
        }
    )
    assert (s.shards, s.replicas, s.force_merge, s.initial_backoff) == (3, 0, True, 0.5)
    assert s.build_index_settings(postings=True)["number_of_replicas"] == 0
    assert s.serving_settings()["index"]["number_of_replicas"] == 0
    with pytest.raises(ValueError, match="CODECITE_ES_SHARDS"):
        ElasticSettings.from_env({"CODECITE_ES_SHARDS": "many"})
    with pytest.raises(ValueError, match="shards=0"):
        ElasticSettings(shards=0)


def test_band_keys_collide_exactly_when_datasketch_buckets_do() -> None:
    options = IndexOptions()
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**32, options.minhash_perm, dtype=np.uint64).astype(np.uint32)
    others = []
    for changed in (0, 1, 5, 12, 30, 64):  # change more and more slots
        sig = base.copy()
        slots = rng.choice(options.minhash_perm, changed, replace=False)
        sig[slots] = rng.integers(0, 2**32, changed, dtype=np.uint64).astype(np.uint32)
        others.append(sig)
    lsh = MinHashLSH(threshold=options.cluster_threshold, num_perm=options.minhash_perm)
    for i, sig in enumerate(others):
        lsh.insert(i, lean(sig, options))
    expected = sorted(lsh.query(lean(base, options)))
    mine = set(band_keys(base, options))
    assert sorted(i for i, sig in enumerate(others) if mine & set(band_keys(sig, options))) == expected
    assert 0 in expected and 5 not in expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 7), st.integers(1, 200)), max_size=300), st.integers(1, 40))
def test_posting_documents_hold_each_posting_once(pairs: list[tuple[int, int]], block_lines: int) -> None:
    """Every (hash, line) lands in exactly one posting document, no document holds a hash twice,
    so the documents holding a hash are as many as its postings (what lookups count)."""
    from indexer.backends.elastic.writer import _posting_actions

    pairs = sorted(set(pairs))
    hashes = np.array([h * 0x9E3779B97F4A7C15 % 2**64 for h, _ in pairs], dtype=np.uint64)
    lines = np.array([line for _, line in pairs], dtype=np.int32)
    docs = [a["_source"] for a in _posting_actions("p", 3, "exact", hashes, lines, block_lines)]
    got = sorted((int(k, 16), line) for d in docs for k, line in zip(d["h"], d["l"]))
    assert got == sorted(zip(hashes.tolist(), lines.tolist()))
    for d in docs:
        assert len(set(d["h"])) == len(d["h"])
        assert all((line - 1) // block_lines == d["b"] for line in d["l"])
    for h in set(hashes.tolist()):
        key = format(h, "016x")
        assert sum(key in d["h"] for d in docs) == int(np.count_nonzero(hashes == h))
    assert len({(d["b"], d["p"]) for d in docs}) == len(docs)


_RECORDED = {
    "format_version": (FORMAT_VERSION + 1, IndexVersionError, "format version"),
    "options_hash": ("0" * 16, IndexOptionsError, "computes differently"),
    "options": ({"exact_k": "sixteen"}, IndexVersionError, "does not know"),
    "generation": (None, IndexVersionError, "damaged manifest"),
}


@pytest.mark.parametrize("field", list(_RECORDED))
def test_a_build_recorded_by_another_codecite_names_the_rebuild(field: str) -> None:
    names = BuildNames("corpus", "b1")
    manifest = IndexDirectory("unused").new_manifest(IndexOptions())
    meta = manifest_meta(manifest, names, 32)
    assert (
        read_manifest_meta(meta, "corpus", names.docs, "es+http://h/corpus").manifest.options
        == IndexOptions()
    )
    value, error, says = _RECORDED[field]
    meta["codecite"][field] = value
    with pytest.raises(error, match=says) as raised:
        read_manifest_meta(meta, "corpus", names.docs, "es+http://h/corpus")
    assert f"the Elasticsearch index {names.docs}" in str(raised.value)
    assert "codecite index build SOURCE... --index es+http://h/corpus" in str(raised.value)


class _FakeOpenSearch(http.server.BaseHTTPRequestHandler):
    """Answers like an OpenSearch-API server and records the media types it was sent."""

    seen: ClassVar[list[str]] = []

    def _answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer({"version": {"number": "3.8.0", "distribution": "opensearch"}})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append(self.headers.get("Content-Type", ""))
        self._answer({"count": 0})

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_opensearch() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenSearch)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_plain_json_for_servers_that_say_opensearch(fake_opensearch: str) -> None:
    _FakeOpenSearch.seen.clear()
    es = connect(ElasticURI.parse(f"es+{fake_opensearch}/x"))
    es.count(index="x", query={"match_all": {}})
    es = connect(ElasticURI.parse(f"es+{fake_opensearch}/x?media_type=versioned"))
    es.count(index="x", query={"match_all": {}})
    assert _FakeOpenSearch.seen[0] == "application/json"
    assert "compatible-with=" in _FakeOpenSearch.seen[1]


def test_unreachable_server_names_the_fix() -> None:
    with pytest.raises(
        ElasticBackendError, match="cannot reach Elasticsearch at http://127.0.0.1:9 .*start it"
    ):
        connect(ElasticURI.parse("es+http://127.0.0.1:9/corpus"), request_timeout=2)


# -- with a server ---------------------------------------------------------------------------


@pytest.fixture
def es_settings() -> ElasticSettings:
    return ElasticSettings(replicas=0, chunk_size=50)


@pytest.mark.es
def test_missing_alias_names_the_fix(fresh) -> None:
    uri = fresh.uri("elastic")
    with pytest.raises(IndexNotFoundError, match="codecite index build SOURCE... --index es\\+http"):
        open_index(uri)


@pytest.mark.es
def test_rebuild_swaps_the_alias_and_keeps_one_old_build(fresh, corpus_items, keep_all, es_settings) -> None:
    uri = fresh.uri("elastic")
    builds = []
    for _ in range(3):
        ElasticWriter(uri, elastic=es_settings).build(corpus_items, settings=keep_all)
        builds.append(open_index(uri))
    first, second, third = builds
    assert len({b.index_id for b in builds}) == 3
    assert second.reopen_if_changed() is True and second.index_id == third.index_id
    assert third.reopen_if_changed() is False
    es = third.es
    alias = ElasticURI.parse(uri).name
    assert list(es.indices.get_alias(name=alias)) == [third.names.docs]
    assert not es.indices.exists(index=first.names.docs) and not es.indices.exists(index=first.names.postings)
    assert Searcher(third).attribute("def convex_hull(points)", "python").index_id == third.index_id


@pytest.mark.es
def test_failed_build_leaves_the_served_one(fresh, corpus_items, keep_all, es_settings) -> None:
    uri = fresh.uri("elastic")
    ElasticWriter(uri, elastic=es_settings).build(corpus_items, settings=keep_all)
    served = open_index(uri)

    def broken():
        yield from corpus_items[:2]
        raise RuntimeError("the source died")

    with pytest.raises(RuntimeError, match="the source died"):
        ElasticWriter(uri, elastic=es_settings).build(broken(), settings=keep_all)
    assert served.reopen_if_changed() is False
    builds = served.es.indices.get_mapping(index=f"{served.names.alias}-b*")
    assert sorted(builds) == sorted([served.names.docs, served.names.postings])


@pytest.mark.es
def test_second_writer_is_refused(fresh, corpus_items, keep_all, es_settings) -> None:
    uri = fresh.uri("elastic")
    ElasticWriter(uri, elastic=es_settings).build(corpus_items, settings=keep_all)
    target = ElasticURI.parse(uri)
    es = connect(target)
    with (
        writer_lock(es, target, "add"),
        pytest.raises(IndexLockedError, match="another process .* add since .* curl -X DELETE"),
    ):
        ElasticWriter(uri, elastic=es_settings).build(corpus_items, settings=keep_all)
    ElasticWriter(uri, elastic=es_settings).build(corpus_items, settings=keep_all)  # released


@pytest.mark.es
def test_unfinished_add_is_invisible_and_cleared(fresh, corpus_items, keep_all, es_settings) -> None:
    uri = fresh.uri("elastic")
    ElasticWriter(uri, elastic=es_settings).build(corpus_items[:3], settings=keep_all)
    index = open_index(uri)
    end = index.manifest.next_doc_base
    geometry_hash = index.lookup("exact", _some_hashes(index, 0), 100)
    # What an add that died after its bulk requests leaves: documents and postings past next_doc_base.
    index.es.index(
        index=index.names.docs,
        id=str(end),
        refresh=True,
        document={
            "doc": end,
            "blob_id": "f" * 40,
            "repo": "ghost/repo",
            "path": "x.py",
            "language": "python",
            "license": "MIT",
            "license_category": "permissive",
            "content_hash": "0",
            "size_bytes": 1,
            "n_lines": 1,
            "cluster": 0,
            "removed": False,
        },
    )
    h = format(int(_some_hashes(index, 0)[0]), "016x")
    index.es.index(
        index=index.names.postings,
        id=f"{end}:e0",
        refresh=True,
        document={"c": "exact", "h": h, "d": end, "l": 1},
    )
    again = open_index(uri)
    assert (
        again.document_count == 3 and again.cluster_members(0).tolist() == index.cluster_members(0).tolist()
    )
    hits = again.lookup("exact", _some_hashes(index, 0), 100)
    assert end not in hits.doc_ids.tolist()
    assert np.array_equal(hits.frequency, geometry_hash.frequency)
    result = ElasticWriter(uri, elastic=es_settings).add(corpus_items[3:4], settings=keep_all)
    assert result.stats.documents == 1
    after = open_index(uri)
    assert after.info(end).document.repo == "delta/calc"
    assert after.document_count == 4


def _some_hashes(index, doc_id: int) -> np.ndarray:
    from indexer.analysis.fingerprints import fingerprint_document

    info = index.info(doc_id, with_content=True)
    return np.unique(
        fingerprint_document(info.document.content, info.document.language, index.options).exact_hashes
    )
