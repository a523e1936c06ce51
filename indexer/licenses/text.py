"""Recognise the common open source licenses from their text.

Used on LICENSE / COPYING files and on the license notices at the top of source files. Each
license is known by a few distinctive phrases of its standard text or its standard notice, matched
on normalised text (lower case, comment markers stripped, whitespace collapsed, quotes dropped).
When a text holds several licenses (an Apache-2.0 LICENSE with third-party notices appended), the
one whose phrase comes first wins: that is the project's own license.

This names licenses; what a license asks of a user (its category) comes from
`indexer.licenses.expressions.license_category`, never from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePosixPath

from indexer.analysis.languages import NON_CODE, language_for_path

# Only the head of a file is searched: license texts and notices sit at the top, and the
# longest common text (GPL-3.0, ~35 KB) puts its title in the first line.
_MAX_CHARS = 200_000

_COMMENT_MARKER = re.compile(
    r"^[ \t]*(?:(?:#+|//+|/\*+|\*+/?|--+(?!>)|;+|%+|!(?=\s)|rem(?=\s)|<!--|-->|\"\"\"|'''|\.\.(?=\s))"
    r"[ \t]*)+",
    re.MULTILINE | re.IGNORECASE,
)
_QUOTES = re.compile(r"[\"'`\u2018\u2019\u201c\u201d]")
_SPACE = re.compile(r"\s+")


def normalize_license_text(text: str, max_chars: int = _MAX_CHARS) -> str:
    """Lower-cased text of the first `max_chars` characters, comment markers stripped, quotes
    dropped, British ``licence`` spelled ``license``, and runs of whitespace made one space."""
    head = text[:max_chars].replace("*/", " ")
    head = _COMMENT_MARKER.sub("", head)
    head = _QUOTES.sub("", head.lower())
    head = head.replace("licence", "license")
    return _SPACE.sub(" ", head).strip()


# A match: (position of the anchor phrase in the normalised text, SPDX id).
_Found = tuple[int, str]


def _first(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(pattern, text)


def _match_mit(text: str) -> _Found | None:
    grant = _first(r"permission is hereby granted, free of charge, to any person obtaining a copy", text)
    if grant and "the above copyright notice and this permission notice shall be included" in text:
        return grant.start(), "MIT"
    notice = _first(r"(?:released|licensed|distributed) under the (?:terms of the )?mit license", text)
    return (notice.start(), "MIT") if notice else None


def _match_bsl(text: str) -> _Found | None:
    found = _first(
        r"boost software license,? (?:- )?version 1\.0|permission is hereby granted, free of charge, "
        r"to any person or organization obtaining a copy of the software and accompanying documentation",
        text,
    )
    return (found.start(), "BSL-1.0") if found else None


def _match_apache(text: str) -> _Found | None:
    found = _first(r"apache license,? (?:version |v\.? ?)?2\.0|apache\.org/licenses/license-2\.0", text)
    return (found.start(), "Apache-2.0") if found else None


def _match_bsd(text: str) -> _Found | None:
    found = _first(
        r"redistribution and use in source and binary forms, with or without modification, "
        r"are permitted provided that the following conditions are met",
        text,
    )
    if not found:
        return None
    # The clauses of this text, not of another BSD text appended after it.
    clauses = text[found.end() : found.end() + 1500]
    end = clauses.find("this software is provided by")
    clauses = clauses if end < 0 else clauses[:end]
    if "all advertising materials mentioning features" in clauses:
        return found.start(), "BSD-4-Clause"
    if "endorse or promote products derived" in clauses:
        return found.start(), "BSD-3-Clause"
    return found.start(), "BSD-2-Clause"


def _match_isc(text: str) -> _Found | None:
    found = _first(
        r"permission to use, copy, modify, (?:and/or |and )?distribute this software for any purpose "
        r"with or without fee is hereby granted",
        text,
    )
    if not found:
        return None
    rest = text[found.end() : found.end() + 200]
    if "provided that the above copyright notice and this permission notice appear in all copies" in rest:
        return found.start(), "ISC"
    return found.start(), "0BSD"


def _match_public_domain_dedications(text: str) -> _Found | None:
    unlicense = _first(r"this is free and unencumbered software released into the public domain", text)
    if unlicense:
        return unlicense.start(), "Unlicense"
    cc0 = _first(r"cc0 1\.0 universal|creativecommons\.org/publicdomain/zero/1\.0", text)
    return (cc0.start(), "CC0-1.0") if cc0 else None


def _match_zlib(text: str) -> _Found | None:
    found = _first(r"this software is provided as-is, without any express or implied warranty", text)
    if found and "altered source versions must be plainly marked as such" in text:
        return found.start(), "Zlib"
    return None


def _match_mpl(text: str) -> _Found | None:
    found = _first(r"mozilla public license,? (?:version |v\.? ?)?2\.0", text)
    return (found.start(), "MPL-2.0") if found else None


def _match_epl(text: str) -> _Found | None:
    found = _first(r"eclipse public license,? (?:- )?(?:v\.? ?|version )?2\.0", text)
    return (found.start(), "EPL-2.0") if found else None


def _match_python(text: str) -> _Found | None:
    """Python's license: the PSF agreement alone is PSF-2.0; with the BeOpen, CNRI and CWI
    agreements that Python ships with it, the whole stack is SPDX's Python-2.0."""
    found = _first(r"python software foundation license,? version 2|psf license agreement for python", text)
    if not found:
        return None
    stack = "beopen python open source license agreement" in text and "cnri license agreement" in text
    return found.start(), "Python-2.0" if stack else "PSF-2.0"


