"""One error shape, pinned: every refusal is RFC 9457 problem+json with a detail that names the fix,
and keeps the headers its status needs (Allow, Retry-After, WWW-Authenticate)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from flask import Blueprint
from flask.testing import FlaskClient
from werkzeug.test import TestResponse


def problem(response: TestResponse, status: int, slug: str | None = None) -> dict:
    """Check the problem shape; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and len(body["detail"]) > 20
    assert body["type"] == (f"urn:codecite:problem:{slug}" if slug else "about:blank")
    assert "Traceback" not in response.get_data(as_text=True)
    return body


def test_400_for_a_body_that_is_not_json(client: FlaskClient) -> None:
    body = problem(
        client.post("/v1/attribute", data=b'{"code": "x"', content_type="application/json"),
        400,
        "invalid-json",
    )
    assert "not valid JSON" in body["detail"] and "line 1" in body["detail"]
    problem(
        client.post("/v1/attribute", data=b'{"code": "\xff"}', content_type="application/json"),
        400,
        "invalid-json",
    )


def test_401_without_or_with_a_wrong_token_and_200_with_the_right_one(app_factory, facts) -> None:
    client = app_factory(API_TOKENS=f"{facts.token}, another-token-0123456789").test_client()
    missing = client.post("/v1/attribute", json={"code": facts.query})
    problem(missing, 401, "unauthorized")
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="codecite"'
    wrong = client.get("/v1/stats", headers={"Authorization": "Bearer not-the-token-at-all"})
    problem(wrong, 401, "invalid-token")
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    for token in (facts.token, "another-token-0123456789"):
        ok = client.post(
            "/v1/attribute", json={"code": facts.query}, headers={"Authorization": f"Bearer {token}"}
        )
        assert ok.status_code == 200
    # Liveness, readiness, metrics, the page and its assets need no token.
    for path in ("/healthz", "/readyz", "/metrics", "/", "/static/lookup.js", "/openapi.json"):
        assert client.get(path).status_code == 200, path


def test_404_for_an_unknown_route_and_an_unknown_document(client: FlaskClient) -> None:
    assert "/v1/nothing-here" in problem(client.get("/v1/nothing-here"), 404)["detail"]
    body = problem(client.get("/v1/documents/" + "0" * 40), 404, "no-such-document")
    assert "0" * 40 in body["detail"]
    problem(client.get("/v1/documents/" + "a" * 300), 404, "no-such-document")


def test_405_keeps_the_allow_header(client: FlaskClient) -> None:
    response = client.delete("/v1/attribute")
    problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"POST", "OPTIONS"}
    get = client.get("/v1/attribute/batch")
    problem(get, 405)
    assert "POST" in get.headers["Allow"]


def test_413_for_a_body_over_the_limit_and_for_too_much_code(app_factory, client: FlaskClient) -> None:
    small = app_factory(MAX_CONTENT_LENGTH=1000).test_client()
    problem(small.post("/v1/attribute", json={"code": "x = 1\n" * 400}), 413)
    upload = small.post(
        "/v1/attribute",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"y = 2\n" * 400), "big.py")},
    )
    problem(upload, 413)
    huge = "z = 3\n" * 700_000  # 4.2 MB: under the 8 MB body limit, over the 4 MB a query may hold
    body = problem(client.post("/v1/attribute", json={"code": huge}), 413, "query-too-large")
    assert "4,200,000 bytes" in body["detail"]
    items = [{"id": i, "code": "x"} for i in range(101)]
    problem(client.post("/v1/attribute/batch", json={"items": items}), 413, "batch-too-large")


def test_415_for_a_body_that_is_neither_json_nor_a_form(client: FlaskClient) -> None:
    body = problem(
        client.post("/v1/attribute", data="def f(): pass", content_type="text/plain"),
        415,
        "unsupported-media-type",
    )
    assert "application/json" in body["detail"] and "multipart/form-data" in body["detail"]
    problem(
        client.post("/v1/attribute/batch", data=b"\x00\x01", content_type="application/octet-stream"),
        415,
        "unsupported-media-type",
    )


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "code"),
        ({"code": 42}, "code"),
        ({"code": "x", "min_match": 0}, "min_match"),
        ({"code": "x", "min_match": True}, "min_match"),
        ({"code": "x", "min_confidence": 1.5}, "min_confidence"),
        ({"code": "x", "min_confidence": "high"}, "min_confidence"),
        ({"code": "x", "min_confidence": "0.5"}, "min_confidence"),  # a string, where the schema says number
        ({"code": "x", "langauge": "Python"}, "langauge"),
        ({"code": "x", "policy": "strict"}, "policy"),
    ],
)
def test_422_names_each_invalid_field(client: FlaskClient, payload: dict, field: str) -> None:
    body = problem(client.post("/v1/attribute", json=payload), 422, "validation-error")
    assert field in body["errors"] and field in body["detail"]


