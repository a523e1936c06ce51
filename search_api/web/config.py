"""The web app's settings: named defaults, then ``CODECITE_*`` environment variables, then a mapping.

Every key can be set from the environment with the ``CODECITE_`` prefix (values are JSON-decoded
when they parse as JSON, so ``CODECITE_MAX_CONTENT_LENGTH=1048576`` is an int and
``CODECITE_API_TOKENS='["a","b"]'`` a list; a comma-separated string works for lists too).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from flask import Flask


class Defaults:
    """Named defaults. Sizes in bytes, times in seconds."""

    # Index URI: a directory or es+http(s)://host:port/alias. Opened lazily, once per process.
    INDEX: str | None = None
    # Seconds between checks for a newer index generation (rebuilt indexes are served without restart).
    INDEX_RECHECK_SECONDS: float = 5.0
    # Bearer tokens accepted on /v1 (empty: no authentication). A list, or a comma-separated string.
    API_TOKENS: list[str] | str = ""
    # Origins allowed to call /v1 from a browser (empty: CORS off; the page itself is same-origin).
    CORS_ORIGINS: list[str] | str = ""
    # Request bodies larger than this are refused with 413 (a query is at most 4 MB of code).
    MAX_CONTENT_LENGTH: int = 8 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE: int = 8 * 1024 * 1024
    # Snippets per POST /v1/attribute/batch.
    BATCH_MAX_ITEMS: int = 100
    # Policy file (TOML/JSON) applied to every /v1/attribute answer; a request's "policy" overrides it.
    POLICY: str | None = None
    # Rate limits (Flask-Limiter). RATELIMIT_API applies to every /v1 endpoint; health, metrics,
    # the page and its assets are exempt. memory:// counts per process: use redis:// with workers.
    RATELIMIT_ENABLED: bool = True
    RATELIMIT_API: str = "120 per minute"
    RATELIMIT_STORAGE_URI: str = "memory://"
    RATELIMIT_HEADERS_ENABLED: bool = True
    # Trusted reverse proxies in front of the app (X-Forwarded-For hops to honour).
    PROXY_COUNT: int = 0
    # Extra blueprints besides the `codecite.web_blueprints` entry points: name -> factory or Blueprint.
    EXTRA_BLUEPRINTS: Mapping[str, Any] = {}
    LOAD_ENTRY_POINTS: bool = True
    # flask-smorest / OpenAPI.
    API_TITLE: str = "codecite"
    API_VERSION: str = "v1"
    OPENAPI_VERSION: str = "3.1.0"
    OPENAPI_URL_PREFIX: str = "/"
    OPENAPI_JSON_PATH: str = "openapi.json"
    JSON_SORT_KEYS: bool = False


def load_config(app: Flask, config: Mapping[str, Any] | None) -> None:
    """Defaults, then ``CODECITE_*`` environment variables, then `config`; then normalise and validate."""
    app.config.from_object(Defaults)
    app.config.from_prefixed_env("CODECITE")
    if config:
        app.config.update(config)
    for key in ("API_TOKENS", "CORS_ORIGINS"):
        app.config[key] = as_list(app.config[key], key)
    problems = []
    for key in ("MAX_CONTENT_LENGTH", "BATCH_MAX_ITEMS"):
        value = app.config[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            problems.append(f"{key}={value!r} must be a positive integer")
    if (
        not isinstance(app.config["INDEX_RECHECK_SECONDS"], int | float)
        or app.config["INDEX_RECHECK_SECONDS"] < 0
    ):
        problems.append(
            f"INDEX_RECHECK_SECONDS={app.config['INDEX_RECHECK_SECONDS']!r} must be a number >= 0"
        )
    if any(len(t) < 16 for t in app.config["API_TOKENS"]):
        problems.append(
            "API_TOKENS: every token must have at least 16 characters (use `openssl rand -hex 32`)"
        )
    if problems:
        raise ValueError("invalid web configuration: " + "; ".join(problems))
    # Keep only digests of the tokens in memory.
    app.config["API_TOKEN_DIGESTS"] = [token_digest(t) for t in app.config.pop("API_TOKENS")]
    app.config["API_TOKENS"] = []


def check_settings(config: Mapping[str, Any] | None) -> None:
    """Raise ValueError, as `load_config` would, for invalid settings (``CODECITE_*`` variables
    included), without making the app: a server checks them before it announces itself."""
    load_config(Flask("codecite-settings"), config)


def as_list(value: object, key: str) -> list[str]:
    """A list of strings from a list or a comma-separated string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple | set | frozenset) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise ValueError(
        f"invalid web configuration: {key} must be a list of strings or a comma-separated string"
    )


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()
