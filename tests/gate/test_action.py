"""The GitHub Action (composite) and the pre-commit hooks: well-formed, and their commands really run."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

REPO = Path(__file__).resolve().parents[2]
EXPR = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


@pytest.fixture(scope="module")
def action() -> dict:
    return yaml.safe_load((REPO / "action.yml").read_text())


def test_action_validates_against_the_action_metadata_schema(action: dict) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads((Path(__file__).parent / "data" / "github-action.schema.json").read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    validator.validate(action)
    broken = json.loads(json.dumps(action))
    del broken["runs"]["steps"][1]["shell"]  # composite run steps must name their shell
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


def test_action_is_a_composite_action_github_accepts(action: dict) -> None:
    assert action["name"] and action["description"] and action["runs"]["using"] == "composite"
    step_ids = {s["id"] for s in action["runs"]["steps"] if "id" in s}
    text = (REPO / "action.yml").read_text()
    for expression in EXPR.findall(text):
        for name in re.findall(r"\binputs\.([\w-]+)", expression):
            assert name in action["inputs"], f"${{{{ {expression} }}}} names an undeclared input"
        for name in re.findall(r"\bsteps\.([\w-]+)\.", expression):
            assert name in step_ids, f"${{{{ {expression} }}}} names an unknown step"
    for step in action["runs"]["steps"]:
        assert ("run" in step) != ("uses" in step)
        if "run" in step:
            assert step["shell"] == "bash"  # composite run steps must name their shell
            assert "${{" not in step["run"]  # inputs reach scripts through env, never spliced into code
    for spec in action["inputs"].values():
        assert spec["description"] and isinstance(spec.get("default", ""), str)
    assert {o["value"] for o in action["outputs"].values()} == {
        "${{ steps.check.outputs.exit-code }}",
        "${{ steps.check.outputs.sarif-file }}",
    }
    uploads = [
        s
        for s in action["runs"]["steps"]
        if s.get("uses", "").startswith("github/codeql-action/upload-sarif")
    ]
    assert uploads and uploads[0]["with"]["sarif_file"] == "${{ inputs.output }}"


def run_check_step(
    action: dict, workdir: Path, inputs: dict[str, str], github: dict[str, str], tmp_path: Path
) -> tuple[int, dict[str, str], str]:
    """Run the action's check step in bash the way the runner would: env expressions filled in."""
    step = next(s for s in action["runs"]["steps"] if s.get("id") == "check")
    values = {f"inputs.{k}": str(v.get("default", "")) for k, v in action["inputs"].items()}
    values.update({f"inputs.{k}": v for k, v in inputs.items()})
    values.update(github)
    env = {k: EXPR.sub(lambda m: values.get(m.group(1), ""), str(v)) for k, v in step["env"].items()}
    outputs, summary = tmp_path / "github_output", tmp_path / "step_summary"
    outputs.write_text("")
    env.update(
        GITHUB_OUTPUT=str(outputs),
        GITHUB_STEP_SUMMARY=str(summary),
        HOME=os.environ.get("HOME", "/tmp"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    done = subprocess.run(
        ["bash", "-c", step["run"]],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    parsed = dict(line.split("=", 1) for line in outputs.read_text().splitlines() if "=" in line)
    return done.returncode, parsed, summary.read_text() if summary.exists() else done.stderr


@pytest.mark.skipif(
    shutil.which("bash") is None
    or shutil.which("codecite") is None
    and not (Path(sys.executable).parent / "codecite").exists(),
    reason="needs bash and codecite",
)
def test_the_check_step_writes_sarif_and_reports_the_exit_code(
    action: dict, project: Path, corpus_index: Path, tmp_path: Path, texts
) -> None:
    code, outputs, summary = run_check_step(
        action, project, {"index": str(corpus_index), "notice-file": "THIRD_PARTY_NOTICES"}, {}, tmp_path
    )
    assert code == 0  # the verdict is applied by a later step, after the SARIF upload
    assert outputs == {"exit-code": "1", "sarif-file": "codecite.sarif"}
    sarif = json.loads((project / "codecite.sarif").read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["license-denied", "attribution-required"]
    assert "result: FAIL" in summary and "janedoe/statkit" in (project / "THIRD_PARTY_NOTICES").read_text()

    # On a pull request ("diff: auto") only the lines it adds are scanned: here, none with copied code.
    base = texts.git(project, "rev-parse", "HEAD").strip()
    (project / "src" / "own.py").write_text(texts.ORIGINAL + "\n\ndef more():\n    return 2\n")
    texts.git(project, "commit", "-qam", "pr")
    code, outputs, _ = run_check_step(
        action, project, {"index": str(corpus_index)}, {"github.event.pull_request.base.sha": base}, tmp_path
    )
    assert code == 0 and outputs["exit-code"] == "0"
    results = json.loads((project / "codecite.sarif").read_text())["runs"][0]
    assert (
        results["results"] == [] and results["invocations"][0]["properties"]["summary"]["files_scanned"] == 1
    )

    code, outputs, _ = run_check_step(action, project, {"index": str(tmp_path / "missing")}, {}, tmp_path)
    assert code == 2 and outputs["exit-code"] == "2"


# Actions whose current major runs on Node 24 (the Node 20 runtime is deprecated on GitHub's runners).
NODE24 = {
    "actions/setup-python": 6,
    "github/codeql-action/upload-sarif": 4,
    "actions/checkout": 5,
    "actions/upload-artifact": 6,
}


def test_pinned_actions_are_node24_releases(action: dict) -> None:
    uses = [s["uses"] for s in action["runs"]["steps"] if "uses" in s]
    uses += re.findall(r"uses:\s*(\S+)", (REPO / "deploy" / "ci-example.yml").read_text())
    uses += re.findall(r"uses:\s*(\S+)", (REPO / "README.md").read_text())
    pinned = [u.split("@") for u in uses if not u.startswith("OWNER/")]
    assert pinned and all(name in NODE24 for name, _ in pinned), pinned
    for name, version in pinned:
        assert int(version.lstrip("v").split(".")[0]) >= NODE24[name], f"{name}@{version} runs on Node 20"


@pytest.mark.skipif(
    shutil.which("bash") is None
    or shutil.which("codecite") is None
    and not (Path(__file__).parent.parent.parent / ".venv").exists()
    and not (Path(sys.executable).parent / "codecite").exists(),
    reason="needs bash and codecite",
)
def test_paths_as_a_block_list_with_spaces_and_excludes(
    action: dict, project: Path, corpus_index: Path, tmp_path: Path, texts
) -> None:
    spaced = project / "my code" / "copied file.py"
    spaced.parent.mkdir()
    spaced.write_text(texts.body(texts.GPL_SOURCE))
    (project / "src" / "app.py").write_text(texts.ORIGINAL)
    inputs = {"index": str(corpus_index), "diff": "", "paths": "- src\n- my code/copied file.py\n\n"}
    code, outputs, _ = run_check_step(action, project, inputs, {}, tmp_path)
    assert code == 0 and outputs["exit-code"] == "1"  # the copy in the path with spaces was scanned
    results = json.loads((project / "codecite.sarif").read_text())["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results] == [
        "my%20code/copied%20file.py"
    ]
    code, outputs, _ = run_check_step(
        action, project, {**inputs, "exclude": "my code/\n*.tmp\n"}, {}, tmp_path
    )
    assert code == 0 and outputs["exit-code"] == "0"
    code, outputs, _ = run_check_step(action, project, {**inputs, "paths": "src .gitignore"}, {}, tmp_path)
    assert code == 0 and outputs["exit-code"] == "0"  # one line: split on spaces, as before


def test_pre_commit_hooks_are_well_formed() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert [h["id"] for h in hooks] == ["codecite-check", "codecite-check-staged"]
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] == "python"
        assert shlex.split(hook["entry"])[:2] == ["codecite", "check"]
        assert set(hook["stages"]) <= {"pre-commit", "pre-push", "manual", "commit-msg", "post-commit"}


def test_the_hook_command_runs_as_pre_commit_would(project: Path, corpus_index: Path) -> None:
    hook = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())[0]
    executable = Path(sys.executable).parent / shlex.split(hook["entry"])[0]
    if not executable.exists():
        pytest.skip("the codecite console script is not installed next to this Python")
    command = [
        str(executable),
        *shlex.split(hook["entry"])[1:],
        "--index",
        str(corpus_index),
        "src/app.py",
        "src/own.py",
    ]  # entry + args + the staged file names
    done = subprocess.run(
        command,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PRE_COMMIT": "1"},
        check=False,
    )
    assert done.returncode == 1 and "DENY" in done.stdout

    staged = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())[1]
    (project / "src" / "own.py").write_text(
        (project / "src" / "own.py").read_text() + "\n\ndef more():\n    return 2\n"
    )
    subprocess.run(["git", "add", "src/own.py"], cwd=project, check=True)
    done = subprocess.run(
        [str(executable), *shlex.split(staged["entry"])[1:], "--index", str(corpus_index)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0 and "1 file scanned" in done.stdout
