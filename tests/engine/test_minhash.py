"""MinHash signatures are datasketch's, cut to b bits, for both schemes; a stored signature
reads back as the array that was stored; the persisted LSH answers as datasketch's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash

from indexer.analysis.minhash import lean, new_lsh, signature, storage_dtype
from indexer.backends.elastic.schema import decode_signature, encode_signature
from indexer.backends.embedded.bands import BandTable, write_bands
from indexer.options import IndexOptions

SCHEMES = [("affine32", 16), ("affine32", 32), ("affine64", 16)]


def _shingles() -> np.ndarray:
    hashes = np.random.default_rng(7).integers(0, 2**63, 400, dtype=np.int64).astype(np.uint64)
    return np.concatenate([hashes, hashes[:60]])  # repeated shingles change nothing


@pytest.mark.parametrize(("scheme", "bits"), SCHEMES)
def test_signature_is_datasketchs_cut_to_b_bits(scheme: str, bits: int) -> None:
    options = IndexOptions(minhash_scheme=scheme, minhash_bits=bits)
    hashes = _shingles()
    reference = MinHash(
        num_perm=options.minhash_perm, seed=options.minhash_seed, scheme=scheme, hashfunc=lambda value: value
    )
    values = (hashes >> np.uint64(32)).astype(np.uint32) if scheme == "affine32" else hashes
    reference.update_batch([int(v) for v in values])
    width = 32 if scheme == "affine32" else 64
    expected = (np.asarray(reference.hashvalues).astype(np.uint64) >> np.uint64(width - bits)).astype(
        np.uint32
    )
    got = signature(hashes, options)
    assert got.dtype == np.uint32 and np.array_equal(got, expected)


@pytest.mark.parametrize(("scheme", "bits"), SCHEMES)
def test_a_stored_signature_reads_back_unchanged(scheme: str, bits: int) -> None:
    sig = signature(_shingles(), IndexOptions(minhash_scheme=scheme, minhash_bits=bits))
    back = decode_signature(encode_signature(sig))
    assert back.dtype == np.uint32 and np.array_equal(back, sig)


def _related_signatures(options: IndexOptions) -> np.ndarray:
    """Signatures of sets that overlap a lot, a little, or not at all (so some share bands)."""
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**63, 300, dtype=np.int64).astype(np.uint64)
    sets = [base[rng.random(300) < keep] for keep in np.linspace(0.6, 1.0, 40)]
    sets += [rng.integers(0, 2**63, 200, dtype=np.int64).astype(np.uint64) for _ in range(20)]
    return np.stack([signature(s, options) for s in sets]).astype(storage_dtype(options))


@pytest.mark.parametrize("persisted", [True, False])
def test_band_tables_answer_as_datasketchs_lsh(tmp_path: Path, persisted: bool) -> None:
    """The persisted LSH finds exactly the keys datasketch's MinHashLSH finds for every query,
    whether its tables were written with the segment or made when it opens (older segments)."""
    options = IndexOptions()
    stored = _related_signatures(options)
    lsh = new_lsh(options)
    for row, sig in enumerate(stored):
        lsh.insert(row, lean(sig, options))
    if persisted:
        write_bands(tmp_path, stored, options)
    table = BandTable(tmp_path, stored, options)
    for sig in [*stored, *_related_signatures(IndexOptions(minhash_seed=2))]:
        query = np.asarray(sig, dtype=np.uint32)
        assert table.rows_colliding(query).tolist() == sorted(lsh.query(lean(query, options)))
