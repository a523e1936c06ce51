"""What an Elasticsearch index of codecite looks like: names, mappings, settings, manifest.

One build is two concrete indices, reached through one alias::

    NAME                      alias -> NAME-<build>-docs (swapped atomically per build)
    NAME-<build>-docs         one document per source file, _id = global document id;
                              the manifest lives in this index's mapping ``_meta.codecite``
    NAME-<build>-postings     one document per (channel, document, block of lines, part): the
                              fingerprints starting in those lines, with their lines
    NAME-lock                 the writer lock (one document while a build, add or removal runs)

A posting document holds the (hash, line) postings of one document's block of `block_lines`
lines in one channel, each hash at most once (a hash that starts on several lines of the block
goes to parts 0, 1, ...). So a hash has exactly as many postings as posting documents holding
it — a terms aggregation counts them exactly — while Elasticsearch stores ~30 times fewer
documents than postings (per-document overhead: _id, sequence numbers, bulk metadata). Lookups
read the matching documents' `h` and `l` arrays from ``_source``. Documents ids at or above
the manifest's ``next_doc_base`` are not yet committed (an add in progress, or one that died):
every read filters them out, which makes an add atomic for readers.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import re
import uuid
from dataclasses import dataclass, fields

import numpy as np

from indexer.analysis.minhash import new_lsh
from indexer.backends.errors import IndexVersionError
from indexer.backends.manifest import FORMAT, Manifest
from indexer.options import IndexOptions

_KEYWORD_STORED = {"type": "keyword", "index": False, "doc_values": False}

# `indexer.records.Provenance`, one object per document (dates as ISO 8601 strings in UTC).
PROVENANCE_MAPPING: dict[str, object] = {
    "dynamic": "strict",
    "properties": {
        "revision_date": {"type": "date"},
        "committer_date": {"type": "date"},
        "visit_date": {"type": "date"},
        "gha_created_at": {"type": "date"},
        "first_commit_date": {"type": "date"},
        "star_events_count": {"type": "long"},
        "fork_events_count": {"type": "long"},
        "snapshot_id": _KEYWORD_STORED,
        "is_vendor": {"type": "boolean"},
        "is_generated": {"type": "boolean"},
        "license_basis": _KEYWORD_STORED,
    },
}

DOCS_MAPPING: dict[str, object] = {
    "dynamic": "strict",
    "properties": {
        "doc": {"type": "long"},
        "blob_id": {"type": "keyword"},
        "repo": {"type": "keyword"},
        "path": {"type": "keyword", "doc_values": False},
        "language": {"type": "keyword"},
        "license": {"type": "keyword"},
        "license_category": {"type": "keyword"},
        "source": _KEYWORD_STORED,
        "url": _KEYWORD_STORED,
        "revision": _KEYWORD_STORED,
        "content_hash": {"type": "keyword", "doc_values": False},
        "size_bytes": {"type": "long", "index": False},
        "n_lines": {"type": "integer", "index": False, "doc_values": False},
        "cluster": {"type": "long"},  # global id of the copy cluster's representative (own id for one)
        "removed": {"type": "boolean"},
        "content": {"type": "text", "index": False, "norms": False},
        "content_doc": {"type": "long", "index": False, "doc_values": False},  # identical copy: text is there
        "signature": {"type": "binary"},  # MinHash signature, representatives only
        "bands": {"type": "keyword", "doc_values": False},  # MinHash LSH band keys, representatives only
        "provenance": PROVENANCE_MAPPING,
    },
}

POSTINGS_MAPPING: dict[str, object] = {
    "dynamic": "strict",
    "properties": {
        "c": {"type": "keyword", "doc_values": False},  # channel: exact | normalized
        "d": {"type": "long"},  # global document id
        "b": {"type": "integer", "index": False},  # block: (line - 1) // block_lines
        "p": {"type": "integer", "index": False},  # part: the k-th occurrence of each hash in the block
        "h": {"type": "keyword"},  # fingerprint hashes, 16 lower-case hex digits, each at most once
        "l": {"type": "integer", "index": False, "doc_values": False},  # 1-based line of each hash in h
    },
}

LOCK_MAPPING: dict[str, object] = {
    "dynamic": "strict",
    "properties": {"holder": _KEYWORD_STORED, "since": _KEYWORD_STORED, "doing": _KEYWORD_STORED},
}


@dataclass(frozen=True, slots=True)
class ElasticSettings:
    """How a build is laid out on the cluster and sent to it (not how it fingerprints).

    `shards`/`postings_shards`: primary shards of the two indices (fixed at creation; aim at
    10-50 GB a shard, see deploy/README.md). `replicas`: replicas once the build is served
    (none while it is written). Bulk requests carry `chunk_size` actions or `max_chunk_bytes`;
    items the cluster rejects as overloaded (429) are retried `max_retries` times with
    exponential backoff from `initial_backoff` up to `max_backoff` seconds. `keep_builds`
    concrete builds stay (the served one and its predecessors, for readers still on them).
    `block_lines`: lines of a document whose postings share one posting document (more: fewer,
    larger documents; a lookup reads whole posting documents).
    """

    shards: int = 1
    postings_shards: int = 1
    replicas: int = 1
    chunk_size: int = 5000
    max_chunk_bytes: int = 50 * 1024 * 1024
    max_retries: int = 5
    initial_backoff: float = 2.0
    max_backoff: float = 120.0
    request_timeout: float = 120.0
    keep_builds: int = 2
    force_merge: bool = False
    block_lines: int = 32

    def __post_init__(self) -> None:
        problems = []
        for name, low, high in (
            ("shards", 1, 1024),
            ("postings_shards", 1, 1024),
            ("replicas", 0, 16),
            ("chunk_size", 1, 100_000),
            ("max_retries", 0, 100),
            ("keep_builds", 1, 100),
            ("block_lines", 1, 100_000),
        ):
            if not low <= getattr(self, name) <= high:
                problems.append(f"{name}={getattr(self, name)} must be between {low} and {high}")
        if (
            self.max_chunk_bytes < 1024
            or self.initial_backoff <= 0
            or self.max_backoff < self.initial_backoff
        ):
            problems.append("max_chunk_bytes >= 1024 and 0 < initial_backoff <= max_backoff are needed")
        if problems:
            raise ValueError("invalid Elasticsearch settings: " + "; ".join(problems))

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> ElasticSettings:
        """Defaults overridden by ``CODECITE_ES_<FIELD>`` variables (``CODECITE_ES_REPLICAS=0``)."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(f"CODECITE_ES_{f.name.upper()}")
            if raw is None:
                continue
            try:
                values[f.name] = (
                    raw.lower() in ("1", "true", "yes")
                    if f.type == "bool"
                    else (float(raw) if f.type == "float" else int(raw))
                )
            except ValueError:
                raise ValueError(f"CODECITE_ES_{f.name.upper()}={raw!r} must be a {f.type}") from None
        return cls(**values)  # type: ignore[arg-type]

    def build_index_settings(self, postings: bool) -> dict[str, object]:
        """Settings a new concrete index is created with: no replicas or refreshes while written."""
        out: dict[str, object] = {
            "number_of_shards": self.postings_shards if postings else self.shards,
            "number_of_replicas": 0,
            "refresh_interval": "-1",
        }
        if not postings:
            out["codec"] = "best_compression"  # the documents' _source holds the file contents
        return out

    def serving_settings(self) -> dict[str, object]:
        return {"index": {"number_of_replicas": self.replicas, "refresh_interval": None}}


