"""`--server URL`: the gate against the real codecite Flask app, and the client's retries and errors."""

from __future__ import annotations

import email.utils
import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner

from search_api.cli import main
from search_api.engine.results import Copy, Match, Method, Relation, Report, SourceRef, Span
from search_api.gate.remote import RemoteClient, RemoteError, RetryPolicy, report_from_dict

TOKEN = "gate-test-token-0123456789abcdef"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def server(corpus_index: Path) -> Iterator[str]:
    """The real web app (`search_api.web.create_app`) on a loopback port."""
    pytest.importorskip("flask")
    web = pytest.importorskip("search_api.web")

    app = web.create_app({"INDEX": str(corpus_index), "RATELIMIT_ENABLED": False, "LOAD_ENTRY_POINTS": False})
    yield from _serve(app)


@pytest.fixture(scope="module")
def guarded_server(corpus_index: Path) -> Iterator[str]:
    """The same app with an API token required."""
    pytest.importorskip("flask")
    web = pytest.importorskip("search_api.web")
    app = web.create_app(
        {
            "INDEX": str(corpus_index),
            "RATELIMIT_ENABLED": False,
            "LOAD_ENTRY_POINTS": False,
            "API_TOKENS": [TOKEN],
        }
    )
    yield from _serve(app)


def _serve(app) -> Iterator[str]:
    from werkzeug.serving import make_server

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)


def findings(output: str) -> list[tuple[str, str, str, tuple[int, int]]]:
    data = json.loads(output)
    return [
        (
            f["path"],
            x["action"],
            x["source"]["repo"],
            (x["query_span"]["start_line"], x["query_span"]["end_line"]),
        )
        for f in data["files"]
        for x in f["decision"]["findings"]
    ]


def test_check_through_the_server_equals_the_local_check(
    project: Path, corpus_index: Path, server: str
) -> None:
    code_local, local, _ = run("check", str(project), "--index", str(corpus_index), "--format", "json")
    code_remote, remote, _ = run("check", str(project), "--server", server, "--format", "json")
    assert code_local == code_remote == 1
    assert (
        findings(remote)
        == findings(local)
        == [
            ("src/app.py", "deny", "regexhackers/tinyregex", (36, 65)),
            ("src/app.py", "attribute", "janedoe/statkit", (1, 24)),
        ]
    )
    assert json.loads(remote)["index"]["server"] == server


def test_notice_through_the_server_reads_copyright_from_the_document_endpoint(
    project: Path, server: str
) -> None:
    code, out, _ = run("notice", str(project), "--server", server)
    assert code == 0
    assert "Copyright (c) 2021 Jane Doe <jane@example.com>" in out and "janedoe/statkit" in out


def test_diff_through_the_server(project: Path, server: str, texts, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "src" / "own.py").write_text(texts.ORIGINAL + "\n\n" + texts.body(texts.GPL_SOURCE))
    monkeypatch.chdir(project)
    code, out, _ = run("check", "--server", server, "--diff", "HEAD", "--format", "json")
    assert code == 1 and findings(out) == [("src/own.py", "deny", "regexhackers/tinyregex", (10, 39))]


def test_a_token_is_sent_from_the_environment(project: Path, guarded_server: str) -> None:
    code, _, err = run(
        "check", str(project / "src" / "own.py"), "--server", guarded_server, env={"CODECITE_TOKEN": ""}
    )
    assert code == 2 and "HTTP 401" in err and "CODECITE_TOKEN" in err
    code, out, _ = run(
        "check", str(project / "src" / "own.py"), "--server", guarded_server, env={"CODECITE_TOKEN": TOKEN}
    )
    assert code == 0, out


def test_an_unreachable_server_exits_2(project: Path) -> None:
    started = time.monotonic()
    code, out, err = run("check", str(project), "--server", "http://127.0.0.1:9", "--retries", "1")
    assert code == 2 and out == ""
    assert "cannot reach the codecite server at http://127.0.0.1:9" in err and "2 tries" in err
    assert time.monotonic() - started < 10
    code, _, err = run("check", str(project), "--server", "ftp://example.org")
    assert code == 2 and "not an http(s) URL" in err


class _Flaky(http.server.BaseHTTPRequestHandler):
    """A real HTTP server that answers from a script: (status, headers, body) per request."""

    script: ClassVar[list[tuple[int, dict[str, str], bytes]]] = []
    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.seen.append(self.path)
        status, headers, body = self.script.pop(0)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def flaky() -> Iterator[str]:
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    _Flaky.seen = []
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    thread.join(5)


