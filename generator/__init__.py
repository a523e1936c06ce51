"""Code generation with attribution: StarCoder2 (or any causal code LM) through transformers, a tiny
model trained locally on a sample corpus, and completions that arrive with their Report.

    from generator import AttributedGenerator, CodeModel, GenerateRequest
    model = CodeModel.load("bigcode/starcoder2-3b")          # or a directory, e.g. from train-tiny
    generator = AttributedGenerator(model, Searcher(open_index("idx")).attribute)
    result = generator.generate(GenerateRequest("def fib(n):", mode="block"))

Importing this package is cheap: torch and transformers load when a name that needs them is first
used (a missing ``generator`` extra then raises one line naming ``pip install 'codecite[generator]'``).
"""

from __future__ import annotations

import importlib
from typing import Any

from generator.extra import GeneratorExtraMissing
from generator.fim import STARCODER2_SPECIAL_TOKENS, fim_prompt
from generator.options import DecodeMode, LoadOptions, OutputMode, SamplingOptions

__all__ = [
    "STARCODER2_SPECIAL_TOKENS",
    "AttributedCompletion",
    "AttributedGenerator",
    "CodeModel",
    "Completion",
    "DecodeMode",
    "GenerateRequest",
    "GeneratorExtraMissing",
    "LoadOptions",
    "OutputMode",
    "SamplingOptions",
    "TinyModelSettings",
    "fim_prompt",
    "train_tiny",
]

_LAZY = {
    "CodeModel": "generator.model",
    "Completion": "generator.streaming",
    "AttributedGenerator": "generator.attributed",
    "AttributedCompletion": "generator.attributed",
    "GenerateRequest": "generator.attributed",
    "TinyModelSettings": "generator.train",
    "train_tiny": "generator.train",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'generator' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
