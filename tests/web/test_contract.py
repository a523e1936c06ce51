"""The JSON contract has one home, `search_api.engine.results`: a Report writes and reads itself, and
the response schemas (marshmallow and /openapi.json) accept every value its closed sets can take."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import marshmallow as ma
import pytest
from flask import Flask

from indexer.records import LicenseCategory, NoticeKind
from search_api.engine.results import (
    ContractError,
    Copy,
    DateKind,
    Evidence,
    Match,
    Method,
    Notice,
    Origin,
    Relation,
    Report,
    SourceRef,
    Span,
)
from search_api.web.schemas import ReportSchema


def _source(n: int, category: LicenseCategory) -> SourceRef:
    kinds = list(DateKind)
    return SourceRef(
        f"{n:040x}",
        f"owner/repo{n}",
        f"src/file{n}.py",
        "MIT",
        category.value,
        f"https://example.org/{n}",
        "Python",
        vendored=n % 2 == 1,
        date=None if n % 5 == 4 else f"20{10 + n % 10}-01-02T03:04:05Z",
        date_kind=None if n % 5 == 4 else kinds[n % len(kinds)],
        stars=n if n % 3 else None,
        license_basis="Cargo.toml license field" if n % 2 else None,
    )


def every_value_report() -> Report:
    """A Report in which every Method, Relation, DateKind, NoticeKind and license category occurs,
    and every match names its origin (one of its copies)."""
    categories = list(LicenseCategory)
    copies = tuple(
        Copy(
            _source(100 + i, categories[i % len(categories)]),
            relation,
            None if relation is Relation.IDENTICAL else Span(3, 9),
        )
        for i, relation in enumerate(Relation)
    )
    evidence = Evidence(
        chars=300, share=0.5, fingerprints=12, median_files=1, structure=0.9, lines=9, run=120, run_lines=4
    )
    notices = tuple(
        Notice(
            Span(1 + i, 2 + i),
            kind,
            None if kind is NoticeKind.COPYRIGHT else "MIT",
            None if kind is NoticeKind.COPYRIGHT else "permissive",
            0.9,
        )
        for i, kind in enumerate(NoticeKind)
    )
    matches = tuple(
        Match(
            Span(1 + i, 10 + i),
            _source(i, category),
            Span(20, 29),
            0.95,
            list(Method)[i % len(Method)],
            80,
            300,
            2,
            copies,
            query_chars=(0, 120),
            confidence=round(0.5 + 0.02 * i, 3),
            evidence=evidence,
            origin=Origin(
                copies[i % len(copies)].source,
                len(copies) + 1,
                f"earliest committed of {len(copies) + 1} copies",
            ),
        )
        for i, category in enumerate(categories)
    )
    return Report(
        query_lines=40,
        query_tokens=300,
        query_chars=1200,
        language="Python",
        matches=matches,
        index_id="abc/gen-1",
        index_documents=10,
        elapsed_ms=1.5,
        boilerplate=(matches[0],),
        notices=notices,
        discarded={"weak_candidates": 3},
        warnings=("a warning",),
    )


def _openapi_validator(app: Flask, component: str) -> jsonschema.Draft202012Validator:
    spec = app.test_client().get("/openapi.json").get_json()
    schema = {"$ref": f"#/components/schemas/{component}", "components": spec["components"]}
    return jsonschema.Draft202012Validator(schema)


def test_every_enum_value_passes_the_response_schemas(app: Flask) -> None:
    body = every_value_report().to_dict()
    ReportSchema().load(body)  # raises on a value the schema does not know
    errors = list(_openapi_validator(app, "Report").iter_errors(body))
    assert errors == []


@pytest.mark.parametrize(
    ("where", "value"),
    [
        (("matches", 0, "method"), "fuzzy"),
        (("matches", 0, "copies", 0, "relation"), "cousin"),
        (("matches", 0, "source", "license_category"), "permissive-ish"),
        (("notices", 0, "kind"), "haiku"),
        (("matches", 0, "confidence"), 1.5),
        (("matches", 0, "origin", "date_kind"), "yesterday"),
        (("matches", 0, "copies", 1, "date_kind"), "long-ago"),
    ],
)
def test_a_value_outside_the_closed_sets_is_refused(app: Flask, where: tuple[Any, ...], value: str) -> None:
    body = every_value_report().to_dict()
    node: Any = body
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with pytest.raises(ma.ValidationError):
        ReportSchema().load(body)
    assert list(_openapi_validator(app, "Report").iter_errors(body))


def _undeclared(schema: ma.Schema, body: dict[str, Any], path: str = "") -> list[str]:
    """Keys of `body` that `schema` (followed into nested schemas) does not declare."""
    out = []
    for key, value in body.items():
        field = schema.fields.get(key)
        if field is None:
            out.append(f"{path}{key}")
        elif isinstance(field, ma.fields.Nested) and isinstance(value, dict):
            out += _undeclared(field.schema, value, f"{path}{key}.")
        elif isinstance(field, ma.fields.List) and isinstance(field.inner, ma.fields.Nested):
            for item in value:
                out += _undeclared(field.inner.schema, item, f"{path}{key}[].")
    return out


def test_the_response_schema_declares_every_field_a_report_writes() -> None:
    assert _undeclared(ReportSchema(), every_value_report().to_dict()) == []


def test_a_report_reads_back_what_it_wrote() -> None:
    report = every_value_report()
    assert {k.value for m in report.matches for c in m.copies for k in [c.source.date_kind] if k} | {
        k.value for m in report.matches if (k := m.source.date_kind)
    } == {k.value for k in DateKind}
    assert Report.from_dict(json.loads(json.dumps(report.to_dict()))) == report


def test_a_report_without_origins_reads_as_one_without() -> None:
    """Reports from servers that predate `origin` still read (fields are added, never renamed)."""
    body = every_value_report().to_dict()
    for match in body["matches"]:
        del match["origin"]
        for ref in [match["source"], *match["copies"]]:
            for key in ("vendored", "date", "date_kind", "stars", "license_basis"):
                del ref[key]
    report = Report.from_dict(body)
    assert all(m.origin is None and not m.source.vendored for m in report.matches)


def test_a_document_that_is_not_a_report_is_a_contract_error() -> None:
    with pytest.raises(ContractError, match="not a codecite Report"):
        Report.from_dict({"matches": [{"query_span": {"start_line": 1}}]})
