"""POST /v1/generate in the real codecite web app (the blueprint loaded as the `generate` feature)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

pytest.importorskip("flask_smorest", reason="the web app's dependencies are not installed")

from flask import Flask

from search_api.web import create_app

BLUEPRINT = "generator.web:blueprint"


def make_app(index_dir: Path, **config: object) -> Flask:
    settings = {
        "TESTING": True,
        "INDEX": str(index_dir),
        "RATELIMIT_ENABLED": False,
        "LOAD_ENTRY_POINTS": False,
        "EXTRA_BLUEPRINTS": {"generate": BLUEPRINT},
    }
    return create_app({**settings, **config})


@pytest.fixture(scope="module")
def app(index_dir: Path, tiny_model_dir: Path) -> Flask:
    return make_app(index_dir, GENERATOR_MODEL=str(tiny_model_dir), GENERATOR_MAX_NEW_TOKENS=200)


def test_generate_answers_with_the_completion_its_report_and_decision(app: Flask, corpus) -> None:
    prompt = corpus.mit.prompt(10)
    response = app.test_client().post("/v1/generate", json={"prompt": prompt, "max_new_tokens": 150})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert (
        corpus.mit.text[len(prompt) :].startswith(body["completion"]) and body["completion"].count("\n") >= 6
    )
    match = body["report"]["matches"][0]
    assert (match["source"]["repo"], match["source"]["path"], match["source"]["license"]) == (
        corpus.mit.repo,
        corpus.mit.path,
        "MIT",
    )
    assert body["decision"]["outcome"] == "attribution-needed" and body["withheld"] is False
    assert "notice" not in body  # annotate mode
    assert response.headers["Cache-Control"] == "no-store"


def test_block_mode_withholds_gpl_code(app: Flask, corpus) -> None:
    response = app.test_client().post(
        "/v1/generate", json={"prompt": corpus.gpl.prompt(7), "mode": "block", "max_new_tokens": 150}
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["completion"] is None and body["withheld"] is True
    assert "GPL-3.0-only" in body["notice"] and corpus.gpl.path in body["notice"]
    assert body["decision"]["outcome"] == "fail"


def test_attribution_mode_and_fim_and_stop(app: Flask, corpus) -> None:
    client = app.test_client()
    body = client.post(
        "/v1/generate", json={"prompt": corpus.apache.prompt(9), "mode": "attribution", "max_new_tokens": 150}
    ).get_json()
    assert corpus.apache.repo in body["notice"] and "Apache-2.0" in body["notice"]
    fim = client.post(
        "/v1/generate", json={"prompt": "x = ", "suffix": "\nprint(x)\n", "max_new_tokens": 8, "stop": ["\n"]}
    )
    assert fim.status_code == 200 and "\n" not in fim.get_json()["completion"]


def test_an_empty_prompt_starts_a_new_file(app: Flask) -> None:
    response = app.test_client().post("/v1/generate", json={"prompt": "", "max_new_tokens": 12})
    assert response.status_code == 200 and isinstance(response.get_json()["completion"], str)


def test_the_feature_is_listed_in_stats(app: Flask) -> None:
    assert "generate" in app.test_client().get("/v1/stats").get_json()["features"]


def test_streaming_sends_text_reports_and_done(app: Flask, corpus) -> None:
    response = app.test_client().post(
        "/v1/generate", json={"prompt": corpus.mit.prompt(10), "stream": True, "max_new_tokens": 120}
    )
    assert response.status_code == 200 and response.mimetype == "text/event-stream"
    events = [block.split("\n", 1) for block in response.get_data(as_text=True).strip().split("\n\n")]
    kinds = [head.removeprefix("event: ") for head, _ in events]
    assert kinds[-1] == "done" and "text" in kinds and "report" in kinds
    payloads = [json.loads(data.removeprefix("data: ")) for _, data in events]
    streamed = "".join(p["text"] for k, p in zip(kinds, payloads) if k == "text")
    assert streamed == payloads[-1]["completion"]
    assert payloads[-1]["report"]["matches"][0]["source"]["path"] == corpus.mit.path


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({}, 422, "prompt"),
        ({"prompt": "x", "mode": "shout"}, 422, "mode"),
        ({"prompt": "x", "temperature": "hot"}, 422, "temperature"),
        ({"prompt": "x", "max_new_tokens": 0}, 422, "max_new_tokens"),
        ({"prompt": "x", "top_p": 0}, 422, "top_p"),
        ({"prompt": "x", "stop": [""]}, 422, "stop"),
        ({"prompt": "x\u0000y"}, 422, "NUL"),
        ({"prompt": "x", "suffix": "\ud800"}, 422, "unpaired surrogate"),
        ({"prompt": "x", "promt": "typo"}, 422, "promt"),
        (
            {"prompt": "x", "stream": 0.0},
            422,
            "stream",
        ),  # the schema says boolean; schemathesis found 0.0 taken
        ({"prompt": "x", "stream": "yes"}, 422, "stream"),
    ],
)
def test_bad_requests_are_problems_that_name_the_fix(app: Flask, body: dict, status: int, words: str) -> None:
    response = app.test_client().post("/v1/generate", json=body)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and words in json.dumps(problem)


@pytest.mark.parametrize("stream", [False, True])
def test_a_prompt_the_model_cannot_take_is_422_in_both_modes(
    index_dir: Path, tiny_model_dir: Path, stream: bool
) -> None:
    # 100,000 new tokens leave no room in the tiny model's context: known before any token.
    app = make_app(index_dir, GENERATOR_MODEL=str(tiny_model_dir), GENERATOR_MAX_NEW_TOKENS=100_000)
    response = app.test_client().post(
        "/v1/generate", json={"prompt": "def f():", "max_new_tokens": 100_000, "stream": stream}
    )
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert "ask for fewer new tokens" in response.get_json()["detail"]


def test_max_new_tokens_is_capped_at_the_servers_limit(index_dir: Path, tiny_model_dir: Path) -> None:
    app = make_app(index_dir, GENERATOR_MODEL=str(tiny_model_dir), GENERATOR_MAX_NEW_TOKENS=5)
    body = app.test_client().post("/v1/generate", json={"prompt": "def ", "max_new_tokens": 5000}).get_json()
    assert body["usage"]["completion_tokens"] <= 5 and "capped at 5" in body["warnings"][0]


def test_a_prompt_too_large_is_413(index_dir: Path, tiny_model_dir: Path) -> None:
    app = make_app(index_dir, GENERATOR_MODEL=str(tiny_model_dir), GENERATOR_MAX_PROMPT_CHARS=10)
    response = app.test_client().post("/v1/generate", json={"prompt": "x" * 11})
    assert response.status_code == 413 and "nearest the cursor" in response.get_json()["detail"]


def test_without_a_model_the_endpoint_is_neither_served_nor_advertised(
    index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CODECITE_GENERATOR_MODEL", raising=False)
    client = make_app(index_dir).test_client()
    started = time.monotonic()
    response = client.post("/v1/generate", json={"prompt": "x"})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert time.monotonic() - started < 5  # no model load, no torch import on the way to the answer
    assert "generate" not in client.get("/v1/stats").get_json()["features"]
    assert "/v1/generate" not in client.get("/openapi.json").get_json()["paths"]


def test_the_model_can_be_named_by_the_environment(
    index_dir: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODECITE_GENERATOR_MODEL", str(tiny_model_dir))
    response = (
        make_app(index_dir).test_client().post("/v1/generate", json={"prompt": "def ", "max_new_tokens": 3})
    )
    assert response.status_code == 200 and response.get_json()["usage"]["completion_tokens"] <= 3


def test_a_model_that_cannot_load_is_503(index_dir: Path, tmp_path: Path) -> None:
    app = make_app(index_dir, GENERATOR_MODEL=str(tmp_path / "missing"), GENERATOR_OFFLINE=True)
    response = app.test_client().post("/v1/generate", json={"prompt": "x"})
    assert response.status_code == 503 and "train-tiny" in response.get_json()["detail"]


def test_the_endpoint_is_in_the_openapi_document(app: Flask) -> None:
    spec = app.test_client().get("/openapi.json").get_json()
    assert "post" in spec["paths"]["/v1/generate"]


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis_finds_no_server_error_on_generate(app: Flask, mode: str) -> None:
    """Generated requests, valid or not, get a documented answer and never a 500 (the real tiny model runs)."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    [operation] = [r.ok() for r in schema.get_all_operations() if r.ok().path == "/v1/generate"]
    generation_mode = (
        schemathesis.GenerationMode.POSITIVE if mode == "positive" else schemathesis.GenerationMode.NEGATIVE
    )

    @given(case=operation.as_strategy(generation_mode=generation_mode))
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def answers(case) -> None:
        case.call_and_validate()

    answers()
