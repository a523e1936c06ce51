"""Evidence that holds up: license text is a notice, not a match; spans that say little are not
reported; every match carries a calibrated confidence."""

from __future__ import annotations

import json
import re

import pytest
from engine_testlib import QUERIES, corpus_text

from indexer.records import NoticeKind
from search_api.engine.evidence import calibrated_model
from search_api.engine.options import QueryOptions
from search_api.engine.results import Method, Span

HEADER = (QUERIES / "license_header.py").read_text().split('"""', 1)[0]  # the Apache-2.0 header of that query
ORIGINAL = '''
def fold_readings(readings, window=7):
    """Moving medians of sensor readings, one per full window, rounded to tenths."""
    medians = []
    for end in range(window, len(readings) + 1):
        ordered = sorted(readings[end - window : end])
        medians.append(round(ordered[window // 2], 1))
    return medians
'''


def _copied_function() -> str:
    text = corpus_text("copyleft/textdiff", "textdiff/myers.py")
    start = text.index("def shortest_edit_trace")
    return text[start : text.index("def backtrack")]


def test_a_license_header_over_original_code_is_a_notice_and_no_match(corpus_index) -> None:
    report = corpus_index.searcher.attribute(HEADER + ORIGINAL, "python")
    kinds = {(n.kind, n.license) for n in report.notices}
    assert (NoticeKind.LICENSE, "Apache-2.0") in kinds and (NoticeKind.COPYRIGHT, None) in kinds
    license_notice = next(n for n in report.notices if n.kind is NoticeKind.LICENSE)
    assert license_notice.query_span.start_line <= 3 and license_notice.query_span.end_line >= 12
    assert report.matches == () and report.boilerplate == ()


def test_the_same_header_above_copied_code_gives_a_notice_and_a_match(corpus_index) -> None:
    query = HEADER + "\n" + _copied_function()
    report = corpus_index.searcher.attribute(query, "python")
    assert any(n.kind is NoticeKind.LICENSE and n.license == "Apache-2.0" for n in report.notices)
    assert [(m.source.repo, m.source.path) for m in report.matches] == [
        ("copyleft/textdiff", "textdiff/myers.py")
    ]
    match = report.matches[0]
    header_lines = HEADER.count("\n")
    assert match.query_span.start_line > header_lines, "the header is not part of the match"
    assert match.confidence >= 0.9


def test_license_wording_quoted_in_code_is_not_matched_to_the_notice_it_comes_from(corpus_index) -> None:
    # Two lines of the Apache-2.0 notice in a string: too little for the query to hold a notice,
    # but on the source side they are the indexed files' own license header.
    quoted = (
        "import re\n\n_GRANT = (\n"
        '    "Unless required by applicable law or agreed to in writing, software "\n'
        '    "distributed under the License is distributed on an "\n'
        ")\n\n\ndef is_grant(text):\n    return text.startswith(_GRANT)\n"
    )
    unfiltered = corpus_index.searcher.attribute(
        quoted, "python", QueryOptions(find_notices=False, min_confidence=0.0)
    )
    assert [m.source.path for m in unfiltered.matches + unfiltered.boilerplate] == ["lru/cache.go"]
    report = corpus_index.searcher.attribute(quoted, "python", QueryOptions(min_confidence=0.0))
    assert report.matches == () and report.boilerplate == () and report.notices == ()
    assert report.discarded["license_text"] >= 1


def test_an_import_block_shared_with_an_indexed_file_is_not_a_match(corpus_index) -> None:
    imports = (
        "from __future__ import annotations\n\nimport collections.abc as cabc\n"  # click's, markupsafe's
    )
    assert corpus_text("pallets/click", "src/click/_textwrap.py").startswith(imports)
    everything = corpus_index.searcher.attribute(
        imports + ORIGINAL, "python", QueryOptions(min_confidence=0.0)
    )
    assert [m.query_span for m in everything.matches] == [Span(1, 3)], (
        "verified, so it is the evidence that decides"
    )
    assert everything.matches[0].confidence < calibrated_model().floor
    report = corpus_index.searcher.attribute(imports + ORIGINAL, "python")
    assert report.matches == () and report.discarded["low_confidence"] == 1


def test_a_renamed_copy_of_twenty_lines_is_still_a_match(corpus_index) -> None:
    copied = "\n".join(_copied_function().split("\n")[:20])
    names = sorted({w for w in re.findall(r"\b[a-z_][a-z_0-9]*\b", copied)} - _PYTHON_WORDS)
    renamed = re.sub(
        r"\b[a-z_][a-z_0-9]*\b",
        lambda m: f"v{names.index(m.group())}" if m.group() in names else m.group(),
        copied,
    )
    assert renamed != copied
    report = corpus_index.searcher.attribute(renamed, "python")
    best = report.matches[0]
    assert (best.source.repo, best.method) == ("copyleft/textdiff", Method.NORMALIZED)
    assert best.confidence >= calibrated_model().floor


@pytest.mark.parametrize("code", [HEADER + ORIGINAL, "import time\nimport heapq\n" + ORIGINAL])
def test_every_span_the_engine_verifies_carries_its_evidence(corpus_index, code: str) -> None:
    report = corpus_index.searcher.attribute(
        _copied_function() + code, "python", QueryOptions(min_confidence=0.0)
    )
    assert report.matches
    for match in report.matches:
        assert match.evidence is not None and 0.0 <= match.confidence <= 1.0
        assert match.confidence == pytest.approx(calibrated_model().confidence(match.evidence, match.method))


_PYTHON_WORDS = {
    "def",
    "for",
    "in",
    "range",
    "if",
    "else",
    "return",
    "while",
    "and",
    "or",
    "not",
    "dict",
    "len",
    "raise",
    "x",
    "y",
}


def test_min_confidence_on_the_command_line_moves_the_engine_s_floor(corpus_index) -> None:
    from click.testing import CliRunner

    from search_api.cli import main

    imports = "from __future__ import annotations\n\nimport collections.abc as cabc\n"

    def matches(*options: str) -> list[dict]:
        args = ["query", "-", "--index", str(corpus_index.path), "--language", "python", "--json", *options]
        result = CliRunner().invoke(main, args, input=imports + ORIGINAL)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["matches"]

    assert matches() == []
    (weak,) = matches("--min-confidence", "0")
    assert weak["confidence"] < calibrated_model().floor and weak["evidence"]["lines"] == 3
    bad = CliRunner().invoke(main, ["query", "-", "--index", str(corpus_index.path), "--min-confidence", "2"])
    assert bad.exit_code == 2 and "--min-confidence" in bad.output and "0.0<=x<=1.0" in bad.output
