"""`codecite query` and `codecite index` given what careless or hostile users give them: endless input,
bad batch lines, an unreachable Elasticsearch, corpus data that holds terminal escapes. Each gets a
clear answer or error: never a traceback, a hang or a terminal taken over."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from engine_testlib import QUERIES, assert_clean_error, run_cli

from indexer.backends import open_writer
from indexer.placement import BuildSettings
from indexer.records import Document, LicenseCategory, git_blob_id
from search_api.cli import main

CODECITE = [sys.executable, "-m", "search_api.cli"]


def limited(args: list[str], stdin: int | None = None, seconds: int = 60) -> subprocess.CompletedProcess:
    """`codecite ARGS` in a child with 2 GB of address space and a timeout: a MemoryError or a hang
    fails the test, never the machine."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    return subprocess.run(
        [*CODECITE, *args],
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=seconds,
        preexec_fn=cap,
        check=False,
    )


def test_query_of_an_endless_file_is_a_clear_error(corpus_index) -> None:
    done = limited(["query", "/dev/zero", "--index", str(corpus_index.path)])
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "/dev/zero: more than 4,000,000 bytes" in done.stderr


def test_query_of_an_endless_pipe_is_a_clear_error(corpus_index) -> None:
    yes = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    try:
        done = limited(["query", "-", "--index", str(corpus_index.path)], stdin=yes.stdout.fileno())  # type: ignore[union-attr]
    finally:
        yes.kill()
        yes.wait()
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "standard input: more than 4,000,000 bytes" in done.stderr


def test_a_batch_answers_good_lines_and_an_error_object_per_bad_line(corpus_index, tmp_path: Path) -> None:
    verbatim = (QUERIES / "verbatim.py").read_text()
    batch = tmp_path / "in.jsonl"
    batch.write_bytes(
        b"\n".join(
            [
                json.dumps({"id": "good", "code": verbatim}).encode(),
                json.dumps({"id": "typed", "code": verbatim, "language": 123}).encode(),
                b'{"id": "latin", "code": "caf\xe9"}',
                json.dumps({"id": "again", "code": verbatim, "language": "Python"}).encode(),
            ]
        )
        + b"\n"
    )
    result = run_cli(["query", "--batch", str(batch), "--index", str(corpus_index.path)])
    assert result.exit_code == 1, result.output  # documented: 1 when some lines could not be answered
    assert "Traceback" not in result.output and "2 line(s) of" in result.stderr
    good, typed, latin, again = [json.loads(line) for line in result.stdout.splitlines()]
    assert good["id"] == "good" and again["id"] == "again" and good["matches"] and again["matches"]
    assert typed == {
        "id": "typed",
        "line": 2,
        "error": 'line 2: "language" must be a string such as "Python", not 123',
    }
    assert latin["line"] == 3 and "not UTF-8 (byte " in latin["error"]


