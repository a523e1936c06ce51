"""MinHash signatures (datasketch's ``affine32``/``affine64`` schemes) and copy clustering.

Signatures are computed in compiled code with datasketch's own permutations and pre-mix, so
they are exactly what ``datasketch.MinHash(..., scheme=...).update_batch`` produces for the same
32-bit (or 64-bit) shingle hashes — a test pins this — and can be handed to
``datasketch.MinHashLSH`` as ``LeanMinHash`` objects. The scheme, seed and permutation count are
part of the index options and so of the manifest: signatures of different schemes never mix.
"""

from __future__ import annotations

import functools

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH
from numba import njit

from indexer.analysis.winnowing import mix64
from indexer.options import IndexOptions


@functools.cache
def permutations(num_perm: int, seed: int, scheme: str) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's (a, b) permutation parameters for these settings."""
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme=scheme).permutations
    return np.ascontiguousarray(a), np.ascontiguousarray(b)


def shingle_values(hashes: np.ndarray, scheme: str) -> np.ndarray:
    """The per-shingle hash values datasketch would see: the top 32 bits for affine32. Repeats
    are left in: they cannot change a minimum."""
    hashes = hashes.astype(np.uint64, copy=False)
    if scheme == "affine32":
        return (hashes >> np.uint64(32)).astype(np.uint32)
    return hashes


def signature(hashes: np.ndarray, options: IndexOptions) -> np.ndarray:
    """MinHash signature of a set of 64-bit shingle hashes (duplicates ignored): datasketch's
    hash values, each cut to its top `options.minhash_bits` bits (as uint32 for affine32)."""
    a, b = permutations(options.minhash_perm, options.minhash_seed, options.minhash_scheme)
    values = shingle_values(hashes, options.minhash_scheme)
    if options.minhash_scheme == "affine32":
        return _signature32(values, a, b) >> np.uint32(32 - options.minhash_bits)
    return (_signature64(values, a, b) >> np.uint64(64 - options.minhash_bits)).astype(np.uint32)


def storage_dtype(options: IndexOptions) -> np.dtype:
    """The narrowest integer type that holds a stored signature slot."""
    return np.dtype({8: np.uint8, 16: np.uint16}.get(options.minhash_bits, np.uint32))


def lean(sig: np.ndarray, options: IndexOptions) -> LeanMinHash:
    """A datasketch LeanMinHash holding this signature (for its LSH)."""
    # b-bit values fit 32 bits whichever scheme made them; every signature goes through here alike.
    return LeanMinHash(
        seed=options.minhash_seed, hashvalues=np.asarray(sig, dtype=np.uint32), scheme="affine32"
    )


def new_lsh(options: IndexOptions) -> MinHashLSH:
    return MinHashLSH(threshold=options.cluster_threshold, num_perm=options.minhash_perm)


@functools.cache
def lsh_bands(options: IndexOptions) -> tuple[tuple[int, int], ...]:
    """The signature slots [start, end) of each band of `new_lsh(options)` (datasketch's choice
    of bands and rows for the threshold): two signatures collide when any band is equal."""
    return tuple((int(a), int(b)) for a, b in new_lsh(options).hashranges)


def band_keys(signatures: np.ndarray, options: IndexOptions) -> np.ndarray:
    """A 64-bit key per band of each signature (rows of `signatures`): uint64[n, bands].

    Equal bands have equal keys; unequal bands collide with probability about 2**-64, and
    readers compare the bands themselves, so a collision costs a comparison, never an answer.
    This is what a persisted LSH stores and what a distributed build shuffles on.
    """
    sigs = np.atleast_2d(np.asarray(signatures)).astype(np.uint64)
    out = np.empty((sigs.shape[0], len(lsh_bands(options))), dtype=np.uint64)
    for band, (start, end) in enumerate(lsh_bands(options)):
        out[:, band] = _band_key(sigs[:, start:end], np.uint64(band))
    return out


@njit(cache=True, nogil=True)
def _band_key(values, band):
    out = np.empty(values.shape[0], dtype=np.uint64)
    for i in range(values.shape[0]):
        h = band * np.uint64(0x9E3779B97F4A7C15)
        for j in range(values.shape[1]):
            h = mix64(h ^ (values[i, j] + np.uint64(1)))
        out[i] = h
    return out


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Share of equal signature slots: an unbiased estimate of the shingle sets' Jaccard."""
    return float(np.count_nonzero(sig_a == sig_b)) / float(sig_a.shape[0])


@njit(cache=True, nogil=True)
def _signature32(values, a, b):
    # numba widens 32-bit arithmetic to 64 bits, so every step is masked back to 32 bits.
    mask = np.uint64(0xFFFFFFFF)
    out = np.full(a.shape[0], np.uint64(0xFFFFFFFF), dtype=np.uint64)
    a64 = a.astype(np.uint64)
    b64 = b.astype(np.uint64)
    for i in range(values.shape[0]):
        hv = np.uint64(values[i])  # MurmurHash3 fmix32, as datasketch pre-mixes
        hv = hv ^ (hv >> np.uint64(16))
        hv = (hv * np.uint64(0x85EBCA6B)) & mask
        hv = hv ^ (hv >> np.uint64(13))
        hv = (hv * np.uint64(0xC2B2AE35)) & mask
        hv = hv ^ (hv >> np.uint64(16))
        for p in range(a64.shape[0]):
            v = (hv * a64[p] + b64[p]) & mask
            out[p] = min(out[p], v)
    return out.astype(np.uint32)


@njit(cache=True, nogil=True)
def _signature64(values, a, b):
    out = np.full(a.shape[0], np.uint64(0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    for i in range(values.shape[0]):
        hv = values[i]  # MurmurHash3 fmix64
        hv = hv ^ (hv >> np.uint64(33))
        hv = hv * np.uint64(0xFF51AFD7ED558CCD)
        hv = hv ^ (hv >> np.uint64(33))
        hv = hv * np.uint64(0xC4CEB9FE1A85EC53)
        hv = hv ^ (hv >> np.uint64(33))
        for p in range(a.shape[0]):
            v = hv * a[p] + b[p]
            out[p] = min(out[p], v)
    return out
