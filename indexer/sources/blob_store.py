"""File contents fetched by blob id from an S3-compatible store: Software Heritage's bucket, as The
Stack v2's dataset cards show (``s3://softwareheritage/content/{blob_id}``, gzip-compressed,
anonymous access), or any endpoint that serves the same keys.

    blob ids ─► local cache? ─► GET (bounded concurrency, retried with backoff) ─► gunzip
             ─► check sha1_git == blob id ─► cache ─► bytes, in the order asked

Resumable: every fetched blob (and every blob the store does not have) is kept in a local cache
keyed by blob id, so a second run fetches nothing again. A blob the store does not have is a
`BlobMissing`, never an error; a blob that still fails after the retries is a `BlobFailed` with
the reason. boto3 is the ``s3`` extra, imported when a store is opened. Request-level retries
(5xx, throttling, timeouts) are botocore's "standard" mode, with exponential backoff and jitter;
a body cut short or not matching its id is retried here the same number of times.

Settings come from `BlobStoreSettings` or ``CODECITE_S3_*`` variables (see `from_env`).
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import tempfile
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar

from indexer.records import git_blob_id
from indexer.sources.base import SourceError

log = logging.getLogger(__name__)

T = TypeVar("T")
SWH_BUCKET = "softwareheritage"
_BLOB_ID = re.compile(r"[0-9a-f]{40}")
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_OFF = frozenset({"", "0", "off", "none", "false", "no"})


@dataclass(frozen=True, slots=True)
class BlobStoreSettings:
    """Where contents are fetched from and how.

    `endpoint_url` None is AWS S3 (where Software Heritage's bucket lives, region `region`);
    `anonymous` sends unsigned requests (the SWH bucket allows them), else boto3's usual
    credentials apply. `key_prefix` + blob id is the key. `concurrency` requests run at once;
    `attempts` tries per blob (first included), with backoff from `backoff_s` doubling up to
    `max_backoff_s`; `timeout_s` per connect and per read. `cache_dir` None: no cache (nothing
    resumes). `verify`: a blob's sha1_git must equal its id.
    """

    endpoint_url: str | None = None
    bucket: str = SWH_BUCKET
    key_prefix: str = "content/"
    region: str = "us-east-1"
    anonymous: bool = True
    concurrency: int = 16
    attempts: int = 5
    backoff_s: float = 0.5
    max_backoff_s: float = 20.0
    timeout_s: float = 60.0
    cache_dir: Path | None = field(default_factory=lambda: default_cache_dir())
    verify: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.concurrency <= 1024:
            raise ValueError(f"blob store concurrency={self.concurrency}: use 1 to 1024 requests at once")
        if not 1 <= self.attempts <= 100:
            raise ValueError(f"blob store attempts={self.attempts}: use 1 (no retry) to 100")
        if self.backoff_s < 0 or self.max_backoff_s < self.backoff_s or self.timeout_s <= 0:
            raise ValueError("blob store timings need 0 <= backoff_s <= max_backoff_s and timeout_s > 0")
        if not self.bucket:
            raise ValueError("blob store bucket is empty: name the bucket (CODECITE_S3_BUCKET)")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> BlobStoreSettings:
        """Defaults, then ``CODECITE_S3_<FIELD>`` variables (``CODECITE_S3_ENDPOINT``,
        ``CODECITE_S3_BUCKET``, ``CODECITE_S3_CONCURRENCY``, ``CODECITE_S3_CACHE=off`` ...), then
        `overrides` that are not None. Raises ValueError naming a variable that does not parse."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        aliases = {"endpoint_url": "ENDPOINT", "cache_dir": "CACHE", "key_prefix": "PREFIX"}
        for f in fields(cls):
            name = f"CODECITE_S3_{aliases.get(f.name, f.name.upper())}"
            raw = env.get(name)
            if raw is not None:
                values[f.name] = _parse_setting(f.name, raw, name)
        values |= {k: v for k, v in overrides.items() if v is not None}
        return cls(**values)


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/codecite/blobs`` (``~/.cache/codecite/blobs``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "codecite" / "blobs"


def _parse_setting(name: str, raw: str, variable: str) -> Any:
    try:
        if name in ("concurrency", "attempts"):
            return int(raw)
        if name in ("backoff_s", "max_backoff_s", "timeout_s"):
            return float(raw)
        if name in ("anonymous", "verify"):
            return raw.strip().lower() not in _OFF
        if name == "cache_dir":
            return None if raw.strip().lower() in _OFF else Path(raw).expanduser()
        if name == "endpoint_url":
            return raw.strip() or None
    except ValueError:
        raise ValueError(f"{variable}={raw!r} does not parse as the {name} setting") from None
    return raw


@dataclass(frozen=True, slots=True)
class BlobMissing:
    """The store has no blob with this id (a counted skip, never fatal)."""

    blob_id: str


@dataclass(frozen=True, slots=True)
class BlobFailed:
    """Every attempt to fetch the blob failed; `reason` says how the last one did."""

    blob_id: str
    reason: str


Fetched = bytes | BlobMissing | BlobFailed


@dataclass(slots=True)
class FetchStats:
    """What a store did: blobs asked for, answered from the cache, fetched, missing, failed;
    requests sent (retries included) and compressed bytes received."""

    asked: int = 0
    cached: int = 0
    fetched: int = 0
    missing: int = 0
    failed: int = 0
    requests: int = 0
    bytes_received: int = 0

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class BlobCache:
    """Blobs on local disk, keyed by id: ``DIR/ab/abcdef...`` holds the gzip bytes as the store sent
    them, ``DIR/ab/abcdef....missing`` marks a blob the store does not have. Writes are atomic
    (a temporary file renamed), so an interrupted run leaves no half blob."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, blob_id: str, suffix: str = "") -> Path:
        return self.directory / blob_id[:2] / (blob_id + suffix)

    def get(self, blob_id: str) -> bytes | BlobMissing | None:
        """The cached gzip bytes, `BlobMissing` if known missing, None if not cached."""
        try:
            return self._path(blob_id).read_bytes()
        except FileNotFoundError:
            return BlobMissing(blob_id) if self._path(blob_id, ".missing").exists() else None
        except OSError as err:
            log.warning("cannot read cached blob %s (%s): fetching it again", blob_id, err)
            return None

    def put(self, blob_id: str, data: bytes | BlobMissing) -> None:
        missing = isinstance(data, BlobMissing)
        path = self._path(blob_id, ".missing" if missing else "")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as out:
                out.write(b"" if missing else data)  # type: ignore[arg-type]
            os.replace(tmp, path)
        except OSError as err:  # a full disk must not stop the build: the blob is just not cached
            log.warning("cannot cache blob %s in %s (%s)", blob_id, self.directory, err)


class BlobStore:
    """Fetches blobs by id (see the module docstring); thread-safe."""

    def __init__(self, settings: BlobStoreSettings, client: Any | None = None) -> None:
        self.settings = settings
        self.stats = FetchStats()
        self._lock = threading.Lock()
        self._cache = BlobCache(settings.cache_dir) if settings.cache_dir else None
        self._client = client or _s3_client(settings)

    @property
    def where(self) -> str:
        s = self.settings
        return f"s3://{s.bucket}/{s.key_prefix} at {s.endpoint_url or 'AWS S3'}"

    def fetch(self, blob_id: str) -> Fetched:
        """The content of blob `blob_id` (decompressed), or why there is none."""
        self._count(asked=1)
        if not _BLOB_ID.fullmatch(blob_id):
            return BlobFailed(blob_id, "not a blob id (40 lower-case hex digits)")
        cached = self._cache.get(blob_id) if self._cache else None
        if cached is not None:
            found = self._decoded(blob_id, cached)
            if not isinstance(found, BlobFailed):
                self._count(cached=1, missing=int(isinstance(found, BlobMissing)))
                return found
            log.warning("cached blob %s is damaged (%s): fetching it again", blob_id, found.reason)
        result = self._fetch_remote(blob_id)
        self._count(
            fetched=int(isinstance(result, bytes)),
            missing=int(isinstance(result, BlobMissing)),
            failed=int(isinstance(result, BlobFailed)),
        )
        return result

    def fetch_ordered(
        self, items: Iterable[T], blob_of: Callable[[T], str | None]
    ) -> Iterator[tuple[T, Fetched | None]]:
        """(item, its blob's content) for every item, in order, with at most `concurrency`
        fetches in flight (and a bounded window of results waiting: memory stays bounded).
        Items whose `blob_of` is None are passed through with None."""
        window = self.settings.concurrency * 4
        pending: deque[tuple[T, Future[Fetched] | None]] = deque()
        with ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix="blob-fetch") as pool:
            for item in items:
                blob_id = blob_of(item)
                pending.append((item, pool.submit(self.fetch, blob_id) if blob_id else None))
                while len(pending) > window:
                    yield _resolved(pending.popleft())
            while pending:
                yield _resolved(pending.popleft())

    def _fetch_remote(self, blob_id: str) -> Fetched:
        s = self.settings
        last: BlobFailed | None = None
        for attempt in range(s.attempts):
            if attempt:
                time.sleep(min(s.max_backoff_s, s.backoff_s * 2 ** (attempt - 1)))
            raw = self._get(blob_id)
            if isinstance(raw, BlobFailed) and raw.reason.startswith("request failed"):
                return raw  # botocore already retried the request `attempts` times
            if isinstance(raw, BlobFailed):
                last = raw
                continue
            found = self._decoded(blob_id, raw)
            if isinstance(found, BlobFailed):
                last = found
                continue
            if self._cache:
                self._cache.put(blob_id, raw)
            return found
        assert last is not None
        return replace(last, reason=f"{last.reason} (after {s.attempts} attempts)")

    def _get(self, blob_id: str) -> bytes | BlobMissing | BlobFailed:
        """One GET (botocore retries it on 5xx and throttling): the body as sent."""
        from botocore.exceptions import BotoCoreError, ClientError

        s = self.settings
        try:
            response = self._client.get_object(Bucket=s.bucket, Key=s.key_prefix + blob_id)
            self._count(requests=1 + int(response["ResponseMetadata"].get("RetryAttempts", 0)))
            body = response["Body"].read()
        except ClientError as err:
            meta = err.response.get("ResponseMetadata", {})
            self._count(requests=1 + int(meta.get("RetryAttempts", 0)))
            code = str(err.response.get("Error", {}).get("Code", ""))
            if code in _MISSING_CODES or meta.get("HTTPStatusCode") == 404:
                return BlobMissing(blob_id)
            return BlobFailed(blob_id, f"request failed: {code or 'error'} from {self.where}: {err}")
        except BotoCoreError as err:  # connection errors (after botocore's retries), a body cut short
            self._count(requests=1)
            streaming = "read" in type(err).__name__.lower() or "Streaming" in type(err).__name__
            prefix = "body cut short" if streaming else "request failed"
            return BlobFailed(blob_id, f"{prefix}: {err}")
        self._count(bytes_received=len(body))
        return body

    def _decoded(self, blob_id: str, raw: bytes | BlobMissing) -> Fetched:
        if isinstance(raw, BlobMissing):
            return raw
        try:
            data = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        except (OSError, EOFError, zlib.error) as err:
            return BlobFailed(blob_id, f"gzip data is damaged ({err})")
        if self.settings.verify and git_blob_id(data) != blob_id:
            return BlobFailed(blob_id, "content does not match its blob id (sha1_git)")
        return data

    def _count(self, **deltas: int) -> None:
        with self._lock:
            for name, n in deltas.items():
                setattr(self.stats, name, getattr(self.stats, name) + n)


def _resolved(entry: tuple[T, Future[Fetched] | None]) -> tuple[T, Fetched | None]:
    item, future = entry
    return item, (future.result() if future is not None else None)


def require_s3() -> None:
    """Raise SourceError naming the extra when boto3 is not installed (checked when a dataset that
    needs fetching is opened, not in the middle of a build)."""
    try:
        import boto3  # noqa: F401
    except ImportError:
        raise SourceError(
            "fetching The Stack v2's contents by blob id needs boto3: pip install 'codecite[s3]'"
        ) from None


def _s3_client(settings: BlobStoreSettings) -> Any:
    """A boto3 S3 client for `settings` (botocore's standard retries, a connection per worker)."""
    require_s3()
    import boto3
    from botocore import UNSIGNED
    from botocore.config import Config

    config = Config(
        signature_version=UNSIGNED if settings.anonymous else None,
        retries={"max_attempts": settings.attempts, "mode": "standard"},
        max_pool_connections=settings.concurrency,
        connect_timeout=settings.timeout_s,
        read_timeout=settings.timeout_s,
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=settings.endpoint_url, region_name=settings.region, config=config
    )
