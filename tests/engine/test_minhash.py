"""MinHash signatures are datasketch's, cut to b bits, for both schemes; a stored signature
reads back as the array that was stored."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash

from indexer.analysis.minhash import signature
from indexer.backends.elastic.schema import decode_signature, encode_signature
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
