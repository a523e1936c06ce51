"""A gate that cannot be fooled: a copied GPL file fails the check however it is disguised, and every
file the gate did not scan is listed (text, JSON, SARIF) and, by default, fails the check when the gate
meant to scan it. Each case passed silently (exit 0) before."""

from __future__ import annotations

import http.server
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from search_api.cli import main
from search_api.gate import targets

SARIF_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif" / "sarif-schema-2.1.0.json"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def check_json(*args: str) -> tuple[int, dict]:
    code, out, _ = run("check", *args, "--format", "json")
    return code, json.loads(out)


@pytest.fixture()
def copied(project: Path, texts) -> Path:
    """The project without its copied code, and the path where a copy of GPL code will go."""
    (project / "src" / "app.py").write_text(texts.ORIGINAL)
    return project / "src" / "copied.py"


def test_the_plain_copy_fails(copied: Path, corpus_index: Path, texts) -> None:
    copied.write_text(texts.body(texts.GPL_SOURCE))
    code, data = check_json(str(copied.parents[1]), "--index", str(corpus_index))
    assert code == 1 and data["summary"]["findings"] == {"deny": 1}


@pytest.mark.parametrize(
    "disguise",
    [
        pytest.param(lambda text: text.replace(b"\n", b"\n\0", 1), id="one-nul-byte"),
        pytest.param(lambda text: text.replace(b"\n", b"\n\xff\xfe", 1), id="invalid-utf8-bytes"),
        pytest.param(lambda text: b"\0" * 50 + b"\n" + text + b"\n\x80\x81", id="binary-looking-padding"),
    ],
)
def test_a_copy_with_bad_bytes_is_scanned_for_its_text_and_fails(
    copied: Path, corpus_index: Path, texts, disguise
) -> None:
    copied.write_bytes(disguise(texts.body(texts.GPL_SOURCE).encode()))
    code, data = check_json(str(copied.parents[1]), "--index", str(corpus_index))
    assert code == 1 and data["summary"]["findings"] == {"deny": 1}
    (file,) = [f for f in data["files"] if f["path"] == "src/copied.py"]
    assert "replaced by U+FFFD" in file["decoding"]


def test_a_utf16_copy_with_a_byte_order_mark_fails(copied: Path, corpus_index: Path, texts) -> None:
    copied.write_bytes(texts.body(texts.GPL_SOURCE).encode("utf-16"))
    code, data = check_json(str(copied.parents[1]), "--index", str(corpus_index))
    assert code == 1 and data["summary"]["findings"] == {"deny": 1}


def test_a_copy_padded_past_the_size_limit_fails_as_not_scanned(
    copied: Path, corpus_index: Path, texts
) -> None:
    copied.write_text(texts.body(texts.GPL_SOURCE) + "#" * 1_100_000 + "\n")
    code, out, _ = run("check", str(copied.parents[1]), "--index", str(corpus_index))
    assert code == 1, out
    assert "FAIL       src/copied.py  too-large" in out and "1 not scanned (fails)" in out
    code, data = check_json(str(copied.parents[1]), "--index", str(corpus_index))
    assert code == 1 and data["outcome"] == "fail" and data["summary"]["skipped_failing"] == 1
    assert {"path": "src/copied.py", "reason": "too-large", "action": "fail"}.items() <= {
        k: v for s in data["skipped"] if s["path"] == "src/copied.py" for k, v in s.items()
    }.items()


def test_an_unreadable_copy_fails_as_not_scanned(
    copied: Path, corpus_index: Path, texts, monkeypatch: pytest.MonkeyPatch
) -> None:
    copied.write_text(texts.body(texts.GPL_SOURCE))
    if os.geteuid() != 0:
        copied.chmod(0)
    else:  # root reads every file: refuse the open itself
        real_open = os.open

        def refuse(path, flags, *args):
            if str(path).endswith("copied.py"):
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, flags, *args)

        monkeypatch.setattr(targets.os, "open", refuse)
    code, data = check_json(str(copied.parents[1]), "--index", str(corpus_index))
    assert code == 1
    (skip,) = [s for s in data["skipped"] if s["path"] == "src/copied.py"]
    assert (
        skip["reason"] == "unreadable" and skip["action"] == "fail" and "Permission denied" in skip["detail"]
    )