REPORT = {
    "query": {"lines": 1, "tokens": 3, "chars": 9, "language": "Python"},
    "matches": [],
    "licenses": {},
    "index": {"id": "x/gen-1", "documents": 2},
}


def test_retries_honour_retry_after_then_back_off(flaky: str) -> None:
    later = email.utils.formatdate(time.time() + 3, usegmt=True)
    _Flaky.script = [
        (503, {"Retry-After": "2"}, b"{}"),
        (429, {"Retry-After": later}, b"{}"),
        (502, {}, b"bad gateway"),
        (200, {"Content-Type": "application/json"}, json.dumps(REPORT).encode()),
    ]
    client = RemoteClient(flaky, retry=RetryPolicy(timeout=5, retries=4, backoff=0.25, max_wait=10))
    waits: list[float] = []
    client._sleep = waits.append  # record the waits instead of sleeping them
    report = client.attribute("x = f(1)\n", "Python")
    assert report.index_id == "x/gen-1" and report.matches == ()
    assert waits[0] == 2 and 1 <= waits[1] <= 3 and waits[2] == 0.25 * 2**2
    assert _Flaky.seen == ["/v1/attribute"] * 4


def test_client_errors_are_not_retried_and_carry_the_problem_detail(flaky: str) -> None:
    problem = {
        "type": "urn:codecite:problem:invalid-query",
        "title": "Unprocessable",
        "status": 422,
        "detail": "the query is not valid UTF-8: send source code as UTF-8 text",
    }
    _Flaky.script = [(422, {"Content-Type": "application/problem+json"}, json.dumps(problem).encode())]
    client = RemoteClient(flaky, retry=RetryPolicy(retries=3))
    with pytest.raises(RemoteError, match="HTTP 422: the query is not valid UTF-8") as err:
        client.attribute("x")
    assert err.value.status == 422 and len(_Flaky.seen) == 1


def test_retries_give_up_with_the_last_status(flaky: str) -> None:
    _Flaky.script = [(503, {}, b"{}")] * 3
    client = RemoteClient(flaky, retry=RetryPolicy(retries=2, backoff=0))
    client._sleep = lambda s: None
    with pytest.raises(RemoteError, match="HTTP 503 after 3 tries"):
        client.attribute("x")


def test_a_server_that_is_not_codecite_is_a_clear_error(flaky: str) -> None:
    _Flaky.script = [(200, {"Content-Type": "text/html"}, b"<html>hello</html>")]
    with pytest.raises(RemoteError, match="did not answer with JSON"):
        RemoteClient(flaky).attribute("x")


def test_a_report_read_back_from_json_is_the_report_sent() -> None:
    source = SourceRef(
        "b" * 40, "acme/lib", "src/x.py", "MIT", "permissive", "https://example.org/x.py", "Python"
    )
    copy = Copy(
        SourceRef("c" * 40, "fork/lib", "x.py", "Apache-2.0", "permissive", None, "Python"),
        Relation.IDENTICAL,
    )
    found = Match(
        Span(3, 12), source, Span(20, 29), 0.95, Method.NORMALIZED, 80, 300, 2, (copy,), query_chars=(40, 340)
    )
    common = Match(
        Span(1, 2), source, Span(1, 2), 1.0, Method.EXACT, 10, 60, 70, boilerplate=True, query_chars=(0, 39)
    )
    sent = Report(
        12, 100, 400, "Python", (found,), "test/gen-1", 9, 1.5, (common,), {"too_short": 1}, ("note",)
    )
    assert report_from_dict(json.loads(json.dumps(sent.to_dict()))) == sent


def test_min_confidence_reaches_the_server(project: Path, corpus_index: Path, server: str) -> None:
    # Sent to the server, --min-confidence drops there what it drops locally (without it the
    # server's own floor applied, and the remote check kept both findings).
    local = run("check", str(project), "--index", str(corpus_index), "--format", "json")[1]
    low, high = sorted(x["confidence"] for f in json.loads(local)["files"] for x in f["decision"]["findings"])
    between = str(round((low + high) / 2, 4))
    _, local, _ = run(
        "check", str(project), "--index", str(corpus_index), "--format", "json", "--min-confidence", between
    )
    _, remote, _ = run(
        "check", str(project), "--server", server, "--format", "json", "--min-confidence", between
    )
    assert len(findings(local)) == 1 and findings(remote) == findings(local)
