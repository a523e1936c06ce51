"""Options of the generator: how a model is loaded, how it samples, what happens to its output.

Typed, validated once at construction; every message names the fix.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields


class DecodeMode(str, enum.Enum):
    """How tokens are decoded after the prompt.

    ``eager``: a dynamic KV cache, no compilation (starts at once; the default).
    ``static``: a preallocated (static) KV cache of prompt + max_new_tokens, no compilation.
    ``compiled``: the static cache and a ``torch.compile``d decoding step (CUDA graphs on a GPU,
    ``mode="reduce-overhead"``): the first call compiles (tens of seconds), later ones are fast.
    """

    EAGER = "eager"
    STATIC = "static"
    COMPILED = "compiled"


class OutputMode(str, enum.Enum):
    """What to do with a completion once it is attributed.

    ``annotate``: return it with its Report and the policy's decision.
    ``block``: withhold it when the policy fails it (say, it reproduces GPL code) and say what it matched.
    ``attribution``: return it with the attribution notice its sources require.
    """

    ANNOTATE = "annotate"
    BLOCK = "block"
    ATTRIBUTION = "attribution"


_DTYPES = ("auto", "float32", "bfloat16", "float16")
_QUANTIZATION = (None, "8bit", "4bit")


@dataclass(frozen=True, slots=True)
class LoadOptions:
    """How to load a checkpoint.

    `device`: ``auto`` (the first CUDA device if there is one, else the CPU), ``cpu``, ``cuda`` or
    ``cuda:N``. `device_map`: passed to transformers (``auto`` spreads a large model over the GPUs
    and the CPU; needs ``accelerate``); when set it replaces `device`. `dtype`: ``auto`` is bfloat16
    on a GPU and float32 on the CPU. `quantization`: ``8bit`` or ``4bit`` weights through
    bitsandbytes, as the StarCoder2 model cards show (GPU only). `local_files_only`: never contact
    the Hugging Face hub, even for a hub id. `threads`: CPU threads for torch, set for the whole
    process when the model loads (None leaves torch's default; on a small, busy machine 1 is often
    fastest for small models).
    """

    device: str = "auto"
    device_map: str | None = None
    dtype: str = "auto"
    quantization: str | None = None
    decode: DecodeMode = DecodeMode.EAGER
    attn_implementation: str | None = None
    local_files_only: bool = False
    threads: int | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.threads is not None and (
            isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1
        ):
            problems.append(f"threads={self.threads!r} must be a positive integer (or None: torch's default)")
        if not (self.device in ("auto", "cpu", "cuda", "mps") or self.device.startswith("cuda:")):
            problems.append(f"device={self.device!r}: use auto, cpu, cuda or cuda:N")
        if self.dtype not in _DTYPES:
            problems.append(f"dtype={self.dtype!r}: use one of {', '.join(_DTYPES)}")
        if self.quantization not in _QUANTIZATION:
            problems.append(f"quantization={self.quantization!r}: use 8bit or 4bit, or leave it out")
        if not isinstance(self.decode, DecodeMode):
            try:
                object.__setattr__(self, "decode", DecodeMode(self.decode))
            except ValueError:
                problems.append(
                    f"decode={self.decode!r}: use one of {', '.join(m.value for m in DecodeMode)}"
                )
        if problems:
            raise ValueError("invalid model options: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class SamplingOptions:
    """How the next token is chosen, and when to stop.

    `temperature` 0 (or below 1e-4) means greedy decoding (the most likely token every time; `top_p`,
    `top_k` and `seed` then do nothing). `top_k` 0 means no top-k filter. `stop`: the completion ends before the
    first occurrence of any of these strings (the end-of-text token always ends it too).
    `max_new_tokens` counts tokens, not characters.
    """

    max_new_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.stop, str) or not isinstance(self.stop, tuple):
            object.__setattr__(self, "stop", (self.stop,) if isinstance(self.stop, str) else tuple(self.stop))
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("stop", "seed"):
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                problems.append(f"{f.name}={value!r} must be a number")
        if problems:
            raise ValueError("invalid sampling options: " + "; ".join(problems))
        if not 1 <= self.max_new_tokens <= 1_000_000:
            problems.append(f"max_new_tokens={self.max_new_tokens} must be at least 1")
        if not 0.0 <= self.temperature <= 5.0:
            problems.append(f"temperature={self.temperature} must be between 0 (greedy) and 5")
        if not 0.0 < self.top_p <= 1.0:
            problems.append(f"top_p={self.top_p} must be in (0, 1]; 1 turns nucleus sampling off")
        if self.top_k < 0:
            problems.append(f"top_k={self.top_k} must be 0 (off) or more")
        if not 0.0 < self.repetition_penalty <= 10.0:
            problems.append(f"repetition_penalty={self.repetition_penalty} must be in (0, 10]; 1 is none")
        if any(not isinstance(s, str) or not s for s in self.stop):
            problems.append("stop sequences must be non-empty strings")
        if self.seed is not None and (isinstance(self.seed, bool) or not isinstance(self.seed, int)):
            problems.append(f"seed={self.seed!r} must be an integer")
        if problems:
            raise ValueError("invalid sampling options: " + "; ".join(problems))

    @property
    def greedy(self) -> bool:
        """Greedy decoding: temperature 0, or so close to it (below 1e-4) that sampling would overflow."""
        return self.temperature < 1e-4
