"""StarCoder2's special tokens and its fill-in-the-middle prompt.

The tokens and their order are those of the StarCoder2 tokenizers (``bigcode/starcoder2-3b``,
``-7b``, ``-15b``: ids 0..37, ``<|endoftext|>`` = 0, ``<fim_prefix>`` = 1, ``<fim_middle>`` = 2,
``<fim_suffix>`` = 3). A model trained by ``codecite model train-tiny`` carries the same list, so
prompts are built the same way for both.

Fill-in-the-middle uses the prefix-suffix-middle (PSM) order StarCoder2 was trained with
(Bavarian et al. 2022, "Efficient Training of Language Models to Fill in the Middle"):

    <fim_prefix>{prefix}<fim_suffix>{suffix}<fim_middle>   → the model writes the middle

Text from users is always tokenized as text: a literal ``<fim_prefix>`` inside a prompt is split
into ordinary tokens, never read as a control token (`prompt_token_ids` does this).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol


class _TokenConverter(Protocol):
    def convert_tokens_to_ids(self, tokens: str) -> int | list[int]: ...


def token_id_of(tokenizer: _TokenConverter) -> Callable[[str], int]:
    """`tokenizer`'s id of one special token (its convert_tokens_to_ids also takes lists)."""

    def token_id(token: str) -> int:
        found = tokenizer.convert_tokens_to_ids(token)
        assert isinstance(found, int), f"{token!r} is one token"
        return found

    return token_id


ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<fim_prefix>"
FIM_MIDDLE = "<fim_middle>"
FIM_SUFFIX = "<fim_suffix>"
FIM_PAD = "<fim_pad>"
REPO_NAME = "<repo_name>"
FILE_SEP = "<file_sep>"

STARCODER2_SPECIAL_TOKENS: tuple[str, ...] = (
    ENDOFTEXT,
    FIM_PREFIX,
    FIM_MIDDLE,
    FIM_SUFFIX,
    FIM_PAD,
    REPO_NAME,
    FILE_SEP,
    "<issue_start>",
    "<issue_comment>",
    "<issue_closed>",
    "<jupyter_start>",
    "<jupyter_text>",
    "<jupyter_code>",
    "<jupyter_output>",
    "<jupyter_script>",
    "<empty_output>",
    "<code_to_intermediate>",
    "<intermediate_to_code>",
    "<pr>",
    "<pr_status>",
    "<pr_is_merged>",
    "<pr_base>",
    "<pr_file>",
    "<pr_base_code>",
    "<pr_diff>",
    "<pr_diff_hunk>",
    "<pr_comment>",
    "<pr_event_id>",
    "<pr_review>",
    "<pr_review_state>",
    "<pr_review_comment>",
    "<pr_in_reply_to_review_id>",
    "<pr_in_reply_to_comment_id>",
    "<pr_diff_hunk_comment_line>",
    "<NAME>",
    "<EMAIL>",
    "<KEY>",
    "<PASSWORD>",
)

# Tokens that end a completion: the end of a file, or the start of the next file of a repository.
END_TOKENS: tuple[str, ...] = (ENDOFTEXT, FILE_SEP)


def fim_prompt(prefix: str, suffix: str) -> str:
    """The PSM prompt as text (for display and logs; `prompt_token_ids` builds the token ids)."""
    return f"{FIM_PREFIX}{prefix}{FIM_SUFFIX}{suffix}{FIM_MIDDLE}"


def fim_ids(
    token_id: Callable[[str], int], prefix_ids: Sequence[int], suffix_ids: Sequence[int]
) -> list[int]:
    """Tokenized pieces in PSM order: ``<fim_prefix>`` prefix ``<fim_suffix>`` suffix ``<fim_middle>``
    (a prompt; training appends the middle and ``<|endoftext|>``)."""
    return [token_id(FIM_PREFIX), *prefix_ids, token_id(FIM_SUFFIX), *suffix_ids, token_id(FIM_MIDDLE)]


def prompt_token_ids(
    encode_text: Callable[[str], list[int]],
    token_id: Callable[[str], int],
    prompt: str,
    suffix: str | None = None,
) -> list[int]:
    """Token ids for a plain prompt, or (when `suffix` is given, even empty) a PSM FIM prompt.

    `encode_text` tokenizes user text with special tokens split (no control tokens from text);
    `token_id` gives a special token's id. The pieces are tokenized one by one, which gives the
    same ids as tokenizing the whole FIM string, since special tokens split the text before
    pre-tokenization.
    """
    if suffix is None:
        return encode_text(prompt)
    return fim_ids(token_id, encode_text(prompt), encode_text(suffix))


def missing_fim_tokens(vocabulary: Sequence[str] | set[str]) -> list[str]:
    """The FIM tokens a tokenizer lacks (empty: it can fill in the middle)."""
    return [t for t in (FIM_PREFIX, FIM_SUFFIX, FIM_MIDDLE) if t not in vocabulary]
