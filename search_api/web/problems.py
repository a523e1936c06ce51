"""One error shape for the whole HTTP surface: RFC 9457 problem details.

Every error — ours, Werkzeug's (404, 405, 413, ...), Flask-Limiter's 429, validation errors — leaves
as ``application/problem+json`` with `type`, `title`, `status` and a `detail` that names the fix,
and keeps the headers the status needs (``Allow``, ``Retry-After``, ``WWW-Authenticate``).
Library code raises; only this module serializes.
"""

from __future__ import annotations

import http
import json
import logging
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:codecite:problem:"

# Headers of an HTTPException worth keeping on the problem response.
_KEPT_HEADERS = (
    "Allow",
    "Retry-After",
    "WWW-Authenticate",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)

# What to do about Werkzeug's and Flask-Limiter's errors, which carry no codecite detail.
_FIXES = {
    400: "the request could not be read: send JSON with Content-Type: application/json (see /openapi.json)",
    404: "no such resource: see /openapi.json for the endpoints",
    405: "this method is not allowed here: use one of the methods in the Allow header",
    413: "the request body is larger than the server accepts: send one file or a part of it at a time",
    429: "too many requests: wait for the number of seconds in the Retry-After header, then retry",
    500: "the server failed unexpectedly; the server log has the details. Retry, or report it with the time",
}


class ProblemError(HTTPException):
    """Raise to answer with a problem: `status`, a short `title`, a `detail` that says what to do.

    `slug` names the problem type (``urn:codecite:problem:<slug>``); `extra` adds members such as
    validation `errors`; `headers` are sent with the response.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        slug: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(description=detail)
        self.code = status
        self.title = title or http.HTTPStatus(status).phrase
        self.slug = slug
        self.extra = extra
        self.extra_headers = headers or {}

    def get_headers(self, environ=None, scope=None) -> list[tuple[str, str]]:
        return list(self.extra_headers.items())


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    """The problem+json response itself."""
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug if slug else "about:blank",
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
    }
    try:
        body["instance"] = request.path
    except RuntimeError:  # outside a request
        pass
    body.update(extra)
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=PROBLEM_JSON)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def handle_http_exception(error: HTTPException) -> Response:
    """Any HTTPException (ours, Werkzeug's, Flask-Limiter's, flask-smorest's) as problem+json."""
    status = error.code or 500
    headers = {k: v for k, v in error.get_headers() if k in _KEPT_HEADERS}
    if isinstance(error, ProblemError):
        return problem_response(
            status,
            error.description or "",
            title=error.title,
            slug=error.slug,
            headers=headers,
            **error.extra,
        )
    extra: dict[str, Any] = {}
    data = getattr(error, "data", None) or {}
    messages = data.get("errors") or data.get("messages")
    if messages:  # webargs / marshmallow validation errors
        extra["errors"] = messages
    if status == 429:
        headers.setdefault("Retry-After", str(_retry_after(error)))
        detail = f"rate limit exceeded ({error.description}): wait {headers['Retry-After']} s, then retry"
    elif status == 405:
        allowed = headers.get("Allow", "")
        detail = f"{request.method} is not allowed on {request.path}: use {allowed or 'another method'}"
    elif status == 404:
        detail = f"no such resource: {request.path} (see /openapi.json for the endpoints)"
    elif status >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            log.error("unhandled error on %s %s", request.method, request.path, exc_info=original)
        detail = _FIXES[500]
    else:
        detail = _FIXES.get(status) or error.description or _phrase(status)
    return problem_response(status, detail, headers=headers, **extra)


def handle_unexpected(error: Exception) -> Response:
    """A bug: log it with the traceback, answer 500 without one."""
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=error)
    return problem_response(500, _FIXES[500])


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)


def _retry_after(error: HTTPException) -> int:
    limit = getattr(error, "limit", None)
    try:
        return max(int(limit.limit.get_expiry()), 1) if limit is not None else 60
    except (AttributeError, TypeError, ValueError):
        return 60


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"