def test_422_for_a_body_that_is_not_an_object(client: FlaskClient) -> None:
    problem(client.post("/v1/attribute", json=["def f(): pass"]), 422, "validation-error")
    problem(client.post("/v1/attribute/batch", json={"items": []}), 422, "validation-error")


def test_422_for_binary_input_invalid_utf8_and_unpaired_surrogates(client: FlaskClient) -> None:
    problem(client.post("/v1/attribute", json={"code": "int main() {\x00}"}), 422, "binary-input")
    binary = client.post(
        "/v1/attribute",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(b"\x7fELF\x02\x01\x01\x00\x00"), "a.out")},
    )
    problem(binary, 422, "binary-input")
    latin1 = client.post(
        "/v1/attribute",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO("# Größe\nx = 1\n".encode("latin-1")), "legacy.py")},
    )
    assert "byte 4" in problem(latin1, 422, "invalid-utf8")["detail"]
    surrogate = client.post(
        "/v1/attribute", data=b'{"code": "x = \\"\\ud800\\""}', content_type="application/json"
    )
    problem(surrogate, 422, "not-text")
    no_file = client.post("/v1/attribute", content_type="multipart/form-data", data={"language": "Python"})
    assert "file" in problem(no_file, 422, "validation-error")["errors"]


def test_422_for_a_policy_the_policy_engine_refuses(client: FlaskClient, facts) -> None:
    body = problem(
        client.post("/v1/attribute", json={"code": facts.query, "policy": {"bogus": 1}}),
        422,
        "invalid-policy",
    )
    assert "bogus" in body["detail"]


def test_429_with_retry_after_when_the_rate_limit_is_hit(app_factory, facts) -> None:
    client = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_API="2 per minute").test_client()
    for _ in range(2):
        assert client.post("/v1/attribute", json={"code": facts.query}).status_code == 200
    limited = client.post("/v1/attribute", json={"code": facts.query})
    body = problem(limited, 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "Retry-After" in body["detail"] or "wait" in body["detail"]
    assert limited.headers["X-RateLimit-Limit"] == "2"
    fresh = app_factory(RATELIMIT_ENABLED=True, RATELIMIT_API="5 per minute").test_client()
    items = [{"id": i, "code": "x = 1\n"} for i in range(4)]
    assert fresh.post("/v1/attribute/batch", json={"items": items}).status_code == 200  # costs 4 of 5
    problem(fresh.post("/v1/attribute/batch", json={"items": items}), 429)
    for _ in range(5):  # health and metrics are never limited
        assert client.get("/healthz").status_code == 200
        assert client.get("/metrics").status_code == 200


def test_503_when_no_index_is_configured_or_it_cannot_be_opened(app_factory, tmp_path: Path, facts) -> None:
    unconfigured = app_factory(INDEX=None).test_client()
    body = problem(unconfigured.get("/readyz"), 503, "index-unavailable")
    assert "CODECITE_INDEX" in body["detail"]
    missing = app_factory(INDEX=str(tmp_path / "nowhere")).test_client()
    ready = missing.get("/readyz")
    problem(ready, 503, "index-unavailable")
    assert ready.headers["Retry-After"] == "10"
    problem(missing.post("/v1/attribute", json={"code": facts.query}), 503, "index-unavailable")
    problem(missing.get("/v1/stats"), 503, "index-unavailable")
    assert missing.get("/healthz").status_code == 200  # alive, just not ready


def test_503_for_a_corrupt_index(app_factory, index_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(index_dir, broken)
    for data in (broken / "segments").rglob("*"):
        if data.is_file() and data.stat().st_size > 64:
            data.write_bytes(b"garbage" * 10)
    problem(app_factory(INDEX=str(broken)).test_client().get("/readyz"), 503, "index-unavailable")


def test_500_is_a_problem_without_a_traceback(app_factory) -> None:
    crash = Blueprint("crash", __name__)

    @crash.get("/crash")
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    client = app_factory(EXTRA_BLUEPRINTS={"crash": crash}, TESTING=False).test_client()
    response = client.get("/crash")
    body = problem(response, 500)
    assert "secret" not in response.get_data(as_text=True) and "server log" in body["detail"]
