"""License recognition from real license texts (tests/data/licenses) and standard notices."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.licenses.expressions import license_category, normalize_expression
from indexer.licenses.text import is_license_file_name, normalize_license_text, recognize_license
from indexer.records import LicenseCategory

LICENSES = Path(__file__).resolve().parents[1] / "data" / "licenses"
GNU = ("GPL-", "LGPL-", "AGPL-")


def _expected(stem: str) -> str:
    # A bare GNU text says nothing about later versions outside its how-to-apply appendix.
    return f"{stem}-only" if stem.startswith(GNU) else stem


@pytest.mark.parametrize("path", sorted(LICENSES.glob("*.txt")), ids=lambda p: p.stem)
def test_full_license_texts_are_recognised(path: Path) -> None:
    found = recognize_license(path.read_text(encoding="utf-8"))
    assert found == _expected(path.stem)
    assert normalize_expression(found) == found  # a valid SPDX id in the bundled license data


def test_fixture_set_covers_the_common_licenses() -> None:
    stems = {p.stem for p in LICENSES.glob("*.txt")}
    assert {"MIT", "Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "ISC", "GPL-2.0", "GPL-3.0"} <= stems


@pytest.mark.parametrize(
    ("notice", "expected"),
    [
        (
            (
                '# Licensed under the Apache License, Version 2.0 (the "License");\n'
                "# you may not use this file except in compliance with the License."
            ),
            "Apache-2.0",
        ),
        (
            (
                "/* This program is free software; you can redistribute it and/or modify\n"
                " * it under the terms of the GNU General Public License as published by\n"
                " * the Free Software Foundation; either version 2 of the License, or\n"
                " * (at your option) any later version.\n */"
            ),
            "GPL-2.0-or-later",
        ),
        (
            (
                "// This program is free software: you can redistribute it and/or modify it under the terms\n"
                "// of the GNU General Public License version 2 as published by the Free Software Foundation."
            ),
            "GPL-2.0-only",
        ),
        (
            (
                "# This library is free software; you can redistribute it and/or modify it under the terms of\n"
                "# the GNU Lesser General Public License as published by the Free Software Foundation; either\n"
                "# version 2.1 of the License, or (at your option) any later version."
            ),
            "LGPL-2.1-or-later",
        ),
        (
            (
                "-- it under the terms of the GNU Affero General Public License as published\n"
                "-- by the Free Software Foundation, either version 3 of the License, or\n"
                "-- (at your option) any later version."
            ),
            "AGPL-3.0-or-later",
        ),
        (
            (
                "/* This Source Code Form is subject to the terms of the Mozilla Public\n"
                " * License, v. 2.0. If a copy of the MPL was not distributed with this\n"
                " * file, You can obtain one at http://mozilla.org/MPL/2.0/. */"
            ),
            "MPL-2.0",
        ),
        (
            (
                "// This program and the accompanying materials are made available under the\n"
                "// terms of the Eclipse Public License 2.0 which is available at\n"
                "// http://www.eclipse.org/legal/epl-2.0."
            ),
            "EPL-2.0",
        ),
        (
            "/*! jQuery v3.7.1 | (c) OpenJS Foundation and contributors | Released under the MIT license */",
            "MIT",
        ),
    ],
)
def test_license_notices_in_file_headers(notice: str, expected: str) -> None:
    assert recognize_license(notice) == expected


def test_text_inside_block_comment_markers() -> None:
    mit = (LICENSES / "MIT.txt").read_text(encoding="utf-8")
    commented = "/*\n" + "".join(f" * {line}\n" for line in mit.splitlines()) + " */\nint main(void) {}\n"
    assert recognize_license(commented) == "MIT"


def test_first_stated_license_wins_over_appended_third_party_notices() -> None:
    apache = (LICENSES / "Apache-2.0.txt").read_text(encoding="utf-8")
    mit = (LICENSES / "MIT.txt").read_text(encoding="utf-8")
    bundled = apache + "\n\nThis product bundles foo, under the MIT license:\n\n" + mit
    assert recognize_license(bundled) == "Apache-2.0"


def test_or_later_only_when_the_file_says_so_before_the_terms_end() -> None:
    gpl3 = (LICENSES / "GPL-3.0.txt").read_text(encoding="utf-8")
    preface = (
        "Widgets is free software: you can redistribute it and/or modify it under the terms of the GNU\n"
        "General Public License as published by the Free Software Foundation, either version 3 of the\n"
        "License, or (at your option) any later version.\n\n"
    )
    assert recognize_license(gpl3) == "GPL-3.0-only"
    assert recognize_license(preface + gpl3) == "GPL-3.0-or-later"


def test_psf_agreement_alone_is_psf_2() -> None:
    python = (LICENSES / "Python-2.0.txt").read_text(encoding="utf-8")
    psf_only = python[python.index("PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2") :].split("BEOPEN.COM")[0]
    assert recognize_license(psf_only) == "PSF-2.0"
    assert license_category("PSF-2.0") is LicenseCategory.PERMISSIVE


def test_bsd_variants_are_told_apart_by_their_clauses() -> None:
    bsd2 = (LICENSES / "BSD-2-Clause.txt").read_text(encoding="utf-8")
    bsd3 = (LICENSES / "BSD-3-Clause.txt").read_text(encoding="utf-8")
    assert recognize_license(bsd2) == "BSD-2-Clause"
    assert recognize_license(bsd3) == "BSD-3-Clause"
    # A BSD-2 text followed by someone else's BSD-3 text is still BSD-2.
    assert recognize_license(bsd2 + "\n\n" + bsd3) == "BSD-2-Clause"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "def main():\n    return 42\n",
        "Copyright (c) 2024 Acme. All rights reserved.",
        "This project has a license. See the website.",
    ],
)
def test_texts_without_a_known_license(text: str) -> None:
    assert recognize_license(text) is None


def test_recognised_ids_have_the_expected_categories() -> None:
    def category(stem: str) -> LicenseCategory:
        return license_category(recognize_license((LICENSES / f"{stem}.txt").read_text(encoding="utf-8")))

    assert category("MIT") is LicenseCategory.PERMISSIVE
    assert category("GPL-3.0") is LicenseCategory.COPYLEFT
    assert category("MPL-2.0") is LicenseCategory.WEAK_COPYLEFT
    assert category("CC0-1.0") is LicenseCategory.PUBLIC_DOMAIN


def test_normalisation_strips_comment_markers_quotes_and_spacing() -> None:
    assert normalize_license_text('#  The  "Software"\n# is  LICENCED\n') == "the software is licensed"
    assert normalize_license_text("// a\n//   b\n-- c\n; d") == "a b c d"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("LICENSE", True),
        ("LICENCE.txt", True),
        ("COPYING", True),
        ("COPYING.LESSER", True),
        ("LICENSE-MIT", True),
        ("license.md", True),
        ("UNLICENSE", True),
        ("LICENSE.APACHE2", True),
        ("license.py", False),
        ("licenses.go", False),
        ("README.md", False),
        ("LICENSING_GUIDE_FOR_CONTRIBUTORS.md", False),
    ],
)
def test_license_file_names(name: str, expected: bool) -> None:
    assert is_license_file_name(name) is expected
