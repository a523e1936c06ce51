"""Corpus sources: where the documents to index come from.

`open_source(spec)` turns what a user types into a `Source`; iterating it yields a `Document` for
every kept file and a `Skip` (with a `SkipReason`) for every dropped one:

- ``hf:NAME[:CONFIG][@SPLIT]`` — a Hugging Face hub dataset, streamed (needs ``codecite[hf]``);
- a ``.parquet``, ``.jsonl``, ``.jsonl.gz``, ``.json.gz`` or ``.arrow`` file, or a directory of
  them (a ``datasets`` ``save_to_disk`` directory too) — The Stack v1/v2 columns, or any dataset
  with ``content`` and ``path``;
- ``installed`` or ``installed:SITE_PACKAGES`` — the installed Python distributions;
- ``npm:PATH`` — the packages of a ``node_modules`` tree;
- any other directory — a local repository, plain folder of code, or folder of repositories.

    source = open_source("hf:bigcode/the-stack-smol:data/python")
    for item in source:
        if isinstance(item, Document): ...
"""

from __future__ import annotations

import logging
from pathlib import Path

from indexer.sources.base import IngestOptions, Source, SourceError

__all__ = ["IngestOptions", "Source", "SourceError", "open_source"]

log = logging.getLogger(__name__)

_KINDS = "give a directory of repositories, a dataset file, 'installed', 'npm:PATH' or 'hf:NAME'"


def open_source(spec: str, options: IngestOptions = IngestOptions()) -> Source:
    """The `Source` that `spec` names (see the module docstring for the forms it takes).

    Opening checks what can be checked up front (the path exists, a dataset has the columns
    needed, a hub dataset can be reached); reading happens when the source is iterated.
    Raises SourceError, with a message naming the fix, when `spec` cannot be used.
    """
    spec = spec.strip()
    if not spec:
        raise SourceError(f"empty source; {_KINDS}")
    if spec.startswith("hf:"):
        from indexer.sources.hub import HubDataset

        return HubDataset(spec, options)
    if spec == "installed" or spec.startswith("installed:"):
        from indexer.sources.installed import InstalledDistributions

        site = spec.removeprefix("installed").removeprefix(":")
        return InstalledDistributions(spec, Path(site).expanduser() if site else None, options)
    if spec.startswith("npm:"):
        from indexer.sources.npm import NodeModules

        return NodeModules(spec, Path(spec.removeprefix("npm:")).expanduser(), options)
    return _open_path(spec, Path(spec).expanduser(), options)


def _open_path(spec: str, path: Path, options: IngestOptions) -> Source:
    from indexer.sources.dataset_files import (
        DATA_SUFFIXES,
        DatasetFiles,
        data_suffix,
        find_data_files,
        looks_like_dataset_dir,
    )

    if path.is_symlink() and not path.exists():
        raise SourceError(f"{path} is a broken symbolic link; {_KINDS}")
    if not path.exists():
        raise SourceError(f"no such file or directory: {path}; {_KINDS}")
    if path.is_file():
        if data_suffix(path.name) is None:
            raise SourceError(
                f"{path} is a file but not a dataset; codecite reads {', '.join(DATA_SUFFIXES)} files, "
                f"or give the directory that holds your source files"
            )
        return DatasetFiles([path], spec, options, path.parent)
    if not path.is_dir():
        raise SourceError(f"{path} is neither a regular file nor a directory; {_KINDS}")
    if path.name == "node_modules":
        from indexer.sources.npm import NodeModules

        log.info("reading %s as npm packages (npm:%s)", path, path)
        return NodeModules(spec, path, options)
    if path.name == "site-packages":
        from indexer.sources.installed import InstalledDistributions

        log.info("reading %s as installed Python distributions (installed:%s)", path, path)
        return InstalledDistributions(spec, path, options)
    if looks_like_dataset_dir(path):
        return DatasetFiles(find_data_files(path), spec, options, path)
    from indexer.sources.local import LocalRepos

    return LocalRepos(path.resolve(), spec, options)
