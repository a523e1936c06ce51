"""Loading a causal LM checkpoint with transformers: device, dtype, device_map, 8/4-bit weights.

Follows the StarCoder2 model cards: bfloat16 on a GPU (float32 on the CPU), ``device_map="auto"``
to spread a large model, and bitsandbytes ``load_in_8bit`` / ``load_in_4bit`` when installed.
"""

from __future__ import annotations

from pathlib import Path

from generator.extra import optional_package, require_generator_extra

require_generator_extra()

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from generator.options import LoadOptions

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


class ModelLoadError(RuntimeError):
    """A checkpoint cannot be loaded; the message says what to do instead."""


def load_pretrained(name: str, options: LoadOptions) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """(model in eval mode on its device(s), tokenizer) for a hub id or a save_pretrained directory."""
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    device = _device(options.device)
    kwargs: dict[str, object] = {"dtype": _dtype(options.dtype, options.device_map or device)}
    if options.local_files_only:
        kwargs["local_files_only"] = True
    if options.attn_implementation:
        kwargs["attn_implementation"] = options.attn_implementation
    placed = _placement(options, device, kwargs)
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=options.local_files_only)
        model = AutoModelForCausalLM.from_pretrained(name, **kwargs)
    except (OSError, ValueError) as err:
        raise ModelLoadError(_load_hint(name, err)) from err
    if not placed:
        model.to(device)  # type: ignore[arg-type] # transformers wraps `to`; it takes a device
    model.eval()
    return model, tokenizer


def _device(requested: str) -> str:
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(f"device={requested!r} but no CUDA device is available: use --device cpu")
    return requested


def _dtype(requested: str, where: str) -> torch.dtype:
    if requested != "auto":
        return _DTYPES[requested]
    return torch.float32 if where == "cpu" else torch.bfloat16


def _placement(options: LoadOptions, device: str, kwargs: dict[str, object]) -> bool:
    """Adds device_map / quantization arguments; True when transformers places the weights itself."""
    if options.quantization:
        if not optional_package("bitsandbytes"):
            raise ModelLoadError(
                f"quantization={options.quantization} needs bitsandbytes (and a CUDA GPU): "
                "pip install bitsandbytes, or load without quantization"
            )
        if device == "cpu" and options.device_map is None:
            raise ModelLoadError(
                f"quantization={options.quantization} runs on a CUDA GPU only: leave it out on the CPU"
            )
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = (
            BitsAndBytesConfig(load_in_8bit=True)
            if options.quantization == "8bit"
            else BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=kwargs["dtype"])
        )
        kwargs["device_map"] = options.device_map or device
        return True
    if options.device_map:
        if not optional_package("accelerate"):
            raise ModelLoadError(
                f"device_map={options.device_map!r} needs accelerate: pip install accelerate, "
                "or give --device instead"
            )
        kwargs["device_map"] = options.device_map
        return True
    return False


def _load_hint(name: str, err: Exception) -> str:
    if Path(name).expanduser().exists():
        return (
            f"cannot load the model in {name}: {err}. A model directory holds what save_pretrained writes "
            "(config.json, model.safetensors, tokenizer.json); `codecite model train-tiny` makes one"
        )
    return (
        f"cannot load {name!r}: it is not a local directory, and the Hugging Face hub could not provide it "
        f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'no detail'}). Where the hub is "
        f"reachable, download it (`huggingface-cli download {name} --local-dir DIR`) and pass DIR, or train a "
        "small local model with `codecite model train-tiny --corpus SOURCE --out DIR`"
    )
