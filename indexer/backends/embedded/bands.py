"""A persisted MinHash LSH: each segment's band keys, sorted and memory-mapped.

``lsh_bands.npy`` holds, per band of `indexer.analysis.minhash.lsh_bands`, the band keys of the
segment's cluster representatives in increasing order; ``lsh_rows.npy`` the signature row of each
key. A query computes its own band keys and binary-searches each band: no LSH is built in memory
when an index opens, and memory stays flat however large the index is. Candidates whose key is
equal are kept only when the band's slots are equal too, so this answers exactly what datasketch's
``MinHashLSH.query`` answers for the same signatures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba import njit

from indexer.analysis.minhash import band_keys, lsh_bands
from indexer.options import IndexOptions

KEYS_FILE = "lsh_bands.npy"
ROWS_FILE = "lsh_rows.npy"


def write_bands(directory: Path, signatures: np.ndarray, options: IndexOptions) -> None:
    """Write the band tables of `signatures` (one row per representative) into `directory`."""
    keys = band_keys(signatures, options).T  # bands x rows
    order = np.argsort(keys, axis=1, kind="stable").astype(np.int32)
    np.save(directory / KEYS_FILE, np.take_along_axis(keys, order, axis=1))
    np.save(directory / ROWS_FILE, order)


class BandTable:
    """One segment's band tables (memory-mapped; computed from the signatures when a segment
    written before they existed lacks them)."""

    def __init__(self, directory: Path, signatures: np.ndarray, options: IndexOptions) -> None:
        self._signatures = signatures
        self._bands = lsh_bands(options)
        self._options = options
        if (directory / KEYS_FILE).exists():
            self._keys = np.load(directory / KEYS_FILE, mmap_mode="r")
            self._rows = np.load(directory / ROWS_FILE, mmap_mode="r")
        else:
            keys = band_keys(signatures, options).T
            self._rows = np.argsort(keys, axis=1, kind="stable").astype(np.int32)
            self._keys = np.take_along_axis(keys, self._rows, axis=1)

    def rows_colliding(self, signature: np.ndarray, keys: np.ndarray | None = None) -> np.ndarray:
        """Signature rows that share at least one whole band with `signature`, sorted (`keys`:
        its band keys, when the caller has them)."""
        if self._signatures.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        wanted = band_keys(signature, self._options)[0] if keys is None else keys
        ranges = np.array(self._bands, dtype=np.int64)
        found = _colliding(
            self._keys, self._rows, wanted, self._signatures, np.asarray(signature, dtype=np.uint32), ranges
        )
        return np.unique(found)


@njit(cache=True, nogil=True)
def _colliding(keys, rows, wanted, signatures, signature, ranges):
    out = []
    for band in range(ranges.shape[0]):
        start, end = ranges[band, 0], ranges[band, 1]
        lo = np.searchsorted(keys[band], wanted[band], side="left")
        hi = np.searchsorted(keys[band], wanted[band], side="right")
        for j in range(lo, hi):
            row = rows[band, j]
            same = True
            for slot in range(start, end):
                if np.uint32(signatures[row, slot]) != signature[slot]:
                    same = False
                    break
            if same:
                out.append(np.int64(row))
    return np.array(out, dtype=np.int64)
