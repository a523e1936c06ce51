"""k-gram hashes and winnowing (Schleimer, Wilkerson & Aiken, "Winnowing: local algorithms for
document fingerprinting", SIGMOD 2003).

Winnowing with noise threshold k and window w selects, in every window of w consecutive k-gram
hashes, the rightmost minimum. Its guarantee: any run of at least ``t = w + k - 1`` values shared
by two sequences contains a selected k-gram of each, so the index finds it. Queries look up
*all* their k-grams, which keeps the guarantee for any run of t values inside the query
(whatever surrounds it). All hashes are 64-bit; nothing here depends on Python's hash seed.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd: invertible modulo 2**64


@njit(cache=True, nogil=True)
def mix64(z):
    """The splitmix64 finalizer: an avalanching bijection on 64-bit integers."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@njit(cache=True, nogil=True)
def kgram_hashes(values, k):
    """Hash of every run of k consecutive values: uint64[len(values) - k + 1] (empty if shorter).

    A polynomial rolling hash modulo 2**64 over the values, then mix64, so that the hash of a
    k-gram depends on its values only (never on where it sits).
    """
    n = values.shape[0]
    if n < k:
        return np.empty(0, dtype=np.uint64)
    base = _BASE
    top = np.uint64(1)  # base ** (k - 1)
    for _ in range(k - 1):
        top = top * base
    out = np.empty(n - k + 1, dtype=np.uint64)
    h = np.uint64(0)
    for i in range(k):
        h = h * base + np.uint64(values[i]) + np.uint64(1)
    out[0] = mix64(h)
    for i in range(k, n):
        h = (h - (np.uint64(values[i - k]) + np.uint64(1)) * top) * base + np.uint64(values[i]) + np.uint64(1)
        out[i - k + 1] = mix64(h)
    return out


@njit(cache=True, nogil=True)
def winnow(hashes, window):
    """Positions selected by winnowing: the rightmost minimum of every window of
    `window` consecutive hashes, each position once, in increasing order. A sequence shorter
    than one window selects its rightmost minimum."""
    n = hashes.shape[0]
    out = np.empty(n, dtype=np.int32)
    if n == 0:
        return out[:0]
    w = min(window, n)
    deque = np.empty(n, dtype=np.int32)  # positions with increasing hashes
    head = 0
    tail = 0
    count = 0
    last = -1
    for i in range(n):
        while tail > head and hashes[deque[tail - 1]] >= hashes[i]:
            tail -= 1
        deque[tail] = i
        tail += 1
        if deque[head] <= i - w:
            head += 1
        if i >= w - 1 and deque[head] != last:
            last = deque[head]
            out[count] = last
            count += 1
    return out[:count].copy()
