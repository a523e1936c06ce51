"""`codecite query`: attribute a file, standard input, or a batch of snippets.

Input is read with a bound (a query holds at most `QueryOptions.max_query_bytes`; a batch line at
most `_LINE_FACTOR` times that), so ``codecite query /dev/zero`` or an endless pipe ends with a
clear error instead of filling memory. A batch answers every line: a line that cannot be answered
(not JSON, not UTF-8, wrong field types, a refused query) gets an error object naming the line,
the others their Reports, and the exit status is 1 when any line failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, TextIO

import click

from search_api.cli.errors import CliError, friendly_errors

if TYPE_CHECKING:
    from indexer.backends.base import IndexReader
    from search_api.engine.searcher import Searcher


@click.command("query")
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--index",
    "index_uri",
    required=True,
    envvar="CODECITE_INDEX",
    show_envvar=True,
    help="Index directory or es+http://host:9200/name.",
)
@click.option("--language", default=None, help="Language of the code (default: guessed).")
@click.option(
    "--min-match",
    type=click.IntRange(1),
    default=None,
    help="Minimum match size in non-whitespace characters (default 50).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the Report as JSON.")
@click.option(
    "--batch",
    "batch",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help='JSON lines {"id", "code", "language"?} in; one JSON Report per line out, with the same id '
    '(a line that cannot be answered gets {"id", "line", "error"}; then the exit status is 1).',
)
@click.option(
    "--min-confidence",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Report matches down to this confidence (0..1; default: the calibrated floor of the engine).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, allow_dash=True),
    default=None,
    help="Write to this file instead of standard output (- for standard output).",
)
def query_command(
    file: str | None,
    index_uri: str,
    language: str | None,
    min_match: int | None,
    min_confidence: float | None,
    as_json: bool,
    batch: str | None,
    output: str | None,
) -> None:
    """Attribute FILE (or - for standard input) to the indexed files it came from.

    Exit status: 0 answered; 1 with --batch, when some lines could not be answered (each has an
    error object in the output, and every other line its Report); 2 a usage, input or index error.
    """
    if (file is None) == (batch is None):
        raise CliError("give either a FILE to attribute (- for standard input) or --batch IN.jsonl")
    from indexer.backends import open_index
    from search_api.engine.options import QueryOptions
    from search_api.engine.searcher import Searcher

    with friendly_errors():
        index = open_index(index_uri)
        options = QueryOptions().with_min_match(min_match).with_min_confidence(min_confidence)
        searcher = Searcher(index, options)
        with _output(output) as out:
            if batch is not None:
                failed = _run_batch(searcher, batch, out)
            else:
                _run_one(searcher, index, file or "-", language, as_json, out)
                failed = 0
    if failed:
        where = "standard input" if batch == "-" else batch
        click.echo(f"{failed} line(s) of {where} could not be answered: see their error objects", err=True)
        sys.exit(1)


def _run_one(
    searcher: Searcher, index: IndexReader, file: str, language: str | None, as_json: bool, out: TextIO
) -> None:
    from search_api.engine.searcher import QueryError
    from search_api.render.text import render_report

    limit = searcher.options.max_query_bytes
    if file == "-":
        raw = sys.stdin.buffer.read(limit + 1)
    else:
        with open(file, "rb") as f:
            raw = f.read(limit + 1)
    if len(raw) > limit:
        raise CliError(
            f"{'standard input' if file == '-' else file}: more than {limit:,} bytes, the most a query "
            "holds: attribute one file, or a part of it, at a time"
        )
    try:
        report = searcher.attribute(raw, language, filename=None if file == "-" else file)
    except QueryError as err:
        raise CliError(f"{file}: {err}") from err
    if as_json:
        out.write(json.dumps(report.to_dict(), indent=1) + "\n")
        return
    out.write(render_report(report, raw.decode("utf-8"), index) + "\n")


_LINE_FACTOR = 8  # a batch line holds one query as JSON: escapes can make it several times longer


def _run_batch(searcher: Searcher, batch: str, out: TextIO) -> int:
    """One process for many snippets (bulk audits, evaluation). Returns how many lines failed."""
    limit = _LINE_FACTOR * searcher.options.max_query_bytes
    failed = 0
    source: IO[bytes] = sys.stdin.buffer if batch == "-" else open(batch, "rb")  # noqa: SIM115
    try:
        for number, line in _lines(source, limit):
            answer = _answer(searcher, line, number, limit)
            if answer is None:
                continue
            failed += "error" in answer
            out.write(json.dumps(answer, ensure_ascii=False) + "\n")
    finally:
        if source is not sys.stdin.buffer:
            source.close()
    return failed


def _lines(source: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) per line; None for a line longer than `limit` (read past, not kept)."""
    number = 0
    while True:
        line = source.readline(limit + 1)
        if not line:
            return
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = source.readline(limit + 1)
            yield number, None
            continue
        yield number, line


def _answer(searcher: Searcher, raw: bytes | None, number: int, limit: int) -> dict | None:
    """The line's Report with its id, or an error object naming the line; None for a blank line."""
    from search_api.engine.searcher import QueryError

    if raw is None:
        return _error(None, number, f"longer than {limit:,} bytes")
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return _error(None, number, f"not UTF-8 (byte {err.start}): a batch is JSON lines, UTF-8 encoded")
    if not line.strip():
        return None
    try:
        request = json.loads(line)
    except (ValueError, RecursionError) as err:
        return _error(None, number, f"not JSON ({err})")
    ident = request.get("id") if isinstance(request, dict) else None
    if not isinstance(request, dict) or not isinstance(request.get("code"), str):
        return _error(ident, number, 'each line must be a JSON object with a string "code"')
    language = request.get("language")
    if language is not None and not isinstance(language, str):
        return _error(
            ident, number, f'"language" must be a string such as "Python", not {json.dumps(language)}'
        )
    try:
        report = searcher.attribute(request["code"], language)
    except QueryError as err:
        return _error(ident, number, str(err))
    return {"id": ident, **report.to_dict()}


def _error(ident: object, number: int, message: str) -> dict:
    return {"id": ident, "line": number, "error": f"line {number}: {message}"}


class _output:
    def __init__(self, path: str | None) -> None:
        self._path = path
        self._file: TextIO | None = None

    def __enter__(self) -> TextIO:
        if self._path is None or self._path == "-":
            return sys.stdout
        self._file = open(self._path, "w", encoding="utf-8")
        return self._file

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
