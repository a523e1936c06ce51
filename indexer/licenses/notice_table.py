"""License wording, as a table to find notices in code with: the k-word shingles of every license
text and notice rule of ScanCode's LicenseDB, each with the documents that hold it.

The data is the `licensedcode-data` package (ScanCode's license texts and detection rules, data
under CC-BY-4.0): 2,300 license texts and 35,000 rules, 14,000 of them header and notice variants
("Licensed under the Apache License…", "either version 2 … or (at your option) any later
version"). ScanCode license keys become SPDX ids through the LicenseDB index that
`license-expression` bundles (keys without an SPDX id become ``LicenseRef-scancode-<key>``).

Building the table reads 37,000 small files (seconds), so it is built once per data version and
cached (``$CODECITE_CACHE``, else ``~/.cache/codecite``); loading the cached table takes a fraction
of a second.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.resources
import json
import logging
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SHINGLE_WORDS = 6
TABLE_FORMAT = 1  # raise when what goes into the table changes (words, rule kinds, filters)
_WORD = re.compile(r"[a-z0-9]+")
_BASE = np.uint64(0x100000001B3)  # the FNV prime, as the base of the shingles' polynomial hash
_RULE_KINDS = ("text", "notice", "reference", "tag")  # ScanCode's is_license_<kind> flags kept
# Keys that say "some license wording" without naming a license: they set a notice's kind, never its name.
GENERIC_LICENSES = frozenset(
    f"LicenseRef-scancode-{key}"
    for key in (
        "warranty-disclaimer",
        "unknown-license-reference",
        "unknown",
        "free-unknown",
        "other-permissive",
        "other-copyleft",
        "proprietary-license",
        "commercial-license",
        "unknown-spdx",
    )
)


def words(text: str) -> list[str]:
    """The words license matching sees: lower-cased runs of letters and digits ("licence" spelled "license")."""
    return _WORD.findall(text.lower().replace("licence", "license"))


def shingle_hashes(ids: np.ndarray, k: int = SHINGLE_WORDS) -> tuple[np.ndarray, np.ndarray]:
    """The hash of every run of `k` word ids, and whether the run holds only known words (id > 0)."""
    n = ids.shape[0] - k + 1
    if n <= 0:
        return np.zeros(0, np.uint64), np.zeros(0, bool)
    h = np.zeros(n, np.uint64)
    wide = ids.astype(np.uint64)
    for j in range(k):
        h = h * _BASE + wide[j : j + n]
    unknown = np.concatenate(([0], np.cumsum(ids == 0)))
    return h, (unknown[k:] - unknown[:-k]) == 0


@dataclass(frozen=True)
class NoticeTable:
    """Shingles (sorted) -> the license documents holding them (CSR: `offsets` into `postings`).

    Per document: its shingle count, its SPDX expression and the LicenseDB file it came from.
    """

    vocabulary: dict[str, int]  # word -> id (1-based; 0 is "not a license word")
    shingles: np.ndarray  # uint64, sorted
    offsets: np.ndarray  # int64[len(shingles) + 1]
    postings: np.ndarray  # int32 document ids
    doc_shingles: np.ndarray  # float64, distinct shingles per document
    doc_license: tuple[str, ...]  # SPDX expression per document
    doc_source: tuple[str, ...]  # "licenses/mit.LICENSE", "rules/gpl-2.0-plus_12.RULE", ...

    def word_ids(self, text_words: list[str]) -> np.ndarray:
        get = self.vocabulary.get
        return np.fromiter((get(w, 0) for w in text_words), np.uint32, len(text_words))

    def lookup(self, hashes: np.ndarray) -> np.ndarray:
        """The row of each hash in `shingles`, -1 where it is not license wording."""
        if self.shingles.shape[0] == 0:
            return np.full(hashes.shape[0], -1, np.int64)
        pos = np.minimum(np.searchsorted(self.shingles, hashes), self.shingles.shape[0] - 1)
        return np.where(self.shingles[pos] == hashes, pos, -1)


@functools.cache
def notice_table() -> NoticeTable:
    """The process's table: loaded from the cache, built there first when missing."""
    path = _cache_dir() / f"license-notices-{_data_version()}-k{SHINGLE_WORDS}-t{TABLE_FORMAT}.npz"
    if not path.exists():
        log.info("building the license notice table (once per licensedcode-data version): %s", path)
        save_table(build_table(_data_dir()), path)
    return load_table(path)


def build_table(data_dir: Path) -> NoticeTable:
    """The table of every license text and rule under `data_dir` (licensedcode's ``data``)."""
    to_spdx = _spdx_ids()
    documents: list[tuple[str, str, list[str]]] = []  # (scancode expression, source, words)
    for kind, meta, body, source in _licensedb_files(data_dir):
        if kind == "license":
            key = meta.get("key") or Path(source).stem
            if meta.get("spdx_license_key"):
                to_spdx.setdefault(key, meta["spdx_license_key"])
            documents.append((key, source, words(body)))
        else:
            documents.append((meta["license_expression"], source, words(body)))
    documents = [d for d in documents if len(d[2]) >= SHINGLE_WORDS]
    vocabulary: dict[str, int] = {}
    for _, _, doc_words in documents:
        for w in doc_words:
            vocabulary.setdefault(w, len(vocabulary) + 1)
    sets = [np.unique(shingle_hashes(_ids(vocabulary, w))[0]) for _, _, w in documents]
    return _csr_table(vocabulary, documents, sets, to_spdx)


