"""A completion handed out piece by piece while the model writes it (`CodeModel.stream`).

The model runs in a thread; `_TokenSink` receives its tokens from transformers' streamer hook, and
the text is decoded and held back where it may still turn into a stop sequence
(`generator.stops.IncrementalText`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.extra import require_generator_extra

require_generator_extra()

import torch
from transformers.generation.streamers import BaseStreamer

from generator.options import SamplingOptions
from generator.stops import IncrementalText

if TYPE_CHECKING:
    from generator.model import CodeModel


@dataclass(frozen=True, slots=True)
class Completion:
    """What the model wrote after a prompt (or between a FIM prefix and suffix).

    `finish_reason`: ``stop`` (a stop sequence; it is not part of `text`), ``eos`` (the model
    ended the file), ``length`` (`max_new_tokens` reached) or ``cancelled``. Token counts are
    model tokens; `prompt_tokens` counts what the model saw, after any truncation of a prompt
    longer than the context (`truncated_prompt_tokens` were dropped). Times are seconds; the time
    to the first token includes the prefill (None for batches).
    """

    text: str
    prompt_tokens: int
    new_tokens: int
    finish_reason: str
    seconds: float
    first_token_seconds: float | None = None
    truncated_prompt_tokens: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "finish_reason": self.finish_reason,
            "usage": {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.new_tokens,
                "truncated_prompt_tokens": self.truncated_prompt_tokens,
            },
            "timing": {
                "seconds": round(self.seconds, 4),
                "first_token_seconds": None
                if self.first_token_seconds is None
                else round(self.first_token_seconds, 4),
            },
        }


@dataclass(frozen=True, slots=True)
class Prompt:
    """Token ids of a prompt as the model sees it (see `CodeModel.complete`)."""

    ids: list[int]
    healed: str  # trailing whitespace taken off the prompt (see generator.stops)
    truncated: int


class CompletionStream:
    """Iterate to receive the completion's text piece by piece; `completion` is set at the end.

    With `background` (the default) the model runs in a thread, started by the first iteration,
    and pieces arrive as tokens are decoded; `cancel()` stops it after the current token. Text that may still turn out to be part
    of a stop sequence is held back until it is known not to be.
    """

    def __init__(self, owner: CodeModel, prompt: Prompt, sampling: SamplingOptions, background: bool) -> None:
        self._owner, self._prompt, self._sampling = owner, prompt, sampling
        self._text = IncrementalText(prompt.healed, sampling.stop)
        self._cancel = threading.Event()
        self._pieces: list[str] = []
        self._ready = threading.Condition()
        self._done = False
        self._error: BaseException | None = None
        self.completion: Completion | None = None
        # Without a consumer reading along (background off), the text is decoded once, at the end.
        self._sink = _TokenSink(self._on_tokens if background else None)
        self._thread = (
            threading.Thread(target=self._run, name="codecite-generate", daemon=True) if background else None
        )

    def cancel(self) -> None:
        """Stop generating after the current token (the text so far stays)."""
        self._cancel.set()

    def __iter__(self) -> Iterator[str]:
        if self._thread is None:
            self._run()
        elif self._thread.ident is None:  # not started yet
            self._thread.start()
        finished = False
        try:
            while True:
                with self._ready:
                    while not self._pieces and not self._done:
                        self._ready.wait()
                    pieces, self._pieces = self._pieces, []
                    done = self._done
                yield from (p for p in pieces if p)
                if done:
                    break
            finished = True
        finally:
            if not finished:  # the consumer stopped listening (say, a closed connection): stop generating
                self.cancel()
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        owner, started = self._owner, time.perf_counter()
        try:
            with owner.lock:
                rows = owner.generate_ids(
                    [self._prompt.ids], [self._prompt.healed], self._sampling, self._sink, self._cancel
                )
            seconds = time.perf_counter() - started
            first = None if self._sink.first_token_at is None else self._sink.first_token_at - started
            self.completion = owner.finish(
                rows[0], self._prompt, self._sampling, seconds, first, self._cancel.is_set()
            )
            self._push(self._text.update(owner.decode_new(rows[0]), final=True))
        except BaseException as err:  # noqa: BLE001 - handed to the consumer, raised there
            self._error = err
        finally:
            with self._ready:
                self._done = True
                self._ready.notify_all()

    def _on_tokens(self, ids: list[int]) -> None:
        self._push(self._text.update(self._owner.decode_new(ids)))

    def _push(self, piece: str) -> None:
        if not piece:
            return
        with self._ready:
            self._pieces.append(piece)
            self._ready.notify_all()


class _TokenSink(BaseStreamer):
    """Receives tokens from `generate` (the prompt first, then one step at a time)."""

    def __init__(self, on_tokens: Callable[[list[int]], None] | None) -> None:
        self._on_tokens = on_tokens
        self._seen_prompt = False
        self.ids: list[int] = []
        self.first_token_at: float | None = None

    def put(self, value: torch.Tensor) -> None:
        if not self._seen_prompt:
            self._seen_prompt = True
            return
        if self.first_token_at is None:
            self.first_token_at = time.perf_counter()
        if self._on_tokens is not None:
            self.ids.extend(int(t) for t in value.reshape(-1).tolist())
            self._on_tokens(self.ids)

    def end(self) -> None:
        pass
