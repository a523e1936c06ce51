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

    def rows_colliding(self, signature: np.ndarray) -> np.ndarray:
        """Signature rows that share at least one whole band with `signature`, sorted."""
        if self._signatures.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        wanted = band_keys(signature, self._options)[0]
        sig = np.asarray(signature, dtype=np.uint32)
        found: set[int] = set()
        for band, (start, end) in enumerate(self._bands):
            keys = self._keys[band]
            lo = int(np.searchsorted(keys, wanted[band], side="left"))
            hi = int(np.searchsorted(keys, wanted[band], side="right"))
            for row in self._rows[band, lo:hi].tolist():
                if row not in found and np.array_equal(
                    np.asarray(self._signatures[row, start:end], dtype=np.uint32), sig[start:end]
                ):
                    found.add(row)
        return np.array(sorted(found), dtype=np.int64)
