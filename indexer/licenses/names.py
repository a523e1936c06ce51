"""License *names* as packages write them ("Apache 2.0", "BSD", trove classifiers, npm's legacy
``licenses`` entries) turned into SPDX expressions.

This only names licenses: categories come from `indexer.licenses.expressions.license_category`.
"""

from __future__ import annotations

import re

from indexer.licenses.expressions import normalize_expression
from indexer.licenses.text import recognize_license

PUBLIC_DOMAIN = "LicenseRef-scancode-public-domain"
PROPRIETARY = "LicenseRef-scancode-proprietary-license"

# Common spellings of license names, lower-cased, without a leading "the" or a trailing "license".
_ALIASES = {
    "mit": "MIT",
    "expat": "MIT",
    "mit/x11": "MIT",
    "x11": "X11",
    "mit-0": "MIT-0",
    "apache": "Apache-2.0",
    "apache 2": "Apache-2.0",
    "apache 2.0": "Apache-2.0",
    "apache2": "Apache-2.0",
    "apache-2": "Apache-2.0",
    "apache v2": "Apache-2.0",
    "apache 2.0 license": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "apache license version 2.0": "Apache-2.0",
    "apache software": "Apache-2.0",
    "apache software license 2.0": "Apache-2.0",
    "asl 2.0": "Apache-2.0",
    "asl2": "Apache-2.0",
    "new bsd": "BSD-3-Clause",
    "modified bsd": "BSD-3-Clause",
    "revised bsd": "BSD-3-Clause",
    "3-clause bsd": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause",
    "bsd-3": "BSD-3-Clause",
    "bsd 3 clause": "BSD-3-Clause",
    "bsd3": "BSD-3-Clause",
    "simplified bsd": "BSD-2-Clause",
    "freebsd": "BSD-2-Clause",
    "2-clause bsd": "BSD-2-Clause",
    "bsd 2-clause": "BSD-2-Clause",
    "bsd-2": "BSD-2-Clause",
    "bsd 2 clause": "BSD-2-Clause",
    "isc": "ISC",
    "iscl": "ISC",
    "isc (iscl)": "ISC",
    "mpl 2.0": "MPL-2.0",
    "mpl2": "MPL-2.0",
    "mpl-2": "MPL-2.0",
    "mpl v2": "MPL-2.0",
    "mozilla public license 2.0": "MPL-2.0",
    "mozilla public 2.0": "MPL-2.0",
    "psf": "PSF-2.0",
    "psfl": "PSF-2.0",
    "python software foundation": "PSF-2.0",
    "psf-2": "PSF-2.0",
    "zlib/libpng": "Zlib",
    "boost": "BSL-1.0",
    "boost software": "BSL-1.0",
    "boost software 1.0": "BSL-1.0",
    "cc0": "CC0-1.0",
    "cc0 1.0": "CC0-1.0",
    "cc0 1.0 universal": "CC0-1.0",
    "epl 2.0": "EPL-2.0",
    "eclipse public 2.0": "EPL-2.0",
    "eclipse public license 2.0": "EPL-2.0",
    "zope public": "ZPL-2.1",
    "zpl": "ZPL-2.1",
    "unlicense": "Unlicense",
    "public domain": PUBLIC_DOMAIN,
    "public-domain": PUBLIC_DOMAIN,
    "universal permissive": "UPL-1.0",
    "hpnd": "HPND",
}
# Names that are families rather than one license: used only when nothing more precise is known.
_FAMILY_GUESSES = {"bsd": "BSD-3-Clause", "bsd-like": "BSD-3-Clause", "bsd style": "BSD-3-Clause"}
# GPL / LGPL / AGPL in their many spellings: "GPLv3+", "GNU LGPL v2.1", "gpl-2.0 or later".
_GNU_NAME = re.compile(
    r"^(?:gnu )?(?P<kind>a|l|lesser |affero |library )?(?:gpl|general public)"
    r"(?:[ -]?v(?:ersion)?[ -]?| |-)?(?P<version>[123](?:\.[01])?)?(?:\.0)?"
    r"(?P<later>\+| or later| or-later|-or-later| or newer)?(?P<only> only|-only)?$"
)
_GNU_FAMILY = {"": "GPL", "a": "AGPL", "affero ": "AGPL", "l": "LGPL", "lesser ": "LGPL", "library ": "LGPL"}
_GNU_DEFAULT_VERSION = {"GPL": "1.0", "LGPL": "2.0", "AGPL": "3.0"}  # no version: any version

