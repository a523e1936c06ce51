"""`codecite demo`: index the code installed in this Python environment, then serve the lookup page
with a sample attribution ready to open (``--no-serve`` prints the sample in the terminal instead).

Every machine has an environment, so the demo needs no download and no server to install.
"""

from __future__ import annotations

import base64
import os
import random
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

from indexer.records import Document, Skip
from search_api.cli.errors import friendly_errors
from search_api.cli.progress import ByteProgress
from search_api.cli.serve import server_options, start

if TYPE_CHECKING:
    from indexer.backends.embedded.reader import EmbeddedIndex

DEFAULT_DEMO_INDEX = Path(os.environ.get("CODECITE_DEMO_INDEX", "~/.cache/codecite/demo-index")).expanduser()


def build_demo_index(index_dir: Path, max_mb: float, rebuild: bool, quiet: bool = False) -> EmbeddedIndex:
    """The demo index: the installed environment's code, at most `max_mb` MB of it (reused when present)."""
    from indexer.backends.embedded.reader import EmbeddedIndex
    from indexer.backends.embedded.writer import EmbeddedWriter
    from indexer.placement import BuildSettings
    from indexer.sources import IngestOptions, open_source

    if rebuild or not (index_dir / "CURRENT").exists():
        items = _first_bytes(
            open_source("installed", IngestOptions(languages=frozenset({"Python"}))), int(max_mb * 1e6)
        )
        with ByteProgress("indexing installed code", disabled=quiet) as bar:
            result = EmbeddedWriter(index_dir).build(
                items,
                settings=BuildSettings(workers=min(os.cpu_count() or 1, 4)),
                sources=["installed"],
                progress=bar.update,
            )
        click.echo(
            f"indexed {result.stats.documents:,} files ({result.stats.bytes / 1e6:.1f} MB) of the installed "
            f"packages in {result.seconds:.1f} s -> {index_dir}"
        )
    return EmbeddedIndex(index_dir)


def sample_query(index: EmbeddedIndex, seed: int = 7) -> tuple[str, str]:
    """A snippet of an indexed file pasted into new code: (query, where it came from)."""
    rng = random.Random(seed)
    for _ in range(200):
        doc_id = rng.randrange(index.manifest.next_doc_base)
        if index.info(doc_id).removed:
            continue
        lines = index.text(doc_id).split("\n")
        if len(lines) < 60:
            continue
        start_line = rng.randrange(10, len(lines) - 30)
        snippet = lines[start_line : start_line + 12]
        if sum(len(x.strip()) for x in snippet) < 300:
            continue
        info = index.info(doc_id).document
        query = "def my_new_helper(values):\n    total = sum(values)\n    return total\n\n\n" + "\n".join(
            snippet
        )
        return query, f"{info.repo}:{info.path} lines {start_line + 1}-{start_line + 12}"
    raise click.ClickException("the demo index has no file long enough for a sample")


def permalink_fragment(code: str, language: str | None = None) -> str:
    """The page's #fragment that carries `code` (base64url of its UTF-8), as the page itself writes it."""
    packed = base64.urlsafe_b64encode(code.encode("utf-8")).decode("ascii").rstrip("=")
    return urllib.parse.urlencode({"code": packed, **({"lang": language} if language else {})})


@click.command("demo")
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_DEMO_INDEX,
    show_default=True,
    help="Where to keep the demo index.",
)
@click.option("--max-mb", default=40.0, show_default=True, help="Index at most this much code.")
@click.option("--rebuild", is_flag=True, help="Rebuild the demo index even if it exists.")
@click.option(
    "--no-serve", is_flag=True, help="Print the sample attribution here instead of serving the page."
)
@server_options
def demo_command(
    index_dir: Path,
    max_mb: float,
    rebuild: bool,
    no_serve: bool,
    host: str,
    port: int,
    workers: int,
    threads: int,
    server: str,
) -> None:
    """Index this environment's installed packages, then serve the lookup page with a sample ready."""
    from search_api.engine.searcher import Searcher
    from search_api.render.text import render_report

    with friendly_errors():
        index = build_demo_index(index_dir, max_mb, rebuild)
        query, origin = sample_query(index)
        started = time.perf_counter()
        report = Searcher(index).attribute(query, "Python")
    elapsed = (time.perf_counter() - started) * 1000
    if no_serve:
        click.echo(
            f"\nsample query: 12 lines of {origin}, pasted below a new function "
            f"(answered in {elapsed:.1f} ms):\n"
        )
        click.echo(render_report(report, query, index))
        return
    fragment = permalink_fragment(query, "Python")
    documents = index.document_count
    index.close()

    def announce(url: str) -> None:
        click.echo(f"codecite demo: {documents:,} installed files indexed, serving the lookup page on {url}/")
        click.echo(
            f"sample: 12 lines of {origin} pasted below a new function; see where they came from at\n"
            f"  {url}/#{fragment}\n(Ctrl+C stops)"
        )

    start({"INDEX": str(index_dir)}, host, port, server, workers, threads, announce)


def _first_bytes(items: Iterable[Document | Skip], limit: int) -> Iterator[Document | Skip]:
    total = 0
    for item in items:
        if isinstance(item, Document):
            total += item.size_bytes
            if total > limit:
                return
        yield item
