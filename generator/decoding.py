"""The decode paths: transformers' generation settings, and reusable static KV caches.

``eager`` decodes with a dynamic KV cache; ``static`` with a preallocated one; ``compiled`` with
the preallocated cache and a ``torch.compile``d decoding step (CUDA graphs on a GPU), the recipe of
the transformers documentation ("static cache and torch.compile").
"""

from __future__ import annotations

import copy
import inspect
import logging

from generator.extra import require_generator_extra

require_generator_extra()

from cachetools import LRUCache
from transformers import CompileConfig, GenerationConfig, PreTrainedConfig, PreTrainedModel, StaticCache

from generator.options import DecodeMode, SamplingOptions

log = logging.getLogger(__name__)

_CACHE_BUCKET = 256  # tokens: static KV caches come in multiples of this length


def generation_config(
    model: PreTrainedModel,
    sampling: SamplingOptions,
    decode: DecodeMode,
    end_token_ids: list[int],
    pad_token_id: int,
) -> GenerationConfig:
    """The transformers GenerationConfig for these options: sampling, end tokens, and whether the
    decoding step is compiled (``compiled``: ``torch.compile``, with CUDA graphs on a GPU;
    transformers compiles the decoding step and keeps the prefill eager). Pass the KV cache of a
    `StaticCachePool` along with it."""
    config = copy.deepcopy(model.generation_config)
    config.max_new_tokens = sampling.max_new_tokens
    config.max_length = None
    config.do_sample = not sampling.greedy
    if config.do_sample:
        config.temperature, config.top_p, config.top_k = (
            sampling.temperature,
            sampling.top_p,
            sampling.top_k or None,
        )
    else:
        config.temperature = config.top_p = config.top_k = None
    config.repetition_penalty = sampling.repetition_penalty
    config.eos_token_id = end_token_ids
    config.pad_token_id = pad_token_id
    config.cache_implementation = None
    if decode is DecodeMode.COMPILED:
        on_gpu = next(model.parameters()).device.type == "cuda"
        compile_config = CompileConfig(
            fullgraph=False, dynamic=False, mode="reduce-overhead" if on_gpu else "default"
        )
        compile_config._compile_all_devices = True  # type: ignore[assignment] # CUDA only unless told
        config.compile_config = compile_config
        config.disable_compile = False
    else:
        config.disable_compile = True
    return config


class StaticCachePool:
    """Preallocated KV caches for the ``static`` and ``compiled`` decode paths, reused across calls.

    A compiled decoding step (with CUDA graphs on a GPU) replays on the same tensors, so one cache
    is kept per (batch size, length) and reset before reuse, as transformers does with the cache it
    makes itself; the least recently used is dropped beyond `keep`. Lengths are rounded up to a
    multiple of 256 tokens, so prompts of similar lengths share one compiled step.

    StarCoder2 attends within a sliding window (4,096 tokens). transformers' static sliding-window
    cache counts its length in a Python int, so a compiled step recompiles at every token
    (huggingface/transformers#44609) and ends up uncompiled. While prompt and completion fit in the
    window, the window changes nothing, so the cache is built as a plain static cache instead.
    """

    def __init__(self, model: PreTrainedModel, decode: DecodeMode, keep: int = 4) -> None:
        self.model, self.decode, self.keep = model, decode, keep
        self._caches: LRUCache[tuple[int, int], StaticCache] = LRUCache(keep)
        # The argument is `cache` in recent transformers (models take `cache`), `past_key_values` before.
        self._argument = (
            "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
        )

    def generate_inputs(self, batch: int, length: int) -> dict[str, object]:
        """Extra `generate` arguments for `batch` rows of up to `length` tokens ({} when eager)."""
        if self.decode is DecodeMode.EAGER:
            return {}
        key = (batch, -(-length // _CACHE_BUCKET) * _CACHE_BUCKET)
        cache = self._caches.get(key)
        if cache is None:
            cache = self._caches[key] = StaticCache(config=self._cache_config(key[1]), max_cache_len=key[1])
        else:
            cache.reset()
        return {self._argument: cache}

    def _cache_config(self, length: int) -> PreTrainedConfig:
        config = self.model.config
        window = getattr(config, "sliding_window", None)
        if window is not None and length <= window:
            config = copy.deepcopy(config)
            config.sliding_window = None
            if getattr(config, "layer_types", None) is not None:
                config.layer_types = ["full_attention"] * len(config.layer_types)
        elif window is not None and self.decode is DecodeMode.COMPILED:
            log.warning(
                "%d tokens exceed the sliding window of %d: the compiled decoding step will recompile "
                "(huggingface/transformers#44609); use --decode eager for such lengths",
                length,
                window,
            )
        return config
