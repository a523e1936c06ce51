"""Every endpoint through Flask's test client, on a real index of a tiny corpus."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient


def blob_of(client: FlaskClient, code: str) -> str:
    return client.post("/v1/attribute", json={"code": code}).get_json()["matches"][0]["source"]["blob_id"]


def overlaps(span: dict, expected: tuple[int, int]) -> bool:
    return span["start_line"] <= expected[1] and expected[0] <= span["end_line"]


def test_attribute_finds_the_source_lines_and_license_of_a_pasted_snippet(client: FlaskClient, facts) -> None:
    response = client.post("/v1/attribute", json={"code": facts.query})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    report = response.get_json()
    assert [m["source"]["path"] for m in report["matches"]] == ["orbit/kepler.py"]
    match = report["matches"][0]
    assert match["source"]["repo"] == "acme/orbit-tools"
    assert match["source"]["license"] == "MIT" and match["source"]["license_category"] == "permissive"
    assert overlaps(match["query_span"], facts.query_span) and overlaps(
        match["source_span"], facts.source_span
    )
    assert match["query_span"]["start_line"] == facts.query_span[0]
    assert match["source_span"]["start_line"] == facts.source_span[0]
    assert match["repos_with_span"] == 1 and match["copies"] == []
    assert report["licenses"] == {
        "MIT": match["query_span"]["end_line"] - match["query_span"]["start_line"] + 1
    }
    assert report["query"]["language"] == "Python"
    assert report["index"]["documents"] == 5 and "decision" not in report


def test_an_uploaded_file_is_attributed_with_its_language_from_the_file_name(
    client: FlaskClient, facts
) -> None:
    snippet = "\n".join(facts.ledger.split("\n")[10:24]) + "\n"
    response = client.post(
        "/v1/attribute",
        content_type="multipart/form-data",
        data={"file": (io.BytesIO(snippet.encode()), "post_entry.js")},
    )
    assert response.status_code == 200
    report = response.get_json()
    assert report["query"]["language"] == "JavaScript"
    assert report["matches"][0]["source"]["repo"] == "globex/ledger"
    assert report["matches"][0]["source"]["license_category"] == "copyleft"


def test_copies_and_the_repos_holding_a_span_are_reported(client: FlaskClient, facts) -> None:
    report = client.post("/v1/attribute", json={"code": facts.levenshtein, "language": "python"}).get_json()
    match = report["matches"][0]
    assert match["repos_with_span"] == 2
    repos = {match["source"]["repo"]} | {c["repo"] for c in match["copies"]}
    assert repos == {"initech/strutil", "hooli/vendored"}


def test_min_match_sets_the_smallest_span_worth_reporting(client: FlaskClient, facts) -> None:
    three_lines = "\n".join(facts.kepler.split("\n")[20:23]) + "\n"  # 133 non-space characters
    filler = "".join(
        f"def helper_{i}(value):\n    return value * {i} + {i * i} - len(str(value))\n\n" for i in range(10)
    )
    code = filler + three_lines + filler.replace("helper", "other")
    assert client.post("/v1/attribute", json={"code": code}).get_json()["matches"]
    assert client.post("/v1/attribute", json={"code": code, "min_match": 300}).get_json()["matches"] == []


def test_min_confidence_drops_matches_below_it_in_single_batch_and_upload_requests(
    client: FlaskClient, facts
) -> None:
    code = {"code": facts.levenshtein, "language": "python"}
    every = client.post("/v1/attribute", json=code).get_json()["matches"]
    match = max(every, key=lambda m: m["confidence"])
    above = min(1.0, match["confidence"] + 0.001)
    below = match["confidence"] - 0.001  # confidences are shown rounded to 3 places
    kept = client.post("/v1/attribute", json={**code, "min_confidence": below}).get_json()
    assert match["confidence"] in [m["confidence"] for m in kept["matches"]]
    dropped = client.post("/v1/attribute", json={**code, "min_confidence": above}).get_json()
    assert len(dropped["matches"]) < len(every) and all(m["confidence"] >= above for m in dropped["matches"])
    batch = {"items": [{"code": facts.levenshtein, "language": "python"}], "min_confidence": above}
    [item] = client.post("/v1/attribute/batch", json=batch).get_json()["results"]
    assert item["matches"] == dropped["matches"]
    upload = {"file": (io.BytesIO(facts.levenshtein.encode()), "lev.py"), "min_confidence": str(above)}
    uploaded = client.post("/v1/attribute", data=upload, content_type="multipart/form-data").get_json()
    assert uploaded["matches"] == dropped["matches"]


def test_code_in_no_indexed_file_and_empty_code_find_nothing(client: FlaskClient) -> None:
    fresh = "def brand_new(x):\n    return [y * 3 for y in range(x) if y % 7 == 2]\n"
    assert client.post("/v1/attribute", json={"code": fresh}).get_json()["matches"] == []
    empty = client.post("/v1/attribute", json={"code": ""}).get_json()
    assert empty["matches"] == [] and empty["warnings"]


def test_an_unknown_language_is_guessed_with_a_warning(client: FlaskClient, facts) -> None:
    report = client.post("/v1/attribute", json={"code": facts.query, "language": "Klingon"}).get_json()
    assert report["matches"][0]["source"]["path"] == "orbit/kepler.py"
    assert any("unknown language 'Klingon'" in w for w in report["warnings"])


def test_a_request_policy_adds_a_decision(client: FlaskClient, facts) -> None:
    snippet = "\n".join(facts.ledger.split("\n")[10:24]) + "\n"
    strict = {"categories": {"copyleft": "deny"}}
    report = client.post("/v1/attribute", json={"code": snippet, "policy": strict}).get_json()
    assert report["decision"]["outcome"] == "fail"
    assert report["decision"]["findings"][0]["license"] == "GPL-3.0-only"
    relaxed = client.post("/v1/attribute", json={"code": facts.query, "policy": {}}).get_json()
    assert relaxed["decision"]["outcome"] in ("pass", "attribution-needed")


def test_a_configured_policy_decides_every_answer(app_factory, facts, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[categories]\npermissive = "deny"\n')
    client = app_factory(POLICY=str(policy)).test_client()
    report = client.post("/v1/attribute", json={"code": facts.query}).get_json()
    assert report["decision"]["outcome"] == "fail"
    assert client.get("/v1/stats").get_json()["policy"] == {"available": True, "configured": True}


def test_batch_answers_each_item_in_order_with_its_id(client: FlaskClient, facts) -> None:
    items = [
        {"id": "kepler", "code": facts.query},
        {"id": 2, "code": "x = 1\n"},
        {"id": None, "code": "nul\x00byte"},
        {"id": ["any", "json"], "code": facts.levenshtein, "language": "Python"},
    ]
    response = client.post("/v1/attribute/batch", json={"items": items})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["id"] for r in results] == ["kepler", 2, None, ["any", "json"]]
    assert results[0]["matches"][0]["source"]["path"] == "orbit/kepler.py"
    assert results[1]["matches"] == []
    assert results[2]["status"] == 422 and "binary" in results[2]["error"]
    assert results[3]["matches"][0]["repos_with_span"] == 2


def test_documents_are_served_by_blob_id(client: FlaskClient, facts) -> None:
    blob = blob_of(client, facts.query)
    response = client.get(f"/v1/documents/{blob}")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["content"] == facts.kepler
    assert {k: doc[k] for k in ("blob_id", "repo", "path", "language", "license", "license_category")} == {
        "blob_id": blob,
        "repo": "acme/orbit-tools",
        "path": "orbit/kepler.py",
        "language": "Python",
        "license": "MIT",
        "license_category": "permissive",
    }
    assert doc["url"] == "https://example.org/acme/orbit-tools/blob/main/orbit/kepler.py"
    provenance = doc["provenance"]
    assert provenance["revision_date"] == "2014-02-03T04:05:06Z" and provenance["star_events_count"] == 42
    assert provenance["license_basis"] == "license files (LICENSE)" and provenance["is_vendor"] is None


def test_reports_name_each_match_origin_and_mark_vendored_copies(client: FlaskClient, facts) -> None:
    report = client.post("/v1/attribute", json={"code": facts.levenshtein}).get_json()
    match = report["matches"][0]
    files = [match["source"], *match["copies"]]
    assert {f["repo"]: f["vendored"] for f in files} == {"initech/strutil": False, "hooli/vendored": True}
    assert match["origin"]["repo"] == "initech/strutil" and match["origin"]["copies_weighed"] == 2
    assert match["origin"]["reason"] == "no copy of 2 has a date: the only one not vendored"
    kepler = client.post("/v1/attribute", json={"code": facts.query}).get_json()["matches"][0]
    assert kepler["source"]["date"] == "2014-02-03T04:05:06Z" and kepler["source"]["stars"] == 42
    assert kepler["origin"]["reason"] == "the only file in the index holding this code, dated 2014-02-03"


def test_stats_describe_the_index_and_the_features(client: FlaskClient) -> None:
    stats = client.get("/v1/stats").get_json()
    assert stats["documents"] == 5 and stats["repos"] == 5
    assert stats["features"] == []
    assert stats["license_categories"] == {"permissive": 4, "copyleft": 1}
    assert stats["limits"]["batch_max_items"] == 100
    assert "uri" not in stats and "Python" in stats["known_languages"]


def test_health_and_readiness_report_the_generation(client: FlaskClient) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz").get_json()
    assert ready["status"] == "ready" and ready["generation"] == 1 and ready["documents"] == 5
    assert re.fullmatch(r"\w+/gen-1", ready["index"])


def test_metrics_count_requests_and_attributions(client: FlaskClient, facts) -> None:
    client.post("/v1/attribute", json={"code": facts.query})
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert re.search(r'^codecite_matches_total\{license_category="permissive"\} [1-9]', text, re.MULTILINE)
    assert re.search(r"^codecite_attribute_seconds_count [1-9]", text, re.MULTILINE)
    assert (
        'flask_http_request_duration_seconds_count{method="POST",status="200",url_rule="/v1/attribute"}'
        in text
    )


def test_the_openapi_document_lists_every_operation_and_problem_responses(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    assert set(spec["paths"]) >= {
        "/v1/attribute",
        "/v1/attribute/batch",
        "/v1/documents/{blob_id}",
        "/v1/stats",
        "/healthz",
        "/readyz",
        "/metrics",
    }
    assert set(spec["paths"]["/v1/attribute"]["post"]["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
    }
    too_large = spec["components"]["responses"]["REQUEST_ENTITY_TOO_LARGE"]
    assert list(too_large["content"]) == ["application/problem+json"]


def test_the_page_is_served_with_a_strict_csp_and_only_local_assets(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    html = response.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(a.startswith(("/", "#", "data:")) for a in assets), assets
    for asset in ("/static/lookup.js", "/static/lookup.css"):
        body = client.get(asset).get_data(as_text=True)
        assert not re.search(r"(?:url\(|import |src=|href=)\s*['\"]?(?:https?:)?//", body), asset
    script = client.get("/static/lookup.js").get_data(as_text=True)
    assert not re.search(r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write", script)


def test_responses_are_json_even_for_non_ascii_code(client: FlaskClient) -> None:
    code = "# Größe — 寸法\nprint('ünïcødé')\n"
    response = client.post(
        "/v1/attribute",
        data=json.dumps({"code": code}, ensure_ascii=False).encode(),
        content_type="application/json; charset=utf-8",
    )
    assert response.status_code == 200
    assert response.get_json()["query"]["chars"] == len(code)


def test_the_index_opens_once_and_is_shared_by_requests(app: Flask, client: FlaskClient, facts) -> None:
    client.post("/v1/attribute", json={"code": facts.query})
    engine = app.extensions["codecite"].served
    first = engine.run(lambda index, searcher: (index, searcher))
    client.post("/v1/attribute", json={"code": facts.levenshtein})
    assert engine.run(lambda index, searcher: (index, searcher)) == first
