"""The backend contract: the embedded index and the Elasticsearch backend hold the same corpus
and answer every `IndexReader` call, and therefore every query, the same way.

Tests taking `built` run once per backend and check the answer itself; tests taking `both`
compare the two backends call by call (and need an Elasticsearch-API server).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from indexer.analysis.fingerprints import fingerprint_document
from indexer.backends.base import IndexReader
from search_api.engine.searcher import Searcher

DATA = Path(__file__).parent / "data"
GEOMETRY = (DATA / "geometry.py.txt").read_text()
PARSER = (DATA / "parser.js.txt").read_text()
LIMITER = (DATA / "limiter.go.txt").read_text()
COPYLEFT = (DATA / "copyleft.py.txt").read_text()


def _between(text: str, start: str, end: str) -> str:
    """The lines of `text` from the one holding `start` up to (not including) the one holding `end`."""
    a = text.index(start)
    a = text.rfind("\n", 0, a) + 1
    b = text.index(end, a)
    b = text.rfind("\n", 0, b) + 1
    return text[a:b]


def _lines_of(text: str, snippet: str) -> tuple[int, int]:
    """1-based inclusive lines `snippet` occupies in `text`."""
    start = text[: text.index(snippet)].count("\n") + 1
    return start, start + snippet.rstrip("\n").count("\n")


HULL = _between(GEOMETRY, "def convex_hull", "def polygon_area")
EVALUATE = _between(PARSER, "function product()", "const result = sum()")
BUCKET = _between(LIMITER, "// Allow takes n tokens", "// Wait returns")
LEVENSHTEIN = _between(COPYLEFT, "def banded_levenshtein", "    return min(previous")
POINT_IN_POLYGON = _between(GEOMETRY, "def point_in_polygon", "def perimeter")
NOVEL = """def summarize_invoices(invoices, currency="EUR"):
    totals = {}
    for invoice in invoices:
        if invoice.currency != currency:
            continue
        key = (invoice.customer_id, invoice.issued.year)
        totals[key] = totals.get(key, 0) + invoice.amount_cents
    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)
    return [{"customer": c, "year": y, "total": t / 100} for (c, y), t in ranked[:25]]
"""
EMBEDDED = NOVEL + "\n\n" + HULL + "\n\n" + NOVEL.replace("summarize_invoices", "summarize_refunds")

# name -> (query, language, {(repo, path), ...} any of which may be the reported source, its lines)
TRUTH = {
    "hull": (
        HULL,
        "python",
        {("acme/geometry", "geometry/plane.py"), ("beta/vendor", "third_party/geometry/plane.py")},
        _lines_of(GEOMETRY, HULL),
    ),
    "evaluate": (EVALUATE, "javascript", {("delta/calc", "lib/evaluate.js")}, _lines_of(PARSER, EVALUATE)),
    "bucket": (BUCKET, "go", {("eta/limiter", "limiter/bucket.go")}, _lines_of(LIMITER, BUCKET)),
    "copyleft": (LEVENSHTEIN, "python", {("eps/gpl", "levenshtein.py")}, _lines_of(COPYLEFT, LEVENSHTEIN)),
    "embedded": (
        EMBEDDED,
        "python",
        {("acme/geometry", "geometry/plane.py"), ("beta/vendor", "third_party/geometry/plane.py")},
        _lines_of(GEOMETRY, HULL),
    ),
}
QUERIES = {name: (q, lang) for name, (q, lang, _, _) in TRUTH.items()} | {
    "point_in_polygon": (POINT_IN_POLYGON, "python"),
    "novel": (NOVEL, "python"),
}


def iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]) + 1)
    return inter / (max(a[1], b[1]) - min(a[0], b[0]) + 1)


def comparable(report: dict) -> dict:
    """A Report's JSON without what legitimately differs between backends (timing, index id)."""
    return {k: v for k, v in report.items() if k not in ("elapsed_ms", "index")} | {
        "documents": report["index"]["documents"]
    }


def all_fingerprints(index: IndexReader, channel: str) -> dict[int, set[tuple[int, int]]]:
    """Every document's (hash, line) fingerprints in `channel`, computed from its text."""
    out = {}
    for doc_id in range(index.document_count):
        info = index.info(doc_id, with_content=True)
        fp = fingerprint_document(info.document.content, info.document.language, index.options)
        hashes, lines = (
            (fp.exact_hashes, fp.exact_lines)
            if channel == "exact"
            else (fp.normalized_hashes, fp.normalized_lines)
        )
        out[doc_id] = set(zip(hashes.tolist(), lines.tolist()))
    return out


# -- each backend on its own -----------------------------------------------------------------


