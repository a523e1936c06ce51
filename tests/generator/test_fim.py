"""StarCoder2's special tokens and fill-in-the-middle prompts, checked token by token."""

from __future__ import annotations

from pathlib import Path

from transformers import AutoTokenizer

from generator.fim import (
    ENDOFTEXT,
    FILE_SEP,
    FIM_MIDDLE,
    FIM_PAD,
    FIM_PREFIX,
    FIM_SUFFIX,
    REPO_NAME,
    STARCODER2_SPECIAL_TOKENS,
    fim_prompt,
)
from generator.model import CodeModel

PREFIX = "def area(radius):\n    return "
SUFFIX = " * radius ** 2\n\nprint(area(2))\n"


def test_the_tiny_tokenizer_carries_starcoder2s_special_tokens_at_their_ids(tiny_model_dir: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert len(STARCODER2_SPECIAL_TOKENS) == 38
    assert tokenizer.convert_tokens_to_ids(list(STARCODER2_SPECIAL_TOKENS)) == list(range(38))
    assert [
        tokenizer.convert_tokens_to_ids(t)
        for t in (ENDOFTEXT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, FIM_PAD, REPO_NAME, FILE_SEP)
    ] == [0, 1, 2, 3, 4, 5, 6]
    assert tokenizer.eos_token == ENDOFTEXT and tokenizer.bos_token == ENDOFTEXT


def test_fim_prompt_is_prefix_suffix_middle_token_by_token(tiny_model: CodeModel) -> None:
    tokenizer = tiny_model.tokenizer
    ids = tiny_model.prompt_ids(PREFIX, SUFFIX)
    prefix_ids = tokenizer(PREFIX, add_special_tokens=False)["input_ids"]
    suffix_ids = tokenizer(SUFFIX, add_special_tokens=False)["input_ids"]
    assert ids == [1, *prefix_ids, 3, *suffix_ids, 2]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    assert tokens[0] == FIM_PREFIX and tokens[len(prefix_ids) + 1] == FIM_SUFFIX and tokens[-1] == FIM_MIDDLE
    # The same ids as tokenizing the whole PSM string, and the text round-trips.
    assert ids == tokenizer(fim_prompt(PREFIX, SUFFIX), add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == f"<fim_prefix>{PREFIX}<fim_suffix>{SUFFIX}<fim_middle>"


def test_an_empty_suffix_is_still_a_fim_prompt(tiny_model: CodeModel) -> None:
    ids = tiny_model.prompt_ids("x = ", "")
    assert ids[0] == 1 and ids[-2:] == [3, 2]
    assert (
        tiny_model.prompt_ids("x = ") == tiny_model.tokenizer("x = ", add_special_tokens=False)["input_ids"]
    )


def test_special_token_names_in_user_text_are_text_not_control_tokens(tiny_model: CodeModel) -> None:
    sneaky = "s = '<fim_middle>'"
    ids = tiny_model.prompt_ids(sneaky, "")
    assert ids.count(2) == 1 and ids[-1] == 2  # only the real <fim_middle>, at the end
    assert tiny_model.tokenizer.decode(ids[1:-2]) == sneaky
