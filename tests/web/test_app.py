"""The app factory: settings from env and mapping, CORS, plugin blueprints from entry points,
following a rebuilt index without a restart, and concurrent requests on a real server."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from indexer.backends import open_writer
from indexer.licenses.expressions import license_category
from indexer.placement import BuildSettings
from indexer.records import Document, LicenseCategory, git_blob_id
from search_api.web import create_app

LOCAL = {"TESTING": True, "RATELIMIT_ENABLED": False, "LOAD_ENTRY_POINTS": False}


def test_settings_come_from_codecite_env_vars_then_the_mapping(monkeypatch, index_dir: Path, facts) -> None:
    monkeypatch.setenv("CODECITE_INDEX", str(index_dir))
    monkeypatch.setenv("CODECITE_API_TOKENS", f"{facts.token},second-token-abcdefghij")
    monkeypatch.setenv("CODECITE_BATCH_MAX_ITEMS", "3")
    monkeypatch.setenv("CODECITE_RATELIMIT_ENABLED", "false")
    app = create_app({"TESTING": True, "LOAD_ENTRY_POINTS": False, "BATCH_MAX_ITEMS": 2})
    assert app.config["INDEX"] == str(index_dir)
    assert app.config["BATCH_MAX_ITEMS"] == 2  # the mapping wins over the environment
    assert (
        len(app.config["API_TOKEN_DIGESTS"]) == 2 and app.config["API_TOKENS"] == []
    )  # only digests are kept
    client = app.test_client()
    headers = {"Authorization": "Bearer second-token-abcdefghij"}
    assert client.get("/v1/stats", headers=headers).get_json()["limits"]["batch_max_items"] == 2


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"API_TOKENS": ["short"]}, "at least 16 characters"),
        ({"MAX_CONTENT_LENGTH": 0}, "MAX_CONTENT_LENGTH"),
        ({"BATCH_MAX_ITEMS": "many"}, "BATCH_MAX_ITEMS"),
        ({"CORS_ORIGINS": 5}, "CORS_ORIGINS"),
        ({"POLICY": "/nonexistent/policy.toml"}, "no such policy file"),
    ],
)
def test_invalid_settings_fail_at_start_with_the_fix(setting: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        create_app({**LOCAL, **setting})


def test_creating_the_app_does_not_open_the_index(tmp_path: Path) -> None:
    app = create_app({**LOCAL, "INDEX": str(tmp_path / "not-built-yet")})
    assert app.test_client().get("/healthz").status_code == 200


def test_cors_is_off_by_default_and_on_for_configured_origins_only(app_factory, client) -> None:
    origin = {"Origin": "https://review.example.com"}
    assert "Access-Control-Allow-Origin" not in client.get("/v1/stats", headers=origin).headers
    cors = app_factory(
        CORS_ORIGINS="https://review.example.com", API_TOKENS=["cors-token-0123456789"]
    ).test_client()
    preflight = cors.options(
        "/v1/attribute",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert preflight.status_code == 200  # no token needed for a preflight
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://review.example.com"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    other = cors.get("/v1/stats", headers={"Origin": "https://evil.example.net"})
    assert "Access-Control-Allow-Origin" not in other.headers


def write_plugin(root: Path, name: str, module_source: str, target: str) -> None:
    """A real installed distribution (a dist-info folder with entry points) and its module, under `root`."""
    dist = root / f"{name}_plugin-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}-plugin\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[codecite.web_blueprints]\n{name} = {target}\n")
    (root / f"{name}_plugin.py").write_text(module_source)


def test_blueprints_of_other_packages_load_from_entry_points(
    tmp_path: Path, monkeypatch, index_dir: Path
) -> None:
    write_plugin(
        tmp_path,
        "echo",
        (
            "from flask import Blueprint, jsonify, request\n"
            "def make():\n"
            "    blp = Blueprint('echo', __name__, url_prefix='/v1')\n"
            "    @blp.post('/echo')\n"
            "    def echo():\n"
            "        return jsonify(request.get_json())\n"
            "    return blp\n"
        ),
        "echo_plugin:make",
    )
    write_plugin(tmp_path, "broken", "import module_that_is_not_installed\n", "broken_plugin:blueprint")
    monkeypatch.syspath_prepend(str(tmp_path))
    app = create_app({**LOCAL, "LOAD_ENTRY_POINTS": True, "INDEX": str(index_dir)})
    client = app.test_client()
    assert client.post("/v1/echo", json={"hello": 1}).get_json() == {"hello": 1}
    features = client.get("/v1/stats").get_json()["features"]
    assert (
        "echo" in features and "broken" not in features
    )  # the broken one is left out (others may be installed)
    sys.modules.pop("echo_plugin", None)


def one_file(repo: str, content: str) -> list[Document]:
    return [
        Document(
            git_blob_id(content.encode()), repo, "main.py", "Python", content, "MIT", license_category("MIT")
        )
    ]


def test_a_rebuilt_index_is_served_without_a_restart(tmp_path: Path, facts) -> None:
    index = tmp_path / "index"
    settings = BuildSettings(keep=frozenset(LicenseCategory), workers=1)
    open_writer(index).build(one_file("acme/first", facts.kepler), settings=settings)
    client = create_app({**LOCAL, "INDEX": str(index), "INDEX_RECHECK_SECONDS": 0}).test_client()
    assert client.get("/readyz").get_json()["generation"] == 1
    assert client.post("/v1/attribute", json={"code": facts.levenshtein}).get_json()["matches"] == []
    open_writer(index).build(one_file("acme/second", facts.levenshtein), settings=settings)
    assert client.get("/readyz").get_json()["generation"] == 2
    report = client.post("/v1/attribute", json={"code": facts.levenshtein}).get_json()
    assert report["matches"][0]["source"]["repo"] == "acme/second"
    assert report["index"]["id"].endswith("/gen-2")
    assert client.get("/v1/stats").get_json()["generation"] == 2


def test_concurrent_requests_on_a_real_server_get_the_same_answers(live_server, facts) -> None:
    def ask(code: str) -> tuple[str, ...]:
        request = urllib.request.Request(
            live_server.url + "/v1/attribute",
            data=json.dumps({"code": code}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return tuple(m["source"]["path"] for m in json.load(response)["matches"])

    codes = [facts.query, facts.levenshtein, facts.hostile] * 6
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(ask, codes))
    assert set(answers[0::3]) == {("orbit/kepler.py",)}
    assert len(set(answers[1::3])) == 1 and len(set(answers[2::3])) == 1


def test_security_headers_are_on_every_response(client) -> None:
    for response in (
        client.get("/"),
        client.get("/v1/stats"),
        client.get("/missing"),
        client.get("/healthz"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]


def test_readiness_answers_while_a_long_query_holds_the_index(app) -> None:
    client = app.test_client()
    engine = app.extensions["codecite"].served
    assert client.get("/readyz").status_code == 200
    holding, release = threading.Event(), threading.Event()

    def long_query(index, searcher) -> None:
        holding.set()
        release.wait(30)

    worker = threading.Thread(target=engine.run, args=(long_query,))
    worker.start()
    try:
        holding.wait(10)
        started = time.monotonic()
        busy = client.get("/readyz").get_json()
        assert busy["busy"] is True and busy["generation"] == 1
        assert time.monotonic() - started < 5
    finally:
        release.set()
        worker.join(10)
    assert "busy" not in client.get("/readyz").get_json()
