"""What a Report may and may not say, on clear-cut inputs beyond the golden cases: query forms
(bytes, unknown language, a snippet starting inside a docstring), options, refused input, and
the shape of matches and copies."""

from __future__ import annotations

import textwrap

import pytest
from engine_testlib import QUERIES, corpus_text

from search_api.engine.options import QueryOptions
from search_api.engine.searcher import QueryError


def between(text: str, start: str, end: str) -> str:
    """From the line holding `start` up to (not including) the line holding `end`."""
    a = text.rfind("\n", 0, text.index(start)) + 1
    b = text.rfind("\n", 0, text.index(end, a)) + 1
    return text[a:b].rstrip("\n") + "\n"


def spans(report) -> list[tuple]:
    return [(m.source.repo, m.source.path, m.query_span, m.source_span, m.method) for m in report.matches]


def test_bytes_and_text_queries_agree(corpus_index) -> None:
    code = (QUERIES / "verbatim.py").read_text()
    searcher = corpus_index.searcher
    assert spans(searcher.attribute(code.encode(), "python")) == spans(searcher.attribute(code, "python"))


def test_the_language_may_be_left_out_or_unknown(corpus_index) -> None:
    code = (QUERIES / "verbatim.py").read_text()
    searcher = corpus_index.searcher
    expected = spans(searcher.attribute(code, "python"))
    assert spans(searcher.attribute(code)) == expected
    assert spans(searcher.attribute(code, "no-such-language")) == expected


def test_a_snippet_starting_inside_a_docstring_is_found(corpus_index) -> None:
    graphlib = corpus_text("python/cpython-lib", "Lib/graphlib.py")
    snippet = between(graphlib, "        have all their predecessors already processed.", "    def is_active")
    first = graphlib[: graphlib.index(snippet)].count("\n") + 1
    report = corpus_index.searcher.attribute(snippet, "python")
    match = report.matches[0]
    assert {m.source.path for m in report.matches} <= {"Lib/graphlib.py", "third_party/graphlib.py"}
    assert match.method == "exact" and match.query_span.start_line == 1
    assert (match.source_span.start_line, match.source_span.end_line) == (
        first,
        first + snippet.count("\n") - 1,
    )


def test_min_match_is_honoured(corpus_index) -> None:
    """An exact copy inside a larger query must align at least `min_match` non-whitespace
    characters (a query that is nearly all copied matches whatever its size)."""
    code = (QUERIES / "embedded.py").read_text()
    searcher = corpus_index.searcher
    (match,) = searcher.attribute(code, "python", QueryOptions().with_min_match(50)).matches
    assert match.method == "exact"
    stricter = searcher.attribute(code, "python", QueryOptions().with_min_match(match.matched_chars + 1))
    assert [m for m in stricter.matches if m.method == "exact"] == []
    whole = (QUERIES / "verbatim.py").read_text()
    assert searcher.attribute(whole, "python", QueryOptions().with_min_match(100_000)).matches
    with pytest.raises(ValueError, match="at least 1"):
        QueryOptions().with_min_match(0)


@pytest.mark.parametrize(
    "code,message",
    [
        (b"def f():\n    return 0\n\x00\x00", "NUL"),
        (b"x = '\xff\xfe'\n", "UTF-8"),
        ("x = 1\n" * 2000, "limit"),
    ],
)
def test_input_that_is_not_source_text_is_refused(corpus_index, code, message: str) -> None:
    options = QueryOptions(max_query_bytes=4096)
    with pytest.raises(QueryError, match=message):
        corpus_index.searcher.attribute(code, "python", options)


def test_empty_queries_answer_with_a_warning(corpus_index) -> None:
    for code in ("", "\n\n   \t\n", b""):
        report = corpus_index.searcher.attribute(code, None)
        assert report.matches == () and report.warnings
        assert report.to_dict()["matches"] == []


def test_a_query_of_one_source_line_repeated_is_not_a_match(corpus_index) -> None:
    line = "        self._ready_nodes.clear()\n"
    assert not corpus_index.searcher.attribute(line * 40, "python").matches


# -- known defects: each states the clear-cut expectation the engine misses today -------------------


def test_a_match_never_lists_its_own_source_as_a_copy(corpus_index) -> None:
    bisect = corpus_text("python/cpython-lib", "Lib/bisect.py")
    report = corpus_index.searcher.attribute(between(bisect, "def bisect_right", "def insort_left"), "python")
    (match,) = report.matches
    assert match.source.path == "Lib/bisect.py"
    assert all((c.source.repo, c.source.path) != (match.source.repo, match.source.path) for c in match.copies)


def test_one_file_gives_one_match_per_query_region(corpus_index) -> None:
    source = corpus_text("ekzhu/datasketch", "datasketch/hyperloglog.py")
    method = textwrap.dedent(between(source, "    def count(self) -> float:", "    def merge("))
    report = corpus_index.searcher.attribute(method, "python")
    assert len(report.matches) == 1, spans(report)


def test_a_copy_without_its_comments_is_an_exact_match(corpus_index) -> None:
    go = corpus_text("acme/lrucache", "lru/cache.go")
    stripped = "\n".join(line for line in go.splitlines() if not line.lstrip().startswith("//")) + "\n"
    (match,) = corpus_index.searcher.attribute(stripped, "go").matches
    assert match.source.path == "lru/cache.go"
    assert match.method == "exact" and match.similarity >= 0.9


