"""Programming languages: names as The Stack spells them, file extensions, and lexical families.

The family decides how comments and strings are recognised (see `indexer.analysis.lexer`); every language
of The Stack that is not listed falls back to the generic family.
"""

from __future__ import annotations

import enum
from pathlib import PurePosixPath


class Family(enum.IntEnum):
    """Lexical families: which comment and string syntax a language uses."""

    GENERIC = 0  # no comments known; "..." and '...' strings
    C_LIKE = 1  # // and /* */ comments; "..." '...' strings (C, C++, Java, C#, Go, Kotlin, Swift, ...)
    JAVASCRIPT = 2  # C_LIKE plus `template` strings
    PYTHON = 3  # # comments; '...' "..." '''...''' \"\"\"...\"\"\" strings
    HASH = 4  # # comments; "..." '...' strings (shell, Ruby, Perl, R, YAML, TOML, Makefile)
    RUST = 5  # C_LIKE with lifetimes ('a) and raw strings r#"..."#
    GO = 6  # C_LIKE with `raw` strings
    SQL = 7  # -- and /* */ comments
    LISP = 8  # ; comments
    HTML = 9  # <!-- --> comments
    LUA = 10  # -- comments, --[[ ]] blocks
    HASKELL = 11  # -- comments, {- -} blocks


# language -> (family, extensions). Names follow The Stack / GitHub linguist.
_LANGUAGES: dict[str, tuple[Family, tuple[str, ...]]] = {
    "Python": (Family.PYTHON, (".py", ".pyi", ".pyw")),
    "Cython": (Family.PYTHON, (".pyx", ".pxd", ".pxi")),
    "JavaScript": (Family.JAVASCRIPT, (".js", ".mjs", ".cjs", ".jsx")),
    "TypeScript": (Family.JAVASCRIPT, (".ts", ".tsx", ".mts", ".cts")),
    "C": (Family.C_LIKE, (".c", ".h")),
    "C++": (Family.C_LIKE, (".cc", ".cpp", ".cxx", ".c++", ".hpp", ".hh", ".hxx", ".h++", ".ipp", ".tpp")),
    "C#": (Family.C_LIKE, (".cs",)),
    "Java": (Family.C_LIKE, (".java",)),
    "Kotlin": (Family.C_LIKE, (".kt", ".kts")),
    "Scala": (Family.C_LIKE, (".scala", ".sc")),
    "Swift": (Family.C_LIKE, (".swift",)),
    "Objective-C": (Family.C_LIKE, (".m", ".mm")),
    "Dart": (Family.C_LIKE, (".dart",)),
    "PHP": (Family.C_LIKE, (".php",)),
    "Go": (Family.GO, (".go",)),
    "Rust": (Family.RUST, (".rs",)),
    "CUDA": (Family.C_LIKE, (".cu", ".cuh")),
    "Shell": (Family.HASH, (".sh", ".bash", ".zsh")),
    "Ruby": (Family.HASH, (".rb", ".rake", ".gemspec")),
    "Perl": (Family.HASH, (".pl", ".pm")),
    "R": (Family.HASH, (".r",)),
    "Julia": (Family.HASH, (".jl",)),
    "Elixir": (Family.HASH, (".ex", ".exs")),
    "Nim": (Family.HASH, (".nim",)),
    "PowerShell": (Family.HASH, (".ps1", ".psm1")),
    "CMake": (Family.HASH, (".cmake",)),
    "Makefile": (Family.HASH, (".mk", ".mak")),
    "YAML": (Family.HASH, (".yml", ".yaml")),
    "TOML": (Family.HASH, (".toml",)),
    "Dockerfile": (Family.HASH, (".dockerfile",)),
    "SQL": (Family.SQL, (".sql",)),
    "Lua": (Family.LUA, (".lua",)),
    "Haskell": (Family.HASKELL, (".hs", ".lhs")),
    "Clojure": (Family.LISP, (".clj", ".cljs", ".cljc", ".edn")),
    "Emacs Lisp": (Family.LISP, (".el",)),
    "Scheme": (Family.LISP, (".scm", ".ss")),
    "Common Lisp": (Family.LISP, (".lisp", ".lsp")),
    "HTML": (Family.HTML, (".html", ".htm", ".xhtml")),
    "XML": (Family.HTML, (".xml", ".xsd", ".xsl", ".svg")),
    "Vue": (Family.HTML, (".vue",)),
    "Svelte": (Family.HTML, (".svelte",)),
    "CSS": (Family.C_LIKE, (".css", ".scss", ".less")),
    "Markdown": (Family.GENERIC, (".md", ".markdown", ".rst")),
    "JSON": (Family.GENERIC, (".json",)),
    "Fortran": (Family.GENERIC, (".f", ".f90", ".f95", ".for")),
    "Assembly": (Family.GENERIC, (".asm", ".s")),
    "Text": (Family.GENERIC, (".txt",)),
}
# Files recognised by their whole name rather than the extension.
_FILENAMES = {
    "makefile": "Makefile",
    "gnumakefile": "Makefile",
    "dockerfile": "Dockerfile",
    "cmakelists.txt": "CMake",
    "rakefile": "Ruby",
    "gemfile": "Ruby",
}
_BY_EXTENSION = {ext: lang for lang, (_, exts) in _LANGUAGES.items() for ext in exts}
_BY_LOWER_NAME = {name.lower(): name for name in _LANGUAGES}
_ALIASES = {
    "py": "Python",
    "python3": "Python",
    "js": "JavaScript",
    "node": "JavaScript",
    "ts": "TypeScript",
    "c++": "C++",
    "cpp": "C++",
    "cxx": "C++",
    "cs": "C#",
    "csharp": "C#",
    "golang": "Go",
    "rs": "Rust",
    "sh": "Shell",
    "bash": "Shell",
    "rb": "Ruby",
    "kt": "Kotlin",
    "jsx": "JavaScript",
    "tsx": "TypeScript",
}

# Languages a source code index keeps by default: everything that is code, not prose or data.
NON_CODE = frozenset({"Markdown", "JSON", "Text", "XML", "YAML", "TOML"})


def language_for_path(path: str) -> str | None:
    """The language of a file from its name, or None when it is not one we know."""
    name = PurePosixPath(path).name.lower()
    if name in _FILENAMES:
        return _FILENAMES[name]
    suffix = PurePosixPath(name).suffix
    return _BY_EXTENSION.get(suffix)


def canonical_language(name: str | None) -> str | None:
    """The Stack's spelling of a language name given in any common spelling, or None if unknown."""
    if not name:
        return None
    key = name.strip().lower()
    return _BY_LOWER_NAME.get(key) or _ALIASES.get(key)


def family_of(language: str | None) -> Family:
    """The lexical family of a language; GENERIC for unknown languages."""
    canonical = canonical_language(language) if language else None
    if canonical is None:
        return Family.GENERIC
    return _LANGUAGES[canonical][0]


def known_languages() -> list[str]:
    return sorted(_LANGUAGES)
