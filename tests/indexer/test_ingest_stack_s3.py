"""The Stack v2 as it is published: rows of blob ids (per repository in the -ids datasets, per file
in the flat ones) whose contents are fetched from an S3 API — moto's server here, or the real
endpoint CODECITE_S3_ENDPOINT names — gzip-compressed and keyed by blob id, as Software Heritage's
bucket serves them."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from s3_emulator import FaultProxy, S3Target

from indexer.backends import open_index, open_writer
from indexer.licenses.readings import dataset_reading
from indexer.placement import BuildSettings
from indexer.records import Document, LicenseCategory, Skip, SkipReason, git_blob_id
from indexer.sources import IngestOptions, open_source

UTC = dt.UTC
HULL = '''def convex_hull(points):
    """Andrew's monotone chain: the hull of `points`, counter-clockwise."""
    points = sorted(set(points))
    if len(points) <= 2:
        return points

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in points:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(points):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]
'''
VENDORED = "def clamp(value, low, high):\n    return max(low, min(high, value))\n"
RUST = "pub fn add(left: u64, right: u64) -> u64 {\n    left + right\n}\n"
CARGO = '[package]\nname = "adder"\nversion = "0.1.0"\nlicense = "MIT OR Apache-2.0"\n'
JSZIP = "function inflate(data) {\n  return pako.inflateRaw(data, { chunkSize: 65536 });\n}\n"
LATIN = "# Café des délices\ndef greet():\n    return 'olé'\n"


def _file(blob: str, path: str, language: str, content: bytes, **extra: Any) -> dict[str, Any]:
    fields = {
        "blob_id": blob,
        "path": "/" + path,
        "content_id": "c" * 40,
        "language": language,
        "length_bytes": len(content),
        "detected_licenses": ["MIT"],
        "license_type": "permissive",
        "src_encoding": "UTF-8",
        "is_vendor": False,
        "is_generated": False,
        "alphanum_fraction": 0.7,
    }
    return fields | extra


def _repo(name: str, files: list[dict[str, Any]], stars: int, created: dt.datetime) -> dict[str, Any]:
    return {
        "repo_name": name,
        "repo_url": f"https://github.com/{name}",
        "snapshot_id": git_blob_id(name.encode()),
        "revision_id": git_blob_id(name.encode() + b"@rev"),
        "directory_id": "d" * 40,
        "branch_name": "refs/heads/main",
        "visit_date": dt.datetime(2023, 9, 1, 12, 0),
        "revision_date": dt.datetime(2019, 1, 1, 8, 30),
        "committer_date": dt.datetime(2019, 1, 2, 9, 0),
        "github_id": 1,
        "star_events_count": stars,
        "fork_events_count": 7,
        "gha_license_id": "MIT",
        "gha_created_at": created,
        "gha_language": "Python",
        "files": files,
        "num_files": len(files),
    }


@pytest.fixture
def corpus(s3: S3Target) -> dict[str, Any]:
    """Four repositories in the -ids layout; every blob uploaded except `missing`."""
    put = s3.put
    blobs = {
        "hull": put(HULL.encode()),
        "vendored": put(VENDORED.encode()),
        "missing": git_blob_id(b"# never uploaded\n"),
        "cargo": put(CARGO.encode()),
        "rust": put(RUST.encode()),
        "jszip": put(JSZIP.encode()),
        "latin": put(LATIN.encode("latin-1")),
    }
    rows = [
        _repo(
            "acme/geometry",
            [
                _file(blobs["hull"], "geometry/hull.py", "Python", HULL.encode()),
                _file(blobs["missing"], "geometry/missing.py", "Python", b"# never uploaded\n"),
                _file(blobs["vendored"], "vendor/lib/util.py", "Python", VENDORED.encode(), is_vendor=True),
            ],
            stars=120,
            created=dt.datetime(2013, 5, 2),
        ),
        _repo(
            "ferris/adder",
            [
                _file(
                    blobs["rust"],
                    "src/lib.rs",
                    "Rust",
                    RUST.encode(),
                    detected_licenses=["Apache-2.0", "MIT"],
                ),
                _file(
                    blobs["cargo"],
                    "Cargo.toml",
                    "TOML",
                    CARGO.encode(),
                    detected_licenses=["Apache-2.0", "MIT"],
                ),
            ],
            stars=3,
            created=dt.datetime(2020, 1, 1),
        ),
        _repo(
            "stuk/jszip",
            [
                _file(
                    blobs["jszip"],
                    "lib/inflate.js",
                    "JavaScript",
                    JSZIP.encode(),
                    detected_licenses=["GPL-3.0-or-later", "MIT"],
                )
            ],
            stars=9000,
            created=dt.datetime(2011, 2, 3),
        ),
        _repo(
            "latin/accents",
            [_file(blobs["latin"], "greet.py", "Python", LATIN.encode("latin-1"), src_encoding="ISO-8859-1")],
            stars=0,
            created=dt.datetime(2016, 6, 6),
        ),
    ]
    return {"rows": rows, "blobs": blobs}


def write_ids_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    table = pa.Table.from_pylist(rows)
    assert pa.types.is_list(table.schema.field("files").type), "the -ids layout nests the files"
    pq.write_table(table, path)
    return path


def ingest(spec: str, settings: Any) -> tuple[dict[str, Document], list[Skip]]:
    items = list(open_source(spec, IngestOptions(blob_store=settings)))
    docs = {f"{d.repo}/{d.path}": d for d in items if isinstance(d, Document)}
    return docs, [s for s in items if isinstance(s, Skip)]


def test_ids_layout_is_fetched_with_provenance_and_licenses(
    tmp_path: Path, s3: S3Target, corpus: dict
) -> None:
    parquet = write_ids_parquet(tmp_path / "train-smol-ids.parquet", corpus["rows"])
    docs, skips = ingest(str(parquet), s3.settings(tmp_path / "cache"))

    hull = docs["acme/geometry/geometry/hull.py"]
    assert hull.content == HULL and hull.blob_id == corpus["blobs"]["hull"] and hull.language == "Python"
    p = hull.provenance
    assert p.revision_date == dt.datetime(2019, 1, 1, 8, 30, tzinfo=UTC)
    assert p.committer_date == dt.datetime(2019, 1, 2, 9, 0, tzinfo=UTC)
    assert p.visit_date == dt.datetime(2023, 9, 1, 12, 0, tzinfo=UTC)
    assert p.gha_created_at == dt.datetime(2013, 5, 2, tzinfo=UTC)
    assert (p.star_events_count, p.fork_events_count) == (120, 7)
    assert p.snapshot_id == git_blob_id(b"acme/geometry") and p.is_vendor is False and p.is_generated is False
    assert hull.revision == git_blob_id(b"acme/geometry@rev") and not hull.vendored
    assert docs["acme/geometry/vendor/lib/util.py"].vendored

    missing = [s for s in skips if s.reason is SkipReason.MISSING_BLOB]
    assert [s.where for s in missing] == ["acme/geometry/geometry/missing.py"]

    rust = docs["ferris/adder/src/lib.rs"]  # the manifest's expression wins over the AND of the list
    assert rust.license == "MIT OR Apache-2.0" and rust.provenance.license_basis == "Cargo.toml license field"
    jszip = docs["stuk/jszip/lib/inflate.js"]
    assert jszip.license == "MIT OR GPL-3.0-or-later" and jszip.license_category is LicenseCategory.PERMISSIVE
    assert "license_type says permissive, so MIT may be chosen" in (jszip.provenance.license_basis or "")
    assert docs["latin/accents/greet.py"].content == LATIN  # decoded with its src_encoding


def test_provenance_is_stored_in_the_index(tmp_path: Path, s3: S3Target, corpus: dict) -> None:
    parquet = write_ids_parquet(tmp_path / "ids.parquet", corpus["rows"])
    source = open_source(str(parquet), IngestOptions(blob_store=s3.settings(tmp_path / "cache")))
    built = open_writer(tmp_path / "idx").build(
        source, settings=BuildSettings(keep=frozenset(LicenseCategory))
    )
    assert built.stats.skipped[SkipReason.MISSING_BLOB] == 1
    index = open_index(tmp_path / "idx")
    doc_id = index.find_blob(corpus["blobs"]["hull"])
    assert doc_id is not None
    stored = index.info(doc_id).document
    assert stored.provenance.star_events_count == 120
    assert stored.provenance.gha_created_at == dt.datetime(2013, 5, 2, tzinfo=UTC)
    assert stored.provenance.license_basis == "The Stack v2 detected_licenses [MIT]"


def test_server_errors_on_the_first_tries_are_retried(
    tmp_path: Path, emulator_only: S3Target, corpus: dict
) -> None:
    parquet = write_ids_parquet(tmp_path / "ids.parquet", corpus["rows"])
    proxy = FaultProxy(emulator_only.endpoint, fail_first=2)
    try:
        docs, skips = ingest(
            str(parquet), emulator_only.settings(tmp_path / "cache", endpoint=proxy.url, attempts=4)
        )
    finally:
        proxy.stop()
    asked = 6 + 1  # six blobs there (the Cargo.toml read for its license), one missing
    assert proxy.failures == 2 * asked and proxy.requests == 3 * asked
    assert docs["acme/geometry/geometry/hull.py"].content == HULL
    assert [s.reason for s in skips if s.reason is not SkipReason.UNSUPPORTED_LANGUAGE] == [
        SkipReason.MISSING_BLOB
    ]


def test_a_store_that_keeps_failing_costs_the_files_not_the_build(
    tmp_path: Path, emulator_only: S3Target, corpus: dict
) -> None:
    parquet = write_ids_parquet(tmp_path / "ids.parquet", corpus["rows"])
    proxy = FaultProxy(emulator_only.endpoint, fail_first=1000)
    try:
        docs, skips = ingest(
            str(parquet), emulator_only.settings(tmp_path / "cache", endpoint=proxy.url, attempts=2)
        )
    finally:
        proxy.stop()
    assert docs == {}
    failed = [s for s in skips if s.reason is SkipReason.UNREADABLE]
    assert len(failed) == 6 and all("not fetched" in s.detail for s in failed)


def test_a_rerun_fetches_nothing_again(tmp_path: Path, s3: S3Target, corpus: dict) -> None:
    parquet = write_ids_parquet(tmp_path / "ids.parquet", corpus["rows"])
    first, first_skips = ingest(str(parquet), s3.settings(tmp_path / "cache"))
    cached = sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert len(cached) == 7 and sum(name.endswith(".missing") for name in cached) == 1
    # Nothing listens on port 9: every content must come from the cache, the missing blob too.
    unreachable = s3.settings(tmp_path / "cache", endpoint="http://127.0.0.1:9", attempts=1, timeout_s=2)
    again, again_skips = ingest(str(parquet), unreachable)
    assert again == first
    assert [(s.reason, s.where) for s in again_skips] == [(s.reason, s.where) for s in first_skips]


def test_a_blob_whose_content_does_not_match_its_id_is_refused(tmp_path: Path, s3: S3Target) -> None:
    claimed = git_blob_id(b"x = 1\n")
    s3.put(b"x = 2  # not what the id says\n", blob_id=claimed)
    row = _repo("acme/tampered", [_file(claimed, "x.py", "Python", b"x = 1\n")], 1, dt.datetime(2020, 1, 1))
    parquet = write_ids_parquet(tmp_path / "ids.parquet", [row])
    docs, skips = ingest(str(parquet), s3.settings(tmp_path / "cache", attempts=2))
    assert docs == {}
    assert [s.reason for s in skips] == [SkipReason.UNREADABLE] and "does not match its blob id" in skips[
        0
    ].detail


def test_flat_rows_without_content_are_fetched(tmp_path: Path, s3: S3Target, corpus: dict) -> None:
    """the-stack-v2 / -dedup: one row per file, repository columns repeated, no content."""
    rows = []
    for repo in corpus["rows"][:1]:
        for file in repo["files"]:
            flat = {k: v for k, v in repo.items() if k not in ("files", "num_files")} | file
            rows.append({k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in flat.items()})
    path = tmp_path / "the-stack-v2.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    docs, skips = ingest(str(path), s3.settings(tmp_path / "cache"))
    assert set(docs) == {"acme/geometry/geometry/hull.py", "acme/geometry/vendor/lib/util.py"}
    assert docs["acme/geometry/geometry/hull.py"].provenance.star_events_count == 120
    assert [s.reason for s in skips] == [SkipReason.MISSING_BLOB]


def test_the_ids_layout_through_datasets(
    tmp_path: Path, s3: S3Target, corpus: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hf:NAME goes through `datasets` (streaming); a local directory stands in for the hub."""
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    (tmp_path / "hub" / "data").mkdir(parents=True)
    write_ids_parquet(tmp_path / "hub" / "data" / "train-00000-of-00001.parquet", corpus["rows"])
    docs, skips = ingest(f"hf:{tmp_path / 'hub'}", s3.settings(tmp_path / "cache"))
    assert docs["stuk/jszip/lib/inflate.js"].license == "MIT OR GPL-3.0-or-later"
    assert docs["acme/geometry/geometry/hull.py"].provenance.revision_date == dt.datetime(
        2019, 1, 1, 8, 30, tzinfo=UTC
    )
    assert SkipReason.MISSING_BLOB in {s.reason for s in skips}


@pytest.mark.parametrize(
    ("ids", "license_type", "expression", "category"),
    [
        (("GPL-3.0-or-later", "MIT"), "permissive", "MIT OR GPL-3.0-or-later", LicenseCategory.PERMISSIVE),
        (
            ("BSD-3-Clause", "GPL-2.0"),
            "permissive",
            "BSD-3-Clause OR GPL-2.0-only",
            LicenseCategory.PERMISSIVE,
        ),
        (("Apache-2.0", "MIT"), "permissive", "Apache-2.0 AND MIT", LicenseCategory.PERMISSIVE),
        (("GPL-3.0-or-later", "MIT"), None, "GPL-3.0-or-later AND MIT", LicenseCategory.COPYLEFT),
        ((), "no_license", None, LicenseCategory.NO_LICENSE),
    ],
)
def test_dataset_readings(
    ids: tuple[str, ...], license_type: str | None, expression: str | None, category
) -> None:
    """The curators' license_type decides between AND and OR only where the two readings disagree."""
    reading = dataset_reading(ids, license_type)
    assert (reading.expression, reading.category) == (expression, category)
