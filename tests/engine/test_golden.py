"""End to end: the corpus indexed, each query in data/queries answered, the report pinned.

Each query `data/queries/<name>.<ext>` has its expected report in `<name>.expected.json`,
holding only the fields that identify an answer (per match: the source file, the query and
source line spans, the method, how many repositories hold the span, the copies with their
licenses) — not scores or timings. `CODECITE_REGEN_GOLDEN=1 pytest tests/engine` rewrites them
after an intended change; review the diff. Independently of the golden files, `TRUTH` states
what each answer must get right, so a regenerated golden file cannot bless a wrong answer.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from engine_testlib import QUERIES, REGEN_GOLDEN, CheckedSearcher, assert_plain_json, corpus_text

from indexer.analysis.languages import language_for_path
from search_api.engine.results import Match, Report

CASES = sorted(p for p in QUERIES.iterdir() if not p.name.endswith(".json"))
METHODS = {"exact", "normalized", "near-dup"}


def lines_in(text: str, snippet: str) -> tuple[int, int]:
    """1-based inclusive lines `snippet` (a verbatim excerpt) occupies in `text`."""
    start = text[: text.index(snippet)].count("\n") + 1
    return start, start + snippet.rstrip("\n").count("\n")


@dataclass(frozen=True)
class Truth:
    """What a query's answer must get right: its matches' sources and source lines (any one of
    `sources` per entry may lead the match), their methods, and the copies that must be listed."""

    matches: tuple[tuple[frozenset[tuple[str, str]], tuple[int, int], str | None], ...] = ()
    copies: frozenset[tuple[str, str | None]] = frozenset()
    boilerplate_lines: tuple[int, int] | None = None


def _one(repo: str, path: str) -> frozenset[tuple[str, str]]:
    return frozenset({(repo, path)})


QUERY_TEXT = {p.stem: p.read_text() for p in CASES}
GRAPHLIB = frozenset(
    {("python/cpython-lib", "Lib/graphlib.py"), ("vendorco/webapp", "third_party/graphlib.py")}
)
SCHED = frozenset({("python/cpython-lib", "Lib/sched.py"), ("forkco/sched-plus", "sched_plus/scheduler.py")})
_SPLIT = QUERY_TEXT["two_sources"].index("def base64_encode")
SHLEX_PART, ENCODING_PART = (
    QUERY_TEXT["two_sources"][:_SPLIT].rstrip("\n"),
    QUERY_TEXT["two_sources"][_SPLIT:],
)

TRUTH = {
    "verbatim": Truth(
        (
            (
                _one("kjd/idna", "idna/intranges.py"),
                lines_in(corpus_text("kjd/idna", "idna/intranges.py"), QUERY_TEXT["verbatim"]),
                "exact",
            ),
        )
    ),
    # The main loop of click's TextWrapper._wrap_chunks, re-indented from 8 + 4n spaces to 2n and
    # re-spaced around operators.
    "reindented": Truth(((_one("pallets/click", "src/click/_textwrap.py"), (92, 124), "exact"),)),
    # Myers' backtrack with every local name (and the function's) renamed.
    "renamed": Truth(((_one("copyleft/textdiff", "textdiff/myers.py"), (53, 73), "normalized"),)),
    # Get, Put and Remove of the LRU cache without their doc comments (the method is checked
    # apart: see test_a_copy_without_its_comments_is_an_exact_match).
    "comments_stripped": Truth(((_one("acme/lrucache", "lru/cache.go"), (54, 91), None),)),
    # fnmatch.translate (its first 57 lines) inside new code.
    "embedded": Truth(((_one("python/cpython-lib", "Lib/fnmatch.py"), (74, 130), "exact"),)),
    "identical_copies": Truth(
        (
            (
                GRAPHLIB,
                lines_in(
                    corpus_text("python/cpython-lib", "Lib/graphlib.py"), QUERY_TEXT["identical_copies"]
                ),
                "exact",
            ),
        ),
        copies=frozenset({("vendorco/webapp", "Apache-2.0"), ("python/cpython-lib", "PSF-2.0")}),
    ),
    "near_duplicate": Truth(
        (
            (
                SCHED,
                lines_in(corpus_text("python/cpython-lib", "Lib/sched.py"), QUERY_TEXT["near_duplicate"]),
                "exact",
            ),
        )
    ),
    "no_license": Truth(
        (
            (
                _one("nobody/scratch", "src/timing.js"),
                lines_in(corpus_text("nobody/scratch", "src/timing.js"), QUERY_TEXT["no_license"]),
                "exact",
            ),
        )
    ),
    "two_sources": Truth(
        (
            (
                _one("python/cpython-lib", "Lib/shlex.py"),
                lines_in(corpus_text("python/cpython-lib", "Lib/shlex.py"), SHLEX_PART),
                "exact",
            ),
            (
                _one("pallets/itsdangerous", "src/itsdangerous/encoding.py"),
                lines_in(corpus_text("pallets/itsdangerous", "src/itsdangerous/encoding.py"), ENCODING_PART),
                "exact",
            ),
        )
    ),
    "novel": Truth(),
    # The Apache-2.0 notice (query lines 3-13) on top of new code: a notice of the query's own
    # license, never a match to the corpus files that carry the same notice (see test_evidence.py).
    "license_header": Truth(),
}


def test_the_corpus_indexes_with_its_copies(corpus_index) -> None:
    result, index = corpus_index.result, corpus_index.index
    assert result.stats.documents == index.document_count == 23
    assert (result.identical_copies, result.near_copies) == (1, 1)
    by_path = {index.info(d).document.path: d for d in range(index.document_count)}
    original, vendored = by_path["Lib/graphlib.py"], by_path["third_party/graphlib.py"]
    assert index.identical_members(original).tolist() == [original, vendored]
    assert (
        index.info(by_path["sched_plus/scheduler.py"]).cluster == index.info(by_path["Lib/sched.py"]).cluster
    )


def test_every_query_has_a_truth() -> None:
    assert sorted(TRUTH) == sorted(p.stem for p in CASES)


def attribute(corpus_index, path: Path) -> Report:
    return corpus_index.searcher.attribute(path.read_text(), language_for_path(path.name))


def stable_match(m: Match) -> dict[str, object]:
    return {
        "source": {"repo": m.source.repo, "path": m.source.path, "license": m.source.license},
        "query_span": [m.query_span.start_line, m.query_span.end_line],
        "source_span": [m.source_span.start_line, m.source_span.end_line],
        "method": m.method,
        "repos_with_span": m.repos_with_span,
        "copies": [
            {"repo": c.source.repo, "path": c.source.path, "license": c.source.license} for c in m.copies
        ],
    }


def stable(report: Report) -> dict[str, object]:
    """The fields of a report that identify the answer (no scores, timings or ids)."""
    return {
        "matches": [stable_match(m) for m in report.matches],
        "boilerplate": [stable_match(m) for m in report.boilerplate],
        "notices": [
            {
                "query_span": [n.query_span.start_line, n.query_span.end_line],
                "kind": n.kind.value,
                "license": n.license,
            }
            for n in report.notices
        ],
    }


def dump_golden(report: dict[str, object]) -> str:
    """JSON with one match a line, so that a changed answer reads as a one-line diff."""
    parts = []
    for key in ("matches", "boilerplate", "notices"):
        items = ",\n".join("  " + json.dumps(m) for m in report[key])  # type: ignore[attr-defined]
        parts.append(f' "{key}": [\n{items}\n ]' if items else f' "{key}": []')
    return "{\n" + ",\n".join(parts) + "\n}\n"


@pytest.mark.parametrize("query", CASES, ids=lambda p: p.stem)
def test_golden_report(corpus_index, query: Path) -> None:
    got = stable(attribute(corpus_index, query))
    expected_path = query.with_name(query.stem + ".expected.json")
    if REGEN_GOLDEN:
        expected_path.write_text(dump_golden(got))
    assert expected_path.exists(), f"no {expected_path.name}: run with CODECITE_REGEN_GOLDEN=1 and review it"
    expected = json.loads(expected_path.read_text())
    assert got == expected, (
        f"{query.name}: the report changed; if intended, regenerate with "
        "CODECITE_REGEN_GOLDEN=1 and review the diff"
    )


def iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]) + 1)
    return inter / (max(a[1], b[1]) - min(a[0], b[0]) + 1)


@pytest.mark.parametrize("query", CASES, ids=lambda p: p.stem)
def test_answer_is_right(corpus_index, query: Path) -> None:
    truth = TRUTH[query.stem]
    report = attribute(corpus_index, query)
    allowed = set().union(*(sources for sources, _, _ in truth.matches))
    assert {(m.source.repo, m.source.path) for m in report.matches} <= allowed, [
        stable_match(m) for m in report.matches
    ]
    for sources, lines, method in truth.matches:
        found = [m for m in report.matches if (m.source.repo, m.source.path) in sources]
        assert found, f"no match from {sorted(sources)}"
        best = max(found, key=lambda m: iou((m.source_span.start_line, m.source_span.end_line), lines))
        assert iou((best.source_span.start_line, best.source_span.end_line), lines) >= 0.8, best.source_span
        if method is not None:
            assert best.method == method
    if truth.copies:
        (match,) = report.matches
        holders = {(match.source.repo, match.source.license)} | {
            (c.source.repo, c.source.license) for c in match.copies
        }
        assert holders == truth.copies
        assert match.repos_with_span == len(truth.copies)
        assert set(report.licenses) == {lic for _, lic in truth.copies}
    if truth.boilerplate_lines is not None:
        assert report.boilerplate, "the license notice is not reported as boilerplate"
        spans = [(b.query_span.start_line, b.query_span.end_line) for b in report.boilerplate]
        assert max(iou(s, truth.boilerplate_lines) for s in spans) >= 0.8, spans
        assert report.licenses == {}, "a license notice is not copied code"


@pytest.mark.parametrize("query", CASES, ids=lambda p: p.stem)
def test_report_invariants(corpus_index, query: Path) -> None:
    text = query.read_text()
    report = attribute(corpus_index, query)
    as_dict = report.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert_plain_json(as_dict)
    assert report.query_lines == text.count("\n") + 1
    assert report.index_documents == corpus_index.index.document_count
    for m in (*report.matches, *report.boilerplate):
        assert 1 <= m.query_span.start_line <= m.query_span.end_line <= report.query_lines
        source_lines = corpus_text(m.source.repo, m.source.path).count("\n") + 1
        assert 1 <= m.source_span.start_line <= m.source_span.end_line <= source_lines
        assert 0.0 < m.similarity <= 1.0 and m.method in METHODS
        assert m.repos_with_span >= 1 + len({c.source.repo for c in m.copies} - {m.source.repo})
        start, end = m.query_chars
        assert 0 <= start < end <= len(text)
        assert text[:start].count("\n") + 1 == m.query_span.start_line
        assert (m.source.repo, m.source.path) not in {(c.source.repo, c.source.path) for c in m.copies}
    by_file: dict[tuple[str, str], list[Match]] = {}
    for m in report.matches:
        by_file.setdefault((m.source.repo, m.source.path), []).append(m)
    for same_file in by_file.values():  # one file answers each query line at most once
        for a, b in itertools.combinations(same_file, 2):
            assert a.query_span.overlap(b.query_span) == 0, (a.query_span, b.query_span)


def test_reports_are_deterministic(corpus_index) -> None:
    fresh = CheckedSearcher(corpus_index.index)
    for query in CASES:
        assert stable(attribute(corpus_index, query)) == stable(
            fresh.attribute(query.read_text(), language_for_path(query.name))
        )
