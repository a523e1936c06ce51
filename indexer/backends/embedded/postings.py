"""Posting tables: fingerprint hash -> positions, compact and memory-mapped.

Layout (three .npy files per table): postings sorted by hash; a directory of ``2**bits + 1``
offsets indexed by the top `bits` bits of the hash; per posting the next 16 bits of the hash
(`keys`, uint16) and a position (`refs`, 3 bytes little-endian: the segment-wide line id, see
`indexer.backends.embedded.segment`, so a segment holds at most 2**24 lines). That is 5 bytes a posting plus
the directory (about a tenth of a byte a posting); a lookup compares
``bits + 16`` bits of the hash, so about one random posting in 2**(bits+16) per query hash is a
false hit — harmless, since every candidate is verified against the source text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

_SUFFIXES = ("dir", "keys", "refs")
MAX_REF = (1 << 24) - 1


def bucket_bits_for(n_postings: int) -> int:
    """Directory size: 16 to 32 postings per bucket, between 2**8 and 2**28 buckets."""
    bits = int(np.ceil(np.log2(max(n_postings, 1) / 32.0))) if n_postings > 32 else 8
    return int(min(max(bits, 8), 28))


def write_postings(prefix: Path, hashes: np.ndarray, refs: np.ndarray) -> list[Path]:
    """Write a table for (hash, ref) pairs; returns the files written."""
    bits = bucket_bits_for(hashes.shape[0])
    top = (hashes >> np.uint64(48 - bits)).astype(np.uint64)  # bucket bits followed by key bits
    if refs.shape[0] and int(refs.max()) > MAX_REF:
        raise OverflowError(f"posting refs above {MAX_REF}: segments hold at most 2**24 lines")
    if bits + 16 + 24 <= 64:  # one sort of (top, ref) packed in a word: several times a lexsort's speed
        packed_keys = np.sort((top << np.uint64(24)) | refs.astype(np.uint64))
        top, refs = packed_keys >> np.uint64(24), (packed_keys & np.uint64(MAX_REF)).astype(np.uint32)
    else:
        order = np.lexsort((refs, top))
        top, refs = top[order], refs[order].astype(np.uint32)
    buckets = (top >> np.uint64(16)).astype(np.int64)
    counts = np.bincount(buckets, minlength=1 << bits)
    directory = np.zeros((1 << bits) + 1, dtype=np.uint32 if hashes.shape[0] < 2**32 else np.uint64)
    np.cumsum(counts, out=directory[1:])
    keys = (top & np.uint64(0xFFFF)).astype(np.uint16)
    packed = refs.view(np.uint8).reshape(-1, 4)[:, :3].copy()  # little-endian: the low three bytes
    paths = []
    arrays: tuple[np.ndarray, ...] = (directory, keys, packed)
    for suffix, array in zip(_SUFFIXES, arrays, strict=True):
        path = prefix.with_name(f"{prefix.name}.{suffix}.npy")
        np.save(path, array)
        paths.append(path)
    return paths


@dataclass(frozen=True, slots=True)
class Hits:
    """Result of looking up query hashes: for each posting found, which query hash (index into
    the query array) and the posting's ref; for each query hash, how many postings it has."""

    query_index: np.ndarray  # int32
    refs: np.ndarray  # uint32 (line ids below 2**24)
    frequency: np.ndarray  # int32, per query hash (also counts postings not returned)


class PostingTable:
    """A memory-mapped posting table."""

    def __init__(self, prefix: Path) -> None:
        self.directory, self.keys, self.refs = (
            np.load(prefix.with_name(f"{prefix.name}.{s}.npy"), mmap_mode="r") for s in _SUFFIXES
        )
        self.bits = int(np.log2(self.directory.shape[0] - 1))

    def __len__(self) -> int:
        return int(self.keys.shape[0])

    def ranges(self, hashes: np.ndarray) -> np.ndarray:
        """Where each query hash's postings lie: int64[n, 2] (start, end) rows of the table."""
        return _ranges(np.ascontiguousarray(hashes, dtype=np.uint64), self.directory, self.keys, self.bits)

    def lookup(self, hashes: np.ndarray, wanted: np.ndarray, ranges: np.ndarray | None = None) -> Hits:
        """Postings of the query hashes marked in `wanted` (bool per hash; the others are
        boilerplate, not evidence) and the posting count of every hash."""
        ranges = self.ranges(hashes) if ranges is None else ranges
        q, refs = _gather(ranges, np.ascontiguousarray(wanted, dtype=np.bool_), self.refs)
        return Hits(q, refs, (ranges[:, 1] - ranges[:, 0]).astype(np.int32))


@njit(cache=True, nogil=True)
def _ranges(hashes, directory, keys, bits):
    n = hashes.shape[0]
    ranges = np.empty((n, 2), dtype=np.int64)
    for i in range(n):
        top = hashes[i] >> np.uint64(48 - bits)
        bucket = np.int64(top >> np.uint64(16))
        key = np.uint16(top & np.uint64(0xFFFF))
        lo = np.int64(directory[bucket])
        hi = np.int64(directory[bucket + 1])
        while lo < hi:  # first entry with keys[j] >= key
            mid = (lo + hi) // 2
            if keys[mid] < key:
                lo = mid + 1
            else:
                hi = mid
        end = lo
        stop = np.int64(directory[bucket + 1])
        while end < stop and keys[end] == key:
            end += 1
        ranges[i, 0] = lo
        ranges[i, 1] = end
    return ranges


@njit(cache=True, nogil=True)
def _gather(ranges, wanted, refs):
    total = 0
    for i in range(ranges.shape[0]):
        if wanted[i]:
            total += ranges[i, 1] - ranges[i, 0]
    out_q = np.empty(total, dtype=np.int32)
    out_r = np.empty(total, dtype=np.uint32)
    k = 0
    for i in range(ranges.shape[0]):
        if not wanted[i]:
            continue
        for j in range(ranges[i, 0], ranges[i, 1]):
            out_q[k] = i
            out_r[k] = np.uint32(refs[j, 0]) | (np.uint32(refs[j, 1]) << 8) | (np.uint32(refs[j, 2]) << 16)
            k += 1
    return out_q, out_r
