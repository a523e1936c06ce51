"""`codecite serve` and `codecite demo`: real servers in subprocesses, answering over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from search_api.cli import main
from search_api.cli.demo import permalink_fragment

CLI = "import sys; from search_api.cli import main; sys.argv[0] = 'codecite'; main()"


class Running:
    """A `codecite ...` subprocess that prints its URL when it listens."""

    def __init__(self, *args: str, timeout: float = 90) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-c", CLI, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        self.output: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if "http://" in line and "/#" not in line:
                self.url = line.split("http://", 1)[1].split("/", 1)[0].join(["http://", ""])
                return
        self.stop()
        raise AssertionError("the server did not start:\n" + "".join(self.output))

    def get(self, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.url + path, data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def read_more(self, lines: int) -> None:
        for _ in range(lines):
            self.output.append(self.process.stdout.readline())

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        self.process.stdout.close()


@pytest.fixture()
def running() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for server in started:
        server.stop()


def test_serve_refuses_an_index_that_cannot_be_opened(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--index", str(tmp_path / "missing"), "--port", "0"])
    assert result.exit_code == 2
    assert "codecite index build" in result.output or "no index" in result.output.lower()


def test_serve_refuses_werkzeug_with_several_workers(index_dir: Path) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--index", str(index_dir), "--server", "werkzeug", "--workers", "2"]
    )
    assert result.exit_code == 2 and "gunicorn" in result.output


@pytest.mark.parametrize("server", ["werkzeug", "gunicorn"])
def test_serve_answers_over_http(server: str, index_dir: Path, running: list[Running], facts) -> None:
    workers = "2" if server == "gunicorn" else "1"
    running.append(
        Running("serve", "--index", str(index_dir), "--port", "0", "--server", server, "--workers", workers)
    )
    live = running[-1]
    assert live.get("/readyz")["generation"] == 1
    report = live.get("/v1/attribute", {"code": facts.query})
    assert report["matches"][0]["source"]["path"] == "orbit/kepler.py"
    with urllib.request.urlopen(live.url + "/metrics", timeout=30) as response:
        assert b"codecite_attribute_seconds" in response.read()


def test_demo_without_serving_prints_a_sample_attribution(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--no-serve", "--max-mb", "2", "--index", str(tmp_path / "demo")]
    )
    assert result.exit_code == 0, result.output
    assert "sample query: 12 lines of" in result.output
    assert "match" in result.output


def test_demo_serves_the_page_with_a_link_to_the_sample(tmp_path: Path, running: list[Running]) -> None:
    running.append(
        Running(
            "demo", "--max-mb", "2", "--index", str(tmp_path / "demo"), "--port", "0", "--server", "werkzeug"
        )
    )
    demo = running[-1]
    demo.read_more(2)
    link = next(line.strip() for line in demo.output if "/#code=" in line)
    assert link.startswith(demo.url + "/#")
    with urllib.request.urlopen(demo.url + "/", timeout=30) as response:
        assert b"Code to look up" in response.read()
    assert demo.get("/v1/stats")["documents"] > 0


def test_the_permalink_fragment_is_base64url_of_the_code() -> None:
    fragment = permalink_fragment("print('é')\n", "Python")
    assert fragment == "code=cHJpbnQoJ8OpJykK&lang=Python"
