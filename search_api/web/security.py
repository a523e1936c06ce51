"""Who may call /v1 (optional bearer tokens), how often (Flask-Limiter), from where (CORS), and the
response headers that keep the page safe (CSP and friends)."""

from __future__ import annotations

import hmac

from flask import Flask, Response, current_app, request
from flask_cors import CORS
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from search_api.web.config import token_digest
from search_api.web.inputs import json_body
from search_api.web.problems import ProblemError

API_PREFIX = "/v1/"
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def install_auth(app: Flask) -> None:
    """With API_TOKENS set, every /v1 request needs ``Authorization: Bearer <token>`` (401 otherwise)."""
    digests: list[bytes] = app.config["API_TOKEN_DIGESTS"]
    if not digests:
        return

    @app.before_request
    def require_token() -> None:
        if not request.path.startswith(API_PREFIX) or request.method == "OPTIONS":
            return
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ProblemError(
                401,
                "this server needs an API token: send the header Authorization: Bearer <token>",
                slug="unauthorized",
                headers={"WWW-Authenticate": 'Bearer realm="codecite"'},
            )
        given = token_digest(token.strip())
        if not any(hmac.compare_digest(given, d) for d in digests):
            raise ProblemError(
                401,
                "the API token is not valid: check it, or ask the operator for a new one",
                slug="invalid-token",
                headers={"WWW-Authenticate": 'Bearer realm="codecite", error="invalid_token"'},
            )


def install_headers(app: Flask) -> None:
    @app.after_request
    def security_headers(response: Response) -> Response:
        for name, value in _HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def install_cors(app: Flask) -> None:
    """CORS on /v1 for the configured origins only (off when CORS_ORIGINS is empty)."""
    origins = app.config["CORS_ORIGINS"]
    if origins:
        CORS(
            app,
            resources={r"/v1/*": {"origins": origins}},
            allow_headers=["Authorization", "Content-Type"],
            expose_headers=["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"],
            methods=["GET", "POST", "OPTIONS"],
            max_age=600,
            supports_credentials=False,
        )


def make_limiter(app: Flask) -> Limiter:
    """Flask-Limiter bound to `app`; limits are put on blueprints with `limit_blueprint`."""
    return Limiter(_client_key, app=app, key_prefix="codecite")


def limit_blueprint(limiter: Limiter, app: Flask, blueprint) -> None:
    """RATELIMIT_API on every route of `blueprint`; a batch costs one unit per snippet."""
    limit = app.config["RATELIMIT_API"]
    limiter.limit(lambda: limit, cost=_request_cost)(blueprint)


def _request_cost() -> int:
    if request.endpoint == "v1.attribute_batch":
        try:
            body = json_body()
        except ProblemError:  # the view answers with the problem; count the request once
            return 1
        items = body.get("items") if isinstance(body, dict) else None
        if isinstance(items, list):
            return max(1, len(items))
    return 1


def _client_key() -> str:
    """Rate-limit by API token when tokens are checked (a digest, never the token), else by client address."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if current_app.config["API_TOKEN_DIGESTS"] and scheme.lower() == "bearer" and token.strip():
        return "token:" + token_digest(token.strip()).hex()[:32]
    return "addr:" + (get_remote_address() or "unknown")
