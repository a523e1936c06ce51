"""Reaching Elasticsearch: the ``es+http(s)://`` URI, the client, and errors that name the fix.

    es+http://host:9200/NAME
    es+https://USER:PASSWORD@host:9243/NAME?media_type=json

`NAME` is the alias that points at the current build. Credentials come from the URI's user
info, or from ``CODECITE_ES_API_KEY`` (an API key) and ``CODECITE_ES_CA_CERTS`` (a CA bundle for
https). ``media_type=json`` sends plain ``application/json`` instead of the versioned media
types of the 9.x client (``application/vnd.elasticsearch+json; compatible-with=9``), for servers
that implement the Elasticsearch REST API without API versioning, such as the OpenSearch-API
emulator the tests run against; it is chosen automatically when the server calls itself
``opensearch``.
"""

from __future__ import annotations

import contextlib
import os
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import elastic_transport
from elastic_transport import Urllib3HttpNode
from elastic_transport.client_utils import DEFAULT
from elasticsearch import ApiError, Elasticsearch, NotFoundError

from indexer.backends.errors import BackendUnavailableError, IndexNotFoundError, IndexStoreError

_VERSIONED = re.compile(r"application/vnd\.elasticsearch\+([a-z-]+); ?compatible-with=\d+")
# Elasticsearch index naming rules: lower case, none of \ / * ? " < > | space , # :, not starting with - _ +
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")
_MEDIA_TYPES = ("auto", "json", "versioned")


class ElasticBackendError(IndexStoreError):
    """Elasticsearch could not be reached or refused a request; the message says what to do."""


@dataclass(frozen=True, slots=True)
class ElasticURI:
    """A parsed ``es+http(s)://[user:password@]host:port/NAME[?media_type=...]``."""

    base_url: str  # http(s)://host:port, no credentials
    name: str  # the alias queries go to
    username: str | None = None
    password: str | None = None
    media_type: str = "auto"  # auto | json | versioned

    @classmethod
    def parse(cls, uri: str) -> ElasticURI:
        """Parse `uri`; raises BackendUnavailableError naming the expected form."""
        form = "es+http://host:9200/NAME (NAME: lower-case letters, digits, '.', '_', '-')"
        if not uri.startswith(("es+http://", "es+https://")):
            raise BackendUnavailableError(f"{uri!r} is not an Elasticsearch index URI; use {form}")
        parts = urllib.parse.urlsplit(uri.removeprefix("es+"))
        name = parts.path.strip("/")
        if not parts.hostname or not _NAME.match(name) or name in (".", ".."):
            raise BackendUnavailableError(f"{uri!r}: give the host and one index name, as in {form}")
        query = urllib.parse.parse_qs(parts.query)
        unknown = sorted(set(query) - {"media_type"})
        media = query.get("media_type", ["auto"])[-1]
        if unknown or media not in _MEDIA_TYPES:
            raise BackendUnavailableError(
                f"{uri!r}: the only URI option is media_type={'|'.join(_MEDIA_TYPES)}"
                + (f" (unknown: {', '.join(unknown)})" if unknown else "")
            )
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 9200)
        return cls(
            base_url=f"{parts.scheme}://{host}:{port}",
            name=name,
            username=urllib.parse.unquote(parts.username) if parts.username else None,
            password=urllib.parse.unquote(parts.password) if parts.password else None,
            media_type=media,
        )

    def display(self) -> str:
        """The URI without credentials, for messages and stats."""
        query = "" if self.media_type == "auto" else f"?media_type={self.media_type}"
        return f"es+{self.base_url}/{self.name}{query}"


class PlainJsonNode(Urllib3HttpNode):
    """Sends ``application/json`` where the client would send its versioned media types."""

    def perform_request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: elastic_transport.HttpHeaders | None = None,
        request_timeout: Any = DEFAULT,
    ) -> Any:  # NodeApiResponse, not exported
        if headers:
            headers = headers.copy()
            for key in ("accept", "content-type"):
                value = headers.get(key)
                if value:
                    headers[key] = _VERSIONED.sub(r"application/\1", value)
        return super().perform_request(
            method, target, body=body, headers=headers, request_timeout=request_timeout
        )


def connect(uri: ElasticURI, request_timeout: float = 60.0) -> Elasticsearch:
    """A client for `uri`, checked with one request (``GET /``)."""

    def client(plain: bool) -> Elasticsearch:
        kwargs: dict[str, Any] = {
            "request_timeout": request_timeout,
            "max_retries": 3,
            "retry_on_timeout": True,
        }
        if uri.username is not None:
            kwargs["basic_auth"] = (uri.username, uri.password or "")
        elif os.environ.get("CODECITE_ES_API_KEY"):
            kwargs["api_key"] = os.environ["CODECITE_ES_API_KEY"]
        if os.environ.get("CODECITE_ES_CA_CERTS"):
            kwargs["ca_certs"] = os.environ["CODECITE_ES_CA_CERTS"]
        if plain:
            kwargs["node_class"] = PlainJsonNode
        return Elasticsearch(uri.base_url, **kwargs)

    es = client(uri.media_type == "json")
    with translate_errors(uri, "connect"):
        info = es.info()
    if uri.media_type == "auto" and info.get("version", {}).get("distribution") == "opensearch":
        es.close()
        es = client(True)
    return es


@contextlib.contextmanager
def translate_errors(uri: ElasticURI, doing: str) -> Iterator[None]:
    """Turn the client's errors into IndexStoreError subclasses whose message names the fix."""
    try:
        yield
    except NotFoundError as err:
        raise IndexNotFoundError(
            f"no codecite index named '{uri.name}' at {uri.base_url} ({_reason(err)}): build one with "
            f"`codecite index build SOURCE... --index {uri.display()}`"
        ) from err
    except ApiError as err:
        hint = {
            401: "give credentials in the URI (es+https://USER:PASSWORD@host/NAME) or CODECITE_ES_API_KEY",
            403: "the user lacks a privilege this needs (index management on the index and alias)",
            429: "the cluster is overloaded: retry later, or lower the bulk chunk size",
            406: "the server rejects this client's media type: add ?media_type=json to the URI",
        }
        raise ElasticBackendError(
            f"Elasticsearch at {uri.base_url} refused to {doing} ({err.meta.status}: {_reason(err)}); "
            + hint.get(err.meta.status, "see the server's log")
        ) from err
    except elastic_transport.TransportError as err:
        raise ElasticBackendError(
            f"cannot reach Elasticsearch at {uri.base_url} ({type(err).__name__}: {err.message}) while trying to "
            f"{doing}: start it, or check the host and port in the --index URI"
        ) from err


def _reason(err: ApiError) -> str:
    body = err.body
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        e = body["error"]
        return f"{e.get('type', '')}: {e.get('reason', '')}".strip(": ")
    return str(err.message)
