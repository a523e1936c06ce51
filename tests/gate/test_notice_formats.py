"""`codecite notice --format`: the same entries as JSON, CSV, Markdown and a CycloneDX SBOM that the
CycloneDX project's own validator accepts."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from search_api.cli import main


def notice(project: Path, index: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["notice", str(project), "--index", str(index), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_lists_each_upstream_file(project: Path, corpus_index: Path) -> None:
    (entry,) = json.loads(notice(project, corpus_index, "--format", "json"))
    assert entry["repo"] == "janedoe/statkit" and entry["license"] == "MIT"
    assert json.loads(notice(project, corpus_index, "--json")) == [entry]


def test_csv_has_a_header_and_one_row_per_upstream_file(project: Path, corpus_index: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(notice(project, corpus_index, "--format", "csv"))))
    assert [(r["repo"], r["path"], r["license"]) for r in rows] == [
        ("janedoe/statkit", "statkit/running.py", "MIT")
    ]
    assert rows[0]["copyrights"] == "Copyright (c) 2021 Jane Doe <jane@example.com>"
    assert rows[0]["used_in"] == "src/app.py (lines 1-24)"


def test_markdown_has_a_table_and_the_copyright_lines(project: Path, corpus_index: Path) -> None:
    text = notice(project, corpus_index, "--format", "markdown")
    assert text.startswith("# Third-party software notices")
    assert (
        "| [janedoe/statkit: statkit/running.py](https://github.com/janedoe/statkit/blob/main/statkit/running.py) | MIT |"
        in text
    )
    assert "    Copyright (c) 2021 Jane Doe \\<jane@example.com\\>" not in text  # code blocks are not escaped
    assert "    Copyright (c) 2021 Jane Doe <jane@example.com>" in text


def test_cyclonedx_is_a_valid_sbom_with_license_and_copyright(project: Path, corpus_index: Path) -> None:
    pytest.importorskip("cyclonedx")
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = notice(project, corpus_index, "--format", "cyclonedx")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    (component,) = bom["components"]
    assert component["type"] == "file" and component["group"] == "janedoe/statkit"
    assert component["licenses"] == [{"expression": "MIT"}]
    assert component["copyright"] == "Copyright (c) 2021 Jane Doe <jane@example.com>"
    assert component["purl"] == "pkg:github/janedoe/statkit#statkit/running.py"
    assert {"name": "codecite:used_in", "value": "src/app.py (lines 1-24)"} in component["properties"]
    assert bom["metadata"]["tools"]["components"][0]["name"] == "codecite"
