"""The lookup page in a real browser: paste, see the match highlighted beside its source, copy the
notice, share a permalink; hostile index content stays text; narrow screens and keyboards work."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Blueprint, Flask, jsonify, request
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
SCREENSHOT = os.environ.get("CODECITE_SCREENSHOT")  # e.g. docs/lookup-page.png


def look_up(page: Page, url: str, code: str) -> None:
    page.goto(url + "/")
    page.get_by_label("Code to look up").fill(code)
    page.get_by_role("button", name="Find sources").click()
    expect(page.locator("#status")).not_to_have_text(re.compile(r"^(Looking up…)?$"))


def test_a_pasted_snippet_shows_the_highlighted_match_with_source_path_and_license(
    page: Page, live_server, facts
) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    look_up(page, live_server.url, facts.query)
    expect(page.locator("#status")).to_have_text("Found 1 match.")
    card = page.locator(".match").first
    expect(card.locator(".source-link")).to_have_text("acme/orbit-tools / orbit/kepler.py")
    expect(card.locator(".source-link")).to_have_attribute(
        "href", "https://example.org/acme/orbit-tools/blob/main/orbit/kepler.py"
    )
    badge = card.locator(".facts .badge")
    expect(badge).to_have_text("MIT")
    expect(badge).to_have_class(re.compile(r"\blic-permissive\b"))
    expect(card.locator(".repos")).to_have_text("found in 1 repo")
    # The matched part is highlighted on both sides, the lines around it are not.
    expect(card.locator(".query-pane mark").first).to_contain_text("def solve_kepler(mean_anomaly")
    expect(card.locator(".query-pane .line.hit .ln").first).to_have_text(str(facts.query_span[0]))
    expect(card.locator(".query-pane .line:not(.hit) mark")).to_have_count(0)
    expect(card.locator(".source-pane mark").first).to_contain_text("def solve_kepler(mean_anomaly")
    expect(card.locator(".source-pane .line.hit .ln").first).to_have_text(str(facts.source_span[0]))
    expect(page.locator("#summary .license-summary")).to_contain_text("MIT")


def test_two_sources_under_two_licenses_are_summed_up(page: Page, live_server, facts) -> None:
    """Also the page's screenshot for the docs (set CODECITE_SCREENSHOT=docs/lookup-page.png)."""
    page.set_viewport_size({"width": 1280, "height": 900})
    look_up(page, live_server.url, facts.query + "\n\n" + facts.levenshtein)
    expect(page.locator("#status")).to_have_text("Found 2 matches.")
    summary = page.locator("#summary .license-summary li")
    expect(summary).to_have_count(2)
    expect(summary).to_contain_text([re.compile("Apache-2.0"), re.compile("MIT")])  # most lines first
    expect(page.locator(".source-pane mark")).not_to_have_count(0)
    page.locator(".copies summary").first.click()
    if SCREENSHOT:
        Path(SCREENSHOT).parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOT, full_page=True)


def test_the_attribution_notice_names_repo_path_license_url_and_lines(page: Page, live_server, facts) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    look_up(page, live_server.url, facts.query)
    page.get_by_role("button", name="Copy attribution notice").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    notice = page.evaluate("navigator.clipboard.readText()")
    assert "acme/orbit-tools" in notice and "orbit/kepler.py" in notice and "License: MIT" in notice
    assert "https://example.org/acme/orbit-tools/blob/main/orbit/kepler.py" in notice
    assert re.search(r"Lines 5-1\d of this code .* lines 6-1\d", notice)


def test_copies_and_repo_counts_are_listed(page: Page, live_server, facts) -> None:
    look_up(page, live_server.url, "import sys\n\n" + facts.levenshtein)
    card = page.locator(".match").first
    expect(card.locator(".repos")).to_have_text("found in 2 repos")
    card.locator(".copies summary").click()
    expect(card.locator(".copies summary")).to_have_text("Also in 1 other file")
    expect(card.locator(".copies-list li")).to_have_count(1)
    expect(card.locator(".copies-list")).to_contain_text("Apache-2.0")


