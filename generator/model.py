"""A causal code model loaded with transformers: complete code, fill in the middle, batch, stream.

    CodeModel.load(id or directory)  →  prompt token ids (plain or FIM)  →  generate
        →  decode the new tokens  →  heal / cut at stops (`generator.stops`)  →  Completion

Any causal LM checkpoint works: the StarCoder2 ids (``bigcode/starcoder2-3b``, ``-7b``, ``-15b``,
where the hub is reachable), a directory written by ``save_pretrained``, or a tiny model trained
by ``codecite model train-tiny`` — all through the same ``AutoModelForCausalLM`` /
``AutoTokenizer`` calls. Generation is serialised per model (one lock): a static KV cache and
the random generator are shared state.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from generator.extra import require_generator_extra

require_generator_extra()

import torch
from transformers import (
    GenerationConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    StoppingCriteria,
    StoppingCriteriaList,
)
from transformers.generation.streamers import BaseStreamer

from generator.decoding import StaticCachePool, generation_config
from generator.fim import END_TOKENS, fim_ids, missing_fim_tokens, prompt_token_ids, token_id_of
from generator.loading import ModelLoadError, load_pretrained
from generator.options import LoadOptions, SamplingOptions
from generator.stops import split_trailing_whitespace, visible_text
from generator.streaming import Completion, CompletionStream, Prompt

log = logging.getLogger(__name__)


_DEFAULT_LOAD = LoadOptions()
_DEFAULT_SAMPLING = SamplingOptions()


class PromptError(ValueError):
    """A prompt the model cannot take (say, FIM for a model without FIM tokens)."""


class CodeModel:
    """A loaded model and its tokenizer. Build with `CodeModel.load`."""

    def __init__(
        self, model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, name: str, options: LoadOptions
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.options = options
        self.lock = threading.Lock()
        tokenizer.padding_side = (
            "left"  # batches are padded on the left so every row continues its own prompt
        )
        vocab = tokenizer.get_vocab()
        self.end_token_ids = sorted(
            {vocab[t] for t in END_TOKENS if t in vocab}
            | _as_set(tokenizer.eos_token_id)
            | _as_set(model.generation_config.eos_token_id)
        )
        if not self.end_token_ids:
            raise ModelLoadError(
                f"{name}: the tokenizer has no end-of-text token, so completions would never end"
            )
        self._end_ids = frozenset(self.end_token_ids)
        self.pad_token_id = (
            tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.end_token_ids[0]
        )
        self.supports_fim = not missing_fim_tokens(set(vocab))
        self.max_context: int | None = getattr(model.config, "max_position_embeddings", None)
        self._caches = StaticCachePool(model, options.decode)

    # ---- loading -----------------------------------------------------------------------------

    @classmethod
    def load(cls, name_or_path: str | Path, options: LoadOptions = _DEFAULT_LOAD) -> CodeModel:
        """Load a checkpoint by hub id or directory. Raises ModelLoadError with what to do instead."""
        name = str(name_or_path)
        model, tokenizer = load_pretrained(name, options)
        log.info(
            "loaded %s (%s parameters, %s on %s)",
            name,
            f"{_parameters(model):,}",
            str(next(model.parameters()).dtype).removeprefix("torch."),
            model.device,
        )
        return cls(model, tokenizer, name, options)

    def info(self) -> dict[str, object]:
        """What is loaded: name, size, dtype, device, context, FIM support, decode mode."""
        return {
            "model": self.name,
            "architecture": type(self.model).__name__,
            "parameters": _parameters(self.model),
            "dtype": str(next(self.model.parameters()).dtype).removeprefix("torch."),
            "device": str(self.model.device),
            "context": self.max_context,
            "vocab_size": len(self.tokenizer),
            "fill_in_the_middle": self.supports_fim,
            "decode": self.options.decode.value,
            "end_tokens": self.tokenizer.convert_ids_to_tokens(self.end_token_ids),
        }

    # ---- prompts -------------------------------------------------------------------------------

    def encode_text(self, text: str) -> list[int]:
        """Token ids of user text; special-token names in it are split into ordinary tokens.
        Raises PromptError for text that is not valid Unicode (an unpaired surrogate)."""
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise PromptError(
                f"the text has an unpaired surrogate at character {err.start}: send valid Unicode "
                "(UTF-8) text"
            ) from None
        return list(self.tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"])

    def prompt_ids(self, prompt: str, suffix: str | None = None) -> list[int]:
        """The ids the model sees for `prompt` (plain) or `prompt` + `suffix` (FIM, PSM order)."""
        if suffix is not None and not self.supports_fim:
            raise PromptError(
                f"{self.name} has no fill-in-the-middle tokens (<fim_prefix>, <fim_suffix>, "
                "<fim_middle>): leave the suffix out, or use a StarCoder2 model"
            )
        return prompt_token_ids(self.encode_text, token_id_of(self.tokenizer), prompt, suffix)

    def _prompt(self, prompt: str, suffix: str | None, max_new_tokens: int) -> Prompt:
        head, healed = split_trailing_whitespace(prompt)
        if suffix is not None or not head:
            # FIM pieces are tokenized on their own, in training as here, so the end of the prefix is
            # a token boundary either way; and a prompt of nothing but whitespace stays as it is.
            head, healed = prompt, ""
        ids = self.prompt_ids(head, suffix)
        if not ids:  # an empty prompt starts a new file
            bos = self.tokenizer.bos_token_id
            ids = [bos if bos is not None else self.end_token_ids[0]]
        budget = (self.max_context - max_new_tokens) if self.max_context else None
        if budget is not None and budget < 1:
            raise PromptError(
                f"max_new_tokens={max_new_tokens} leaves no room for the prompt in the model's "
                f"context of {self.max_context} tokens: ask for fewer new tokens"
            )
        if budget is None or len(ids) <= budget:
            return Prompt(ids, healed, 0)
        dropped = len(ids) - budget
        log.warning(
            "prompt of %d tokens is longer than the %d the context leaves: the first %d are dropped",
            len(ids),
            budget,
            dropped,
        )
        if suffix is None:
            return Prompt(ids[dropped:], healed, dropped)
        return Prompt(self._truncated_fim(head, suffix, budget), healed, dropped)

    def _truncated_fim(self, prefix: str, suffix: str, budget: int) -> list[int]:
        """FIM ids within `budget`: the prefix loses its start first, then the suffix its end."""
        pre, suf = self.encode_text(prefix), self.encode_text(suffix)
        spare = budget - 3
        keep_suf = min(len(suf), max(spare // 2, spare - len(pre)))
        keep_pre = max(spare - keep_suf, 0)
        return fim_ids(token_id_of(self.tokenizer), pre[len(pre) - keep_pre :], suf[:keep_suf])

    # ---- generation ----------------------------------------------------------------------------

    def complete(
        self, prompt: str, suffix: str | None = None, sampling: SamplingOptions = _DEFAULT_SAMPLING
    ) -> Completion:
        """Complete `prompt` (or fill in between `prompt` and `suffix`)."""
        stream = self.stream(prompt, suffix, sampling, background=False)
        for _ in stream:
            pass
        assert stream.completion is not None
        return stream.completion

    def complete_batch(
        self,
        prompts: Sequence[str],
        sampling: SamplingOptions = _DEFAULT_SAMPLING,
        suffixes: Sequence[str | None] | None = None,
    ) -> list[Completion]:
        """Complete several prompts in one batch (left-padded). FIM rows take their suffix."""
        suffixes = list(suffixes) if suffixes is not None else [None] * len(prompts)
        if len(suffixes) != len(prompts):
            raise ValueError(
                f"{len(prompts)} prompts but {len(suffixes)} suffixes: give one suffix (or None) each"
            )
        built = [self._prompt(p, s, sampling.max_new_tokens) for p, s in zip(prompts, suffixes)]
        started = time.perf_counter()
        with self.lock:
            rows = self.generate_ids([b.ids for b in built], [b.healed for b in built], sampling)
        seconds = time.perf_counter() - started
        return [self.finish(row, b, sampling, seconds, None, False) for row, b in zip(rows, built)]

    def stream(
        self,
        prompt: str,
        suffix: str | None = None,
        sampling: SamplingOptions = _DEFAULT_SAMPLING,
        background: bool = True,
    ) -> CompletionStream:
        """Complete `prompt`, handing out the text as it is written (see `CompletionStream`)."""
        return CompletionStream(
            self, self._prompt(prompt, suffix, sampling.max_new_tokens), sampling, background
        )

    def generate_ids(
        self,
        ids: list[list[int]],
        healed: list[str],
        sampling: SamplingOptions,
        streamer: BaseStreamer | None = None,
        cancel: threading.Event | None = None,
    ) -> list[list[int]]:
        """Run `generate` on a left-padded batch; returns the new token ids of each row."""
        width = max(len(row) for row in ids)
        device = self.model.device
        input_ids = torch.tensor([[self.pad_token_id] * (width - len(r)) + r for r in ids], device=device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in ids], device=device)
        criteria = StoppingCriteriaList()
        if sampling.stop or cancel is not None:
            criteria.append(_StopCriterion(self, width, healed, sampling.stop, cancel))
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)
        with torch.inference_mode():
            out = self.model.generate(  # type: ignore[operator] # transformers types generate as a Tensor attribute
                input_ids=input_ids,
                attention_mask=mask,
                stopping_criteria=criteria,
                generation_config=self._generation_config(sampling),
                streamer=streamer,
                **self._caches.generate_inputs(len(ids), width + sampling.max_new_tokens),
            )
        return out[:, width:].tolist()

    def _generation_config(self, sampling: SamplingOptions) -> GenerationConfig:
        return generation_config(
            self.model, sampling, self.options.decode, self.end_token_ids, self.pad_token_id
        )

    def decode_new(self, ids: Sequence[int]) -> str:
        """Text of generated ids up to the first end token (special tokens dropped, spacing as written)."""
        cut = next((i for i, t in enumerate(ids) if t in self._end_ids), len(ids))
        return str(
            self.tokenizer.decode(
                list(ids[:cut]), skip_special_tokens=True, clean_up_tokenization_spaces=False
            )
        )

    def finish(
        self,
        row: Sequence[int],
        prompt: Prompt,
        sampling: SamplingOptions,
        seconds: float,
        first_token: float | None,
        cancelled: bool,
    ) -> Completion:
        cut = next((i for i, t in enumerate(row) if t in self._end_ids), None)
        text, stopped = visible_text(self.decode_new(row), prompt.healed, sampling.stop, final=True)
        if stopped:
            reason, new = "stop", cut if cut is not None else len(row)
        elif cancelled:
            reason, new = "cancelled", cut if cut is not None else len(row)
        elif cut is not None:
            reason, new = "eos", cut + 1
        else:
            reason, new = "length", len(row)
        return Completion(text, len(prompt.ids), new, reason, seconds, first_token, prompt.truncated)


class _StopCriterion(StoppingCriteria):
    """Ends a row once its visible text reaches a stop sequence; ends all rows when cancelled."""

    def __init__(
        self,
        owner: CodeModel,
        prompt_width: int,
        healed: list[str],
        stops: tuple[str, ...],
        cancel: threading.Event | None,
    ) -> None:
        self._owner, self._width, self._healed, self._stops, self._cancel = (
            owner,
            prompt_width,
            healed,
            stops,
            cancel,
        )

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: object) -> torch.Tensor:
        if self._cancel is not None and self._cancel.is_set():
            return torch.ones(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        if not self._stops:
            return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)
        done = [
            visible_text(self._owner.decode_new(row), self._healed[r], self._stops, final=False)[1]
            for r, row in enumerate(input_ids[:, self._width :].tolist())
        ]
        return torch.tensor(done, dtype=torch.bool, device=input_ids.device)


def _parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _as_set(value: int | Iterable[int] | None) -> set[int]:
    if value is None:
        return set()
    if isinstance(value, int):
        return {value}
    return {int(v) for v in value}