@dataclass(frozen=True, slots=True)
class BuildNames:
    """The concrete indices of one build."""

    alias: str
    build: str

    @classmethod
    def new(cls, alias: str) -> BuildNames:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S%f")  # sorts in creation order
        return cls(alias, f"b{stamp}{uuid.uuid4().hex[:4]}")

    @property
    def docs(self) -> str:
        return f"{self.alias}-{self.build}-docs"

    @property
    def postings(self) -> str:
        return f"{self.alias}-{self.build}-postings"

    @staticmethod
    def lock(alias: str) -> str:
        return f"{alias}-lock"

    @staticmethod
    def pattern(alias: str) -> str:
        return f"{alias}-b*"

    @staticmethod
    def build_of(alias: str, index: str) -> str | None:
        """The build id of one of `alias`'s concrete indices, or None for any other index."""
        m = re.fullmatch(re.escape(alias) + r"-(b\d{20}[0-9a-f]{4})-(?:docs|postings)", index)
        return m.group(1) if m else None


def hash_keys(hashes: np.ndarray) -> list[str]:
    """Fingerprint hashes as the 16-hex-digit keywords the postings index stores."""
    return [format(h, "016x") for h in np.asarray(hashes, dtype=np.uint64).tolist()]


def encode_signature(signature: np.ndarray) -> str:
    """A MinHash signature as a document stores it: base64 of its little-endian uint32 slots
    (`indexer.analysis.minhash.signature` makes uint32 whichever the scheme)."""
    return base64.b64encode(np.asarray(signature, dtype="<u4").tobytes()).decode("ascii")


