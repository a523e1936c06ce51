"""A client for a running codecite API (`codecite check --server URL`), over the HTTP contract.

    request ─► connection error, 429 or 5xx? ─► wait (Retry-After, else exponential backoff) ─► retry

Standard library only (`urllib`). Every request has a timeout; connection errors, 429 and 5xx
answers are retried up to `retries` times, waiting what the server's ``Retry-After`` asks for
(capped by `max_wait`) or ``backoff * 2**attempt`` seconds. Other 4xx answers are not retried: their
``application/problem+json`` detail becomes the RemoteError message. Reports come back as the same
`Report` objects the local index gives (`Report.from_dict` reads the JSON contract).
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from search_api.engine.results import ContractError, Report

log = logging.getLogger(__name__)

_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class RemoteError(Exception):
    """The server could not be reached or refused the request; the message says what to do."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try. Times in seconds."""

    timeout: float = 60.0
    retries: int = 4
    backoff: float = 0.5
    max_wait: float = 30.0

    def __post_init__(self) -> None:
        if self.timeout <= 0 or self.retries < 0 or self.backoff < 0 or self.max_wait < 0:
            raise ValueError("timeout must be positive; retries, backoff and max_wait at least 0")


class RemoteClient:
    """Calls ``/v1/attribute``, ``/v1/attribute/batch``, ``/v1/documents/<blob_id>`` and ``/v1/stats``.

    `token` is sent as a bearer token (servers started with API tokens need one).
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        retry: RetryPolicy = RetryPolicy(),
        user_agent: str = "codecite-check",
    ) -> None:
        parsed = urllib.parse.urlsplit(base_url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise RemoteError(f"--server {base_url!r} is not an http(s) URL: give e.g. http://127.0.0.1:8000")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.retry = retry
        self.user_agent = user_agent
        self._sleep = time.sleep

    def attribute(
        self,
        code: str,
        language: str | None = None,
        min_match: int | None = None,
        min_confidence: float | None = None,
    ) -> Report:
        body: dict[str, Any] = {"code": code, **_tuning(min_match, min_confidence)}
        if language:
            body["language"] = language
        return report_from_dict(self.request("POST", "/v1/attribute", body))

    def attribute_batch(
        self,
        items: Iterable[tuple[str, str | None]],
        min_match: int | None = None,
        min_confidence: float | None = None,
    ) -> list[Report | RemoteError]:
        """One Report per (code, language), in order; an item the server refused is a RemoteError."""
        body: dict[str, Any] = {
            "items": [
                {"id": i, "code": code, **({"language": lang} if lang else {})}
                for i, (code, lang) in enumerate(items)
            ],
            **_tuning(min_match, min_confidence),
        }
        answer = self.request("POST", "/v1/attribute/batch", body)
        results = answer.get("results") if isinstance(answer, dict) else None
        if not isinstance(results, list) or len(results) != len(body["items"]):
            raise RemoteError(
                f"{self.base_url}/v1/attribute/batch answered without one result per item: "
                "is this a codecite server of the same version?"
            )
        out: list[Report | RemoteError] = []
        for result in results:
            if "error" in result:
                out.append(RemoteError(str(result["error"]), result.get("status")))
            else:
                out.append(report_from_dict(result))
        return out

    def document(self, blob_id: str) -> dict[str, Any] | None:
        """An indexed file with its content, or None when the server has no such blob."""
        try:
            return self.request("GET", f"/v1/documents/{urllib.parse.quote(blob_id, safe='')}")
        except RemoteError as err:
            if err.status == 404:
                return None
            raise

    def stats(self) -> dict[str, Any]:
        return self.request("GET", "/v1/stats")

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """JSON in, JSON out, with retries. Raises RemoteError."""
        url = self.base_url + path
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {"Accept": "application/json", "User-Agent": self.user_agent}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        started = time.monotonic()
        for attempt in range(self.retry.retries + 1):
            last = attempt == self.retry.retries
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(url, data, headers, method=method), timeout=self.retry.timeout
                ) as response:
                    return _json(response.read(), url)
            except urllib.error.HTTPError as err:
                if err.code not in _RETRY_STATUS or last:
                    raise RemoteError(_problem_message(err, url, attempt + 1), err.code) from None
                wait = _retry_after(err.headers.get("Retry-After"), self.retry.max_wait)
                log.info("%s %s: HTTP %d, retrying", method, url, err.code)
            except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as err:
                if last:
                    raise RemoteError(
                        _unreachable(self.base_url, err, attempt + 1, time.monotonic() - started)
                    ) from None
                wait = None
                log.info("%s %s: %s, retrying", method, url, err)
            self._sleep(
                min(wait if wait is not None else self.retry.backoff * 2**attempt, self.retry.max_wait)
            )
        raise AssertionError("unreachable")  # pragma: no cover


def report_from_dict(d: Mapping[str, Any]) -> Report:
    """A Report from its JSON form (the HTTP contract), or a RemoteError that says what is wrong."""
    try:
        return Report.from_dict(d)
    except ContractError as err:
        raise RemoteError(
            f"the server's answer is {err}: is --server a codecite API of the same version?"
        ) from None


def _json(raw: bytes, url: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise RemoteError(
            f"{url} did not answer with JSON: is --server the base URL of a codecite API "
            "(e.g. http://host:8000, without /v1)?"
        ) from None


def _retry_after(value: str | None, cap: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return min(max(when.timestamp() - time.time(), 0.0), cap)


def _problem_message(err: urllib.error.HTTPError, url: str, attempts: int) -> str:
    try:
        problem = json.loads(err.read() or b"{}")
    except ValueError:
        problem = {}
    detail = problem.get("detail") or problem.get("title") if isinstance(problem, dict) else None
    tried = f" after {attempts} tries" if attempts > 1 else ""
    hint = {
        401: " (set CODECITE_TOKEN to an API token of the server)",
        404: " (is --server the base URL, without /v1?)",
    }.get(err.code, "")
    return f"{url} answered HTTP {err.code}{tried}: {detail or err.reason}{hint}"


def _unreachable(base_url: str, err: BaseException, attempts: int, seconds: float) -> str:
    reason = getattr(err, "reason", err)
    return (
        f"cannot reach the codecite server at {base_url} ({reason}; {attempts} "
        f"tr{'ies' if attempts != 1 else 'y'} in {seconds:.1f} s): check --server, or start one with "
        "`codecite serve --index DIR`"
    )


class RemoteAttributor:
    """Attributes queries through a server's batch endpoint, a few at a time (`scan` calls it)."""

    def __init__(
        self,
        client: RemoteClient,
        min_match: int | None = None,
        min_confidence: float | None = None,
        max_items: int = 50,
        max_bytes: int = 2_000_000,
    ) -> None:
        self.client = client
        self.min_match = min_match
        self.min_confidence = min_confidence
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._stats: dict[str, Any] | None = None

    def __call__(self, queries: Sequence[tuple[str, str]]) -> list[Report | str]:
        out: list[Report | str] = []
        for chunk in self._chunks(queries):
            out.extend(
                r if isinstance(r, Report) else str(r)
                for r in self.client.attribute_batch(chunk, self.min_match, self.min_confidence)
            )
        return out

    def source_text(self, blob_id: str) -> str | None:
        document = self.client.document(blob_id)
        return str(document.get("content") or "") if document else None

    def describe(self) -> dict[str, object]:
        """The server and the index it serves (asked once: the first call fails fast when the server
        cannot be reached)."""
        if self._stats is None:
            self._stats = self.client.stats()
        return {
            "server": self.client.base_url,
            "id": self._stats.get("index_id"),
            "documents": self._stats.get("documents"),
        }

    def close(self) -> None:
        """Nothing to release (one connection per request)."""

    def _chunks(self, queries: Sequence[tuple[str, str]]) -> Iterator[list[tuple[str, str]]]:
        chunk: list[tuple[str, str]] = []
        size = 0
        for query in queries:
            n = len(query[0].encode("utf-8", "surrogatepass"))
            if chunk and (len(chunk) >= self.max_items or size + n > self.max_bytes):
                yield chunk
                chunk, size = [], 0
            chunk.append(query)
            size += n
        if chunk:
            yield chunk


def _tuning(min_match: int | None, min_confidence: float | None) -> dict[str, Any]:
    """The request fields that change the server's query options (only those set: an older server
    refuses a field it does not know, and the check then fails rather than passing unasked)."""
    tuning: dict[str, Any] = {}
    if min_match is not None:
        tuning["min_match"] = min_match
    if min_confidence is not None:
        tuning["min_confidence"] = min_confidence
    return tuning
