"""How CLI commands fail: one exception type, exit status 2, a message that says what to do.

This module imports no engine, index or web code, so every command module can import it without
slowing `codecite --help` down.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

import click

from indexer.backends.errors import BackendUnavailableError, CorruptIndexError, IndexStoreError
from indexer.sources.base import SourceError

log = logging.getLogger(__name__)

EXIT_ERROR = 2


class CliError(click.ClickException):
    """A usage, input, index or server problem. Exit status 2 (1 is reserved for policy failures)."""

    exit_code = EXIT_ERROR


@contextlib.contextmanager
def friendly_errors() -> Iterator[None]:
    """Turn the library's errors into CliError (their messages already name the fix)."""
    try:
        yield
    except (SourceError, IndexStoreError, CorruptIndexError, BackendUnavailableError) as err:
        raise CliError(str(err)) from err
    except ValueError as err:  # options validation, QueryError, PolicyError, ScanError
        raise CliError(str(err)) from err
    except OSError as err:
        raise CliError(f"{err.strerror or err}: {err.filename or ''}".rstrip(": ")) from err


@contextlib.contextmanager
def no_crash(doing: str) -> Iterator[None]:
    """Every failure becomes exit status 2 with a message: never a traceback, and never the 0 or 1
    of a gate's verdict. `doing` names the work in the message ("the scan")."""
    from search_api.gate.remote import RemoteError

    try:
        with friendly_errors():
            yield
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except RemoteError as err:
        raise CliError(str(err)) from err
    except KeyboardInterrupt:
        raise CliError(f"interrupted: {doing} did not complete") from None
    except Exception as err:
        log.debug("unexpected error", exc_info=True)
        raise CliError(
            f"unexpected error, {doing} did not complete: {type(err).__name__}: {err} "
            "(run `codecite -vv ...` for the traceback)"
        ) from err
