"""The JSON API under /v1: attribute a snippet or a file, a batch, fetch a document, stats."""

from __future__ import annotations

import time
from typing import Any

from flask import Response, current_app, jsonify
from flask_smorest import Blueprint

from indexer.analysis.languages import known_languages
from search_api.engine.results import Report
from search_api.engine.searcher import QueryError
from search_api.web.inputs import QueryTuning, checked_text, json_body, load, read_attribute_request
from search_api.web.openapi import problems
from search_api.web.problems import ProblemError
from search_api.web.schemas import (
    AttributeRequest,
    AttributeUpload,
    BatchRequest,
    BatchResponse,
    DocumentSchema,
    ReportSchema,
    StatsSchema,
)
from search_api.web.services import Services, get_services

_ATTRIBUTE_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": AttributeRequest},
        "multipart/form-data": {"schema": AttributeUpload},
    },
}
_BATCH_BODY = {"required": True, "content": {"application/json": {"schema": BatchRequest}}}


def api_blueprint() -> Blueprint:
    """A fresh /v1 blueprint (one per app: no state shared between apps)."""
    blp = Blueprint("v1", __name__, url_prefix="/v1", description="Attribution search")

    @blp.route("/attribute", methods=["POST"])
    @blp.doc(
        summary="Attribute code",
        requestBody=_ATTRIBUTE_BODY,
        description='Where did this code come from? JSON {"code": ...} or a multipart `file` upload. '
        "With a policy (sent or configured) the answer has a `decision`.",
    )
    @blp.alt_response(200, schema=ReportSchema, success=True, description="The Report")
    @problems(blp, 400, 401, 413, 415, 422, 429, 503)
    def attribute() -> Response:
        services = get_services()
        query = read_attribute_request(services.served.options)
        report = _attribute(services, query.code, query.language, query.tuning, query.filename)
        body = report.to_dict()
        decision = services.decider.decide(report, query.policy)
        if decision is not None:
            body["decision"] = decision
        return _no_store(jsonify(body))

    @blp.route("/attribute/batch", methods=["POST"])
    @blp.doc(
        summary="Attribute many snippets",
        requestBody=_BATCH_BODY,
        description="One Report per item, in order, with the item's `id`; an item that cannot be "
        "answered gets an `error` instead.",
    )
    @blp.alt_response(200, schema=BatchResponse, success=True, description="One result per item")
    @problems(blp, 400, 401, 413, 415, 422, 429, 503)
    def attribute_batch() -> Response:
        services = get_services()
        body = load(BatchRequest, json_body())
        limit = current_app.config["BATCH_MAX_ITEMS"]
        if len(body["items"]) > limit:
            raise ProblemError(
                413,
                f"the batch has {len(body['items'])} items, more than the {limit} allowed: "
                "split it into several requests",
                slug="batch-too-large",
            )
        tuning = QueryTuning.of(body)
        results = [_batch_item(services, item, tuning) for item in body["items"]]
        return _no_store(jsonify({"results": results}))

    @blp.route("/documents/<blob_id>", methods=["GET"])
    @blp.doc(summary="An indexed file", description="Its provenance, license and content, by git blob id.")
    @blp.alt_response(200, schema=DocumentSchema, success=True, description="The document")
    @problems(blp, 401, 404, 429, 503)
    def document(blob_id: str) -> Response:
        def fetch(index, _searcher) -> dict[str, Any] | None:
            doc_id = index.find_blob(blob_id) if len(blob_id) <= 128 else None
            if doc_id is None:
                return None
            out = index.info(doc_id, with_content=True).document.to_dict(with_content=True)
            out.pop("source", None)
            return out

        found = get_services().served.run(fetch)
        if found is None:
            raise ProblemError(
                404,
                f"no document with blob id {blob_id[:128]!r} in this index: it may have been "
                "opted out or the index rebuilt; run the query again for current ids",
                slug="no-such-document",
            )
        response = jsonify(found)
        response.headers["Cache-Control"] = "private, max-age=3600"  # a blob id names its content
        return response

    @blp.route("/stats", methods=["GET"])
    @blp.doc(summary="What the index holds, and what this server offers")
    @blp.alt_response(200, schema=StatsSchema, success=True, description="Index statistics")
    @problems(blp, 401, 429, 503)
    def stats() -> Response:
        services = get_services()
        out = services.served.stats()
        out["features"] = sorted(services.features)
        out["policy"] = {
            "available": True,  # policies are part of codecite; kept for clients that check
            "configured": services.decider.configured is not None,
        }
        out["limits"] = {
            "max_content_length": current_app.config["MAX_CONTENT_LENGTH"],
            "max_query_bytes": services.served.options.max_query_bytes,
            "batch_max_items": current_app.config["BATCH_MAX_ITEMS"],
        }
        out["known_languages"] = known_languages()
        return jsonify(out)

    return blp


def _attribute(
    services: Services, code: str, language: str | None, tuning: QueryTuning, filename: str | None = None
) -> Report:
    options = tuning.applied_to(services.served.options)
    started = time.perf_counter()
    try:
        report = services.served.attribute(code, language, options, filename)
    except QueryError as err:
        services.instruments.queries.labels("refused").inc()
        raise ProblemError(422, str(err), slug="invalid-query") from None
    services.instruments.observe(report, time.perf_counter() - started)
    return report


def _batch_item(services: Services, item: dict[str, Any], tuning: QueryTuning) -> dict[str, Any]:
    try:
        code = checked_text(item["code"], services.served.options)
        return {"id": item["id"], **_attribute(services, code, item["language"], tuning).to_dict()}
    except ProblemError as err:
        return {"id": item["id"], "error": err.description, "status": err.code}


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"  # answers quote the caller's code
    return response
