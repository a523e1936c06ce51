"""Segments: immutable slices of an index (documents, contents, postings, signatures).

A segment numbers its documents from `doc_base` (global ids are unique across an index) and
numbers the lines of all its documents consecutively: document d's line L has the segment
line id ``line_base[d] + L - 1``. Postings store that one uint32, from which both the
document and the line come back with one binary search.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyarrow import feather

from indexer.analysis.channels import PostingChannel
from indexer.analysis.fingerprints import DocFingerprints
from indexer.analysis.minhash import storage_dtype
from indexer.backends.embedded.bands import BandTable, write_bands
from indexer.backends.embedded.content import ContentReader, ContentWriter
from indexer.backends.embedded.multiline import MultilineTable, MultilineWriter
from indexer.backends.embedded.postings import PostingTable, write_postings
from indexer.backends.embedded.provenance import ProvenanceColumns, ProvenanceWriter
from indexer.backends.errors import CorruptIndexError
from indexer.backends.manifest import SegmentInfo
from indexer.options import IndexOptions
from indexer.placement import Postings
from indexer.records import Document, LicenseCategory

_TEXT_COLUMNS = (
    "blob_id",
    "repo",
    "path",
    "language",
    "license",
    "license_category",
    "source",
    "url",
    "revision",
    "content_hash",
)
_INT_COLUMNS = (
    "size_bytes",
    "n_lines",
    "line_base",
    "content_block",
    "content_offset",
    "content_length",
    "cluster",
)
MAX_SEGMENT_LINES = 2**24 - 1  # line ids are 3 bytes in the posting tables


def file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SegmentWriter:
    """Writes one segment directory. Documents arrive in order; postings are sorted at the end."""

    def __init__(self, directory: Path, name: str, doc_base: int, options: IndexOptions) -> None:
        self.directory = directory
        self.name = name
        self.doc_base = doc_base
        self.options = options
        directory.mkdir(parents=True, exist_ok=False)
        self._content = ContentWriter(
            directory / "content.bin", options.content_block_bytes, options.content_level
        )
        self._rows: dict[str, list] = {c: [] for c in _TEXT_COLUMNS + _INT_COLUMNS}
        self._signatures: list[np.ndarray] = []
        self._multiline = MultilineWriter()
        self._postings: dict[PostingChannel, list[tuple[np.ndarray, np.ndarray]]] = {
            c: [] for c in PostingChannel
        }
        self._lines = 0
        self.content_bytes = 0
        self._provenance = ProvenanceWriter()

    @property
    def documents(self) -> int:
        return len(self._rows["blob_id"])

    def has_room(self, n_lines: int) -> bool:
        """Whether a document of `n_lines` lines still fits (segment line ids are limited)."""
        return self._lines + n_lines <= MAX_SEGMENT_LINES

    def add(
        self,
        doc: Document,
        raw: bytes,
        fingerprints: DocFingerprints,
        cluster: int,
        postings: Postings,
        content_hash: str,
        same_content_as: int | None = None,
    ) -> int:
        """Add a document (`raw`: its content as UTF-8); returns its global id.

        `postings` maps channel -> (hashes, lines) to store for it (copies store only what their
        cluster lacks); `cluster` is the global id of its cluster's representative (-1: itself);
        `same_content_as` names an earlier document of this segment with identical bytes, whose
        stored content it shares.
        """
        if not self.has_room(fingerprints.n_lines):
            raise OverflowError("segment line ids exhausted; start a new segment")
        if same_content_as is not None:
            i = same_content_as - self.doc_base
            block, offset, length = (
                self._rows[c][i] for c in ("content_block", "content_offset", "content_length")
            )
        else:
            block, offset, length = self._content.add(raw)
        row = doc.to_dict(with_content=False) | {"content_hash": content_hash}
        for column in _TEXT_COLUMNS:
            self._rows[column].append(row[column])
        self._provenance.add(doc.provenance)
        ints = (len(raw), fingerprints.n_lines, self._lines, block, offset, length, cluster)
        self.content_bytes += len(raw)
        self._multiline.add(fingerprints.multiline)
        for column, value in zip(_INT_COLUMNS, ints):
            self._rows[column].append(value)
        for channel, (hashes, lines) in postings.items():
            if hashes.shape[0]:
                refs = (lines.astype(np.int64) - 1 + self._lines).astype(np.uint32)
                self._postings[channel].append((hashes, refs))
        if cluster < 0:  # only representatives are looked up by signature (copy clustering, LSH)
            self._signatures.append(fingerprints.signature)
        self._lines += fingerprints.n_lines
        return self.doc_base + self.documents - 1

    def finish(self) -> SegmentInfo:
        self._content.close(self.directory / "content_blocks.npy")
        table = pa.table({c: self._rows[c] for c in _TEXT_COLUMNS + _INT_COLUMNS})
        # uncompressed and one record batch: readers map it and read values in place (no copy in memory)
        feather.write_feather(
            table, self.directory / "docs.arrow", compression="uncompressed", chunksize=max(table.num_rows, 1)
        )
        self._provenance.write(self.directory)
        dtype = storage_dtype(self.options)
        sigs = (
            np.stack(self._signatures)
            if self._signatures
            else np.zeros((0, self.options.minhash_perm), dtype)
        )
        np.save(self.directory / "signatures.npy", sigs.astype(dtype))
        write_bands(self.directory, sigs.astype(dtype), self.options)
        self._multiline.write(self.directory)
        counts = {}
        for channel in PostingChannel:
            parts = self._postings[channel]
            hashes = np.concatenate([h for h, _ in parts]) if parts else np.zeros(0, np.uint64)
            refs = np.concatenate([r for _, r in parts]) if parts else np.zeros(0, np.uint32)
            write_postings(self.directory / channel, hashes, refs)
            counts[channel.value] = int(hashes.shape[0])
        files = {
            p.name: {"bytes": p.stat().st_size, "blake2b": file_digest(p)}
            for p in sorted(self.directory.iterdir())
        }
        return SegmentInfo(self.name, self.doc_base, self.documents, self._lines, counts, files)


class Segment:
    """A segment opened for reading (postings and contents memory-mapped)."""

    def __init__(
        self, directory: Path, info: SegmentInfo, options: IndexOptions, verify: bool = True
    ) -> None:
        self.directory = directory
        self.info = info
        self.doc_base = info.doc_base
        if verify:
            _verify_files(directory, info)
        try:
            table = feather.read_table(directory / "docs.arrow", memory_map=True)
            # Arrow arrays, not Python strings: a few bytes a value, so serving memory stays small
            self._text = {c: _one_array(table.column(c)) for c in _TEXT_COLUMNS}
            self._ints = {c: table.column(c).to_numpy().astype(np.int64) for c in _INT_COLUMNS}
            self.postings = {c: PostingTable(directory / c) for c in PostingChannel}
            self.signatures = np.load(
                directory / "signatures.npy", mmap_mode="r"
            )  # one row per representative
            self._content = ContentReader(directory / "content.bin", directory / "content_blocks.npy")
            self.bands = BandTable(directory, self.signatures, options)
            self._multiline = MultilineTable(directory)
            self._provenance = ProvenanceColumns(directory)
        except (OSError, ValueError, pa.ArrowInvalid, KeyError) as err:
            raise CorruptIndexError(f"segment {info.name} cannot be read ({err})") from err
        self.line_base = self._ints["line_base"]
        self.corpus_bytes = int(np.sum(self._ints["size_bytes"]))  # bytes of the documents' contents
        self.cluster = self._ints["cluster"]
        self.representatives = np.flatnonzero(self.cluster < 0)  # local ids; row i of `signatures` is theirs

    def signature(self, doc_id: int) -> np.ndarray | None:
        """The MinHash signature of a cluster representative (None for a copy: not stored)."""
        local = doc_id - self.doc_base
        row = int(np.searchsorted(self.representatives, local))
        if row == self.representatives.shape[0] or self.representatives[row] != local:
            return None
        return np.asarray(self.signatures[row], dtype=np.uint32)

    def __len__(self) -> int:
        return self.info.documents

    def locate(self, refs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segment line ids -> (global document ids, 1-based lines)."""
        local = np.searchsorted(self.line_base, refs.astype(np.int64), side="right") - 1
        lines = refs.astype(np.int64) - self.line_base[local] + 1
        return local + self.doc_base, lines.astype(np.int32)

    def content_bytes(self, doc_id: int) -> bytes:
        i = doc_id - self.doc_base
        return self._content.read(
            int(self._ints["content_block"][i]),
            int(self._ints["content_offset"][i]),
            int(self._ints["content_length"][i]),
        )

    def text(self, doc_id: int) -> str:
        return self.content_bytes(doc_id).decode("utf-8", "surrogatepass")

    def multiline_tokens(self, doc_id: int) -> np.ndarray | None:
        """Byte ranges of the document's tokens that span lines (None: not stored)."""
        return self._multiline.of(doc_id - self.doc_base)

    def near_duplicates(self, signature: np.ndarray, keys: np.ndarray | None = None) -> np.ndarray:
        """Global ids of the representatives whose LSH bands collide with `signature` (`keys`:
        its band keys)."""
        return self.representatives[self.bands.rows_colliding(signature, keys)] + self.doc_base

    def document(self, doc_id: int, with_content: bool = True) -> Document:
        i = doc_id - self.doc_base
        t = {c: self._text[c][i].as_py() for c in _TEXT_COLUMNS}
        return Document(
            blob_id=t["blob_id"],
            repo=t["repo"],
            path=t["path"],
            language=t["language"],
            content=self.text(doc_id) if with_content else "",
            license=t["license"],
            license_category=LicenseCategory(t["license_category"]),
            source=t["source"] or "",
            url=t["url"],
            revision=t["revision"],
            provenance=self._provenance.get(i),
        )

    def column(self, name: str) -> list:
        """A text column's values, one per document (made on each call: callers go over it once)."""
        return self._text[name].to_pylist()

    def content_hash(self, doc_id: int) -> str:
        return str(self._text["content_hash"][doc_id - self.doc_base].as_py())

    @functools.cached_property
    def content_keys(self) -> tuple[np.ndarray, np.ndarray]:
        """(sorted 64-bit prefixes of the content hashes, local ids in that order): finds a
        document by content with a binary search instead of a dictionary of every hash."""
        keys = _hex_prefixes(self._text["content_hash"])
        order = np.argsort(keys, kind="stable")
        return keys[order], order


