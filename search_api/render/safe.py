"""Text from the corpus or a scanned tree, made safe to print: it never controls the terminal.

Indexed paths, repository names, licenses, URLs and file contents are data written by strangers.
An ANSI escape sequence in one of them could set the terminal's title, clear the screen or hide
lines; bidirectional controls could reorder what a reviewer reads (CVE-2021-42574). Every text
renderer passes such strings through `printable`, which shows each control character as an escape.
"""

from __future__ import annotations

import re

# C0 and C1 controls and DEL (tab, newline and carriage return included: a field is one line), the
# bidirectional embedding, override and isolate controls, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with every control character written as a visible escape (``\\x1b``, ``\\u202e``)."""
    return _CONTROL.sub(_escape, text)


def _escape(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
