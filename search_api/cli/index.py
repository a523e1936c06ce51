"""`codecite index build|add|remove|stats`: make and maintain an index."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from indexer.records import DEFAULT_KEEP, Document, Skip
from search_api.cli.errors import CliError, friendly_errors
from search_api.cli.progress import ByteProgress

if TYPE_CHECKING:
    from indexer.backends.base import BuildResult
    from indexer.placement import BuildSettings
    from indexer.sources.blob_store import BlobStoreSettings

_KEEP_HELP = (
    "License categories to index, comma-separated, or 'all' (default: "
    + ",".join(sorted(c.value for c in DEFAULT_KEEP))
    + ", as The Stack v2 keeps)."
)


@click.group("index")
def index_group() -> None:
    """Build, extend and prune an index."""


def _source_options(func):
    decorators = [
        click.argument("sources", nargs=-1, required=True),
        click.option(
            "--index",
            "index_dir",
            required=True,
            metavar="URI",
            help="Index directory, or es+http(s)://host:9200/NAME for Elasticsearch.",
        ),
        click.option("--keep", default=None, metavar="CATEGORIES", help=_KEEP_HELP),
        click.option(
            "--languages",
            default=None,
            metavar="LANGS",
            help="Only these languages, comma-separated (default: every programming language).",
        ),
        click.option(
            "--max-file-bytes",
            default=1_000_000,
            show_default=True,
            type=click.IntRange(1),
            help="Skip larger files.",
        ),
        click.option(
            "--workers",
            default=min(os.cpu_count() or 1, 8),
            show_default=True,
            type=click.IntRange(1),
            help="Fingerprinting threads.",
        ),
        click.option("--limit", default=None, type=click.IntRange(1), help="Stop after this many documents."),
        click.option(
            "--s3-endpoint",
            default=None,
            metavar="URL",
            help="S3-compatible store holding contents by blob id (The Stack v2; default: Software "
            "Heritage's bucket, anonymously; also CODECITE_S3_ENDPOINT, CODECITE_S3_BUCKET).",
        ),
        click.option(
            "--fetch-concurrency",
            default=None,
            type=click.IntRange(1, 1024),
            help="Contents fetched at once from the store (default 16; CODECITE_S3_CONCURRENCY).",
        ),
        click.option(
            "--blob-cache",
            default=None,
            metavar="DIR",
            help="Keep fetched contents here, so a rerun fetches nothing again (default "
            "~/.cache/codecite/blobs; 'off': none; CODECITE_S3_CACHE).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the build summary as JSON."),
        click.option(
            "--quiet", is_flag=True, help="No progress bar (it is off anyway when stderr is not a terminal)."
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


@index_group.command("build")
@_source_options
@click.option(
    "--executor",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where fingerprinting runs: this process (threads), or Ray workers over the input's shards "
    "(extra 'ray'; embedded indexes only).",
)
@click.option(
    "--ray-address",
    default=None,
    metavar="HOST:PORT",
    help="A running Ray cluster (default: a local one with --workers CPUs).",
)
def build_command(
    sources: tuple[str, ...],
    index_dir: str,
    keep: str | None,
    languages: str | None,
    max_file_bytes: int,
    workers: int,
    limit: int | None,
    s3_endpoint: str | None,
    fetch_concurrency: int | None,
    blob_cache: str | None,
    as_json: bool,
    quiet: bool,
    executor: str,
    ray_address: str | None,
) -> None:
    """Index SOURCES (dataset files, hf:NAME, directories of repositories, 'installed', npm:PATH).

    Writes a new generation of the index at --index and swaps it in atomically: the previous
    generation keeps serving until the new one is complete. With --executor ray, Ray workers
    fingerprint the sources' files in parallel; the index answers exactly as a local build's.
    """
    from indexer.backends import open_writer

    if executor == "ray":
        _build_on_ray(
            sources, index_dir, keep, languages, max_file_bytes, workers, limit, ray_address, as_json
        )
        return
    if ray_address:
        raise CliError("--ray-address needs --executor ray")
    with friendly_errors():
        store = _blob_store(s3_endpoint, fetch_concurrency, blob_cache)
        items, settings = _prepare(sources, keep, languages, max_file_bytes, workers, limit, store)
        with ByteProgress("indexing", disabled=quiet or as_json) as bar:
            result = open_writer(index_dir).build(
                items, settings=settings, sources=list(sources), progress=bar.update
            )
    _print_result(result, index_dir, as_json)


def _build_on_ray(
    sources: tuple[str, ...],
    index_dir: str,
    keep: str | None,
    languages: str | None,
    max_file_bytes: int,
    workers: int,
    limit: int | None,
    ray_address: str | None,
    as_json: bool,
) -> None:
    from indexer.licenses.expressions import parse_keep
    from indexer.placement import BuildSettings
    from indexer.sources import IngestOptions

    if limit is not None:
        raise CliError("--limit works with the local executor only: leave it out, or drop --executor ray")
    if "://" in index_dir:
        raise CliError("the Ray executor writes embedded indexes (a directory): give --index a directory")
    with friendly_errors():
        from indexer.distributed.ray_build import RayUnavailableError, build_with_ray

        langs = frozenset(x.strip() for x in languages.split(",") if x.strip()) if languages else None
        settings = BuildSettings(keep=parse_keep(keep) if keep else DEFAULT_KEEP, workers=workers)
        try:
            result = build_with_ray(
                index_dir,
                list(sources),
                IngestOptions(max_file_bytes=max_file_bytes, languages=langs),
                settings=settings,
                address=ray_address,
            )
        except RayUnavailableError as err:
            raise CliError(str(err)) from None
    _print_result(result, index_dir, as_json)


@index_group.command("add")
@_source_options
def add_command(
    sources: tuple[str, ...],
    index_dir: str,
    keep: str | None,
    languages: str | None,
    max_file_bytes: int,
    workers: int,
    limit: int | None,
    s3_endpoint: str | None,
    fetch_concurrency: int | None,
    blob_cache: str | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Append SOURCES to an existing index (a new segment; nothing is rebuilt)."""
    from indexer.backends import open_writer

    with friendly_errors():
        store = _blob_store(s3_endpoint, fetch_concurrency, blob_cache)
        items, settings = _prepare(sources, keep, languages, max_file_bytes, workers, limit, store)
        with ByteProgress("adding", disabled=quiet or as_json) as bar:
            result = open_writer(index_dir).add(
                items, settings=settings, sources=list(sources), progress=bar.update
            )
    _print_result(result, index_dir, as_json)


