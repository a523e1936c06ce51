"""SARIF output: valid against the shipped SARIF 2.1.0 schema, with what GitHub code scanning needs."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from indexer.backends import open_index
from search_api.gate.attribute import LocalAttributor
from search_api.gate.git import find_root
from search_api.gate.policy_file import default_policy, load_policy
from search_api.gate.scan import ScanResult, scan
from search_api.gate.targets import collect_files
from search_api.render.sarif import to_sarif

SCHEMA = Path(__file__).resolve().parents[1] / "data" / "sarif" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def scan_project(project: Path, index: Path, policy=None) -> ScanResult:
    attributor = LocalAttributor(open_index(str(index)))
    policy = policy or default_policy()
    return scan(
        collect_files([str(project)], find_root([str(project)]), policy), attributor, policy, str(project)
    )


def test_sarif_validates_against_the_2_1_0_schema(project: Path, corpus_index: Path, validator) -> None:
    log = to_sarif(scan_project(project, corpus_index), "1.2.3")
    validator.validate(log)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "codecite" and run["automationDetails"]["id"] == "codecite/"
    assert [r["ruleId"] for r in run["results"]] == ["license-denied", "attribution-required"]
    denied = run["results"][0]
    assert denied["level"] == "error"
    assert denied["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "src/app.py"},
        "region": {
            "startLine": 36,
            "startColumn": 1,
            "endLine": 65,
            "endColumn": len("        text = text[1:]") + 1,
        },
    }
    assert (
        "regexhackers/tinyregex:tinyregex/core.py lines 6-35 (GPL-3.0-or-later" in denied["message"]["text"]
    )
    assert denied["properties"]["upstream"] == {
        "repo": "regexhackers/tinyregex",
        "path": "tinyregex/core.py",
        "lines": [6, 35],
        "url": "https://github.com/regexhackers/tinyregex/blob/main/tinyregex/core.py",
        "blobId": denied["properties"]["upstream"]["blobId"],
    }
    assert run["invocations"][0]["exitCode"] == 1
    broken = json.loads(json.dumps(log))
    del broken["runs"][0]["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(broken)


def test_rules_have_what_github_requires(project: Path, corpus_index: Path) -> None:
    rules = to_sarif(scan_project(project, corpus_index), "1.2.3")["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} == {
        "license-denied",
        "license-review",
        "attribution-required-warning",
        "attribution-required",
        "common-boilerplate",
        "license-notice",
        "file-not-scanned",
    }
    for rule in rules:
        assert rule["shortDescription"]["text"] and len(rule["shortDescription"]["text"]) <= 1024
        assert rule["fullDescription"]["text"] and rule["help"]["text"]
        assert rule["defaultConfiguration"]["level"] in ("note", "warning", "error")
        assert "security-severity" not in rule["properties"]  # license findings are not security alerts


def test_fingerprints_survive_lines_moving(project: Path, corpus_index: Path) -> None:
    before = to_sarif(scan_project(project, corpus_index), "1")["runs"][0]["results"]
    app = project / "src" / "app.py"
    app.write_text("import os\nimport sys\n\n\n" + app.read_text())
    after = to_sarif(scan_project(project, corpus_index), "1")["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] == [40, 5]
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]
    for r in after:
        digest, _, n = r["partialFingerprints"]["primaryLocationLineHash"].partition(":")
        assert len(digest) == 16 and int(digest, 16) >= 0 and n == "1"


def test_paths_are_uri_encoded_and_boilerplate_notes_validate(
    project: Path, corpus_index: Path, validator
) -> None:
    (project / "src" / "app.py").rename(project / "src" / "my app#1.py")
    policy = load_policy({"boilerplate": {"min_repos": 1, "action": "report"}})
    log = to_sarif(scan_project(project, corpus_index, policy), "1")
    validator.validate(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"common-boilerplate"} and {r["level"] for r in results} == {
        "note"
    }
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/my%20app%231.py"


def test_a_clean_scan_is_valid_sarif_with_no_results(tmp_path: Path, corpus_index: Path, validator) -> None:
    (tmp_path / "main.py").write_text("print('hello')\n")
    log = to_sarif(scan_project(tmp_path, corpus_index), "1")
    validator.validate(log)
    assert log["runs"][0]["results"] == [] and log["runs"][0]["invocations"][0]["exitCode"] == 0
    assert log["runs"][0]["invocations"][0]["properties"]["summary"]["files_scanned"] == 1


def test_a_denied_license_notice_is_its_own_result_and_the_text_output_lists_it(
    project: Path, corpus_index: Path, validator
) -> None:
    from search_api.render.text import render_scan

    (project / "src" / "tagged.py").write_text("# SPDX-License-Identifier: GPL-3.0-or-later\nX = 1\n")
    result = scan_project(project, corpus_index)
    log = to_sarif(result, "1.2.3")
    validator.validate(log)
    (noticed,) = [r for r in log["runs"][0]["results"] if r["ruleId"] == "license-notice"]
    assert noticed["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/tagged.py"
    assert noticed["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
    assert "spdx-tag notice of GPL-3.0-or-later" in noticed["message"]["text"]
    assert noticed["properties"]["action"] == "review" and noticed["level"] == "warning"
    text = render_scan(result)
    assert "src/tagged.py" in text and "GPL-3.0-or-later notice" in text
    assert any(line.startswith("result: ") and "1 license notices" in line for line in text.splitlines())
