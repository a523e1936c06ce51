"""Guess the language of a pasted snippet when the caller does not say.

A guess only changes how comments and strings are recognised (the text channel does not depend
on it), and each candidate source is re-read in its own language during verification, so a
wrong guess costs little.
"""

from __future__ import annotations

import re

from indexer.analysis.languages import canonical_language, language_for_path

_SIGNS: dict[str, list[tuple[str, float]]] = {
    "Python": [
        (r"^\s*def \w+\(.*\)\s*(->.*)?:\s*$", 3),
        (r"^\s*(from [\w.]+ )?import [\w.]+", 1.5),
        (r"\bself\.", 1.5),
        (r"^\s*(elif|except|with) .*:\s*$", 2),
        (r'"""', 1),
        (r"^\s*@\w+", 0.5),
        (r"\bNone\b|\bTrue\b|\bFalse\b", 1),
    ],
    "JavaScript": [
        (r"\bfunction\b", 1.5),
        (r"\b(const|let|var) \w+\s*=", 1.5),
        (r"=>", 1),
        (r"\brequire\(", 2),
        (r"\bconsole\.\w+\(", 2),
        (r"===|!==", 2),
        (r"\bmodule\.exports\b", 2),
        (r";\s*$", 0.5),
    ],
    "TypeScript": [
        (r"\binterface \w+", 2),
        (r":\s*(string|number|boolean|any|void)\b", 2.5),
        (r"\b(export )?type \w+\s*=", 2),
        (r"\bimport .* from ['\"]", 1),
        (r"<\w+>\(", 0.5),
    ],
    "C": [
        (r"^\s*#include\s*[<\"]", 3),
        (r"\bprintf\(|\bmalloc\(|\bsizeof\(", 2),
        (r"->\w+", 1),
        (r"\b(int|void|char|unsigned)\s+\**\w+\s*\(", 2),
        (r"\bNULL\b", 1),
    ],
    "C++": [
        (r"\bstd::", 3),
        (r"\btemplate\s*<", 3),
        (r"#include\s*<(iostream|vector|string|memory)>", 3),
        (r"\bnamespace\b", 1.5),
        (r"\bnullptr\b", 2),
        (r"::\w+\(", 0.5),
    ],
    "Java": [
        (r"\bpublic (static )?(class|void|final)\b", 3),
        (r"\bSystem\.out\.", 3),
        (r"^\s*import java\.", 3),
        (r"@Override", 2),
        (r"\bprivate (final )?\w+ \w+;", 1),
    ],
    "Go": [
        (r"^\s*package \w+\s*$", 3),
        (r"\bfunc (\(\w+ \*?\w+\) )?\w+\(", 3),
        (r":=", 1.5),
        (r"\bfmt\.", 2),
        (r"\berr != nil\b", 3),
    ],
    "Rust": [
        (r"\bfn \w+", 2.5),
        (r"\blet mut\b", 3),
        (r"\bimpl\b", 2),
        (r"\b(pub|use) \w+", 1),
        (r"&'\w+|&mut\b", 2),
        (r"println!|vec!|Option<|Result<", 2),
    ],
}
_COMPILED = {lang: [(re.compile(p, re.MULTILINE), w) for p, w in signs] for lang, signs in _SIGNS.items()}


def resolve_language(
    code: str, language: str | None = None, filename: str | None = None
) -> tuple[str | None, tuple[str, ...]]:
    """The language to read `code` as, and warnings for the caller.

    The caller's language in The Stack's spelling when codecite knows it; else the language of
    `filename`; else a guess from the code (None when nothing points anywhere). Naming a language
    codecite does not know gives a warning that says the language was guessed instead.
    """
    warnings: tuple[str, ...] = ()
    if language:
        known = canonical_language(language)
        if known:
            return known, ()
        warnings = (
            (
                f"unknown language {language!r}: the language was guessed from the code instead "
                "(`codecite index stats` and GET /v1/stats list the known languages)"
            ),
        )
    from_name = language_for_path(filename) if filename else None
    return from_name or guess_language(code), warnings


def guess_language(code: str, sample_chars: int = 20000) -> str | None:
    """The most likely language of a snippet, or None when nothing points anywhere."""
    sample = code[:sample_chars]
    scores = {
        lang: sum(w * min(len(p.findall(sample)), 5) for p, w in signs) for lang, signs in _COMPILED.items()
    }
    if scores["TypeScript"] > 0:
        scores["TypeScript"] += scores["JavaScript"] * 0.5
    if scores["C++"] > 0:
        scores["C++"] += scores["C"] * 0.5
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] >= 2 else None
