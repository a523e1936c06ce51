"""flask-smorest's `Api`, made to speak problem+json: in the OpenAPI document and on the wire.

`problems(*statuses)` documents a view's error responses; each refers to a shared response whose
body is the `Problem` schema with media type ``application/problem+json``.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from typing import Any

import flask_smorest
from flask_smorest import Blueprint

from search_api.web.problems import PROBLEM_JSON, handle_http_exception
from search_api.web.schemas import ProblemSchema


class Api(flask_smorest.Api):
    """Errors as RFC 9457 problems, documented as such."""

    DEFAULT_ERROR_RESPONSE_NAME = "PROBLEM"

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
