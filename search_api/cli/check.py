"""`codecite check` and `codecite notice`: the CI license gate, and the attribution notices it asks for.

Exit codes of `check`: 0 the policy passes, 1 a policy violation, 2 a usage, index or server
error. Any unexpected exception is caught and exits 2 with a message, so a crashed scan never
reads as a pass (0) or as a finding (1). The gate's machinery is imported when a command runs,
not when the CLI starts.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from search_api.cli.errors import CliError, no_crash

if TYPE_CHECKING:
    from search_api.gate.attribute import Attributor
    from search_api.gate.scan import ScanResult

SCAN = "the scan"


def _scan_options(func: Callable[..., Any]) -> Callable[..., Any]:
    decorators = [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option(
            "--diff",
            "diff_spec",
            metavar="BASE[..HEAD]",
            default=None,
            help="Only the lines this git diff adds: BASE (against the work tree), BASE..HEAD, "
            "or BASE...HEAD (since the merge base).",
        ),
        click.option("--staged", is_flag=True, help="Only the lines staged for commit (git diff --cached)."),
        click.option(
            "--index",
            "index_uri",
            envvar="CODECITE_INDEX",
            default=None,
            metavar="DIR",
            help="Index directory (or es+http://host:9200/name). Env: CODECITE_INDEX.",
        ),
        click.option(
            "--server",
            envvar="CODECITE_SERVER",
            default=None,
            metavar="URL",
            help="Base URL of a codecite API to use instead of a local index. Env: CODECITE_SERVER "
            "(and CODECITE_TOKEN for its API token).",
        ),
        click.option(
            "--policy",
            "policy_file",
            envvar="CODECITE_POLICY",
            default=None,
            type=click.Path(dir_okay=False),
            help="Policy file (TOML or JSON); default: the built-in policy (`codecite policy init`).",
        ),
        click.option(
            "--min-match",
            type=click.IntRange(1),
            default=None,
            help="Minimum match size in non-whitespace characters (default: the index's, 50).",
        ),
        click.option(
            "--min-confidence",
            type=click.FloatRange(0.0, 1.0),
            default=None,
            help="Report matches down to this confidence (0..1; default: the calibrated floor of the engine, "
            "or with --server the server's).",
        ),
        click.option(
            "--jobs",
            "-j",
            type=click.IntRange(1),
            default=os.cpu_count() or 1,
            show_default=True,
            help="Worker processes for a local index.",
        ),
        click.option(
            "--max-file-bytes",
            type=click.IntRange(1),
            default=1_000_000,
            show_default=True,
            help="Larger files are not scanned: a finding that fails the check unless the policy's "
            "[skipped] table says otherwise.",
        ),
        click.option(
            "--exclude",
            "exclude",
            multiple=True,
            metavar="PATTERN",
            help="Leave out files matching this gitignore-style pattern (from the repository root); "
            "repeatable. Each excluded file is listed.",
        ),
        click.option(
            "--include-non-code", is_flag=True, help="Also scan Markdown, JSON, YAML and text files."
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0.1),
            default=60.0,
            show_default=True,
            help="Seconds to wait for each server request.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(0),
            default=4,
            show_default=True,
            help="Retries of a server request after connection errors, 429 and 5xx.",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


@click.command("check")
@_scan_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "sarif"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help="Write the output to this file (- for standard output); a summary still goes to standard error.",
)
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Text output: only what fails or warns, and the result line.",
)
@click.option(
    "--notice",
    "notice_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write THIRD_PARTY_NOTICES for the matches that need attribution to this file.",
)
@click.option(
    "--sarif-category",
    default="codecite",
    show_default=True,
    help="SARIF automationDetails id, to keep several uploads per commit apart.",
)
def check_command(
    fmt: str, output: str | None, quiet: bool, notice_file: str | None, sarif_category: str, **scan_args: Any
) -> None:
    """Attribute PATHS (default: the current directory) or the lines a diff adds, and apply the policy.

    Exit status: 0 the policy passes, 1 a policy violation, 2 a usage, index or server error.
    """
    with no_crash(SCAN):
        from search_api.render.text import summary_line

        result, attributor = _run_scan(**scan_args)
        try:
            write_output(output, _render(result, fmt, sarif_category, quiet))
            if _is_file(output) or fmt != "text":
                click.echo(summary_line(result), err=True)
            if notice_file:
                write_output(notice_file, _notices(result, attributor))
        finally:
            attributor.close()
    sys.exit(result.exit_code)


@click.command("notice")
@_scan_options
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help="Write the notices to this file (e.g. THIRD_PARTY_NOTICES; - for standard output).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv", "markdown", "cyclonedx"]),
    default="text",
    show_default=True,
    help="text (THIRD_PARTY_NOTICES), json, csv, markdown, or cyclonedx (a CycloneDX 1.6 JSON SBOM).",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
def notice_command(output: str | None, fmt: str, as_json: bool, **scan_args: Any) -> None:
    """Write THIRD_PARTY_NOTICES for the code in PATHS that matches sources needing attribution.

    Each entry gives the upstream repo, path, license, URL and the copyright lines at the top of
    the upstream file. Exit status 0, or 2 on errors (the gate itself is `codecite check`).
    """
    with no_crash(SCAN):
        from search_api.render.notice import collect_notices
        from search_api.render.notice_formats import NoticeFormat, render

        result, attributor = _run_scan(**scan_args)
        try:
            entries = collect_notices(result, attributor.source_text)
            chosen = NoticeFormat.JSON if as_json else NoticeFormat(fmt)
            write_output(
                output, render(entries, chosen, str(result.index.get("id") or "") or None, _version())
            )
        finally:
            attributor.close()


def write_output(path: str | None, text: str) -> None:
    """`text` to standard output (`path` None or ``-``), or to the file `path`, replaced atomically."""
    if not _is_file(path):
        click.echo(text, nl=False)
        return
    assert path is not None
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def _is_file(path: str | None) -> bool:
    return path is not None and path != "-"


def _run_scan(
    paths: tuple[str, ...],
    diff_spec: str | None,
    staged: bool,
    index_uri: str | None,
    server: str | None,
    policy_file: str | None,
    min_match: int | None,
    min_confidence: float | None,
    jobs: int,
    max_file_bytes: int,
    exclude: tuple[str, ...],
    include_non_code: bool,
    timeout: float,
    retries: int,
) -> tuple[ScanResult, Attributor]:
    from search_api.gate.diff import collect_diff
    from search_api.gate.git import find_root
    from search_api.gate.policy_file import default_policy, load_policy
    from search_api.gate.scan import scan
    from search_api.gate.targets import ScanOptions, collect_files

    if (index_uri is None) == (server is None):
        raise CliError(
            "give either --index DIR (a local index) or --server URL (a codecite API)"
            if index_uri is None
            else "give --index or --server, not both"
        )
    policy = load_policy(policy_file) if policy_file else default_policy()
    root = find_root(list(paths))
    options = ScanOptions(max_file_bytes=max_file_bytes, include_non_code=include_non_code, exclude=exclude)
    attributor = _attributor(index_uri, server, min_match, min_confidence, jobs, timeout, retries)
    try:
        described = attributor.describe()  # with --server: fails fast (exit 2) when it cannot be reached
        if diff_spec is not None or staged:
            targets = collect_diff(diff_spec, list(paths), root, policy, options, staged=staged)
        else:
            targets = collect_files(list(paths) or ["."], root, policy, options)
        result = scan(targets, attributor, policy, str(root))
    except BaseException:
        attributor.close()
        raise
    result.index = {**described, **result.index}
    return result, attributor


def _attributor(
    index_uri: str | None,
    server: str | None,
    min_match: int | None,
    min_confidence: float | None,
    jobs: int,
    timeout: float,
    retries: int,
) -> Attributor:
    if server is not None:
        from search_api.gate.remote import RemoteAttributor, RemoteClient, RetryPolicy

        client = RemoteClient(
            server, os.environ.get("CODECITE_TOKEN") or None, RetryPolicy(timeout=timeout, retries=retries)
        )
        return RemoteAttributor(client, min_match, min_confidence)
    from indexer.backends import open_index
    from search_api.engine.options import QueryOptions
    from search_api.gate.attribute import LocalAttributor

    assert index_uri is not None
    options = QueryOptions().with_min_match(min_match).with_min_confidence(min_confidence)
    return LocalAttributor(open_index(index_uri), options, jobs)


def _render(result: ScanResult, fmt: str, category: str, quiet: bool = False) -> str:
    if fmt == "json":
        return json.dumps(result.to_dict(), indent=1, ensure_ascii=False) + "\n"
    if fmt == "sarif":
        from search_api.render.sarif import to_sarif

        return json.dumps(to_sarif(result, _version(), category), indent=1, ensure_ascii=False) + "\n"
    from search_api.render.text import render_scan

    return render_scan(result, quiet)


def _notices(result: ScanResult, attributor: Attributor) -> str:
    from search_api.render.notice import collect_notices, render_notices

    return render_notices(
        collect_notices(result, attributor.source_text), str(result.index.get("id") or "") or None
    )


def _version() -> str:
    import importlib.metadata

    try:
        return importlib.metadata.version("codecite")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"
