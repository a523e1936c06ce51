"""`codecite query`: attribute a file, standard input, or a batch of snippets."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from search_api.cli.errors import CliError, friendly_errors

if TYPE_CHECKING:
    from indexer.backends.base import IndexReader
    from search_api.engine.searcher import Searcher


@click.command("query")
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--index", "index_uri", required=True, help="Index directory or es+http://host:9200/name.")
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
    help='JSON lines {"id", "code", "language"?} in; one JSON Report per line out, with the same id.',
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
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write to this file instead of standard output.",
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
    """Attribute FILE (or - for standard input) to the indexed files it came from."""
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
                _run_batch(searcher, batch, out)
            else:
                _run_one(searcher, index, file or "-", language, as_json, out)


def _run_one(
    searcher: Searcher, index: IndexReader, file: str, language: str | None, as_json: bool, out: TextIO
) -> None:
    from search_api.engine.searcher import QueryError
    from search_api.render.text import render_report

    raw = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    try:
        report = searcher.attribute(raw, language, filename=None if file == "-" else file)
    except QueryError as err:
        raise CliError(f"{file}: {err}") from err
    if as_json:
        out.write(json.dumps(report.to_dict(), indent=1) + "\n")
        return
    out.write(render_report(report, raw.decode("utf-8"), index) + "\n")


def _run_batch(searcher: Searcher, batch: str, out: TextIO) -> None:
    """One process for many snippets (bulk audits, evaluation): bad lines get an error object."""
    source = sys.stdin if batch == "-" else open(batch, encoding="utf-8")  # noqa: SIM115
    try:
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            out.write(json.dumps(_answer(searcher, line, number), ensure_ascii=False) + "\n")
    finally:
        if source is not sys.stdin:
            source.close()


def _answer(searcher: Searcher, line: str, number: int) -> dict:
    from search_api.engine.searcher import QueryError

    try:
        request = json.loads(line)
    except ValueError as err:
        return {"id": None, "line": number, "error": f"line {number}: not JSON ({err})"}
    if not isinstance(request, dict) or not isinstance(request.get("code"), str):
        ident = request.get("id") if isinstance(request, dict) else None
        return {
            "id": ident,
            "line": number,
            "error": f'line {number}: each line must be a JSON object with a string "code"',
        }
    try:
        report = searcher.attribute(request["code"], request.get("language"))
    except QueryError as err:
        return {"id": request.get("id"), "error": str(err)}
    return {"id": request.get("id"), **report.to_dict()}


class _output:
    def __init__(self, path: str | None) -> None:
        self._path = path
        self._file: TextIO | None = None

    def __enter__(self) -> TextIO:
        if self._path is None:
            return sys.stdout
        self._file = open(self._path, "w", encoding="utf-8")
        return self._file

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
