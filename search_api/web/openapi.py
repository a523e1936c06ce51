"""flask-smorest's `Api`, made to speak problem+json: in the OpenAPI document and on the wire.

`problems(*statuses)` documents a view's error responses; each refers to a shared response whose
body is the `Problem` schema with media type ``application/problem+json``. With API tokens
configured, the document declares the bearer scheme (``components.securitySchemes``) and every
/v1 operation requires it.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from typing import Any

import flask_smorest
from apispec import BasePlugin
from flask import Flask
from flask_smorest import Blueprint

from search_api.web.problems import PROBLEM_JSON, handle_http_exception
from search_api.web.schemas import ProblemSchema

BEARER_SCHEME = "bearerAuth"


class _BearerOnApi(BasePlugin):
    """Marks every operation under `prefix` as needing the bearer token (and able to answer 401)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def operation_helper(
        self, path: str | None = None, operations: dict | None = None, **kwargs: Any
    ) -> None:
        if not path or not path.startswith(self.prefix) or not operations:
            return
        for operation in operations.values():
            operation.setdefault("security", [{BEARER_SCHEME: []}])
            operation.setdefault("responses", {}).setdefault("401", http.HTTPStatus(401).name)


class Api(flask_smorest.Api):
    """Errors as RFC 9457 problems, documented as such; the bearer scheme when tokens are required."""

    DEFAULT_ERROR_RESPONSE_NAME = "PROBLEM"

    def __init__(self, app: Flask, api_prefix: str = "/v1/") -> None:
        self._tokens = bool(app.config.get("API_TOKEN_DIGESTS"))
        plugins = [_BearerOnApi(api_prefix)] if self._tokens else []
        super().__init__(app, spec_kwargs={"extra_plugins": plugins})
        if self._tokens:
            self.spec.components.security_scheme(
                BEARER_SCHEME,
                {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token of this server: Authorization: Bearer <token>",
                },
            )

    def handle_http_exception(self, error):
        return handle_http_exception(error)

    def _register_responses(self) -> None:
        self.spec.components.schema("Problem", schema=ProblemSchema)
        for status in http.HTTPStatus:
            if status >= 400:
                self.spec.components.response(status.name, _problem(status.phrase), lazy=True)
        self.spec.components.response(self.DEFAULT_ERROR_RESPONSE_NAME, _problem("An error, as a problem"))


def problems(blp: Blueprint, *statuses: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Document the problem responses a view can give (besides the default)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        for status in statuses:
            view = blp.alt_response(status, response=http.HTTPStatus(status).name)(view)
        return view

    return decorate


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": "Problem"}}}
