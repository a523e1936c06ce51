"""One document's fingerprints, as the index stores them.

`fingerprint_document` runs the pipeline for one file: lex → channels → k-gram hashes →
winnowing → (hash, line) postings per channel, plus the MinHash signature of its copy-cluster
shingles. Queries use the same channels but keep every k-gram (see `search_api.engine.searcher`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from indexer.analysis.channels import code_channel, normalized_channel, text_channel
from indexer.analysis.lexer import encode, lex, line_starts, lines_of
from indexer.analysis.minhash import signature
from indexer.analysis.windows import multiline_tokens
from indexer.analysis.winnowing import kgram_hashes, winnow
from indexer.options import IndexOptions

REPEAT_LINES = 20  # a hash repeated within this many lines of its last posting gets no new one


@dataclass(frozen=True, slots=True)
class DocFingerprints:
    """Winnowed fingerprints of one document: hashes with the 1-based line where each k-gram
    starts (a hash repeated nearby once); and the MinHash signature used to find its copies."""

    exact_hashes: np.ndarray  # uint64
    exact_lines: np.ndarray  # int32
    normalized_hashes: np.ndarray  # uint64
    normalized_lines: np.ndarray  # int32
    signature: np.ndarray  # uint32[minhash_perm] (uint64 for affine64)
    n_lines: int
    multiline: np.ndarray  # int32[k, 2]: byte ranges of the tokens spanning lines (see lexer)


def fingerprint_document(text: str, language: str | None, options: IndexOptions) -> DocFingerprints:
    """Fingerprint one document for the index."""
    return fingerprint_bytes(encode(text), language, options)


def fingerprint_bytes(data: np.ndarray, language: str | None, options: IndexOptions) -> DocFingerprints:
    """Fingerprint one document given as its UTF-8 bytes (a uint8 array)."""
    tokens = lex(data, language)
    starts_of_lines = line_starts(data)
    exact_h, exact_off = _winnowed(
        [text_channel(data), code_channel(tokens)], options.exact_k, options.exact_window
    )
    norm_h, norm_off = _winnowed(
        [normalized_channel(data, language)], options.normalized_k, options.normalized_window
    )
    exact_h, exact_l = _first_occurrences(exact_h, lines_of(exact_off, starts_of_lines))
    norm_h, norm_l = _first_occurrences(norm_h, lines_of(norm_off, starts_of_lines))
    return DocFingerprints(
        exact_hashes=exact_h,
        exact_lines=exact_l,
        normalized_hashes=norm_h,
        normalized_lines=norm_l,
        signature=signature(exact_h, options),
        n_lines=int(starts_of_lines.shape[0]),
        multiline=multiline_tokens(tokens),
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


def _first_occurrences(hashes: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct hash once per stretch of `REPEAT_LINES` lines, at the first line it occurs on
    there: a line repeated nearby (tables, boilerplate blocks) needs no second posting, since a
    query matching the repeat finds the first and its text is the same; repeats far apart keep
    their own, so each copy of a repeated block can still be located."""
    if hashes.shape[0] == 0:
        return hashes.astype(np.uint64), lines.astype(np.int32)
    order = np.lexsort((lines, hashes))
    hashes, lines = hashes[order], lines[order]
    keep = _kept_repeats(hashes, lines.astype(np.int64), REPEAT_LINES)
    return hashes[keep], lines[keep].astype(np.int32)


@njit(cache=True, nogil=True)
def _kept_repeats(hashes, lines, window):
    keep = np.ones(hashes.shape[0], dtype=np.bool_)
    last = 0
    for i in range(1, hashes.shape[0]):
        if hashes[i] == hashes[i - 1] and lines[i] - lines[last] < window:
            keep[i] = False
        else:
            last = i
    return keep
