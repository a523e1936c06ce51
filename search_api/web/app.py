"""`create_app`: the Flask application factory (no work at import; the index opens on first use)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import flask_smorest
from flask import Flask, Response
from prometheus_client import CollectorRegistry
from prometheus_flask_exporter import PrometheusMetrics
from werkzeug.middleware.proxy_fix import ProxyFix

from search_api.engine.searcher import QueryError
from search_api.web import plugins, security
from search_api.web.api import api_blueprint
from search_api.web.config import load_config
from search_api.web.decisions import Decider
from search_api.web.openapi import Api
from search_api.web.ops import ops_blueprint
from search_api.web.page import page_blueprint
from search_api.web.problems import problem_response, register_error_handlers
from search_api.web.served_index import IndexUnavailableError, ServedIndex
from search_api.web.services import EXTENSION, Instruments, Services

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The codecite web app: the /v1 API, /healthz /readyz /metrics, /openapi.json and the page at /.

    Settings come from `search_api.web.config.Defaults`, then ``CODECITE_*`` environment variables,
    then `config` (see that module for every key). Raises ValueError for invalid settings.
    """
    app = Flask(__name__)
    load_config(app, config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    if app.config["PROXY_COUNT"]:
        n = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    registry = CollectorRegistry(auto_describe=True)
    exporter = PrometheusMetrics(
        app, path=None, registry=registry, group_by="url_rule", excluded_paths=["^/static/", "^/metrics$"]
    )
    services = Services(
        served=ServedIndex(app.config["INDEX"], float(app.config["INDEX_RECHECK_SECONDS"])),
        decider=Decider(app.config["POLICY"]),
        instruments=Instruments(registry),
        exporter=exporter,
    )
    app.extensions[EXTENSION] = services

    security.install_auth(app)
    security.install_headers(app)
    limiter = security.make_limiter(app)
    api = Api(app)
    register_error_handlers(app)
    app.register_error_handler(IndexUnavailableError, _index_unavailable)
    app.register_error_handler(QueryError, _invalid_query)

    v1 = api_blueprint()
    security.limit_blueprint(limiter, app, v1)
    api.register_blueprint(v1)
    ops, page = ops_blueprint(), page_blueprint()
    limiter.exempt(ops)
    limiter.exempt(page)
    api.register_blueprint(ops)
    app.register_blueprint(page)
    found = plugins.discover(app.config["LOAD_ENTRY_POINTS"], app.config["EXTRA_BLUEPRINTS"], app.config)
    for name, blueprint in found.items():
        security.limit_blueprint(limiter, app, blueprint)
        if isinstance(blueprint, flask_smorest.Blueprint):
            api.register_blueprint(blueprint)
        else:
            app.register_blueprint(blueprint)
        services.features.add(name)
        log.info("web feature %r is on", name)
    security.install_cors(app)
    return app


def _index_unavailable(error: IndexUnavailableError) -> Response:
    return problem_response(
        503, str(error), title="Index unavailable", slug="index-unavailable", headers={"Retry-After": "10"}
    )


def _invalid_query(error: QueryError) -> Response:
    return problem_response(422, str(error), slug="invalid-query")