def decode_signature(raw: str) -> np.ndarray:
    """The signature `encode_signature` stored, as the uint32 array `fingerprint_document` made."""
    return np.frombuffer(base64.b64decode(raw), dtype="<u4").astype(np.uint32)


def band_keys(signature: np.ndarray, options: IndexOptions) -> list[str]:
    """MinHash LSH band keys ``"<band>:<hash of the band's values>"``.

    The bands are datasketch's for these options (`MinHashLSH` picks b bands of r rows for the
    threshold), so two signatures share a key exactly when datasketch's LSH would put them in a
    common bucket (up to a 64-bit hash collision).
    """
    lsh = _lsh_ranges(options.minhash_perm, options.cluster_threshold)
    values = np.asarray(signature)
    values = values.astype(values.dtype.newbyteorder("<"), copy=False)
    return [
        f"{i}:{hashlib.blake2b(values[a:b].tobytes(), digest_size=8).hexdigest()}"
        for i, (a, b) in enumerate(lsh)
    ]


_RANGES: dict[tuple[int, float], list[tuple[int, int]]] = {}


def _lsh_ranges(num_perm: int, threshold: float) -> list[tuple[int, int]]:
    key = (num_perm, threshold)
    if key not in _RANGES:
        _RANGES[key] = list(
            new_lsh(IndexOptions(minhash_perm=num_perm, cluster_threshold=threshold)).hashranges
        )
    return _RANGES[key]


def manifest_meta(manifest: Manifest, names: BuildNames, block_lines: int) -> dict[str, object]:
    """The mapping ``_meta`` that records `manifest` on the build's documents index."""
    return {
        "codecite": manifest.to_dict()
        | {
            "backend": "elasticsearch",
            "build": names.build,
            "postings_index": names.postings,
            "block_lines": block_lines,
        }
    }


@dataclass(slots=True)
class CurrentBuild:
    """What an alias serves: the manifest, the build's indices, and its posting block size."""

    manifest: Manifest
    names: BuildNames
    block_lines: int


def read_manifest_meta(meta: dict | None, alias: str, index: str, uri: str) -> CurrentBuild:
    """Parse the ``_meta`` of `alias`'s documents index `index`; errors say how to rebuild."""
    raw = (meta or {}).get("codecite")
    rebuild = f"rebuild it with `codecite index build SOURCE... --index {uri}`"
    if not isinstance(raw, dict):
        raw = {}
    names = BuildNames(alias, str(raw.get("build", ""))) if raw else None
    if (
        names is None
        or raw.get("format") != FORMAT
        or raw.get("backend") != "elasticsearch"
        or names.docs != index
    ):
        raise IndexVersionError(
            f"the Elasticsearch index {index} is not a codecite index: {rebuild} "
            "(or point --index at another name)"
        )
    manifest = Manifest.from_dict(raw, f"the Elasticsearch index {index}", rebuild)
    return CurrentBuild(manifest, names, int(raw.get("block_lines", 32)))