def _csr_table(
    vocabulary: dict[str, int],
    documents: list[tuple[str, str, list[str]]],
    sets: list[np.ndarray],
    to_spdx: dict[str, str],
) -> NoticeTable:
    hashes = np.concatenate(sets) if sets else np.zeros(0, np.uint64)
    doc_ids = (
        np.concatenate([np.full(s.shape[0], i, np.int32) for i, s in enumerate(sets)])
        if sets
        else np.zeros(0, np.int32)
    )
    order = np.lexsort((doc_ids, hashes))
    hashes, doc_ids = hashes[order], doc_ids[order]
    shingles = np.unique(hashes)
    offsets = np.append(np.searchsorted(hashes, shingles), hashes.shape[0]).astype(np.int64)
    return NoticeTable(
        vocabulary=vocabulary,
        shingles=shingles,
        offsets=offsets,
        postings=doc_ids,
        doc_shingles=np.array([s.shape[0] for s in sets], np.float64),
        doc_license=tuple(_spdx_expression(expr, to_spdx) for expr, _, _ in documents),
        doc_source=tuple(source for _, source, _ in documents),
    )


def save_table(table: NoticeTable, path: Path) -> None:
    """Write `table` to `path` atomically (concurrent builders each write whole files)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp.npz")
    docs = {"license": table.doc_license, "source": table.doc_source}
    vocab = "\n".join(sorted(table.vocabulary, key=table.vocabulary.__getitem__))
    np.savez(
        tmp,
        vocabulary=np.array(vocab),
        shingles=table.shingles,
        offsets=table.offsets,
        postings=table.postings,
        doc_shingles=table.doc_shingles,
        docs=np.array(json.dumps(docs)),
    )
    os.replace(tmp, path)


def load_table(path: Path) -> NoticeTable:
    with np.load(path) as data:
        docs = json.loads(str(data["docs"]))
        vocab = str(data["vocabulary"]).split("\n")
        return NoticeTable(
            vocabulary={w: i + 1 for i, w in enumerate(vocab)},
            shingles=data["shingles"],
            offsets=data["offsets"],
            postings=data["postings"],
            doc_shingles=data["doc_shingles"],
            doc_license=tuple(docs["license"]),
            doc_source=tuple(docs["source"]),
        )


def _licensedb_files(data_dir: Path):
    for path in sorted((data_dir / "licenses").glob("*.LICENSE")):
        meta, body = _parse(path)
        if not any(meta.get(flag) == "yes" for flag in ("is_deprecated", "is_unknown", "is_generic")):
            yield "license", meta, body, f"licenses/{path.name}"
    for path in sorted((data_dir / "rules").glob("*.RULE")):
        meta, body = _parse(path)
        if meta.get("is_false_positive") == "yes" or meta.get("is_deprecated") == "yes":
            continue
        if meta.get("license_expression") and any(meta.get(f"is_license_{k}") == "yes" for k in _RULE_KINDS):
            yield "rule", meta, body, f"rules/{path.name}"


def _parse(path: Path) -> tuple[dict[str, str], str]:
    """A LicenseDB file: ``key: value`` front matter between ``---`` lines, then the text."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if not raw.startswith("---\n"):
        return {}, raw
    front, _, body = raw[4:].partition("\n---\n")
    meta = {}
    for line in front.splitlines():
        if line and not line.startswith(" ") and ":" in line:
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
    return meta, body


def _ids(vocabulary: dict[str, int], text_words: list[str]) -> np.ndarray:
    return np.fromiter((vocabulary[w] for w in text_words), np.uint32, len(text_words))


def _spdx_ids() -> dict[str, str]:
    index = importlib.resources.files("license_expression").joinpath("data/scancode-licensedb-index.json")
    return {
        e["license_key"]: e["spdx_license_key"]
        for e in json.loads(index.read_text(encoding="utf-8"))
        if e.get("spdx_license_key")
    }


_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9.+_-]*")


def _spdx_expression(scancode: str, to_spdx: dict[str, str]) -> str:
    """A ScanCode license expression with SPDX ids (``gpl-2.0-plus`` -> ``GPL-2.0-or-later``)."""
    return _KEY.sub(
        lambda m: (
            m.group(0).upper()
            if m.group(0).lower() in ("and", "or", "with")
            else to_spdx.get(m.group(0), f"LicenseRef-scancode-{m.group(0)}")
        ),
        scancode,
    )


def _data_dir() -> Path:
    import licensedcode  # a namespace package: the data lies beside it, not in an __init__

    return Path(next(iter(licensedcode.__path__))) / "data"


def _data_version() -> str:
    """The versions of the data and of the SPDX mapping: a change of either builds a new table."""
    return f"{importlib.metadata.version('licensedcode-data')}-{importlib.metadata.version('license-expression')}"


def _cache_dir() -> Path:
    base = os.environ.get("CODECITE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "codecite")
    return Path(base)