def test_a_whole_indexed_file_is_answered_by_a_whole_file_match(corpus_index) -> None:
    code = corpus_text("python/cpython-lib", "Lib/graphlib.py")  # vendored byte for byte in vendorco/webapp
    report = corpus_index.searcher.attribute(code, "python")
    assert len(report.matches) == 1
    match = report.matches[0]
    lines = code.count("\n") + (0 if code.endswith("\n") else 1)
    assert (match.method, match.similarity) == ("exact", 1.0)
    assert (match.query_span.start_line, match.source_span.start_line) == (1, 1)
    assert match.source_span.end_line >= lines - 1
    holders = {match.source.repo, *(c.source.repo for c in match.copies)}
    assert holders == {"python/cpython-lib", "vendorco/webapp"}
    assert all(c.relation == "identical" for c in match.copies)


def test_the_whole_file_shortcut_can_be_turned_off(corpus_index) -> None:
    code = corpus_text("python/cpython-lib", "Lib/graphlib.py")
    full = corpus_index.searcher.attribute(code, "python", QueryOptions(whole_file_match=False))
    assert full.matches and full.matches[0].source.path.endswith("graphlib.py")
    assert {full.matches[0].source.repo, *(c.source.repo for c in full.matches[0].copies)} >= {
        "python/cpython-lib"
    }


def test_a_span_in_many_repositories_is_boilerplate(tmp_path) -> None:
    """A span whose fingerprints are held by at least `boilerplate_repos` independent files is
    reported apart from the matches, as boilerplate; below that count it is a match. By default
    the count is relative to the index (2% of its repositories, at least 3), so "many" also means
    something in an index of four repositories."""
    from indexer.backends import open_index, open_writer
    from indexer.licenses.expressions import license_category
    from indexer.placement import BuildSettings
    from indexer.records import Document, LicenseCategory, git_blob_id
    from search_api.engine.options import boilerplate_threshold
    from search_api.engine.searcher import Searcher

    shared = textwrap.dedent("""\
        def retry_with_backoff(operation, attempts=5, first_delay=0.25, factor=2.0):
            delay = first_delay
            for attempt in range(1, attempts + 1):
                try:
                    return operation()
                except TransientError as error:
                    if attempt == attempts:
                        raise
                    log.warning("attempt %d of %d failed: %s", attempt, attempts, error)
                    time.sleep(delay)
                    delay *= factor
        """)

    def own(i: int) -> str:  # enough code of its own that the four files are not near-duplicates
        return "".join(
            f"def tool{i}_step_{j}(value_{j}, scale={i * 7 + j}):\n"
            f"    return [item * scale + {j} for item in value_{j} if item % {i + 2} != {j % 3}]\n\n"
            for j in range(25)
        )

    contents = [f"# tool {i}\n{own(i)}{shared}\n" for i in range(4)]
    docs = [
        Document(
            git_blob_id(text.encode()),
            f"org{i}/tool{i}",
            "util.py",
            "Python",
            text,
            "MIT",
            license_category("MIT"),
        )
        for i, text in enumerate(contents)
    ]
    open_writer(tmp_path / "idx").build(
        docs, settings=BuildSettings(keep=frozenset(LicenseCategory), workers=1)
    )
    searcher = Searcher(open_index(str(tmp_path / "idx")))
    new_code = "".join(
        f"def report_line_{j}(rows):\n    return ', '.join(str(r[{j}]) for r in rows)\n\n" for j in range(5)
    )
    query = new_code + "\n" + shared  # the shared span is part of the query, not all of it
    assert (
        boilerplate_threshold(4) == 3
        and boilerplate_threshold(150) == 3
        and boilerplate_threshold(10**6) == 10
    )
    assert searcher.attribute(query, "python", QueryOptions(boilerplate_repos=5)).matches  # five: not reached
    report = searcher.attribute(query, "python")  # the default for four repositories: 3
    assert report.matches == () and report.licenses == {}
    (common,) = report.boilerplate
    assert common.boilerplate and common.repos_with_span == 4
    assert (common.query_span.start_line, common.query_span.end_line) == (17, 27)
    assert not any(searcher.index.info(d).cluster != d for d in range(4))  # four clusters, not copies


def test_a_one_line_file_held_by_many_repositories_is_weak_evidence_even_as_a_whole_file(tmp_path) -> None:
    """A whole-file match rests on how common that exact file is: a one-line re-export that three
    repositories hold is not evidence enough for the gate (its default min_confidence is 0.9)."""
    from indexer.backends import open_index, open_writer
    from indexer.licenses.expressions import license_category
    from indexer.placement import BuildSettings
    from indexer.records import Document, LicenseCategory, git_blob_id
    from search_api.engine.searcher import Searcher
    from search_api.gate.decision import decide
    from search_api.gate.policy import Outcome
    from search_api.gate.policy_file import default_policy

    one_liner = "module.exports = require('./lib/index');\n"
    docs = [
        Document(
            git_blob_id(one_liner.encode()),
            f"org{i}/pkg{i}",
            "index.js",
            "JavaScript",
            one_liner,
            "GPL-3.0-only",
            license_category("GPL-3.0-only"),
        )
        for i in range(3)
    ]
    open_writer(tmp_path / "idx").build(
        docs, settings=BuildSettings(keep=frozenset(LicenseCategory), workers=1)
    )
    report = Searcher(open_index(str(tmp_path / "idx"))).attribute(
        one_liner, "javascript", QueryOptions(min_confidence=0.0)
    )
    (match,) = report.matches
    assert match.evidence is not None and (match.evidence.median_files, match.evidence.lines) == (3, 1)
    assert match.confidence < default_policy().min_confidence
    assert decide(report, default_policy()).outcome is Outcome.PASS
