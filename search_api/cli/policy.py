"""`codecite policy init|show`: write the commented default policy, and check a policy file."""

from __future__ import annotations

import json
from pathlib import Path

import click

from search_api.cli.check import write_output
from search_api.cli.errors import CliError, no_crash

POLICY = "the policy command"


@click.group("policy")
def policy_group() -> None:
    """Write, check and show license policies for `codecite check`."""


@policy_group.command("init")
@click.argument("path", required=False, type=click.Path(dir_okay=False, allow_dash=True), default="-")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def policy_init(path: str, force: bool) -> None:
    """Write the commented default policy to PATH (default: standard output)."""
    from search_api.gate.policy_file import default_policy_text

    with no_crash(POLICY):
        if path != "-" and Path(path).exists() and not force:
            raise CliError(f"{path} exists: use --force to overwrite it, or give another PATH")
        write_output(None if path == "-" else path, default_policy_text())
        if path != "-":
            click.echo(
                f"wrote the default policy to {path}; use it with `codecite check --policy {path}`", err=True
            )


@policy_group.command("show")
@click.argument("path", required=False, type=click.Path(dir_okay=False), default=None)
def policy_show(path: str | None) -> None:
    """Validate the policy at PATH (default: the built-in one) and print every setting as JSON."""
    from search_api.gate.policy_file import default_policy, load_policy

    with no_crash(POLICY):
        policy = load_policy(path) if path else default_policy()
        click.echo(json.dumps(policy.to_dict(), indent=1))
