"""Index options: typed, validated once, hashed into the manifest.

Options that change which fingerprints are stored (and therefore every answer) are hashed into
`IndexOptions.options_hash`; an index built with other options cannot be queried or extended
with these, and says so.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields

# Bump when the meaning of stored fingerprints changes (lexer, channels, hashing).
FINGERPRINT_VERSION = 4


@dataclass(frozen=True, slots=True)
class IndexOptions:
    """How an index fingerprints code.

    Exact channels (text and code, see `indexer.analysis.channels`) hash k-grams of `exact_k`
    non-whitespace characters and keep one per window of `exact_window` k-grams, so any shared
    run of ``exact_k + exact_window - 1`` characters (the guarantee t, 50 by default — about 70
    characters of ordinary code with its spaces) is found. The normalized channel does the same
    over words and punctuation marks (t = 25 of them by default). MinHash groups files into copy clusters:
    `minhash_perm` permutations of datasketch's ``affine32`` scheme over normalized k-grams,
    LSH at Jaccard `cluster_threshold`.
    """

    exact_k: int = 16
    exact_window: int = 35
    normalized_k: int = 10
    normalized_window: int = 16
    minhash_perm: int = 64
    minhash_seed: int = 1
    minhash_scheme: str = "affine32"
    minhash_bits: int = 16
    cluster_threshold: float = 0.8
    content_block_bytes: int = 16384
    content_level: int = 3

    def __post_init__(self) -> None:
        problems = []
        for name in ("exact_k", "exact_window", "normalized_k", "normalized_window"):
            value = getattr(self, name)
            if not 1 <= value <= 1000:
                problems.append(f"{name}={value} must be between 1 and 1000")
        if not 16 <= self.minhash_perm <= 1024:
            problems.append(f"minhash_perm={self.minhash_perm} must be between 16 and 1024")
        if self.minhash_bits not in (8, 16, 32) or (
            self.minhash_bits == 32 and self.minhash_scheme != "affine32"
        ):
            problems.append(f"minhash_bits={self.minhash_bits} must be 8, 16 or 32 (32 only with affine32)")
        if self.minhash_scheme not in ("affine32", "affine64"):
            problems.append(f"minhash_scheme={self.minhash_scheme!r} must be 'affine32' or 'affine64'")
        if not 0.1 <= self.cluster_threshold <= 1.0:
            problems.append(f"cluster_threshold={self.cluster_threshold} must be between 0.1 and 1.0")
        if self.content_block_bytes < 1024:
            problems.append(f"content_block_bytes={self.content_block_bytes} must be at least 1024")
        if not 1 <= self.content_level <= 22:
            problems.append(f"content_level={self.content_level} must be a zstd level between 1 and 22")
        if problems:
            raise ValueError("invalid index options: " + "; ".join(problems))

    @property
    def exact_guarantee(self) -> int:
        """t for the exact channels, in non-whitespace characters."""
        return self.exact_k + self.exact_window - 1

    @property
    def options_hash(self) -> str:
        """Hash of everything that changes the stored fingerprints (storage knobs excluded)."""
        relevant = {k: v for k, v in self.to_dict().items() if not k.startswith("content_")}
        relevant["fingerprint_version"] = FINGERPRINT_VERSION
        return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> IndexOptions:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown index options {unknown}; this codecite knows {sorted(known)}")
        return cls(**raw)  # type: ignore[arg-type]
