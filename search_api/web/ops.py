"""Operations endpoints: liveness, readiness (with the index generation served) and metrics."""

from __future__ import annotations

from flask import Response, jsonify
from flask_smorest import Blueprint

from search_api.web.openapi import problems
from search_api.web.schemas import HealthSchema, ReadySchema
from search_api.web.services import get_services


def ops_blueprint() -> Blueprint:
    blp = Blueprint("ops", __name__, description="Health, readiness and metrics")

    @blp.route("/healthz", methods=["GET"])
    @blp.doc(summary="Liveness: the process answers (no dependency is checked)")
    @blp.alt_response(200, schema=HealthSchema, success=True, description="Alive")
    def healthz() -> Response:
        return jsonify({"status": "ok"})

    @blp.route("/readyz", methods=["GET"])
    @blp.doc(summary="Readiness: the index is open; which generation is served")
    @blp.alt_response(200, schema=ReadySchema, success=True, description="Ready")
    @problems(blp, 503)
    def readyz() -> Response:
        return jsonify({"status": "ready", **get_services().served.status()})

    @blp.route("/metrics", methods=["GET"])
    @blp.doc(
        summary="Prometheus metrics",
        responses={
            "200": {
                "description": "Prometheus text exposition format",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    )
    def metrics() -> Response:
        body, content_type = get_services().exporter.generate_metrics()  # the text format, whatever is asked
        return Response(body, content_type=content_type)

    return blp
