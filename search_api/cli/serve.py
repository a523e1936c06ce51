"""`codecite serve`: the JSON API and the lookup page for an index."""

from __future__ import annotations

import sys
from collections.abc import Callable

import click

from search_api.cli.errors import CliError, friendly_errors

SERVER_OPTIONS = [
    click.option(
        "--host",
        default="127.0.0.1",
        show_default=True,
        help="Address to listen on (0.0.0.0 for every interface: put a proxy with TLS in front).",
    ),
    click.option(
        "--port",
        default=8000,
        show_default=True,
        type=click.IntRange(0, 65535),
        help="Port to listen on (0: any free port).",
    ),
    click.option(
        "--workers",
        default=1,
        show_default=True,
        type=click.IntRange(1),
        help="Worker processes (gunicorn); each opens the index. About one per core.",
    ),
    click.option(
        "--threads",
        default=4,
        show_default=True,
        type=click.IntRange(1),
        help="Threads per worker (they share the worker's index, one query at a time).",
    ),
    click.option(
        "--server",
        "server",
        type=click.Choice(["auto", "gunicorn", "werkzeug"]),
        default="auto",
        show_default=True,
        help="gunicorn where installed, else Werkzeug's threaded server.",
    ),
]


def server_options(func):
    for decorator in reversed(SERVER_OPTIONS):
        func = decorator(func)
    return func


@click.command("serve")
@click.option(
    "--index",
    "index_uri",
    required=True,
    envvar="CODECITE_INDEX",
    show_envvar=True,
    help="Index directory or es+http://host:9200/name.",
)
@click.option(
    "--policy",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Policy file applied to every /v1/attribute answer (adds a `decision`).",
)
@server_options
def serve_command(
    index_uri: str, policy: str | None, host: str, port: int, workers: int, threads: int, server: str
) -> None:
    """Serve the JSON API (/v1), /healthz, /readyz, /metrics and the lookup page at / for an index.

    Settings not given here come from CODECITE_* environment variables (CODECITE_API_TOKENS,
    CODECITE_CORS_ORIGINS, CODECITE_RATELIMIT_API, ...; see search_api/web/config.py).
    """
    from indexer.backends import open_index

    with friendly_errors():
        open_index(index_uri).close()  # fail now, with the reason, rather than serve 503s
        if policy:
            from search_api.gate.policy_file import load_policy

            load_policy(policy)
    config = {"INDEX": index_uri, **({"POLICY": policy} if policy else {})}
    start(config, host, port, server, workers, threads)


def start(
    config: dict,
    host: str,
    port: int,
    server: str,
    workers: int,
    threads: int,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Run the server until interrupted, announcing its URL (by default: the endpoints); problems exit 2.
    The settings are checked first: a server with bad settings never says it is serving."""
    from search_api.web.config import check_settings
    from search_api.web.server import run

    try:
        check_settings(config)
    except ValueError as err:
        raise CliError(str(err)) from err

    def say(url: str) -> None:
        if announce is None:
            click.echo(f"codecite serving on {url}/  (API: {url}/v1, docs: {url}/openapi.json; Ctrl+C stops)")
        else:
            announce(url)
        sys.stdout.flush()

    try:
        run(config, host, port, server=server, workers=workers, threads=threads, announce=say)
    except ImportError as err:
        raise CliError(
            f"`codecite serve` needs the 'web' extra: pip install 'codecite[web]' ({err})"
        ) from err
    except ValueError as err:
        raise CliError(str(err)) from err
    except OSError as err:
        raise CliError(f"cannot listen on {host}:{port}: {err.strerror or err} (try another --port)") from err


COMMANDS = [serve_command]