def test_the_index_can_come_from_the_environment(corpus_index) -> None:
    env = {"CODECITE_INDEX": str(corpus_index.path), "COLUMNS": "200"}
    result = CliRunner(env=env).invoke(main, ["query", str(QUERIES / "verbatim.py")])
    assert result.exit_code == 0 and "kjd/idna" in result.stdout, result.output
    result = CliRunner(env=env).invoke(main, ["index", "stats", "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["documents"] > 0, result.output


def test_dash_output_means_standard_output(corpus_index, tmp_path: Path) -> None:
    os.chdir(tmp_path)
    result = run_cli(
        ["query", str(QUERIES / "verbatim.py"), "--index", str(corpus_index.path), "--json", "-o", "-"]
    )
    assert result.exit_code == 0 and json.loads(result.stdout)["matches"] and not (tmp_path / "-").exists()


def test_an_unknown_language_is_a_warning_in_the_text_output(corpus_index) -> None:
    result = run_cli(
        ["query", str(QUERIES / "verbatim.py"), "--index", str(corpus_index.path), "--language", "klingon"]
    )
    assert result.exit_code == 0
    assert "warning: unknown language 'klingon'" in result.stdout


@pytest.mark.parametrize("command", [["index", "stats"], ["query", str(QUERIES / "verbatim.py")]])
def test_an_unreachable_elasticsearch_gives_one_message_and_no_library_traceback(command: list[str]) -> None:
    pytest.importorskip("elasticsearch")
    done = limited([*command, "--index", "es+http://127.0.0.1:1/x"], seconds=120)
    assert done.returncode == 2
    assert (
        "Traceback" not in done.stderr and "cannot reach Elasticsearch at http://127.0.0.1:1" in done.stderr
    )
    assert "urllib3" not in done.stderr and "elastic_transport" not in done.stderr


def test_the_progress_bar_stays_out_of_logs(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("def f(x):\n    return x * 2\n" * 20)
    result = CliRunner().invoke(
        main, ["index", "build", str(tmp_path / "src"), "--index", str(tmp_path / "i")]
    )
    assert result.exit_code == 0, result.output
    assert "\r" not in result.stderr and "indexing:" not in result.stderr


HOSTILE_PATH = "src/\x1b]0;pwned\x07evil\x1b[2J.py"
HOSTILE_CODE = (
    "def scramble_the_terminal(stream):\n"
    "    stream.write('\x1b[2J\x1b[H')  # clear the screen\n"
    "    stream.write('\x1b]0;owned\x07')  # set the title\n"
    "    for row in range(24):\n"
    "        stream.write('\u202e' + str(row) * 40 + '\\n')\n"
    "    return stream\n"
)


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of one file whose path, repository name and content hold escape sequences."""
    path = tmp_path_factory.mktemp("hostile") / "index"
    doc = Document(
        git_blob_id(HOSTILE_CODE.encode()),
        "evil/\x1b[31mrepo",
        HOSTILE_PATH,
        "Python",
        HOSTILE_CODE,
        "GPL-3.0-only",
        LicenseCategory.COPYLEFT,
        url="https://example.org/\x1b[2J",
    )
    open_writer(path).build([doc], settings=BuildSettings(keep=frozenset(LicenseCategory)), sources=["t"])
    return path


def assert_escaped(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, repr(text)
    assert "\\x1b" in text


def test_query_text_escapes_control_characters_of_the_corpus(hostile_index: Path, tmp_path: Path) -> None:
    query = tmp_path / "q.py"
    query.write_text(HOSTILE_CODE)
    result = run_cli(["query", str(query), "--index", str(hostile_index)])
    assert result.exit_code == 0 and "1 match" in result.stdout, result.output
    assert_escaped(result.stdout)
    assert "\\u202e" in result.stdout


def test_check_text_escapes_control_characters_of_the_corpus(hostile_index: Path, tmp_path: Path) -> None:
    (tmp_path / "copy.py").write_text(HOSTILE_CODE)
    (tmp_path / "\x1b[2Jname.py").write_text("x = 1\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path), "--index", str(hostile_index)])
    assert result.exit_code == 1, result.output
    assert_escaped(result.stdout)
    notice = CliRunner().invoke(main, ["notice", str(tmp_path), "--index", str(hostile_index)])
    assert "\x1b" not in notice.stdout


def test_a_bad_index_argument_is_still_a_clean_error() -> None:
    assert_clean_error(run_cli(["index", "stats", "--index", "/nonexistent/index"]), "no codecite index")


def test_shell_completion_is_documented_and_works() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert 'eval "$(_CODECITE_COMPLETE=bash_source codecite)"' in readme
    script = Path(sys.executable).parent / "codecite"
    if not script.exists():
        pytest.skip("the codecite console script is not installed next to this Python")
    done = subprocess.run(
        [str(script)],
        env={**os.environ, "_CODECITE_COMPLETE": "bash_source"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "complete " in done.stdout or "_codecite_completion" in done.stdout, done.stdout + done.stderr