def test_build_counts(built) -> None:
    stats = built.result.stats.to_dict()
    assert stats["documents"] == 7
    assert stats["skipped"] == {"binary": 1}
    assert built.result.identical_copies == 1
    assert built.result.near_copies == 1
    assert built.index.document_count == 7


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_finds_the_source_lines(built, name: str) -> None:
    query, language, sources, lines = TRUTH[name]
    report = Searcher(built.index).attribute(query, language)
    assert report.matches, f"{name}: no match"
    best = report.matches[0]
    assert (best.source.repo, best.source.path) in sources
    assert iou((best.source_span.start_line, best.source_span.end_line), lines) >= 0.8


def test_reports_copies_and_licenses(built) -> None:
    report = Searcher(built.index).attribute(HULL, "python")
    best = report.matches[0]
    holders = {(best.source.repo, best.source.license)} | {
        (c.source.repo, c.source.license) for c in best.copies
    }
    assert {("acme/geometry", "MIT"), ("beta/vendor", "Apache-2.0")} <= holders
    assert best.repos_with_span >= 2


def test_novel_code_has_no_match(built) -> None:
    report = Searcher(built.index).attribute(NOVEL, "python")
    assert [m for m in report.matches if not m.boilerplate] == []


def test_unknown_documents_and_blobs(built) -> None:
    assert built.index.find_blob("0" * 40) is None
    with pytest.raises(KeyError):
        built.index.info(10_000)


# -- the two backends side by side -----------------------------------------------------------


@pytest.mark.es
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_same_reports(both, name: str) -> None:
    query, language = QUERIES[name]
    reports = {
        kind: comparable(Searcher(b.index).attribute(query, language).to_dict()) for kind, b in both.items()
    }
    assert reports["elastic"] == reports["embedded"]


@pytest.mark.es
@pytest.mark.parametrize("channel", ["exact", "normalized"])
def test_same_postings(both, channel: str) -> None:
    embedded, elastic = both["embedded"].index, both["elastic"].index
    truth = all_fingerprints(embedded, channel)
    stored = sorted({h for pairs in truth.values() for h, _ in pairs})
    rng = np.random.default_rng(7)
    hashes = np.concatenate(
        [np.array(stored, dtype=np.uint64), rng.integers(0, 2**63, 200, dtype=np.uint64)]
    )  # and hashes nobody has
    want = embedded.lookup(channel, hashes, 1_000_000)
    got = elastic.lookup(channel, hashes, 1_000_000)
    # The embedded table compares a prefix of each hash (rare false hits, removed by verification);
    # Elasticsearch compares whole hashes. So: Elasticsearch's postings are the embedded ones
    # that are true fingerprints of their document.
    true_hits = [
        (q, d, l)
        for q, d, l in zip(want.query_index.tolist(), want.doc_ids.tolist(), want.lines.tolist())
        if (int(hashes[q]), l) in truth[d]
    ]
    got_hits = list(zip(got.query_index.tolist(), got.doc_ids.tolist(), got.lines.tolist()))
    assert sorted(got_hits) == sorted(true_hits)
    assert len(got_hits) > 100
    false_per_query = np.bincount(
        [
            q
            for q, d, l in zip(want.query_index.tolist(), want.doc_ids.tolist(), want.lines.tolist())
            if (int(hashes[q]), l) not in truth[d]
        ],
        minlength=hashes.shape[0],
    )
    assert np.array_equal(got.frequency, want.frequency - false_per_query)
    assert got.query_index.dtype == np.int32 and got.doc_ids.dtype == np.int64 and got.lines.dtype == np.int32


@pytest.mark.es
def test_common_hashes_are_counted_not_returned(both) -> None:
    embedded, elastic = both["embedded"].index, both["elastic"].index
    fp = fingerprint_document(POINT_IN_POLYGON, "python", embedded.options)
    hashes = np.unique(fp.exact_hashes)
    everything = elastic.lookup("exact", hashes, 1_000_000)
    common = everything.frequency >= 2
    assert common.any(), (
        "point_in_polygon is in two unrelated files: some of its fingerprints have 2 postings"
    )
    capped = {kind: b.index.lookup("exact", hashes, 1) for kind, b in both.items()}
    for hits in capped.values():
        assert not np.isin(hits.query_index, np.flatnonzero(common)).any()
        assert np.array_equal(hits.frequency >= 2, common)
    assert np.array_equal(capped["elastic"].frequency, everything.frequency)


@pytest.mark.es
def test_same_documents(both) -> None:
    embedded, elastic = both["embedded"].index, both["elastic"].index
    assert elastic.document_count == embedded.document_count
    for doc_id in range(embedded.document_count):
        a, b = embedded.info(doc_id, with_content=True), elastic.info(doc_id, with_content=True)
        assert b == a
        assert elastic.info(doc_id).document.content == ""
        assert elastic.text(doc_id) == embedded.text(doc_id)
        assert elastic.find_blob(a.document.blob_id) == embedded.find_blob(a.document.blob_id)
        assert elastic.cluster_members(doc_id).tolist() == embedded.cluster_members(doc_id).tolist()
        assert elastic.identical_members(doc_id).tolist() == embedded.identical_members(doc_id).tolist()


