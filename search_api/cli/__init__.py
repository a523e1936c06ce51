"""The `codecite` command line: one click group; each command group lives in its own module.

Commands that belong to other packages (the generator's `generate` and `model`) register through
the ``codecite.commands`` entry point group, so imports keep running one way
(generator → search_api → indexer) and heavy dependencies load only when their command runs.
"""

from __future__ import annotations

import importlib.metadata
import logging

import click

from search_api.cli.errors import CliError

__all__ = ["CliError", "main"]


class _Group(click.Group):
    """Adds the commands registered by other packages, loaded only when asked for."""

    def _plugins(self) -> dict[str, importlib.metadata.EntryPoint]:
        return {ep.name: ep for ep in importlib.metadata.entry_points(group="codecite.commands")}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self._plugins()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        entry = self._plugins().get(cmd_name)
        if entry is None:
            return None
        try:
            return entry.load()
        except ImportError as err:
            raise CliError(f"`codecite {cmd_name}` needs an optional extra: {err}") from err


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="codecite")
def main(verbose: int) -> None:
    """codecite: where did this code come from, and what does its license ask of you?

    Build an index of a training corpus, then attribute snippets, files, diffs or model output
    to the files they came from, with exact line spans and licenses.
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s")


def _register() -> None:
    from search_api.cli import check, demo, index, query, serve

    main.add_command(index.index_group)
    main.add_command(query.query_command)
    main.add_command(demo.demo_command)
    for command in (*serve.COMMANDS, *check.COMMANDS):
        main.add_command(command)


_register()
