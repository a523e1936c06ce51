"""Properties of k-gram hashing and winnowing (Schleimer, Wilkerson & Aiken, SIGMOD 2003).

The guarantee the index rests on: any run of at least t = w + k - 1 values shared by two
sequences contains a k-gram that winnowing selects in both, so a copied run that long is never
missed. Stated here over `kgram_hashes` and `winnow` directly, then over whole documents.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
from engine_testlib import CORPUS, FAST
from hypothesis import given
from hypothesis import strategies as st

from indexer.analysis.fingerprints import fingerprint_document
from indexer.analysis.winnowing import kgram_hashes, winnow
from indexer.options import IndexOptions

# Small alphabets give repeated values and tied hashes (the cases that break naive winnowing);
# the full 64-bit range gives distinct ones.
VALUE = st.one_of(st.integers(0, 3), st.integers(0, 2**64 - 1))
values_lists = st.lists(VALUE, max_size=120)
K = st.integers(1, 20)
W = st.integers(1, 40)


def as_values(xs: list[int]) -> np.ndarray:
    return np.array(xs, dtype=np.uint64)


def selected(values: np.ndarray, k: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """(all k-gram hashes, positions winnowing selects)."""
    hashes = kgram_hashes(values, k)
    return hashes, winnow(hashes, w)


def rightmost_min(hashes: np.ndarray, start: int, end: int) -> int:
    window = hashes[start:end]
    return start + int(np.flatnonzero(window == window.min())[-1])


@st.composite
def sharing_a_run(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, int, int, int, int, int]:
    """Two sequences sharing a run of at least t = w + k - 1 values at random offsets."""
    k, w = draw(K), draw(W)
    t = w + k - 1
    shared = draw(st.lists(VALUE, min_size=t, max_size=t + 30))
    prefix_a, suffix_a = draw(values_lists), draw(values_lists)
    prefix_b, suffix_b = draw(values_lists), draw(values_lists)
    a = prefix_a + shared + suffix_a
    b = prefix_b + shared + suffix_b
    return as_values(a), as_values(b), len(prefix_a), len(prefix_b), len(shared), k, w


@FAST
@given(sharing_a_run())
def test_a_shared_run_of_t_values_has_a_k_gram_selected_in_both(case) -> None:
    a, b, at_a, at_b, length, k, w = case
    hashes_a, sel_a = selected(a, k, w)
    hashes_b, sel_b = selected(b, k, w)
    # Positions of k-grams lying wholly inside the shared run, relative to its start.
    inside_a = {int(p) - at_a for p in sel_a if at_a <= p <= at_a + length - k}
    inside_b = {int(p) - at_b for p in sel_b if at_b <= p <= at_b + length - k}
    assert inside_a & inside_b, "no k-gram of the shared run is selected in both sequences"
    common = {int(hashes_a[at_a + r]) for r in inside_a & inside_b}
    assert common <= set(hashes_a[sel_a].tolist()) & set(hashes_b[sel_b].tolist())


@FAST
@given(values_lists, K, W)
def test_every_window_of_w_hashes_holds_a_selected_position(xs: list[int], k: int, w: int) -> None:
    hashes, sel = selected(as_values(xs), k, w)
    n = hashes.shape[0]
    assert np.all(np.diff(sel) > 0), "positions are unique and increasing"
    assert np.all((sel >= 0) & (sel < max(n, 1)))
    if n == 0:
        assert sel.shape[0] == 0
        return
    chosen = np.zeros(n, dtype=bool)
    chosen[sel] = True
    for start in range(max(n - w + 1, 1)):
        assert chosen[start : start + w].any(), f"window at {start} has no selected position"


@FAST
@given(values_lists, K, W)
def test_winnowing_picks_the_rightmost_minimum_of_each_window(xs: list[int], k: int, w: int) -> None:
    hashes, sel = selected(as_values(xs), k, w)
    n = hashes.shape[0]
    if n == 0:
        return
    width = min(w, n)
    expected = {rightmost_min(hashes, s, s + width) for s in range(n - width + 1)}
    assert set(sel.tolist()) == expected


@FAST
@given(st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=30), st.integers(31, 60))
def test_a_sequence_shorter_than_a_window_selects_its_rightmost_minimum(xs: list[int], w: int) -> None:
    hashes = as_values(xs)
    assert winnow(hashes, w).tolist() == [rightmost_min(hashes, 0, len(xs))]


@FAST
@given(values_lists, K)
def test_equal_k_grams_hash_equal_wherever_they_sit(xs: list[int], k: int) -> None:
    values = as_values(xs)
    hashes = kgram_hashes(values, k)
    assert hashes.shape[0] == max(len(xs) - k + 1, 0)
    assert hashes.dtype == np.uint64
    for i in range(hashes.shape[0]):
        alone = kgram_hashes(values[i : i + k].copy(), k)
        assert alone.shape[0] == 1 and alone[0] == hashes[i], f"k-gram at {i} hashes by position"


@FAST
@given(st.lists(VALUE, min_size=1, max_size=25), values_lists, values_lists, values_lists)
def test_a_k_gram_planted_twice_hashes_the_same(
    gram: list[int], a: list[int], b: list[int], c: list[int]
) -> None:
    k = len(gram)
    values = as_values(a + gram + b + gram + c)
    hashes = kgram_hashes(values, k)
    first, second = len(a), len(a) + k + len(b)
    assert hashes[first] == hashes[second]


@FAST
@given(values_lists, K, W)
def test_hashing_and_winnowing_are_deterministic(xs: list[int], k: int, w: int) -> None:
    values = as_values(xs)
    h1, s1 = selected(values, k, w)
    h2, s2 = selected(values.copy(), k, w)
    assert np.array_equal(h1, h2) and np.array_equal(s1, s2)


# -- whole documents --------------------------------------------------------------------------

OPTIONS = IndexOptions()
PRINTABLE = st.characters(min_codepoint=32, max_codepoint=126)
WHITESPACE = st.sampled_from([" ", "  ", "\n", "\t", "\n    "])


def _text_with_spaces(draw: st.DrawFn, min_nonspace: int) -> str:
    words = draw(
        st.lists(
            st.text(PRINTABLE.filter(lambda c: c != " "), min_size=1, max_size=12), min_size=1, max_size=40
        )
    )
    text = "".join(w + draw(WHITESPACE) for w in words)
    while sum(not c.isspace() for c in text) < min_nonspace:
        text += draw(st.text(PRINTABLE.filter(lambda c: c != " "), min_size=8, max_size=16)) + draw(
            WHITESPACE
        )
    return text


@st.composite
def documents_sharing_text(draw: st.DrawFn) -> tuple[str, str]:
    """Two texts that share a run of at least `exact_guarantee` non-whitespace characters."""
    shared = _text_with_spaces(draw, OPTIONS.exact_guarantee)
    a = draw(st.text(PRINTABLE, max_size=200)) + "\n" + shared + "\n" + draw(st.text(PRINTABLE, max_size=200))
    b = draw(st.text(PRINTABLE, max_size=200)) + "\n" + shared + "\n" + draw(st.text(PRINTABLE, max_size=200))
    return a, b


@FAST
@given(documents_sharing_text(), st.sampled_from(["python", "c", "javascript", None]))
def test_documents_sharing_t_characters_share_an_exact_fingerprint(docs: tuple[str, str], language) -> None:
    a, b = (fingerprint_document(d, language, OPTIONS) for d in docs)
    assert np.intersect1d(a.exact_hashes, b.exact_hashes).shape[0] > 0


@FAST
@given(st.text(max_size=400), st.sampled_from(["python", "go", "rust", None]))
def test_fingerprint_document_is_deterministic(text: str, language) -> None:
    a, b = (fingerprint_document(text, language, OPTIONS) for _ in range(2))
    for field in ("exact_hashes", "exact_lines", "normalized_hashes", "normalized_lines", "signature"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert a.n_lines == b.n_lines == text.count("\n") + 1


_DIGEST_SCRIPT = """
import hashlib, json, sys
from indexer.analysis.fingerprints import fingerprint_document
from indexer.options import IndexOptions
fp = fingerprint_document(open(sys.argv[1]).read(), "python", IndexOptions())
print(json.dumps({f: hashlib.sha256(getattr(fp, f).tobytes()).hexdigest()
                  for f in ("exact_hashes", "exact_lines", "normalized_hashes", "normalized_lines", "signature")}))
"""


def test_fingerprints_do_not_depend_on_the_process_or_hash_seed() -> None:
    path = CORPUS / "python/cpython-lib/Lib/shlex.py"
    digests = []
    for seed in ("0", "12345"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = subprocess.run(
            [sys.executable, "-c", _DIGEST_SCRIPT, str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        digests.append(json.loads(out.stdout))
    fp = fingerprint_document(path.read_text(), "python", OPTIONS)
    here = {f: hashlib.sha256(getattr(fp, f).tobytes()).hexdigest() for f in digests[0]}
    assert digests[0] == digests[1] == here
