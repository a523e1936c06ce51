"""Latency of the real HTTP server: p50/p95 of POST /v1/attribute, next to the engine's own time.

    build the eval index (once)  ─►  start gunicorn with deploy/gunicorn.conf.py  ─►  wait for /readyz
        ─►  a separate client process sends the eval queries over keep-alive HTTP
        ─►  HTTP round trip and the server-reported `elapsed_ms` per query  ─►  a table under benchmarks/results/

The client runs two phases over the same queries: one connection, one request at a time (latency),
then several connections at once (throughput). Each connection first sends warm-up queries that are
not timed (the first query of a worker loads the compiled kernels). `elapsed_ms` is the engine's time
inside the server for the same request, so "HTTP - engine" is what the web layer, the JSON and the
network stack add.

    python benchmarks/bench_server.py                            # every query, 2 workers
    python benchmarks/bench_server.py --limit 500 --server werkzeug

Needs /work/eval-data (or $EVAL_DATA) with corpus/index and queries.jsonl; the index is built at
--index when missing or made by another codecite build.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from _common import CODECITE, document_count, ensure_index, percentile

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
EVAL = Path(os.environ.get("EVAL_DATA", "/work/eval-data"))
WARM_UP = 20
TARGET_P50_MS, TARGET_P95_MS = 5.0, 12.0  # issue 14, gunicorn with 2 workers


def main() -> int:
    args = _arguments()
    if args.client:
        return _client(args)
    index = Path(args.index)
    ensure_index(index, Path(args.corpus))
    queries = _queries(Path(args.queries), args.limit)
    port = _free_port()
    server = _start_server(args, index, port)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", server)
        with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
            qfile, out = Path(tmp) / "queries.jsonl", Path(tmp) / "timings.json"
            qfile.write_text("".join(json.dumps(q) + "\n" for q in queries))
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--client",
                    f"http://127.0.0.1:{port}",
                    "--queries",
                    str(qfile),
                    "--concurrency",
                    str(args.concurrency),
                    "--out",
                    str(out),
                ],
                check=True,
            )
            timings = json.loads(out.read_text())
    finally:
        _stop(server)
    _write_table(args, index, queries, timings)
    return 0


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", default="/tmp/eval-index", help="Index directory (built when missing).")
    parser.add_argument(
        "--corpus", default=str(EVAL / "corpus" / "index"), help="Corpus to build the index from."
    )
    parser.add_argument("--queries", default=str(EVAL / "queries.jsonl"), help="Eval queries (JSON lines).")
    parser.add_argument("--limit", type=int, default=None, help="Use only the first N queries.")
    parser.add_argument("--server", choices=["gunicorn", "werkzeug"], default="gunicorn")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes.")
    parser.add_argument("--threads", type=int, default=4, help="Threads per worker.")
    parser.add_argument("--concurrency", type=int, default=4, help="Connections in the throughput phase.")
    parser.add_argument("--output", default=str(HERE / "results" / "server.md"), help="Where the table goes.")
    parser.add_argument(
        "--client", default=None, help=argparse.SUPPRESS
    )  # internal: run as the client process
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    return parser.parse_args()


# ---- the server side ---------------------------------------------------------------------------


def _queries(path: Path, limit: int | None) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return rows[:limit] if limit else rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(args: argparse.Namespace, index: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "CODECITE_INDEX": str(index),
        "CODECITE_RATELIMIT_ENABLED": "false",
        "CODECITE_LOAD_ENTRY_POINTS": "false",
    }
    if args.server == "gunicorn":
        env |= {
            "GUNICORN_BIND": f"127.0.0.1:{port}",
            "GUNICORN_WORKERS": str(args.workers),
            "GUNICORN_THREADS": str(args.threads),
            "GUNICORN_LOGLEVEL": "warning",
        }
        command = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
    else:
        command = [
            *CODECITE,
            "serve",
            "--index",
            str(index),
            "--port",
            str(port),
            "--server",
            "werkzeug",
            "--threads",
            str(args.threads),
        ]
    return subprocess.Popen(command, env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL)


def _wait_ready(url: str, server: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with status {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not become ready")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


# ---- the client process ------------------------------------------------------------------------


class _Connection:
    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self._conn = http.client.HTTPConnection(host, int(port), timeout=120)

    def attribute(self, query: dict) -> tuple[float, float, int]:
        """(HTTP ms, server-reported engine ms, matches) for one query."""
        body = json.dumps({"code": query["text"], "language": query.get("language")}).encode()
        started = time.perf_counter()
        self._conn.request("POST", "/v1/attribute", body=body, headers={"Content-Type": "application/json"})
        response = self._conn.getresponse()
        data = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:300]!r}")
        report = json.loads(data)
        return elapsed, float(report["elapsed_ms"]), len(report["matches"])


def _client(args: argparse.Namespace) -> int:
    queries = _queries(Path(args.queries), None)
    sequential = _run_connection(args.client, queries)
    chunks = [queries[i :: args.concurrency] for i in range(args.concurrency)]
    started = time.perf_counter()
    with ThreadPoolExecutor(args.concurrency) as pool:
        parallel = list(pool.map(lambda chunk: _run_connection(args.client, chunk), chunks))
    wall = time.perf_counter() - started
    Path(args.out).write_text(
        json.dumps(
            {
                "sequential": sequential,
                "concurrent": {
                    "connections": args.concurrency,
                    "wall_s": wall,
                    "requests": sum(len(p["http_ms"]) for p in parallel),
                    "http_ms": [x for p in parallel for x in p["http_ms"]],
                    "engine_ms": [x for p in parallel for x in p["engine_ms"]],
                    "timed_s": max(p["timed_s"] for p in parallel),
                },
            }
        )
    )
    return 0


def _run_connection(base: str, queries: list[dict]) -> dict:
    conn = _Connection(base)
    for query in queries[:WARM_UP]:
        conn.attribute(query)
    http_ms, engine_ms, matches, categories = [], [], [], []
    started = time.perf_counter()
    for query in queries:
        h, e, m = conn.attribute(query)
        http_ms.append(h)
        engine_ms.append(e)
        matches.append(m)
        categories.append(query.get("size", "?"))
    return {
        "http_ms": http_ms,
        "engine_ms": engine_ms,
        "matches": matches,
        "sizes": categories,
        "timed_s": time.perf_counter() - started,
    }


# ---- the table ---------------------------------------------------------------------------------


def _row(label: str, http_ms: list[float], engine_ms: list[float]) -> str:
    overhead = [h - e for h, e in zip(http_ms, engine_ms, strict=True)]
    return (
        f"| {label} | {len(http_ms):,} | {percentile(http_ms, 50):.2f} | {percentile(http_ms, 95):.2f} | "
        f"{percentile(http_ms, 99):.2f} | {statistics.fmean(http_ms):.2f} | {percentile(engine_ms, 50):.2f} | "
        f"{percentile(engine_ms, 95):.2f} | {percentile(overhead, 50):.2f} |"
    )


def _index_mb(index: Path) -> float:
    return sum(p.stat().st_size for p in (index / "segments").rglob("*") if p.is_file()) / 1e6


def _write_table(args: argparse.Namespace, index: Path, queries: list[dict], timings: dict) -> None:
    seq, conc = timings["sequential"], timings["concurrent"]
    server = (
        f"gunicorn (deploy/gunicorn.conf.py), {args.workers} workers x {args.threads} threads, gthread"
        if args.server == "gunicorn"
        else f"werkzeug threaded ({args.threads} threads)"
    )
    header = (
        "| queries | n | HTTP p50 ms | HTTP p95 ms | HTTP p99 ms | HTTP mean ms | engine p50 ms | "
        "engine p95 ms | HTTP - engine p50 ms |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    )
    rows = [_row("all, one connection", seq["http_ms"], seq["engine_ms"])]
    for size in sorted(set(seq["sizes"]), key=lambda s: (s[-1], int(s[:-1]) if s[:-1].isdigit() else 0)):
        picked = [i for i, s in enumerate(seq["sizes"]) if s == size]
        rows.append(
            _row(f"size {size}", [seq["http_ms"][i] for i in picked], [seq["engine_ms"][i] for i in picked])
        )
    rows.append(_row(f"all, {conc['connections']} connections at once", conc["http_ms"], conc["engine_ms"]))
    p50, p95 = percentile(seq["http_ms"], 50), percentile(seq["http_ms"], 95)
    verdict = (
        f"Target p50 <= {TARGET_P50_MS:g} ms, p95 <= {TARGET_P95_MS:g} ms (HTTP, one connection; set for an index "
        f"of 243 MB of code or more, and this one has {_index_mb(index):,.0f} MB of segments): measured p50 "
        f"{p50:.2f} ms, p95 {p95:.2f} ms — "
        f"{'met' if p50 <= TARGET_P50_MS and p95 <= TARGET_P95_MS else 'NOT met'}."
    )
    text = f"""# HTTP latency of POST /v1/attribute

