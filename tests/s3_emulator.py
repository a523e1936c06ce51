"""An S3 API to fetch contents from, for the tests and the S3 ingest benchmark.

By default moto's server mode (``ThreadedMotoServer``, a real HTTP server speaking the S3 API)
holds a bucket named like Software Heritage's, readable anonymously, with blobs stored as The
Stack v2's cards describe (``content/{sha1_git}``, gzip-compressed). With ``CODECITE_S3_ENDPOINT``
(and ``CODECITE_S3_BUCKET``; credentials from AWS's usual variables) the same helpers use that
real endpoint instead, under a fresh key prefix that is deleted afterwards.

`FaultProxy` sits in front of the emulator: it answers 5xx to the first tries of every key and can
add latency per request; it also counts the requests that reach the store.
"""

from __future__ import annotations

import gzip
import http.client
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from indexer.records import git_blob_id
from indexer.sources.blob_store import BlobStoreSettings

BUCKET = "softwareheritage"


@dataclass
class S3Target:
    """Where test blobs live: an endpoint, a bucket and a key prefix (``content/`` on the emulator)."""

    endpoint: str
    bucket: str
    prefix: str
    emulator: bool
    client: Any
    anonymous: bool
    keys: list[str] = field(default_factory=list)

    def put(self, content: bytes, blob_id: str | None = None) -> str:
        """Store `content` gzip-compressed under its sha1_git (or `blob_id`); returns the id."""
        blob_id = blob_id or git_blob_id(content)
        key = self.prefix + blob_id
        self.client.put_object(Bucket=self.bucket, Key=key, Body=gzip.compress(content))
        self.keys.append(key)
        return blob_id

    def settings(
        self, cache_dir: Path | None, endpoint: str | None = None, **overrides: Any
    ) -> BlobStoreSettings:
        """Blob store settings reading this target (through `endpoint`, e.g. a proxy, if given)."""
        values: dict[str, Any] = {
            "endpoint_url": endpoint or self.endpoint,
            "bucket": self.bucket,
            "key_prefix": self.prefix,
            "anonymous": self.anonymous,
            "cache_dir": cache_dir,
            "backoff_s": 0.01,
        }
        return BlobStoreSettings(**(values | overrides))

    def cleanup(self) -> None:
        for i in range(0, len(self.keys), 1000):
            chunk = [{"Key": k} for k in self.keys[i : i + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk})
        self.keys.clear()


def _client(endpoint: str, **kwargs: Any) -> Any:
    import boto3

    return boto3.session.Session().client("s3", endpoint_url=endpoint, region_name="us-east-1", **kwargs)


def target_from_env() -> S3Target | None:
    """The real endpoint ``CODECITE_S3_ENDPOINT`` names (None when unset)."""
    endpoint = os.environ.get("CODECITE_S3_ENDPOINT")
    if not endpoint:
        return None
    bucket = os.environ.get("CODECITE_S3_BUCKET", BUCKET)
    anonymous = os.environ.get("CODECITE_S3_ANONYMOUS", "0").lower() not in ("", "0", "off", "false", "no")
    prefix = f"codecite-test-{uuid.uuid4().hex[:10]}/content/"
    return S3Target(endpoint, bucket, prefix, False, _client(endpoint), anonymous)


class MotoS3:
    """moto's S3 server on a free local port, with a public-read bucket like Software Heritage's."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        client = _client(self.url, aws_access_key_id="testing", aws_secret_access_key="testing")
        client.create_bucket(Bucket=BUCKET)
        public = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Resource": f"arn:aws:s3:::{BUCKET}/*",
                }
            ],
        }
        client.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(public))
        self.target = S3Target(self.url, BUCKET, "content/", True, client, anonymous=True)

    def stop(self) -> None:
        self.server.stop()


class FaultProxy:
    """An HTTP proxy to `upstream` that fails the first `fail_first` GETs of every path with a
    5xx (500 and 503 in turn), waits `latency_s` before each request, and counts requests."""

    def __init__(self, upstream: str, fail_first: int = 0, latency_s: float = 0.0) -> None:
        self.upstream = urlsplit(upstream)
        self.fail_first = fail_first
        self.latency_s = latency_s
        self.requests = 0
        self.failures = 0
        self._tries: dict[str, int] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _forward(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """GET `path` from the upstream over this thread's kept-alive connection."""
        upstream = getattr(self._local, "connection", None)
        if upstream is None:
            upstream = self._local.connection = http.client.HTTPConnection(
                self.upstream.hostname, self.upstream.port, timeout=30
            )
        try:
            upstream.request("GET", path, headers=headers)
            answer = upstream.getresponse()
            body = answer.read()
        except (OSError, http.client.HTTPException):
            upstream.close()
            self._local.connection = None
            raise
        dropped = ("transfer-encoding", "connection", "content-length")
        return answer.status, {k: v for k, v in answer.getheaders() if k.lower() not in dropped}, body

    def _decide(self, path: str) -> int:
        """0 to forward, else the status to fail with."""
        with self._lock:
            self.requests += 1
            tries = self._tries[path] = self._tries.get(path, 0) + 1
            if tries <= self.fail_first:
                self.failures += 1
                return 500 if tries % 2 else 503
        return 0

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes: no 40 ms stall

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if proxy.latency_s:
                    time.sleep(proxy.latency_s)
                status = proxy._decide(self.path)
                if status:
                    code = "InternalError" if status == 500 else "ServiceUnavailable"
                    body = f"<Error><Code>{code}</Code><Message>injected</Message></Error>".encode()
                    self._reply(status, {"Content-Type": "application/xml"}, body)
                    return
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=30
                )
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                    upstream.request("GET", self.path, headers=headers)
                    answer = upstream.getresponse()
                    body = answer.read()
                    kept = {
                        k: v
                        for k, v in answer.getheaders()
                        if k.lower() not in ("transfer-encoding", "connection", "content-length")
                    }
                    self._reply(answer.status, kept, body)
                finally:
                    upstream.close()

            def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler
