"""Completions arrive attributed: the tiny model reproduces its training files, and the Report
names the right file, lines and license; block mode withholds a reproduced GPL file."""

from __future__ import annotations

import pytest

from generator.attributed import AttributedGenerator, GenerateRequest
from generator.model import CodeModel
from generator.options import OutputMode, SamplingOptions
from search_api.engine.searcher import Searcher
from search_api.gate.policy import Outcome
from search_api.gate.policy_file import load_policy

LONG = SamplingOptions(max_new_tokens=160)


@pytest.fixture(scope="module")
def generator(tiny_model: CodeModel, searcher: Searcher) -> AttributedGenerator:
    return AttributedGenerator(tiny_model, searcher.attribute)


def test_a_reproduced_mit_file_is_attributed_to_its_file_lines_and_license(
    generator: AttributedGenerator, corpus
) -> None:
    prompt = corpus.mit.prompt(10)
    result = generator.generate(GenerateRequest(prompt, sampling=LONG))
    completion = result.completion.text
    assert corpus.mit.text[len(prompt) :].startswith(completion) and completion.count("\n") >= 8
    assert result.report.matches, "the verbatim completion must be found in the index"
    match = result.report.matches[0]
    assert (match.source.repo, match.source.path) == (corpus.mit.repo, corpus.mit.path)
    assert (match.source.license, match.source.license_category) == ("MIT", "permissive")
    assert match.method == "exact" and match.similarity > 0.9
    # Completion line n is line n + 9 of the source: the prompt held lines 1-10, and its last
    # line continues on the completion's first.
    assert match.source_span.start_line - match.query_span.start_line == 9
    assert set(result.report.licenses) == {"MIT"}
    assert result.decision.outcome is Outcome.ATTRIBUTION_NEEDED
    assert not result.withheld and result.text == completion and result.notice is None  # annotate mode


def test_attribution_mode_adds_the_notice(generator: AttributedGenerator, corpus) -> None:
    result = generator.generate(
        GenerateRequest(corpus.apache.prompt(9), sampling=LONG, mode=OutputMode.ATTRIBUTION)
    )
    assert not result.withheld and result.text
    assert result.notice is not None
    assert f"{corpus.apache.repo}: {corpus.apache.path}" in result.notice and "Apache-2.0" in result.notice
    body = result.to_dict()
    assert body["completion"] == result.text and body["notice"] == result.notice and body["withheld"] is False
    assert body["report"]["matches"][0]["source"]["path"] == corpus.apache.path


def test_block_mode_withholds_a_reproduced_gpl_file_and_says_what_it_matched(
    generator: AttributedGenerator, corpus
) -> None:
    prompt = corpus.gpl.prompt(7)
    result = generator.generate(GenerateRequest(prompt, sampling=LONG, mode=OutputMode.BLOCK))
    assert corpus.gpl.text[len(prompt) :].startswith(result.completion.text)  # it did reproduce the file
    assert result.withheld and result.text is None
    assert result.decision.outcome is Outcome.FAIL
    [failing] = result.decision.failing
    assert (failing.governing.repo, failing.governing.license) == (corpus.gpl.repo, "GPL-3.0-only")
    assert result.notice is not None and "withheld" in result.notice
    assert corpus.gpl.path in result.notice and "GPL-3.0-only" in result.notice and "deny" in result.notice
    body = result.to_dict()
    assert body["completion"] is None and body["withheld"] is True
    assert body["report"]["matches"][0]["source"]["license"] == "GPL-3.0-only"


def test_block_mode_lets_permissive_code_through(generator: AttributedGenerator, corpus) -> None:
    result = generator.generate(GenerateRequest(corpus.mit.prompt(10), sampling=LONG, mode=OutputMode.BLOCK))
    assert not result.withheld and result.text
    assert result.notice is not None and corpus.mit.repo in result.notice  # the credit MIT asks for


def test_a_policy_that_allows_gpl_does_not_block(tiny_model: CodeModel, searcher: Searcher, corpus) -> None:
    lenient = AttributedGenerator(
        tiny_model, searcher.attribute, load_policy({"categories": {"copyleft": "warn"}})
    )
    result = lenient.generate(GenerateRequest(corpus.gpl.prompt(7), sampling=LONG, mode=OutputMode.BLOCK))
    assert not result.withheld and result.decision.outcome is Outcome.ATTRIBUTION_NEEDED


def test_original_code_has_no_match(generator: AttributedGenerator) -> None:
    result = generator.generate(GenerateRequest("# a note\n", sampling=SamplingOptions(max_new_tokens=8)))
    assert result.report.matches == () and result.decision.outcome is Outcome.PASS


def test_a_stream_is_reattributed_as_it_grows(generator: AttributedGenerator, corpus) -> None:
    events = list(generator.stream(GenerateRequest(corpus.mit.prompt(10), sampling=LONG), every_lines=4))
    kinds = [e.kind for e in events]
    assert kinds[-1] == "done" and kinds.count("report") >= 2
    text = "".join(e.text for e in events if e.kind == "text")
    final = events[-1].result
    assert final is not None and text == final.completion.text
    interim = [e for e in events if e.kind == "report"]
    assert interim[-1].report.matches[0].source.path == corpus.mit.path  # found before the end


def test_a_blocked_stream_stops_early_and_releases_only_checked_text(
    generator: AttributedGenerator, corpus
) -> None:
    request = GenerateRequest(corpus.gpl.prompt(7), sampling=LONG, mode=OutputMode.BLOCK)
    events = list(generator.stream(request, every_lines=4))
    final = events[-1].result
    assert final is not None and final.withheld and final.completion.finish_reason == "cancelled"
    released = "".join(e.text for e in events if e.kind == "text")
    assert len(released) < len(final.completion.text) or released == ""
    assert final.completion.new_tokens < LONG.max_new_tokens


def test_a_completion_withheld_for_its_license_notice_says_which_notice() -> None:
    from generator.attributed import withheld_notice
    from indexer.records import NoticeKind
    from search_api.engine.results import Notice, Report, Span
    from search_api.gate.decision import decide

    tag = Notice(Span(1, 1), NoticeKind.SPDX_TAG, "GPL-3.0-only", "copyleft")
    report = Report(3, 10, 50, "Python", (), "test/gen-1", 1, notices=(tag,))
    decision = decide(report, load_policy({"notices": {"action": "decide"}}))
    assert decision.outcome is Outcome.FAIL and decision.failing == ()
    assert "completion lines 1-1 carry a GPL-3.0-only notice" in withheld_notice(decision)
