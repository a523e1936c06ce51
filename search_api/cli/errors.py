"""How CLI commands fail: one exception type, exit status 2, a message that says what to do."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from indexer.backend import BackendUnavailableError
from indexer.sources.base import SourceError
from indexer.store.errors import CorruptIndexError, IndexStoreError

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
    except ValueError as err:  # options validation and QueryError
        raise CliError(str(err)) from err
    except OSError as err:
        raise CliError(f"{err.strerror or err}: {err.filename or ''}".rstrip(": ")) from err
