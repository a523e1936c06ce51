"""From raw model output to the visible completion: healing, stop sequences, streaming hold-back."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from generator.stops import IncrementalText, split_trailing_whitespace, visible_text


def test_trailing_whitespace_is_split_off_the_prompt() -> None:
    assert split_trailing_whitespace("def f():\n    ") == ("def f():", "\n    ")
    assert split_trailing_whitespace("x = 1") == ("x = 1", "")


def test_healed_whitespace_is_removed_once_the_model_repeats_it() -> None:
    assert visible_text("\n    return 1", "\n    ", (), final=True) == ("return 1", False)
    # Not yet known while the model has written only part of it.
    assert visible_text("\n  ", "\n    ", (), final=False) == ("", False)
    # The model wrote something else first: its text is kept as written.
    assert visible_text(" # done", "\n", (), final=True) == (" # done", False)


def test_the_completion_ends_before_the_first_stop_sequence() -> None:
    assert visible_text("a = 1\n\n\ndef g():", "", ("\n\n\n", "\ndef"), final=False) == ("a = 1", True)
    assert visible_text("a = 1", "", ("\n\n",), final=True) == ("a = 1", False)


def test_the_earliest_starting_stop_wins_even_when_it_completes_later() -> None:
    assert visible_text("#a", "", ("a", "#aa"), final=False) == ("", False)  # "#aa" may still come
    assert visible_text("#aa", "", ("a", "#aa"), final=False) == ("", True)
    assert visible_text("#ab", "", ("a", "#aa"), final=False) == ("#", True)


def test_a_possible_start_of_a_stop_is_held_back_while_generating() -> None:
    assert visible_text("x = 1\n", "", ("\n\n",), final=False) == ("x = 1", False)
    assert visible_text("x = 1\n", "", ("\n\n",), final=True) == ("x = 1\n", False)
    # A half-decoded character (the byte-level decoder's U+FFFD) waits for its other bytes.
    assert visible_text("name = 'caf\ufffd", "", (), final=False) == ("name = 'caf", False)


@given(
    raw=st.text(alphabet="ab\n #", max_size=40),
    healed=st.sampled_from(["", "\n", "\n  "]),
    stops=st.lists(st.text(alphabet="ab\n#", min_size=1, max_size=3), max_size=3),
    cuts=st.lists(st.integers(min_value=0, max_value=40), max_size=8),
)
@example(
    raw="#aa", healed="", stops=["a", "#aa"], cuts=[2]
)  # a stop found while an earlier, longer one forms
def test_streamed_pieces_add_up_to_the_final_completion(
    raw: str, healed: str, stops: list[str], cuts: list[int]
) -> None:
    """Whatever the snapshots, the pieces sent while generating concatenate to the final text."""
    stream = IncrementalText(healed, stops)
    sent = "".join(stream.update(raw[:c]) for c in sorted(cuts))
    sent += stream.update(raw, final=True)
    final, _ = visible_text(raw, healed, stops, final=True)
    assert sent == final
