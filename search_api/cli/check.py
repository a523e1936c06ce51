"""`codecite check`, `codecite policy`, `codecite notice`: the CI license gate.

Exit codes of `check`: 0 the policy passes, 1 a policy violation, 2 a usage, index or server
error. Any unexpected exception is caught and exits 2 with a message, so a crashed scan never
reads as a pass (0) or as a finding (1).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from search_api.cli.errors import CliError, friendly_errors
from search_api.gitdiff import collect_diff
from search_api.policy import Action, Finding
from search_api.policy_file import PolicyError, default_policy, default_policy_text, load_policy
from search_api.remote import RemoteAttributor, RemoteClient, RemoteError, RetryPolicy
from search_api.scan import (
    LocalAttributor,
    ScanError,
    ScanOptions,
    ScanResult,
    collect_files,
    find_root,
    scan,
)

log = logging.getLogger(__name__)

_LABELS = {Action.DENY: "DENY", Action.REVIEW: "REVIEW", Action.WARN: "WARN", Action.ATTRIBUTE: "ATTRIBUTE",
           Action.ALLOW: "ALLOW"}


def _scan_options(func: Callable[..., Any]) -> Callable[..., Any]:
    decorators = [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option("--diff", "diff_spec", metavar="BASE[..HEAD]", default=None,
                     help="Only the lines this git diff adds: BASE (against the work tree), BASE..HEAD, "
                          "or BASE...HEAD (since the merge base)."),
        click.option("--staged", is_flag=True, help="Only the lines staged for commit (git diff --cached)."),
        click.option("--index", "index_uri", envvar="CODECITE_INDEX", default=None, metavar="DIR",
                     help="Index directory (or es+http://host:9200/name). Env: CODECITE_INDEX."),
        click.option("--server", envvar="CODECITE_SERVER", default=None, metavar="URL",
                     help="Base URL of a codecite API to use instead of a local index. Env: CODECITE_SERVER "
                          "(and CODECITE_TOKEN for its API token)."),
        click.option("--policy", "policy_file", envvar="CODECITE_POLICY", default=None,
                     type=click.Path(dir_okay=False),
                     help="Policy file (TOML or JSON); default: the built-in policy (`codecite policy init`)."),
        click.option("--min-match", type=click.IntRange(1), default=None,
                     help="Minimum match size in non-whitespace characters (default: the index's, 50)."),
        click.option("--jobs", "-j", type=click.IntRange(1), default=os.cpu_count() or 1, show_default=True,
                     help="Worker processes for a local index."),
        click.option("--max-file-bytes", type=click.IntRange(1), default=1_000_000, show_default=True,
                     help="Skip larger files."),
        click.option("--include-non-code", is_flag=True, help="Also scan Markdown, JSON, YAML and text files."),
        click.option("--timeout", type=click.FloatRange(min=0.1), default=60.0, show_default=True,
                     help="Seconds to wait for each server request."),
        click.option("--retries", type=click.IntRange(0), default=4, show_default=True,
                     help="Retries of a server request after connection errors, 429 and 5xx."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


@click.command("check")
@_scan_options
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True,
              help="Output format.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write the output here (a summary still goes to standard error).")
@click.option("--notice", "notice_file", type=click.Path(dir_okay=False), default=None,
              help="Also write THIRD_PARTY_NOTICES for the matches that need attribution to this file.")
@click.option("--sarif-category", default="codecite", show_default=True,
              help="SARIF automationDetails id, to keep several uploads per commit apart.")
def check_command(fmt: str, output: str | None, notice_file: str | None, sarif_category: str,
                  **scan_args: Any) -> None:
    """Attribute PATHS (default: the current directory) or the lines a diff adds, and apply the policy.

    Exit status: 0 the policy passes, 1 a policy violation, 2 a usage, index or server error.
    """
    with _no_crash():
        result, attributor = _run_scan(**scan_args)
        try:
            text = _render(result, fmt, sarif_category)
            _write(output, text)
            if output is not None or fmt != "text":
                click.echo(_summary_line(result), err=True)
            if notice_file:
                _write(notice_file, _notices(result, attributor))
        finally:
            attributor.close()
    sys.exit(result.exit_code)


@click.command("notice")
@_scan_options
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write the notices here (e.g. THIRD_PARTY_NOTICES) instead of standard output.")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON.")
def notice_command(output: str | None, as_json: bool, **scan_args: Any) -> None:
    """Write THIRD_PARTY_NOTICES for the code in PATHS that matches sources needing attribution.

    Each entry gives the upstream repo, path, license, URL and the copyright lines at the top of
    the upstream file. Exit status 0, or 2 on errors (the gate itself is `codecite check`).
    """
    with _no_crash():
        result, attributor = _run_scan(**scan_args)
        try:
            if as_json:
                from search_api.notice import collect_notices

                entries = collect_notices(result, attributor.source_text)
                text = json.dumps([e.to_dict() for e in entries], indent=1) + "\n"
            else:
                text = _notices(result, attributor)
            _write(output, text)
        finally:
            attributor.close()


@click.group("policy")
def policy_group() -> None:
    """Write, check and show license policies for `codecite check`."""


@policy_group.command("init")
@click.argument("path", required=False, type=click.Path(dir_okay=False, allow_dash=True), default="-")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def policy_init(path: str, force: bool) -> None:
    """Write the commented default policy to PATH (default: standard output)."""
    with _no_crash():
        if path != "-" and Path(path).exists() and not force:
            raise CliError(f"{path} exists: use --force to overwrite it, or give another PATH")
        _write(None if path == "-" else path, default_policy_text())
        if path != "-":
            click.echo(f"wrote the default policy to {path}; use it with `codecite check --policy {path}`", err=True)


@policy_group.command("show")
@click.argument("path", required=False, type=click.Path(dir_okay=False), default=None)
def policy_show(path: str | None) -> None:
    """Validate the policy at PATH (default: the built-in one) and print every setting as JSON."""
    with _no_crash():
        policy = load_policy(path) if path else default_policy()
        click.echo(json.dumps(policy.to_dict(), indent=1))


COMMANDS = [check_command, policy_group, notice_command]


# ---------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _no_crash() -> Iterator[None]:
    """Every failure becomes exit status 2 with a message (never a traceback, never 0 or 1)."""
    try:
        with friendly_errors():
            yield
    except (click.ClickException, click.exceptions.Exit, click.Abort):
        raise
    except (RemoteError, PolicyError, ScanError) as err:
        raise CliError(str(err)) from err
    except KeyboardInterrupt:
        raise CliError("interrupted: the scan did not complete") from None
    except Exception as err:
        log.debug("unexpected error", exc_info=True)
        raise CliError(f"unexpected error, the scan did not complete: {type(err).__name__}: {err} "
                       "(run `codecite -vv check ...` for the traceback)") from err


def _run_scan(paths: tuple[str, ...], diff_spec: str | None, staged: bool, index_uri: str | None,
              server: str | None, policy_file: str | None, min_match: int | None, jobs: int, max_file_bytes: int,
              include_non_code: bool, timeout: float, retries: int) -> tuple[ScanResult, Any]:
    if (index_uri is None) == (server is None):
        raise CliError("give either --index DIR (a local index) or --server URL (a codecite API)"
                       if index_uri is None else "give --index or --server, not both")
    policy = load_policy(policy_file) if policy_file else default_policy()
    root = find_root(list(paths))
    options = ScanOptions(max_file_bytes=max_file_bytes, include_non_code=include_non_code)
    attributor = _attributor(index_uri, server, min_match, jobs, timeout, retries)
    try:
        if diff_spec is not None or staged:
            targets = collect_diff(diff_spec, list(paths), root, policy, options, staged=staged)
        else:
            targets = collect_files(list(paths) or ["."], root, policy, options)
        result = scan(targets, attributor, policy, str(root))
    except BaseException:
        attributor.close()
        raise
    result.index = {**getattr(attributor, "describe", dict)(), **result.index}
    return result, attributor


def _attributor(index_uri: str | None, server: str | None, min_match: int | None, jobs: int, timeout: float,
                retries: int) -> LocalAttributor | RemoteAttributor:
    if server is not None:
        client = RemoteClient(server, os.environ.get("CODECITE_TOKEN") or None,
                              RetryPolicy(timeout=timeout, retries=retries))
        stats = client.stats()  # fail fast (exit 2) when the server cannot be reached
        attributor = RemoteAttributor(client, min_match)
        attributor.describe = lambda: {"server": server, "id": stats.get("index_id"),  # type: ignore[attr-defined]
                                       "documents": stats.get("documents")}
        return attributor
    from indexer.backend import open_index
    from search_api.options import QueryOptions

    assert index_uri is not None
    index = open_index(index_uri)
    local = LocalAttributor(index, QueryOptions().with_min_match(min_match), jobs)
    local.describe = lambda: {"uri": index_uri, "id": index.index_id,  # type: ignore[attr-defined]
                              "documents": index.document_count}
    return local


def _render(result: ScanResult, fmt: str, category: str) -> str:
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=1, ensure_ascii=False) + "\n"
    if fmt == "sarif":
        from search_api.sarif import to_sarif

        return json.dumps(to_sarif(result, _version(), category), indent=1, ensure_ascii=False) + "\n"
    return render_text(result)


def _notices(result: ScanResult, attributor: Any) -> str:
    from search_api.notice import collect_notices, render_notices

    return render_notices(collect_notices(result, attributor.source_text), str(result.index.get("id") or "") or None)


def _write(path: str | None, text: str) -> None:
    if path is None:
        click.echo(text, nl=False)
        return
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def _version() -> str:
    try:
        return importlib.metadata.version("codecite")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


# ---------------------------------------------------------------------------------------------
# Text output


def render_text(result: ScanResult) -> str:
    """What matched, where, under which license, and what to do about it."""
    out = [_headline(result)]
    for file in result.files:
        shown = [f for f in file.decision.findings if f.action is not Action.ALLOW or f.boilerplate]
        if not shown:
            continue
        scope = "" if file.runs is None else f"  (added lines {_runs(file.runs)})"
        out += ["", f"{file.path}{scope}"]
        for finding in sorted(shown, key=lambda f: (-f.action.rank, f.match.query_span.start_line)):
            out += _finding_lines(finding)
    out += ["", _summary_line(result)]
    if any(f.needs_notice for file in result.files for f in file.decision.findings):
        out.append("attribution: `codecite notice` (same arguments) writes THIRD_PARTY_NOTICES for these sources")
    return "\n".join(out) + "\n"


def _headline(result: ScanResult) -> str:
    skipped = result.skipped_counts()
    skip = f", {len(result.skipped)} skipped ({', '.join(f'{k} {v}' for k, v in skipped.items())})" if skipped else ""
    index = result.index
    where = index.get("server") or index.get("uri") or "the index"
    docs = index.get("documents")
    return (f"codecite check: {len(result.files)} file{'s' if len(result.files) != 1 else ''} scanned{skip} "
            f"against {where}" + (f" ({docs:,} documents)" if isinstance(docs, int) else "")
            + f", policy {result.policy.name}, {result.seconds:.1f} s")


def _finding_lines(f: Finding) -> list[str]:
    m, src = f.match, f.governing
    q = m.query_span
    label = "NOTE" if f.boilerplate else _LABELS[f.action]
    where = f"{src.repo}: {src.path}"
    if f.governing_span:
        where += f" lines {f.governing_span.start_line}-{f.governing_span.end_line}"
    pad = " " * 13
    lines = [f"  {label:<10} lines {q.start_line}-{q.end_line} match {where}",
             f"{pad}{src.license or 'no license'} ({src.license_category}); {m.method} match, {m.similarity:.0%} "
             f"similar, {m.matched_chars} characters, in {m.repos_with_span} "
             f"repositor{'ies' if m.repos_with_span != 1 else 'y'}"
             + (f", {len(m.copies)} other copies" if m.copies else "")]
    if src.url:
        lines.append(f"{pad}{src.url}")
    lines.append(f"{pad}why: {f.reason}")
    lines.append(f"{pad}to do: {f.what_to_do}")
    return lines


def _summary_line(result: ScanResult) -> str:
    counts = result.summary()["findings"]
    assert isinstance(counts, dict)
    names = {"deny": "denied", "review": "to review", "warn": "weak-copyleft attribution",
             "attribute": "attribution needed", "allow": "allowed", "boilerplate": "boilerplate"}
    parts = [f"{counts[k]} {names[k]}" for k in names if counts.get(k)]
    found = ", ".join(parts) if parts else "no matches that need anything"
    verdict = "FAIL" if result.exit_code else "PASS"
    return f"result: {verdict} ({result.outcome.value}): {found}; exit {result.exit_code}"


def _runs(runs: tuple[tuple[int, int], ...]) -> str:
    shown = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in runs[:6])
    return shown + (f" and {len(runs) - 6} more" if len(runs) > 6 else "")
