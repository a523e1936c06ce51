"""Import statements are recognised per language, brackets they leave open included, so that a
span made of them counts as no evidence of copying."""

from __future__ import annotations

import pytest

from search_api.engine.imports import import_lines

CASES = [
    (
        "Python",
        "from __future__ import annotations\n\nimport os  # (see\nfrom a import (\n    b,\n)\nx = f(1)\n",
        [1, 0, 1, 1, 1, 1, 0, 0],
    ),
    ("JavaScript", "import {\n  a,\n} from 'x';\nconst y = require('z');\nfoo(1);\n", [1, 1, 1, 1, 0, 0]),
    ("JavaScript", "module.exports = require('./lib/index');\n", [1, 0]),
    ("Go", 'package main\n\nimport (\n\t"fmt"\n)\n\nfunc main() {}\n', [1, 0, 1, 1, 1, 0, 0, 0]),
    ("C", '#include <stdio.h>\n#include "x.h"\nint main(void) { return 0; }\n', [1, 1, 0, 0]),
    ("Rust", "use std::{\n    io,\n};\nfn main() {}\n", [1, 1, 1, 0, 0]),
    ("Java", "package a.b;\nimport java.util.List;\nclass X {}\n", [1, 1, 0, 0]),
    ("Markdown", "import this\n", [0, 0]),
]


@pytest.mark.parametrize(("language", "text", "expected"), CASES)
def test_import_lines(language: str, text: str, expected: list[int]) -> None:
    assert import_lines(text, language).astype(int).tolist() == expected
