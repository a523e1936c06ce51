"""`codecite check` and `codecite notice` end to end on a git project that copies GPL and MIT code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from search_api.cli import main
from search_api.cli.check import SCAN
from search_api.cli.errors import no_crash


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_a_copied_gpl_span_fails_the_default_policy(project: Path, corpus_index: Path) -> None:
    code, out, _ = run("check", str(project), "--index", str(corpus_index))
    assert code == 1, out
    assert "DENY       lines 36-65 match regexhackers/tinyregex: tinyregex/core.py lines 6-35" in out
    assert "GPL-3.0-or-later (copyleft)" in out
    assert "ATTRIBUTE  lines 1-24 match janedoe/statkit: statkit/running.py lines 5-28" in out
    assert "result: FAIL" in out and out.rstrip().splitlines()[-2].endswith("exit 1")
    assert "build/copied.py" not in out  # gitignored
    assert "src/own.py" not in out  # original code: nothing to report


def test_json_output_has_reports_and_decisions(project: Path, corpus_index: Path) -> None:
    code, out, err = run("check", str(project), "--index", str(corpus_index), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["outcome"] == "fail" and data["exit_code"] == 1
    files = {f["path"]: f for f in data["files"]}
    assert set(files) == {"src/app.py", "src/own.py"}
    app = files["src/app.py"]
    assert [m["source"]["repo"] for m in app["report"]["matches"]] == [
        "regexhackers/tinyregex",
        "janedoe/statkit",
    ]
    assert [(f["action"], f["license"]) for f in app["decision"]["findings"]] == [
        ("deny", "GPL-3.0-or-later"),
        ("attribute", "MIT"),
    ]
    assert (
        files["src/own.py"]["report"]["matches"] == []
        and files["src/own.py"]["decision"]["outcome"] == "pass"
    )
    assert {s["path"]: s["reason"] for s in data["skipped"]} == {
        ".gitignore": "not-code",
        "logo.png": "not-code",
    }
    assert data["summary"]["findings"] == {"deny": 1, "attribute": 1}
    assert "result: FAIL" in err  # the summary goes to standard error


def test_without_the_gpl_span_it_passes_and_the_notice_credits_the_mit_source(
    project: Path, corpus_index: Path, texts
) -> None:
    MIT_SOURCE, ORIGINAL, body = texts.MIT_SOURCE, texts.ORIGINAL, texts.body
    (project / "src" / "app.py").write_text(body(MIT_SOURCE) + "\n\n" + ORIGINAL)
    notices = project / "THIRD_PARTY_NOTICES"
    code, out, _ = run("check", str(project), "--index", str(corpus_index), "--notice", str(notices))
    assert code == 0, out
    assert "result: PASS (attribution-needed): 1 attribution needed; exit 0" in out
    text = notices.read_text()
    assert "janedoe/statkit: statkit/running.py" in text
    assert "License: MIT (https://spdx.org/licenses/MIT.html)" in text
    assert "Copyright (c) 2021 Jane Doe <jane@example.com>" in text
    assert "Source: https://github.com/janedoe/statkit/blob/main/statkit/running.py" in text
    assert "Used in: src/app.py (lines 1-24)" in text
    assert "tinyregex" not in text

    code, out, _ = run("notice", str(project / "src"), "--index", str(corpus_index))
    assert code == 0 and out == text


def test_notice_leaves_out_denied_code(project: Path, corpus_index: Path) -> None:
    code, out, _ = run("notice", str(project), "--index", str(corpus_index), "--json")
    assert code == 0
    assert [(e["repo"], e["copyrights"]) for e in json.loads(out)] == [
        ("janedoe/statkit", ["Copyright (c) 2021 Jane Doe <jane@example.com>"])
    ]


def test_diff_scans_only_the_added_lines(
    project: Path, corpus_index: Path, monkeypatch: pytest.MonkeyPatch, texts
) -> None:
    GPL_SOURCE, MIT_SOURCE, ORIGINAL, body, git = (
        texts.GPL_SOURCE,
        texts.MIT_SOURCE,
        texts.ORIGINAL,
        texts.body,
        texts.git,
    )
    base = git(project, "rev-parse", "HEAD").strip()
    own = project / "src" / "own.py"
    own.write_text(ORIGINAL + "\n\n" + body(GPL_SOURCE) + "\n\ndef tail():\n    return 1\n")
    (project / "src" / "new.py").write_text(ORIGINAL.replace("render_invoice", "render_receipt"))
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "more")
    monkeypatch.chdir(project)

    code, out, _ = run("check", "--index", str(corpus_index), "--diff", f"{base}..HEAD", "--format", "json")
    assert code == 1
    data = json.loads(out)
    files = {f["path"]: f for f in data["files"]}
    assert set(files) == {"src/own.py", "src/new.py"}  # src/app.py (unchanged, with GPL code) is not scanned
    own_result = files["src/own.py"]
    total = own.read_text().count("\n")
    assert own_result["scanned_lines"] == [[8, total]]  # lines 1-7 (ORIGINAL) were there before
    # The GPL body starts after ORIGINAL's 7 lines and two blank ones: reported in file coordinates.
    assert [m["query_span"] for m in own_result["report"]["matches"]] == [{"start_line": 10, "end_line": 39}]
    assert own_result["report"]["query"]["lines"] == total

    # BASE alone compares against the work tree; uncommitted lines count too.
    own.write_text(ORIGINAL)
    (project / "src" / "new.py").write_text(ORIGINAL + "\n\n" + body(MIT_SOURCE))
    code, out, _ = run("check", "--index", str(corpus_index), "--diff", "HEAD")
    assert code == 0, out
    assert "src/new.py  (added lines 1, 8-33)" in out, out
    assert "ATTRIBUTE  lines 10-33 match janedoe/statkit" in out

    git(project, "add", "src/new.py")
    code, out, _ = run("check", "--index", str(corpus_index), "--staged", "--format", "json")
    assert code == 0 and [f["path"] for f in json.loads(out)["files"]] == ["src/new.py"]


def test_a_committed_file_over_the_size_limit_is_skipped_unread_in_diff_mode(
    project: Path, corpus_index: Path, monkeypatch: pytest.MonkeyPatch, texts
) -> None:
    from search_api.gate import diff

    base = texts.git(project, "rev-parse", "HEAD").strip()
    (project / "src" / "big.py").write_text("x = 1\n" * 2_000)  # 12,000 bytes
    (project / "src" / "small.py").write_text(texts.ORIGINAL)
    texts.git(project, "add", "-A")
    texts.git(project, "commit", "-q", "-m", "big")
    monkeypatch.chdir(project)
    shown: list[str] = []
    read = diff.git_bytes
    monkeypatch.setattr(diff, "git_bytes", lambda args, *rest: shown.append(args[-1]) or read(args, *rest))

    args = ("check", "--index", str(corpus_index), "--diff", f"{base}..HEAD", "--max-file-bytes", "10000")
    code, out, _ = run(*args, "--format", "json")
    skipped = {s["path"]: s for s in json.loads(out)["skipped"]}
    assert (
        skipped["src/big.py"]["reason"] == "too-large" and "12,000 bytes" in skipped["src/big.py"]["detail"]
    )
    assert shown == ["HEAD:src/small.py"], "the big blob is never read"
    assert code == 1, "a file the gate could not scan fails the check by default"


def test_diff_mode_counts_added_lines_in_the_file_not_in_a_textconv_rendering(
    project: Path, corpus_index: Path, monkeypatch: pytest.MonkeyPatch, texts
) -> None:
    # A textconv filter that doubles every line would put the added lines at twice their numbers.
    texts.git(project, "config", "diff.double.textconv", "awk '{print; print}'")
    (project / ".gitattributes").write_text("*.py diff=double\n")
    own = project / "src" / "own.py"
    own.write_text("def head():\n    return 0\n")
    texts.git(project, "add", "-A")
    texts.git(project, "commit", "-q", "-m", "short")
    own.write_text("def head():\n    return 0\n\n\ndef tail():\n    return 1\n")
    monkeypatch.chdir(project)
    _, out, _ = run("check", "--index", str(corpus_index), "--diff", "HEAD", "--format", "json")
    (result,) = [f for f in json.loads(out)["files"] if f["path"] == "src/own.py"]
    assert result["scanned_lines"] == [[3, 6]]


def test_a_license_notice_in_added_lines_is_reported_in_diff_mode_too(
    project: Path, corpus_index: Path, monkeypatch: pytest.MonkeyPatch, texts
) -> None:
    monkeypatch.chdir(project)
    own = project / "src" / "own.py"
    own.write_text(texts.ORIGINAL + "\n# SPDX-License-Identifier: GPL-3.0-or-later\n")
    code, out, _ = run("check", "--index", str(corpus_index), "--diff", "HEAD", "--format", "json")
    assert code == 0, out
    (result,) = json.loads(out)["files"]
    spans = [n["query_span"]["start_line"] for n in result["report"]["notices"]]
    assert spans == [9], "the tag's own line, in file coordinates"
    assert [n["rule_id"] for n in result["decision"]["notice_findings"]] == ["license-notice"]
    assert json.loads(out)["outcome"] == "review-needed"


def test_policy_from_a_file_changes_the_verdict(project: Path, corpus_index: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[licenses]\n"GPL-3.0-or-later" = "review"\n')
    code, out, _ = run("check", str(project), "--index", str(corpus_index), "--policy", str(policy))
    assert code == 0 and "REVIEW" in out and '[licenses] "GPL-3.0-or-later" = "review"' in out
    policy.write_text('[ignore]\npaths = ["src/app.py"]\n')
    code, out, _ = run("check", str(project), "--index", str(corpus_index), "--policy", str(policy))
    assert code == 0 and "ignored-by-policy 1" in out


def test_a_malformed_policy_exits_2_and_names_the_line(
    project: Path, corpus_index: Path, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('fail_on = ["deny"]\n\n[categories]\ncopyleft = "forbidden"\n')
    code, out, err = run("check", str(project), "--index", str(corpus_index), "--policy", str(policy))
    assert code == 2 and out == ""
    assert f"{policy}:4: categories.copyleft = 'forbidden': unknown action" in err
    policy.write_text("[categories\n")
    code, _, err = run("check", str(project), "--index", str(corpus_index), "--policy", str(policy))
    assert code == 2 and f"{policy}:1: invalid TOML" in err


@pytest.mark.parametrize(
    "args",
    [
        ["--index", "{missing}"],
        [],
        ["--index", "{index}", "--server", "http://127.0.0.1:9"],
        ["--index", "{index}", "--diff", "no-such-revision"],
        ["--index", "{index}", "--format", "xml"],
        ["--index", "{index}", "{project}/no-such-file.py"],
    ],
)
def test_errors_exit_2(
    project: Path, corpus_index: Path, tmp_path: Path, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    monkeypatch.delenv("CODECITE_INDEX", raising=False)
    monkeypatch.delenv("CODECITE_SERVER", raising=False)
    filled = [a.format(missing=tmp_path / "nope", index=corpus_index, project=project) for a in args]
    code, out, err = run("check", *filled)
    assert code == 2, (out, err)
    assert "Error" in err and "Traceback" not in err


def test_an_unexpected_exception_exits_2_not_0_or_1() -> None:
    @click.command()
    def boom() -> None:
        with no_crash(SCAN):
            raise RuntimeError("disk on fire")

    result = CliRunner().invoke(boom, [])
    assert result.exit_code == 2
    assert "unexpected error, the scan did not complete: RuntimeError: disk on fire" in result.stderr


def test_policy_init_writes_the_commented_default(tmp_path: Path) -> None:
    target = tmp_path / "codecite-policy.toml"
    code, _, err = run("policy", "init", str(target))
    assert code == 0 and "wrote the default policy" in err
    assert target.read_text().startswith("# codecite license policy")
    code, _, err = run("policy", "init", str(target))
    assert code == 2 and "--force" in err
    code, out, _ = run("policy", "show", str(target))
    assert code == 0 and json.loads(out)["categories"]["copyleft"] == "deny"
    code, out, _ = run("policy", "init")
    assert code == 0 and out.startswith("# codecite license policy")


def test_the_console_script_exits_1_on_a_violation(project: Path, corpus_index: Path) -> None:
    """The real entry point, in a fresh process (as CI and pre-commit run it)."""
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from search_api.cli import main; main()",
            "check",
            "src/app.py",
            "--index",
            str(corpus_index),
            "--format",
            "sarif",
            "-o",
            "out.sarif",
        ],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert (
        json.loads((project / "out.sarif").read_text())["runs"][0]["results"][0]["ruleId"] == "license-denied"
    )