def _one_array(column: pa.ChunkedArray) -> pa.Array:
    """The column as one array: the mapped chunk itself when there is one (no copy)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


_HEX = np.full(256, 255, dtype=np.uint8)
_HEX[np.frombuffer(b"0123456789abcdef", np.uint8)] = np.arange(16, dtype=np.uint8)


def _hex_prefixes(hashes: pa.Array) -> np.ndarray:
    """The first 16 hex digits of each 32-digit hash as a uint64, read from the Arrow buffers
    (no Python string per document)."""
    n = len(hashes)
    offsets = np.frombuffer(hashes.buffers()[1], dtype=np.int32)[hashes.offset : hashes.offset + n + 1]
    if n == 0 or hashes.null_count or not np.all(np.diff(offsets) == 32):
        return np.array([int(str(h)[:16], 16) for h in hashes.to_pylist()], dtype=np.uint64)
    data = np.frombuffer(hashes.buffers()[2], dtype=np.uint8)[offsets[0] : offsets[-1]].reshape(n, 32)
    digits = _HEX[data[:, :16]].astype(np.uint64)
    if np.any(digits == 255):
        return np.array([int(str(h)[:16], 16) for h in hashes.to_pylist()], dtype=np.uint64)
    keys = np.zeros(n, dtype=np.uint64)
    for i in range(16):
        keys = (keys << np.uint64(4)) | digits[:, i]
    return keys


def _verify_files(directory: Path, info: SegmentInfo) -> None:
    for name, meta in info.files.items():
        path = directory / name
        if not path.exists():
            raise CorruptIndexError(f"segment {info.name} lacks {name}")
        if path.stat().st_size != meta["bytes"]:
            raise CorruptIndexError(
                f"segment {info.name}: {name} has {path.stat().st_size} bytes, "
                f"the manifest says {meta['bytes']}"
            )
        if file_digest(path) != meta["blake2b"]:
            raise CorruptIndexError(f"segment {info.name}: {name} does not match its checksum")