Server: {server}; rate limiter off. Client: a separate process, keep-alive HTTP/1.1 (`http.client`),
{WARM_UP} untimed warm-up queries per connection. Index: {index} ({document_count(index):,} documents, {_index_mb(index):,.0f} MB of segments, every
license kept). Queries: {len(queries):,} from {args.queries} (all categories: verbatim, reformat, rename,
nocomment, embedded, negative; sizes 150c to 50L). Machine: {platform.machine()}, {os.cpu_count()} cores,
Python {platform.python_version()}; {datetime.now(UTC):%Y-%m-%d}. `python benchmarks/bench_server.py`
regenerates this file.

"engine" is the `elapsed_ms` the server reports for the same request (the query pipeline alone);
"HTTP - engine" is what the web layer, JSON and the network stack add.

{verdict}

{header}
{chr(10).join(rows)}

Throughput with {conc["connections"]} connections at once: {conc["requests"] / conc["timed_s"]:.0f} requests/s
(the client shares the {os.cpu_count()} cores with the server).
"""
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(text)
    summary = {
        "server": server,
        "queries": len(queries),
        "date": f"{datetime.now(UTC):%Y-%m-%d}",
        "one_connection": _summary(seq["http_ms"], seq["engine_ms"]),
        "concurrent": {
            "connections": conc["connections"],
            "requests_per_s": round(conc["requests"] / conc["timed_s"], 1),
            **_summary(conc["http_ms"], conc["engine_ms"]),
        },
    }
    Path(args.output).with_suffix(".json").write_text(json.dumps(summary, indent=1) + "\n")
    print(text)


def _summary(http_ms: list[float], engine_ms: list[float]) -> dict[str, float]:
    return {
        "http_p50_ms": round(percentile(http_ms, 50), 2),
        "http_p95_ms": round(percentile(http_ms, 95), 2),
        "engine_p50_ms": round(percentile(engine_ms, 50), 2),
        "engine_p95_ms": round(percentile(engine_ms, 95), 2),
    }


if __name__ == "__main__":
    sys.exit(main())