def test_the_origin_comes_first_and_vendored_copies_are_marked(page: Page, live_server, facts) -> None:
    look_up(page, live_server.url, "import sys\n\n" + facts.levenshtein)
    card = page.locator(".match").first
    expect(card.locator(".origin")).to_contain_text("Origin: initech/strutil / strutil/distance.py")
    expect(card.locator(".origin")).to_contain_text("the only one not vendored")
    card.locator(".copies summary").click()
    expect(card.locator(".flag.vendored")).to_have_count(1)
    look_up(page, live_server.url, facts.query)  # the source pane shows what /v1/documents says of it
    expect(page.locator(".match .provenance")).to_contain_text("revision 2014-02-03 · 42 stars · 5 forks")


def test_the_permalink_carries_the_code_in_the_fragment_and_reproduces_the_answer(
    page: Page, live_server, facts
) -> None:
    look_up(page, live_server.url, facts.query)
    fragment = page.evaluate("window.location.hash")
    packed = re.search(r"code=([\w-]+)", fragment).group(1)
    assert base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)).decode() == facts.query
    fresh = page.context.new_page()
    fresh.goto(page.url)
    expect(fresh.locator(".match .source-link")).to_have_text("acme/orbit-tools / orbit/kepler.py")
    expect(fresh.get_by_label("Code to look up")).to_have_value(facts.query)
    fresh.close()


def test_the_demo_permalink_opens_the_page_with_the_sample_answered(page: Page, live_server, facts) -> None:
    from search_api.cli.demo import permalink_fragment

    page.goto(f"{live_server.url}/#{permalink_fragment(facts.query, 'Python')}")
    expect(page.locator(".match .source-link")).to_have_text("acme/orbit-tools / orbit/kepler.py")
    expect(page.get_by_label("Language")).to_have_value("Python")


def test_hostile_index_content_is_shown_as_text(page: Page, live_server, facts) -> None:
    look_up(page, live_server.url, facts.hostile)
    card = page.locator(".match").first
    expect(card.locator(".source-pane mark").first).to_be_visible()
    expect(card.locator(".source-link")).to_contain_text(facts.hostile_path)
    expect(card.locator("a.source-link")).to_have_count(0)  # a javascript: URL never becomes a link
    assert page.locator("img, b, script:not([src])").count() == 0
    assert page.evaluate("document.body.dataset.pwned === undefined && window.pwned === undefined")
    expect(card.locator(".query-pane")).to_contain_text("<script>window.pwned = 1</script>")


def test_a_dropped_file_is_read_and_looked_up_and_a_binary_one_is_refused(
    page: Page, live_server, facts
) -> None:
    page.goto(live_server.url + "/")
    page.set_input_files(
        "#file",
        files=[{"name": "kepler_copy.py", "mimeType": "text/x-python", "buffer": facts.query.encode()}],
    )
    expect(page.locator("#file-name")).to_contain_text("kepler_copy.py")
    expect(page.locator(".match .source-link")).to_have_text("acme/orbit-tools / orbit/kepler.py")
    page.set_input_files(
        "#file",
        files=[
            {"name": "blob.bin", "mimeType": "application/octet-stream", "buffer": b"\x7fELF\x00\x01\x02"}
        ],
    )
    expect(page.locator("#status")).to_contain_text("Cannot read blob.bin")


def test_keyboard_only_use_and_visible_focus(page: Page, live_server, facts) -> None:
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Code to look up")).to_be_focused()
    page.keyboard.press("Tab")  # the file chooser: a visually hidden input whose label shows the focus
    expect(page.locator("#file")).to_be_focused()
    assert page.evaluate("getComputedStyle(document.querySelector('.file-button')).outlineStyle") == "solid"
    page.keyboard.press("Shift+Tab")
    page.keyboard.insert_text(facts.query)
    page.keyboard.press("Control+Enter")
    expect(page.locator(".match .source-link")).to_have_text("acme/orbit-tools / orbit/kepler.py")
    page.get_by_label("Language").focus()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_on_a_narrow_screen_the_panes_stack_and_nothing_scrolls_sideways(
    page: Page, live_server, facts
) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    look_up(page, live_server.url, facts.query)
    card = page.locator(".match").first
    expect(card.locator(".source-pane mark").first).to_be_visible()
    query_box = card.locator(".query-pane").bounding_box()
    source_box = card.locator(".source-pane").bounding_box()
    assert source_box["y"] >= query_box["y"] + query_box["height"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_the_generate_tab_is_hidden_without_the_feature(page: Page, live_server, facts) -> None:
    page.goto(live_server.url + "/")
    expect(page.locator("body[data-ready='true']")).to_have_count(1)
    expect(page.locator("#tabs")).to_be_hidden()
    expect(page.locator("#panel-generate")).to_be_hidden()
    expect(page.get_by_label("Code to look up")).to_be_visible()


def parrot_generator() -> Blueprint:
    """A stand-in generator that 'completes' with the prompt itself, attributed by the real engine."""
    from search_api.web import get_served_index

    blp = Blueprint("parrot", __name__, url_prefix="/v1")

    @blp.post("/generate")
    def generate():
        body = request.get_json()
        report = get_served_index().attribute(body["prompt"])
        return jsonify(
            {
                "completion": body["prompt"],
                "report": report.to_dict(),
                "notice": "Generated by the parrot model.",
            }
        )

    return blp


def test_the_generate_tab_appears_with_the_feature_and_shows_the_attributed_completion(
    page: Page, app_factory: Callable[..., Flask], serve, facts
) -> None:
    server = serve(app_factory(EXTRA_BLUEPRINTS={"generate": parrot_generator}))
    page.goto(server.url + "/")
    tab = page.get_by_role("tab", name="Generate")
    expect(tab).to_be_visible()
    tab.focus()
    page.keyboard.press("ArrowRight")  # wraps around to "Look up code" and back
    page.keyboard.press("ArrowLeft")
    expect(tab).to_have_attribute("aria-selected", "true")
    page.get_by_label("Prompt").fill(facts.query)
    page.get_by_label("Mode").select_option("annotate")
    page.get_by_role("button", name="Generate", exact=True).click()
    expect(page.locator("#generate-notice")).to_have_text("Generated by the parrot model.")
    expect(page.locator("#completion")).to_contain_text("def solve_kepler")
    expect(page.locator("#generate-matches .source-link")).to_have_text("acme/orbit-tools / orbit/kepler.py")


def test_a_server_with_tokens_asks_for_one_then_answers(page: Page, app_factory, serve, facts) -> None:
    server = serve(app_factory(API_TOKENS=[facts.token]))
    look_up(page, server.url, facts.query)
    expect(page.locator("#token-form")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("needs an API token")
    page.get_by_label("API token").fill(facts.token)
    page.get_by_role("button", name="Use token").click()
    expect(page.locator(".match .source-link")).to_have_text("acme/orbit-tools / orbit/kepler.py")


def test_each_match_shows_its_confidence_and_the_code_s_own_notices_are_listed_apart(
    page: Page, live_server, facts
) -> None:
    look_up(page, live_server.url, "# SPDX-License-Identifier: GPL-3.0-or-later\n" + facts.query)
    expect(page.locator("#status")).to_have_text("Found 1 match.")
    expect(page.locator(".match .confidence").first).to_have_text(re.compile(r"^\d{1,3}% confidence$"))
    notices = page.locator(".notices li")
    expect(notices).to_have_count(1)
    expect(notices.first).to_contain_text("line 1: spdx-tag text")
    expect(notices.first.locator(".badge")).to_have_text("GPL-3.0-or-later")
