"""gunicorn settings for codecite's API and lookup page.

    CODECITE_INDEX=/srv/codecite/index gunicorn -c deploy/gunicorn.conf.py

Each worker opens the index itself after the fork (memory-mapped and read-only, so the page cache
is shared). A worker answers one query at a time (the threads are for slow clients and cheap
endpoints), so use about one worker per core. Every setting can be overridden with
GUNICORN_<NAME> here or on the command line (`gunicorn -c ... --workers 4`). The app reads its
own settings from CODECITE_* variables (see search_api/web/config.py).
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile

wsgi_app = "search_api.web:create_app()"

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count()))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))  # longer than the slowest query of a 4 MB file
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then (bounded memory growth), staggered by the jitter
max_requests_jitter = 200
preload_app = False  # open the index in each worker, never in the master
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None  # "-" for stdout; off by default (queries are code)
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")

# Prometheus metrics from several worker processes are merged through files in this directory;
# it must be set before the workers import prometheus_client.
if workers > 1 or "PROMETHEUS_MULTIPROC_DIR" in os.environ:
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="codecite-metrics-"))


def child_exit(server, worker):
    """Drop a dead worker's live gauges from the merged metrics."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
