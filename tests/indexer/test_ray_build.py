"""A Ray build answers every query with the Report a single-process build of the same input gives.

The input is the engine tests' corpus written as three Stack-v2-style JSON-lines shards, with
byte-identical and edited copies placed in other shards than their originals (so copy
clustering has to go through the shuffle), and segments small enough that several span shards.
Ray runs on a local cluster the test starts (2 CPUs), and once more on two Ray nodes of this
machine started with ``ray start``.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from indexer.backends import open_index, open_writer
from indexer.distributed.ray_build import build_with_ray
from indexer.placement import BuildSettings
from indexer.records import Document, LicenseCategory
from indexer.sources import open_source
from search_api.engine.searcher import Searcher

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "engine"))
from engine_testlib import QUERIES, corpus_documents

pytestmark = pytest.mark.slow
SETTINGS = BuildSettings(keep=frozenset(LicenseCategory), workers=2, max_segment_bytes=60_000)


def _row(doc: Document, content: str | None = None, path: str | None = None) -> dict[str, object]:
    return {
        "blob_id": doc.blob_id if content is None else f"{doc.blob_id[:30]}edited",
        "repo_name": doc.repo if path is None else f"{doc.repo}-fork",
        "path": path or doc.path,
        "language": doc.language,
        "detected_licenses": [doc.license] if doc.license else [],
        "license_type": "permissive" if doc.license_category is LicenseCategory.PERMISSIVE else "no_license",
        "content": doc.content if content is None else content,
    }


@pytest.fixture(scope="module")
def shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus in three shards; the last holds copies of files of the first two."""
    root = tmp_path_factory.mktemp("ray-input") / "data"
    root.mkdir()
    docs = corpus_documents()
    rows = [_row(d) for d in docs]
    copies = [_row(d, path=f"vendor/{d.path}") for d in docs[::5]]  # byte-identical
    edited = [_row(d, d.content.replace("\n\n", "\n\n# edited\n", 1), f"edit/{d.path}") for d in docs[1::4]]
    third = len(rows) // 3
    parts = [rows[:third], rows[third : 2 * third], rows[2 * third :] + copies + edited]
    for n, part in enumerate(parts):
        with gzip.open(root / f"shard-{n:05d}.jsonl.gz", "wt") as f:
            f.writelines(json.dumps(r) + "\n" for r in part)
    return root


def _queries() -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = [
        (p.read_text(), None)
        for p in sorted(QUERIES.iterdir())
        if "." in p.name and not p.name.endswith(".json")
    ]
    for doc in corpus_documents():  # a window from a third of the way in, and one near the end
        lines = doc.content.splitlines(keepends=True)
        for start in (len(lines) // 3, max(0, len(lines) - 8)):
            out.append(("".join(lines[start : start + 12]), doc.language))
    return out


def _reports(index_path: Path) -> list[str]:
    index = open_index(str(index_path))
    searcher = Searcher(index)
    out = []
    for code, language in _queries():
        report = searcher.attribute(code, language).to_dict()
        report.pop("elapsed_ms", None)
        report["index"].pop("id", None)
        out.append(json.dumps(report, sort_keys=True))
    index.close()
    return out


@pytest.fixture(scope="module")
def single(shards: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("single") / "index"
    result = open_writer(path).build(open_source(str(shards)), settings=SETTINGS, sources=[str(shards)])
    assert result.identical_copies > 0 and result.near_copies > 0  # the input exercises both
    assert len(result.manifest.segments) >= 3
    return path, _reports(path)


def _check_same(single: tuple[Path, list[str]], ray_path: Path) -> None:
    single_path, expected = single
    got = _reports(ray_path)
    assert len(got) == len(expected) > 20
    assert sum(a != b for a, b in zip(expected, got, strict=True)) == 0
    stats = open_index(str(ray_path)).stats()
    want = open_index(str(single_path)).stats()
    for key in ("documents", "clusters", "postings", "corpus_bytes", "segments"):
        assert stats[key] == want[key], key


def test_ray_build_gives_the_single_process_reports(shards: Path, single, tmp_path: Path) -> None:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        result = build_with_ray(tmp_path / "index", [str(shards)], settings=SETTINGS)
    finally:
        ray.shutdown()
    assert result.identical_copies > 0 and result.near_copies > 0
    _check_same(single, tmp_path / "index")


def test_cli_builds_on_ray(shards: Path, single, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from search_api.cli import main

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        args = ["index", "build", str(shards), "--index", str(tmp_path / "index"), "--keep", "all"]
        result = CliRunner().invoke(main, [*args, "--executor", "ray", "--json"])
    finally:
        ray.shutdown()
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    want = open_index(str(single[0])).stats()
    got = open_index(str(tmp_path / "index")).stats()
    assert summary["documents"] == want["documents"] and summary["identical_copies"] > 0
    assert (got["clusters"], got["postings"]) == (want["clusters"], want["postings"])


def test_cli_ray_options_are_checked(shards: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from search_api.cli import main

    args = ["index", "build", str(shards), "--index", str(tmp_path / "index")]
    limited = CliRunner().invoke(main, [*args, "--executor", "ray", "--limit", "3"])
    assert limited.exit_code == 2 and "--limit" in limited.output
    stray = CliRunner().invoke(main, [*args, "--ray-address", "127.0.0.1:1"])
    assert stray.exit_code == 2 and "--executor ray" in stray.output
    assert not (tmp_path / "index" / "CURRENT").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_node(args: list[str], temp: str) -> subprocess.Popen:
    """One Ray node, in a process group of its own (stopped by `_stop_node`, never by `ray stop`,
    which would stop every Ray node of this machine)."""
    ray_cli = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    return subprocess.Popen(
        [ray_cli, "start", "--block", "--num-cpus=1", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        cwd=temp,
    )


def _stop_node(node: subprocess.Popen) -> None:
    for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            node.wait(wait)
            return


def _wait_for_nodes(address: str, count: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            ray.init(address=address, log_to_driver=False)
            if len([n for n in ray.nodes() if n["Alive"]]) >= count:
                return
            ray.shutdown()
        time.sleep(2)
    raise AssertionError(f"the Ray cluster at {address} did not reach {count} nodes")


def test_ray_build_on_two_nodes(shards: Path, single, tmp_path: Path) -> None:
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: Ray's socket paths have a length limit
    address = f"127.0.0.1:{port}"
    head = _start_node(["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={temp}"], temp)
    nodes = [head]
    try:
        time.sleep(5)
        nodes.append(_start_node([f"--address={address}"], temp))
        _wait_for_nodes(address, 2)
        try:
            build_with_ray(tmp_path / "index", [str(shards)], settings=SETTINGS, address=address)
        finally:
            ray.shutdown()
    finally:
        for node in reversed(nodes):
            _stop_node(node)
        shutil.rmtree(temp, ignore_errors=True)
    _check_same(single, tmp_path / "index")