# PyPI trove classifiers (the part after "License :: ... :: ") whose name is not plain enough
# for the rules above. Classifiers naming a family ("BSD License") are family guesses.
_CLASSIFIERS = {
    "Apache Software License": "Apache-2.0",
    "ISC License (ISCL)": "ISC",
    "GNU General Public License (GPL)": "GPL-1.0-or-later",
    "GNU Library or Lesser General Public License (LGPL)": "LGPL-2.0-or-later",
    "GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "GNU Affero General Public License v3": "AGPL-3.0-only",
    "Python Software Foundation License": "PSF-2.0",
    "Zope Public License": "ZPL-2.1",
    "Universal Permissive License (UPL)": "UPL-1.0",
    "Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "Public Domain": PUBLIC_DOMAIN,
    "Other/Proprietary License": PROPRIETARY,
}


def _key(name: str) -> str:
    key = re.sub(r"\s+", " ", name.strip().strip("\"'").lower())
    key = key.removeprefix("the ")
    for suffix in (" license", " licence", " licensed"):
        key = key.removesuffix(suffix)
    return key.strip()


def _gnu_license(key: str) -> str | None:
    match = _GNU_NAME.match(key)
    if not match:
        return None
    family = _GNU_FAMILY[match.group("kind") or ""]
    version = match.group("version")
    if version is None:
        return f"{family}-{_GNU_DEFAULT_VERSION[family]}-or-later"
    version = version if "." in version else f"{version}.0"
    if family == "LGPL" and version == "2.0" and match.group("kind") == "lesser ":
        version = "2.1"  # "Lesser" GPL starts at 2.1; "Library" GPL was 2.0
    spdx = f"{family}-{version}-{'or-later' if match.group('later') else 'only'}"
    return normalize_expression(spdx)


def license_from_name(name: str | None, *, guess_family: bool = False) -> str | None:
    """An SPDX expression for a license name as packages write it, or None.

    Tries, in order: the name as an SPDX expression ("MIT", "Apache-2.0 OR MIT"), a known
    spelling ("Apache 2.0", "MIT License", "New BSD"), a GNU name ("GPLv3+", "LGPL 2.1"), an SPDX
    id in parentheses ("... (MPL 2.0)"), and the text of a license when the field holds a whole
    license text. Family names ("BSD") name no single license: they give BSD-3-Clause only when
    `guess_family` is set, so that a caller can prefer a LICENSE file's text first.
    """
    if not name or not name.strip():
        return None
    if "\n" in name.strip() or len(name) > 200:
        return recognize_license(name)
    spdx = normalize_expression(name)
    if spdx:
        return spdx
    key = _key(name)
    found = _ALIASES.get(key) or _gnu_license(key) or normalize_expression(key)
    if found:
        return found
    alternatives = _alternatives(name)
    if alternatives:
        return alternatives
    inner = re.search(r"\(([^()]+)\)\s*$", name)
    if inner and (found := license_from_name(inner.group(1))):
        return found
    if guess_family:
        return _FAMILY_GUESSES.get(key)
    return None


# "MIT/Apache-2.0" (Cargo's deprecated separator, which meant OR) and "Apache 2.0 or MIT".
_ALTERNATIVE_SEPARATOR = re.compile(r"\s*/\s*|\s+or\s+", re.IGNORECASE)


def _alternatives(name: str) -> str | None:
    """``A/B`` or ``A or B`` with every part a license name: the SPDX ``A OR B``; else None."""
    parts = [p for p in _ALTERNATIVE_SEPARATOR.split(name.strip()) if p]
    if len(parts) < 2:
        return None
    found = [license_from_name(p) for p in parts]
    if not all(found):
        return None
    return normalize_expression(" OR ".join(f"({f})" if " " in str(f) else str(f) for f in found))


def license_from_classifier(classifier: str, *, guess_family: bool = False) -> str | None:
    """The SPDX expression a ``License :: ...`` trove classifier names, or None (also for
    classifiers that name no license, such as ``License :: OSI Approved``)."""
    parts = [p.strip() for p in classifier.split("::")]
    if len(parts) < 2 or parts[0] != "License" or parts[-1] in ("OSI Approved", "Freely Distributable"):
        return None
    last = parts[-1]
    return _CLASSIFIERS.get(last) or license_from_name(last, guess_family=guess_family)