def test_the_policy_can_make_a_skip_warn_instead(
    copied: Path, corpus_index: Path, texts, tmp_path: Path
) -> None:
    copied.write_text(texts.body(texts.GPL_SOURCE) + "#" * 1_100_000 + "\n")
    policy = tmp_path / "policy.toml"
    policy.write_text('[skipped]\ntoo-large = "warn"\n')
    code, data = check_json(str(copied.parents[1]), "--index", str(corpus_index), "--policy", str(policy))
    assert code == 0 and data["outcome"] == "review-needed" and data["summary"]["skipped_warning"] == 1
    policy.write_text('[skipped]\non_skipped = "ignore"\n')
    code, data = check_json(str(copied.parents[1]), "--index", str(corpus_index), "--policy", str(policy))
    assert code == 0 and data["outcome"] == "pass"
    assert [s["action"] for s in data["skipped"] if s["path"] == "src/copied.py"] == ["ignore"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_is_listed_and_never_read(copied: Path, corpus_index: Path) -> None:
    os.mkfifo(copied.parent / "fifo.py")
    outcome: dict[str, object] = {}

    def scan() -> None:
        outcome["json"] = check_json(str(copied.parents[1]), "--index", str(corpus_index))
        outcome["named"] = check_json(str(copied.parent / "fifo.py"), "--index", str(corpus_index))

    worker = threading.Thread(target=scan, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the check hangs on a FIFO"
    for code, data in (outcome["json"], outcome["named"]):  # type: ignore[misc]
        assert code == 0 and data["outcome"] == "review-needed"
        (skip,) = [s for s in data["skipped"] if s["path"] == "src/fifo.py"]
        assert skip["reason"] == "special-file" and skip["action"] == "warn" and "FIFO" in skip["detail"]


class _Refusing(http.server.BaseHTTPRequestHandler):
    """A codecite-shaped server that refuses every item of a batch with `status` (422 or 503)."""

    status = 503

    def do_GET(self) -> None:
        self._send({"index_id": "x/gen-1", "documents": 2})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        self._send(
            {
                "results": [
                    {"id": i["id"], "error": "index busy", "status": self.status} for i in body["items"]
                ]
            }
        )

    def _send(self, answer: dict) -> None:
        raw = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=[422, 503])
def refusing(request: pytest.FixtureRequest) -> Iterator[str]:
    handler = type("Refusing", (_Refusing,), {"status": request.param})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    thread.join(5)


def test_items_the_server_refuses_fail_the_check(project: Path, refusing: str) -> None:
    code, out, _ = run("check", str(project), "--server", refusing)
    assert code == 1, out
    assert "FAIL       src/app.py  refused: index busy" in out and "PASS" not in out
    code, data = check_json(str(project), "--server", refusing)
    assert code == 1 and data["summary"]["files_scanned"] == 0 and data["summary"]["skipped_failing"] == 2


def test_staged_lines_that_look_like_diff_headers_are_still_scanned(
    project: Path, corpus_index: Path, texts
) -> None:
    (project / "src" / "counter.py").write_text("++ counter\n" + texts.body(texts.GPL_SOURCE))
    texts.git(project, "add", "src/counter.py")
    code, out, _ = run("check", "--staged", str(project), "--index", str(corpus_index))
    assert code == 1, out
    assert "src/counter.py  (added lines 1-" in out and "DENY" in out
    code, out, _ = run("check", "--diff", "HEAD", str(project), "--index", str(corpus_index))
    assert code == 1, out


def test_a_staged_copy_git_calls_binary_is_scanned_whole(project: Path, corpus_index: Path, texts) -> None:
    (project / "src" / "nul.py").write_bytes(b"\0\n" + texts.body(texts.GPL_SOURCE).encode())
    texts.git(project, "add", "src/nul.py")
    code, out, _ = run("check", "--staged", str(project), "--index", str(corpus_index))
    assert code == 1 and "src/nul.py" in out and "DENY" in out


def test_every_skip_is_in_the_sarif_as_a_notification(copied: Path, corpus_index: Path, texts) -> None:
    copied.write_text(texts.body(texts.GPL_SOURCE) + "#" * 1_100_000 + "\n")
    code, out, _ = run("check", str(copied.parents[1]), "--index", str(corpus_index), "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    schema = json.loads(SARIF_SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    run_ = log["runs"][0]
    assert run_["tool"]["driver"]["informationUri"].startswith("https://")
    notes = {
        n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: n
        for n in run_["invocations"][0]["toolExecutionNotifications"]
    }
    assert set(notes) == {"src/copied.py", ".gitignore", "logo.png"}
    assert notes["src/copied.py"]["level"] == "error" and notes["logo.png"]["level"] == "note"
    assert notes["src/copied.py"]["descriptor"]["id"] == "skipped/too-large"
    (result,) = [r for r in run_["results"] if r["ruleId"] == "file-not-scanned"]
    assert result["level"] == "error" and "too-large" in result["message"]["text"]


def test_exclude_leaves_files_out_and_lists_them(project: Path, corpus_index: Path) -> None:
    code, data = check_json(str(project), "--index", str(corpus_index), "--exclude", "src/app.py")
    assert code == 0 and data["summary"]["findings"] == {}
    assert {"path": "src/app.py", "reason": "excluded", "detail": "--exclude src/app.py"}.items() <= next(
        s for s in data["skipped"] if s["path"] == "src/app.py"
    ).items()
    code, _, err = run("check", str(project), "--index", str(corpus_index), "--exclude", "!")
    assert code == 2 and "not a gitignore-style pattern" in err


def test_quiet_shows_only_what_fails(project: Path, corpus_index: Path) -> None:
    code, out, _ = run("check", str(project), "--index", str(corpus_index), "--quiet")
    assert code == 1
    assert "DENY" in out and "ATTRIBUTE" not in out and "codecite check:" not in out
    assert out.rstrip().splitlines()[-1].startswith("result: FAIL")


def test_dash_output_means_standard_output(project: Path, corpus_index: Path) -> None:
    os.chdir(project)
    code, out, _ = run("check", ".", "--index", str(corpus_index), "--format", "json", "-o", "-")
    assert code == 1 and json.loads(out)["outcome"] == "fail" and not (project / "-").exists()
    code, out, _ = run("notice", ".", "--index", str(corpus_index), "-o", "-")
    assert code == 0 and "janedoe/statkit" in out and not (project / "-").exists()
