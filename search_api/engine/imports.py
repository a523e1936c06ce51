"""Import statements: the lines a language's module system dictates (``import x``, ``#include <y>``,
``use z::w;``, ``require('v')``). Code that uses the same library shares them without copying
anything, so they are no evidence of copying (see `search_api.engine.evidence`).
"""

from __future__ import annotations

import re

import numpy as np

from indexer.analysis.languages import Family, family_of

_JS = (
    r"import\b|export\s+(?:\*|\{[^}]*\}|\*\s+as\s+\w+)\s+from\b"
    r"|(?:const|let|var)\s+[\w${}\s,:]+=\s*require\s*\(|require\s*\("
    r"|(?:module\.)?exports(?:\.\w+)?\s*=\s*require\s*\("  # a re-export
)
_STARTS: dict[Family, re.Pattern[str]] = {
    Family.PYTHON: re.compile(r"\s*(?:from\s+[\w.]+\s+import\b|import\s+[\w.]+)"),
    Family.JAVASCRIPT: re.compile(rf"\s*(?:{_JS})"),
    # C and C++ includes; Java, Kotlin, Scala, Swift imports; C# usings; their package lines
    Family.C_LIKE: re.compile(
        r"\s*(?:#\s*(?:include|import)\b|import\s+[\w.*]+|using\s+[\w.=\s]+;|package\s+[\w.]+)"
    ),
    Family.RUST: re.compile(r"\s*(?:pub(?:\([^)]*\))?\s+)?(?:use\s|extern\s+crate\s|mod\s+\w+\s*;)"),
    Family.GO: re.compile(r"\s*(?:import\b|package\s+\w+)"),
    Family.HASH: re.compile(r"\s*(?:require(?:_relative)?\b|library\s*\(|source\s)"),  # Ruby, R, shell
}
_OPEN, _CLOSE = "([{", ")]}"
_HASH_COMMENTS = (Family.PYTHON, Family.HASH)
MAX_CONTINUATION = 200  # lines an open bracket of an import statement may hold


def import_lines(text: str, language: str | None) -> np.ndarray:
    """For each line of `text` (split on newlines), whether it is part of an import statement: a
    line that starts one, and the lines of the brackets it leaves open (``from x import (`` ...
    ``)``, Go's ``import (`` ... ``)``, ``use a::{`` ... ``};``)."""
    lines = text.split("\n")
    out = np.zeros(len(lines), dtype=bool)
    start = _STARTS.get(family_of(language))
    if start is None:
        return out
    comment = "#" if family_of(language) in _HASH_COMMENTS else "//"
    depth, held = 0, 0
    for i, line in enumerate(lines):
        if depth > 0 or start.match(line):
            out[i] = True
            code = line.split(comment, 1)[0]
            depth = max(depth + sum(code.count(c) for c in _OPEN) - sum(code.count(c) for c in _CLOSE), 0)
            held = held + 1 if depth else 0
            if held > MAX_CONTINUATION:
                depth = held = 0
    return out
