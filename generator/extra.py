"""The generator's optional dependencies (the ``generator`` extra), checked before they are imported.

``import generator`` stays cheap: torch and transformers are imported only by the modules that
run a model (`generator.model`, `generator.train`), and only after `require_generator_extra`
has said, in one line, what to install when they are missing.
"""

from __future__ import annotations

import importlib.util

INSTALL_HINT = "pip install 'codecite[generator]'"
_MODULES = ("torch", "transformers", "tokenizers", "safetensors")


class GeneratorExtraMissing(ImportError):
    """torch / transformers / tokenizers are not installed; the message says what to install."""


def require_generator_extra() -> None:
    """Raise GeneratorExtraMissing, naming the extra to install, unless the generator can run."""
    missing = [name for name in _MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise GeneratorExtraMissing(
            f"the generator needs {', '.join(missing)}, which is not installed: {INSTALL_HINT}"
        )


def optional_package(name: str) -> bool:
    """Whether an optional package (bitsandbytes, accelerate) can be imported."""
    return importlib.util.find_spec(name) is not None
