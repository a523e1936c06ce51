"""One document's fingerprints, as the index stores them.

`fingerprint_document` runs the pipeline for one file: lex → channels → k-gram hashes →
winnowing → (hash, line) postings per channel, plus the MinHash signature of its copy-cluster
shingles. Queries use the same channels but keep every k-gram (see `search_api.query`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from indexer.fingerprint import code_channel, kgram_hashes, normalized_channel, text_channel, winnow
from indexer.lexer import encode, lex, line_starts, lines_of
from indexer.minhash import signature
from indexer.options import IndexOptions


@dataclass(frozen=True, slots=True)
class DocFingerprints:
    """Winnowed fingerprints of one document: hashes with the 1-based line where each k-gram
    starts, unique per (hash, line); and the MinHash signature used to find its copies."""

    exact_hashes: np.ndarray  # uint64
    exact_lines: np.ndarray  # int32
    normalized_hashes: np.ndarray  # uint64
    normalized_lines: np.ndarray  # int32
    signature: np.ndarray  # uint32[minhash_perm] (uint64 for affine64)
    n_lines: int


def fingerprint_document(text: str, language: str | None, options: IndexOptions) -> DocFingerprints:
    """Fingerprint one document for the index."""
    data = encode(text)
    tokens = lex(data, language)
    starts_of_lines = line_starts(data)
    exact_h, exact_off = _winnowed(
        [text_channel(tokens), code_channel(tokens)], options.exact_k, options.exact_window
    )
    norm_h, norm_off = _winnowed([normalized_channel(data, language)], options.normalized_k,
                                 options.normalized_window)
    exact_h, exact_l = _unique_pairs(exact_h, lines_of(exact_off, starts_of_lines))
    norm_h, norm_l = _unique_pairs(norm_h, lines_of(norm_off, starts_of_lines))
    return DocFingerprints(
        exact_hashes=exact_h,
        exact_lines=exact_l,
        normalized_hashes=norm_h,
        normalized_lines=norm_l,
        signature=signature(exact_h, options),
        n_lines=int(starts_of_lines.shape[0]),
    )


def _winnowed(channels: list, k: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Selected k-gram hashes of the channels, with the byte offset each k-gram starts at."""
    hashes, offsets = [], []
    for channel in channels:
        h = kgram_hashes(channel.values, k)
        selected = winnow(h, window)
        hashes.append(h[selected])
        offsets.append(channel.offsets[selected])
    return np.concatenate(hashes), np.concatenate(offsets)


def _unique_pairs(hashes: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if hashes.shape[0] == 0:
        return hashes.astype(np.uint64), lines.astype(np.int32)
    order = np.lexsort((lines, hashes))
    hashes, lines = hashes[order], lines[order]
    keep = np.ones(hashes.shape[0], dtype=bool)
    keep[1:] = (hashes[1:] != hashes[:-1]) | (lines[1:] != lines[:-1])
    return hashes[keep], lines[keep].astype(np.int32)