# The title lines of the GNU licenses' full texts.
_GNU_TITLES = {
    "gnu affero general public license version 3, 19 november 2007": "AGPL-3.0",
    "gnu lesser general public license version 3, 29 june 2007": "LGPL-3.0",
    "gnu lesser general public license version 2.1, february 1999": "LGPL-2.1",
    "gnu general public license version 3, 29 june 2007": "GPL-3.0",
    "gnu general public license version 2, june 1991": "GPL-2.0",
}
# The standard notice: "... under the terms of the GNU General Public License as published by the
# Free Software Foundation; either version 2 of the License, or (at your option) any later version."
_GNU_NOTICE = re.compile(
    r"(?:terms|conditions) of (?:the )?gnu (affero |lesser |library )?general public license,? "
    r"(?:as published by the free software foundation[;,]? )?(?:either )?(?:version |v)(\d(?:\.\d)?)\b"
)
_GNU_NOTICE_IDS = {
    ("", "2"): "GPL-2.0",
    ("", "3"): "GPL-3.0",
    ("lesser ", "2"): "LGPL-2.0",
    ("library ", "2"): "LGPL-2.0",
    ("lesser ", "2.1"): "LGPL-2.1",
    ("library ", "2.1"): "LGPL-2.1",
    ("lesser ", "3"): "LGPL-3.0",
    ("affero ", "3"): "AGPL-3.0",
}
_OR_LATER = "or (at your option) any later version"


def _match_gnu(text: str) -> _Found | None:
    """GPL / LGPL / AGPL from a full text's title or from the standard notice.

    ``-or-later`` only when the text itself says "or (at your option) any later version" before
    the end of the terms (every full GPL text repeats that phrase in its how-to-apply appendix,
    as an example, so the appendix does not count); ``-only`` otherwise.
    """
    candidates: list[_Found] = []
    for title, spdx in _GNU_TITLES.items():
        at = text.find(title)
        if at >= 0:
            candidates.append((at, spdx))
    notice = _GNU_NOTICE.search(text)
    if notice:
        noticed = _GNU_NOTICE_IDS.get((notice.group(1) or "", notice.group(2)))
        if noticed:
            candidates.append((notice.start(), noticed))
    if not candidates:
        return None
    at, spdx = min(candidates)
    terms = text.split("end of terms and conditions", 1)[0]
    return at, spdx + ("-or-later" if _OR_LATER in terms else "-only")


_MATCHERS: tuple[Callable[[str], _Found | None], ...] = (
    _match_bsl,
    _match_mit,
    _match_apache,
    _match_bsd,
    _match_isc,
    _match_public_domain_dedications,
    _match_zlib,
    _match_mpl,
    _match_epl,
    _match_python,
    _match_gnu,
)


def recognize_license(text: str) -> str | None:
    """The SPDX id of the license a LICENSE file or a license notice states, or None.

    Recognises MIT, Apache-2.0, BSD-2-Clause, BSD-3-Clause (and BSD-4-Clause), ISC, 0BSD, Zlib,
    BSL-1.0, MPL-2.0, EPL-2.0, Unlicense, CC0-1.0, PSF-2.0 / Python-2.0 and the GNU family (GPL-2.0, GPL-3.0, LGPL-2.0,
    LGPL-2.1, LGPL-3.0, AGPL-3.0, each ``-only`` or ``-or-later``). When several are present, the
    one stated first wins.
    """
    normalized = normalize_license_text(text)
    if not normalized:
        return None
    found = [hit for matcher in _MATCHERS if (hit := matcher(normalized)) is not None]
    if not found:
        return None
    return min(found, key=lambda hit: hit[0])[1]


_LICENSE_FILE_STEMS = ("license", "licence", "copying", "unlicense", "copyright")
_LICENSE_FILE_SUFFIXES = ("", ".md", ".txt", ".rst", ".markdown")


def is_license_file_name(name: str) -> bool:
    """Whether a file name is one projects put their license in: LICENSE, LICENCE.txt, COPYING,
    COPYING.LESSER, LICENSE-MIT, LICENSE.md, UNLICENSE, ... (case-insensitive)."""
    lower = PurePosixPath(name).name.lower()
    language = language_for_path(lower)
    if language is not None and language not in NON_CODE:
        return False  # license.py, licenses.go: code about licenses
    for suffix in _LICENSE_FILE_SUFFIXES:
        if suffix and not lower.endswith(suffix):
            continue
        stem = lower[: len(lower) - len(suffix)] if suffix else lower
        for base in _LICENSE_FILE_STEMS:
            if stem == base:
                return True
            # LICENSE-MIT, COPYING.LESSER, LICENSE_APACHE2: a short qualifier after a separator.
            if stem.startswith(base) and stem[len(base)] in "-_." and len(stem) <= len(base) + 16:
                return True
    return False
