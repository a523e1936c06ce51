"""Run the app: gunicorn (worker processes, each opening the index after the fork) where it is
installed, else Werkzeug's threaded server. Used by `codecite serve` and `codecite demo`.

In production prefer gunicorn with ``deploy/gunicorn.conf.py``; this module gives the same
settings to an embedded gunicorn so one command starts a sound server.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

Announce = Callable[[str], None]  # called with the base URL once the socket is bound


def choose_server(requested: str, workers: int) -> str:
    """ "gunicorn" or "werkzeug" for `requested` ("auto", "gunicorn", "werkzeug"); ValueError if impossible."""
    has_gunicorn = os.name == "posix" and importlib.util.find_spec("gunicorn") is not None
    if requested == "auto":
        requested = "gunicorn" if has_gunicorn else "werkzeug"
    if requested == "gunicorn" and not has_gunicorn:
        raise ValueError(
            "gunicorn is not installed (or this is not a POSIX system): pip install 'codecite[web]', "
            "or use --server werkzeug"
        )
    if requested == "werkzeug" and workers > 1:
        raise ValueError(
            "--workers above 1 needs gunicorn: pip install 'codecite[web]' and use --server gunicorn"
        )
    return requested


def prepare_metrics_dir(workers: int) -> None:
    """Several worker processes share Prometheus metrics through files; set that up before any import
    of prometheus_client (so call this before importing search_api.web)."""
    if workers > 1 and "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="codecite-metrics-")


def run(
    config: Mapping[str, Any],
    host: str,
    port: int,
    server: str = "auto",
    workers: int = 1,
    threads: int = 4,
    announce: Announce | None = None,
) -> None:
    """Serve `create_app(config)` on host:port until interrupted (port 0: a free port)."""
    server = choose_server(server, workers)
    prepare_metrics_dir(workers)
    if server == "gunicorn":
        _run_gunicorn(config, host, port, workers, threads, announce)
    else:
        _run_werkzeug(config, host, port, threads, announce)


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _run_werkzeug(
    config: Mapping[str, Any], host: str, port: int, threads: int, announce: Announce | None
) -> None:
    from werkzeug.serving import make_server

    from search_api.web import create_app

    httpd = make_server(host, port, create_app(config), threaded=threads > 1)
    if announce:
        announce(_url(host, httpd.port))
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()


def _run_gunicorn(
    config: Mapping[str, Any], host: str, port: int, workers: int, threads: int, announce: Announce | None
) -> None:
    from gunicorn.app.base import BaseApplication

    settings = dict(config)

    def when_ready(arbiter) -> None:
        if announce:
            bound_host, bound_port = arbiter.LISTENERS[0].sock.getsockname()[:2]
            announce(_url(host if host not in ("0.0.0.0", "::") else bound_host, bound_port))

    def child_exit(_arbiter, worker) -> None:
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(worker.pid)

    options = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "timeout": 120,
        "graceful_timeout": 30,
        "keepalive": 5,
        "max_requests": 2000,
        "max_requests_jitter": 200,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "when_ready": when_ready,
        "child_exit": child_exit,
    }

    class Embedded(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            from search_api.web import create_app

            return create_app(settings)

    Embedded().run()
