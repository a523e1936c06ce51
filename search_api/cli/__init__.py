"""The `codecite` command line: one click group whose commands load when they are used.

Each command lives in its own module, named in `_COMMANDS`; commands of other packages (the
generator's `generate` and `model`) register through the ``codecite.commands`` entry point group,
so imports keep running one way (generator → search_api → indexer). Command modules import only
click and `search_api.cli.errors` at the top: the engine, the index and the web app load inside
the command that needs them, so `codecite --help` starts in a fraction of a second.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import logging

import click

from search_api.cli.errors import CliError

__all__ = ["CliError", "main"]

# command name -> "module:attribute" of its click command
_COMMANDS = {
    "check": "search_api.cli.check:check_command",
    "demo": "search_api.cli.demo:demo_command",
    "index": "search_api.cli.index:index_group",
    "notice": "search_api.cli.check:notice_command",
    "policy": "search_api.cli.policy:policy_group",
    "query": "search_api.cli.query:query_command",
    "serve": "search_api.cli.serve:serve_command",
}
PLUGIN_GROUP = "codecite.commands"


class _LazyGroup(click.Group):
    """Loads a command's module when the command is looked up, not when the CLI starts."""

    def _plugins(self) -> dict[str, importlib.metadata.EntryPoint]:
        return {ep.name: ep for ep in importlib.metadata.entry_points(group=PLUGIN_GROUP)}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(_COMMANDS) | set(self._plugins()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        where = _COMMANDS.get(cmd_name)
        if where is not None:
            module, _, attribute = where.partition(":")
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            return command
        entry = self._plugins().get(cmd_name)
        if entry is None:
            return None
        try:
            loaded = entry.load()
        except ImportError as err:
            raise CliError(f"`codecite {cmd_name}` needs an optional extra: {err}") from err
        assert isinstance(loaded, click.Command)
        return loaded


@click.group(
    cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="codecite")
def main(verbose: int) -> None:
    """codecite: where did this code come from, and what does its license ask of you?

    Build an index of a training corpus, then attribute snippets, files, diffs or model output
    to the files they came from, with exact line spans and licenses.

    Shell completion: eval "$(_CODECITE_COMPLETE=bash_source codecite)" (zsh_source, fish_source).
    """
    _configure_logging(verbose)


_OWN_LOGGERS = ("indexer", "search_api", "generator")


class _Quiet(logging.Filter):
    """Below -vv, other libraries' records (urllib3's and elastic_transport's retries, each with a
    traceback) only from ERROR up (-v: from WARNING), and without tracebacks: the command's own
    error message already says what failed and what to do."""

    def __init__(self, verbose: int) -> None:
        super().__init__()
        self.verbose = verbose

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.split(".", 1)[0] in _OWN_LOGGERS:
            return True  # codecite's own tracebacks are deliberate (a server's 500, logged for its operator)
        if record.levelno < (logging.WARNING if self.verbose else logging.ERROR):
            return False
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        for handler in logging.getLogger().handlers:
            handler.addFilter(_Quiet(verbose))