@pytest.mark.es
def test_same_near_duplicates(both) -> None:
    embedded, elastic = both["embedded"].index, both["elastic"].index
    fork = next(d for d in range(embedded.document_count) if embedded.info(d).document.repo == "gamma/fork")
    signatures = [
        fingerprint_document(embedded.text(d), embedded.info(d).document.language, embedded.options).signature
        for d in range(embedded.document_count)
    ]
    signatures.append(np.arange(embedded.options.minhash_perm, dtype=np.uint32))  # collides with nothing
    for sig in signatures:
        assert elastic.near_duplicates(sig) == embedded.near_duplicates(sig)
    assert embedded.near_duplicates(signatures[fork]) == [embedded.info(fork).cluster]
    assert elastic.near_duplicates(signatures[-1]) == []


@pytest.mark.es
def test_same_stats(both) -> None:
    a, b = both["embedded"].index.stats(), both["elastic"].index.stats()
    differ = {"index_id", "uri", "created", "index_bytes", "index_to_corpus"}
    assert set(a) <= set(b)
    assert {k: b[k] for k in a if k not in differ} == {k: v for k, v in a.items() if k not in differ}
    assert b["index_bytes"] > 0 and b["backend"] == "elasticsearch"


# -- changes: removal by repo, add -----------------------------------------------------------

KINDS = [pytest.param("embedded"), pytest.param("elastic", marks=pytest.mark.es)]


@pytest.mark.parametrize("kind", KINDS)
def test_remove_repo(fresh, corpus_items, keep_all, kind: str) -> None:
    built = fresh.build(kind, corpus_items, keep_all)
    removal = fresh.remove(built, ["acme/geometry", "nobody/else"])
    assert removal.documents == 1 and removal.manifest.generation == 2
    assert built.index.document_count == 7, "a reader keeps its generation until it reopens"
    assert built.index.reopen_if_changed() is True
    index = built.index
    assert index.document_count == 6
    assert index.info(0).removed and index.info(0).document.repo == "acme/geometry"
    assert index.find_blob(index.info(0).document.blob_id) is None
    best = Searcher(index).attribute(HULL, "python").matches[0]
    assert best.source.repo == "beta/vendor", "the removed original still leads to its identical copy"
    assert "acme/geometry" not in {c.source.repo for c in best.copies}
    stats = index.stats()
    assert stats["removed_documents"] == 1 and stats["removed_repos"] == ["acme/geometry", "nobody/else"]
    assert "MIT" in stats["licenses"] and stats["licenses"]["MIT"] == 1
    assert fresh.remove(built, ["acme/geometry"]).documents == 0


@pytest.mark.parametrize("kind", KINDS)
def test_add(fresh, corpus_items, keep_all, vendored_copy, kind: str) -> None:
    first, later = corpus_items[:3] + corpus_items[7:], corpus_items[3:7]
    built = fresh.build(kind, first, keep_all)
    assert not Searcher(built.index).attribute(EVALUATE, "javascript").matches
    added = fresh.add(built, [*later, vendored_copy], keep_all)
    assert added.result.stats.documents == 5
    assert added.result.identical_copies == 1, "the new copy clusters with the indexed original"
    assert added.result.manifest.generation == 2
    index = added.index
    assert index.document_count == 8
    best = Searcher(index).attribute(EVALUATE, "javascript").matches[0]
    assert best.source.repo == "delta/calc"
    copy_id = 7
    assert index.info(copy_id).document.repo == vendored_copy.repo
    assert copy_id in index.cluster_members(0).tolist()
    assert index.identical_members(0).tolist() == [0, 1, copy_id]
    hull = Searcher(index).attribute(HULL, "python").matches[0]
    assert vendored_copy.repo in {c.source.repo for c in hull.copies}


@pytest.mark.es
def test_add_gives_the_same_index(fresh, corpus_items, keep_all, vendored_copy) -> None:
    first, later = corpus_items[:3] + corpus_items[7:], [*corpus_items[3:7], vendored_copy]
    indices = {}
    for kind in ("embedded", "elastic"):
        indices[kind] = fresh.add(fresh.build(kind, first, keep_all), later, keep_all).index
    for name in sorted(QUERIES):
        query, language = QUERIES[name]
        reports = {
            k: comparable(Searcher(i).attribute(query, language).to_dict()) for k, i in indices.items()
        }
        assert reports["elastic"] == reports["embedded"], name
    for doc_id in range(8):
        assert indices["elastic"].info(doc_id) == indices["embedded"].info(doc_id)
