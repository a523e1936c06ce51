"""Hostile request bodies get a 4xx problem, never a 500: deep nesting, huge numbers, NaN, wrong types,
random bytes, a chunked body past the size limit. And what an operator sees: the bearer scheme in the
OpenAPI document, and bad settings refused before the server says it is serving."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search_api.cli import main

ENDPOINTS = ["/v1/attribute", "/v1/attribute/batch"]
HEADERS = {"Content-Type": "application/json"}


def nested(depth: int, kind: str) -> bytes:
    opening, closing = ("[", "]") if kind == "list" else ('{"a": ', "}")
    return (opening * depth + "1" + closing * depth).encode()


def in_request(endpoint: str, value: bytes, field: str = "min_match") -> bytes:
    """`value` (raw JSON) as a field of an otherwise valid request to `endpoint`."""
    if field == "code":
        item = b'{"id": 1, "code": ' + value + b"}"
    else:
        item = b'{"id": 1, "code": "x = 1", "' + field.encode() + b'": ' + value + b"}"
    if endpoint.endswith("batch"):
        return b'{"items": [' + item.replace(b', "' + field.encode(), b', "language') + b"]}"
    return item.replace(b'"id": 1, ', b"")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    ("body", "status"),
    [
        (nested(100_000, "list"), 400),
        (nested(100_000, "dict"), 400),
        (nested(900, "dict"), 400),
        (b'{"code": "x", "min_match": ' + b"9" * 5_000 + b"}", 400),
        (b'{"code": "x", "min_match": NaN}', 400),
        (b'{"code": "x", "min_match": 1e999}', 422),
        (b'{"code": 123}', 422),
    ],
    ids=[
        "list-100000-deep",
        "object-100000-deep",
        "object-900-deep",
        "5000-digits",
        "nan",
        "inf",
        "code-int",
    ],
)
def test_hostile_bodies_are_4xx(client, endpoint: str, body: bytes, status: int) -> None:
    if endpoint.endswith("batch") and body.startswith(b'{"code"'):
        body = b'{"items": [' + body.replace(b'{"code"', b'{"id": 1, "code"', 1) + b"]}"
    response = client.post(endpoint, data=body, headers=HEADERS)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    assert "Traceback" not in response.get_data(as_text=True)


json_leaf = st.one_of(  # raw JSON text of a scalar: null, booleans, numbers of any length, NaN, strings
    st.sampled_from(["null", "true", "false", "NaN", "Infinity", "-Infinity", "1e999", "-0.0", "3.5"]),
    st.integers(-(10**6), 10**6).map(str),
    st.integers(1, 6_000).map(lambda n: "9" * n),
    st.text(max_size=30).map(json.dumps),
)
raw_value = st.recursive(
    json_leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]"),
        st.dictionaries(st.text(max_size=8), children, max_size=4).map(
            lambda d: "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in d.items()) + "}"
        ),
    ),
    max_leaves=20,
)
deep = st.tuples(st.integers(65, 3_000), st.sampled_from(["list", "dict"])).map(lambda t: nested(*t).decode())


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    endpoint=st.sampled_from(ENDPOINTS),
    field=st.sampled_from(["code", "min_match", "language", "policy", "filename"]),
    value=st.one_of(raw_value, deep),
)
def test_fuzzed_fields_never_reach_a_500(app: Flask, endpoint: str, field: str, value: str) -> None:
    """Any JSON value (nested, huge, NaN, wrong type) in any field: a 4xx, or a 200 when it is valid."""
    body = in_request(endpoint, value.encode(), field)
    response = app.test_client().post(endpoint, data=body, headers=HEADERS)
    assert response.status_code < 500, (body[:200], response.get_data(as_text=True)[:300])
    if field == "code" and not value.startswith('"'):
        assert 400 <= response.status_code < 500 or endpoint.endswith("batch")


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(endpoint=st.sampled_from(ENDPOINTS), body=st.binary(max_size=400))
def test_random_bytes_are_4xx(app: Flask, endpoint: str, body: bytes) -> None:
    response = app.test_client().post(endpoint, data=body, headers=HEADERS)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]


@pytest.fixture(scope="module")
def live(app: Flask) -> Iterator[int]:
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv.server_port
    srv.shutdown()
    thread.join(5)


def test_a_chunked_body_past_the_limit_is_413(live: int, app: Flask) -> None:
    limit = app.config["MAX_CONTENT_LENGTH"]

    def chunks() -> Iterator[bytes]:
        yield b'{"code": "'
        for _ in range(70):  # 70 MB, sent without a Content-Length
            yield b"x" * (1 << 20)
        yield b'"}'

    conn = http.client.HTTPConnection("127.0.0.1", live, timeout=120)
    conn.request("POST", "/v1/attribute", body=chunks(), headers=HEADERS, encode_chunked=True)
    response = conn.getresponse()
    body = json.loads(response.read())
    assert (
        response.status == 413 and body["type"].endswith("body-too-large") and f"{limit:,}" in body["detail"]
    )
    conn.close()
    conn = http.client.HTTPConnection("127.0.0.1", live, timeout=60)  # a chunked body under the limit is read
    conn.request(
        "POST", "/v1/attribute", body=iter([b'{"code": ', b'"x = 1"}']), headers=HEADERS, encode_chunked=True
    )
    assert conn.getresponse().status == 200


def test_openapi_declares_the_bearer_scheme_when_tokens_are_required(app_factory, facts) -> None:
    spec = app_factory(API_TOKENS=facts.token).test_client().get("/openapi.json").get_json()
    assert spec["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "An API token of this server: Authorization: Bearer <token>",
    }
    assert spec["paths"]["/v1/attribute"]["post"]["security"] == [{"bearerAuth": []}]
    assert "401" in spec["paths"]["/v1/stats"]["get"]["responses"]
    assert "security" not in spec["paths"]["/healthz"]["get"]
    open_spec = app_factory().test_client().get("/openapi.json").get_json()
    assert "securitySchemes" not in open_spec.get("components", {})


@pytest.mark.parametrize("server", ["gunicorn", "werkzeug"])
def test_a_short_token_fails_before_serving_is_announced(index_dir: Path, server: str) -> None:
    result = CliRunner(env={"CODECITE_API_TOKENS": "short"}).invoke(
        main, ["serve", "--index", str(index_dir), "--port", "0", "--server", server]
    )
    assert result.exit_code == 2
    assert "at least 16 characters" in result.stderr and "serving on" not in result.stdout