@index_group.command("remove")
@click.option(
    "--index",
    "index_dir",
    required=True,
    metavar="URI",
    help="Index directory, or es+http(s)://host:9200/NAME.",
)
@click.option("--repo", "repos", multiple=True, help="Repository to opt out (owner/name); repeatable.")
@click.option(
    "--owner", "owners", multiple=True, help="GitHub user or organisation: all its repositories; repeatable."
)
@click.option(
    "--opt-out-list",
    "opt_out_list",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File with one user or owner/repo per line (# comments), as BigCode's opt-out lists.",
)
def remove_command(
    index_dir: str, repos: tuple[str, ...], owners: tuple[str, ...], opt_out_list: Path | None
) -> None:
    """Opt out repositories and owners: never reported again (no rebuild), all in one new generation."""
    from indexer.backends import open_writer
    from indexer.backends.removal import RemovalSpec, read_opt_out_list

    with friendly_errors():
        listed = read_opt_out_list(opt_out_list) if opt_out_list else RemovalSpec()
        spec = RemovalSpec.of([*repos, *listed.repos], [*owners, *listed.owners])
        if not spec:
            raise CliError("nothing to remove: give --repo owner/name, --owner USER or --opt-out-list FILE")
        removal = open_writer(index_dir).remove(spec)
    click.echo(
        f"removed {removal.documents} documents of {spec.describe()}; generation "
        f"{removal.manifest.generation} is current"
    )
    if removal.documents == 0:
        click.echo(
            "note: no document of these repositories was in the index (check the spelling: owner/name)"
        )


@index_group.command("stats")
@click.option(
    "--index",
    "index_dir",
    required=True,
    metavar="URI",
    envvar="CODECITE_INDEX",
    show_envvar=True,
    help="Index directory, or es+http(s)://host:9200/NAME.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats_command(index_dir: str, as_json: bool) -> None:
    """What an index holds: documents, repos, licenses, languages, postings, size."""
    from indexer.backends import open_index

    with friendly_errors():
        stats = open_index(index_dir).stats()
    if as_json:
        click.echo(json.dumps(stats, indent=1))
        return
    click.echo(f"index {stats['index_id']} at {index_dir}, created {stats['created']}")
    click.echo(
        f"  documents {stats['documents']:,} in {stats['repos']:,} repos, {stats['clusters']:,} copy clusters"
        f" ({stats['removed_documents']:,} removed)"
    )
    for kind in ("owners", "repos"):
        opted = stats.get(f"removed_{kind}") or []
        if opted:
            shown = ", ".join(opted[:10]) + (f" and {len(opted) - 10} more" if len(opted) > 10 else "")
            click.echo(f"  opted out ({kind}): {shown}")
    click.echo(
        f"  corpus {stats['corpus_bytes'] / 1e6:.1f} MB, index {stats['index_bytes'] / 1e6:.1f} MB "
        f"({stats['index_to_corpus']}x)"
    )
    postings = stats["postings"]
    click.echo(f"  postings: exact {postings['exact']:,}, normalized {postings['normalized']:,}")
    for title in ("license_categories", "licenses", "languages"):
        items = list(stats[title].items())
        shown = ", ".join(f"{k} {v:,}" for k, v in items[:8]) + (" ..." if len(items) > 8 else "")
        click.echo(f"  {title.replace('_', ' ')}: {shown}")


def _blob_store(endpoint: str | None, concurrency: int | None, cache: str | None) -> BlobStoreSettings:
    """Where The Stack v2's contents come from: ``CODECITE_S3_*`` variables, then these options."""
    from indexer.sources.blob_store import BlobStoreSettings

    settings = BlobStoreSettings.from_env(endpoint_url=endpoint, concurrency=concurrency)
    if cache is not None:
        folder = None if cache.strip().lower() == "off" else Path(cache).expanduser()
        settings = dataclasses.replace(settings, cache_dir=folder)
    return settings


def _prepare(
    sources: tuple[str, ...],
    keep: str | None,
    languages: str | None,
    max_file_bytes: int,
    workers: int,
    limit: int | None,
    store: BlobStoreSettings | None = None,
) -> tuple[Iterator[Document | Skip], BuildSettings]:
    from indexer.licenses.expressions import parse_keep
    from indexer.placement import BuildSettings
    from indexer.sources import IngestOptions, open_source

    langs = frozenset(x.strip() for x in languages.split(",") if x.strip()) if languages else None
    ingest = IngestOptions(max_file_bytes=max_file_bytes, languages=langs, blob_store=store)
    opened = [open_source(spec, ingest) for spec in sources]
    settings = BuildSettings(keep=parse_keep(keep) if keep else DEFAULT_KEEP, workers=workers)
    items: Iterator[Document | Skip] = itertools.chain.from_iterable(opened)
    if limit:
        items = _first_documents(items, limit)
    return items, settings


def _first_documents(items: Iterator[Document | Skip], limit: int) -> Iterator[Document | Skip]:
    count = 0
    for item in items:
        if isinstance(item, Document):
            if count >= limit:
                return
            count += 1
        yield item


def _print_result(result: BuildResult, index_dir: str, as_json: bool) -> None:
    stats: dict[str, Any] = result.stats.to_dict()
    summary = {
        "index": index_dir,
        "generation": result.manifest.generation,
        "seconds": round(result.seconds, 2),
        "mb_per_second": round(result.mb_per_second, 2),
        "identical_copies": result.identical_copies,
        "near_copies": result.near_copies,
        **stats,
    }
    if as_json:
        click.echo(json.dumps(summary, indent=1))
        return
    click.echo(
        f"indexed {stats['documents']:,} documents, {stats['bytes'] / 1e6:.1f} MB in {result.seconds:.1f} s "
        f"({result.mb_per_second:.1f} MB/s) -> {index_dir} (generation {result.manifest.generation})"
    )
    click.echo(f"  copies: {result.identical_copies:,} identical, {result.near_copies:,} near-duplicate")
    skipped = stats["skipped"]
    total = sum(skipped.values())
    click.echo(
        f"  skipped {total:,} files"
        + (": " + ", ".join(f"{k} {v:,}" for k, v in skipped.items()) if skipped else "")
    )
    click.echo(
        "  license categories: " + ", ".join(f"{k} {v:,}" for k, v in stats["license_categories"].items())
    )
    licenses = list(stats["licenses"].items())
    click.echo(
        "  licenses: "
        + ", ".join(f"{k} {v:,}" for k, v in licenses[:10])
        + (" ..." if len(licenses) > 10 else "")
    )
    if stats["documents"] == 0:
        raise CliError(
            "nothing was indexed: every file was skipped (see the counts above; --keep all keeps "
            "every license)"
        )
