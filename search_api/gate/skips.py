"""What a file the gate did not scan means: a finding that fails the check, a warning, or a line in a list.

A gate never passes what it did not scan. Files it meant to scan but could not (too large,
unreadable, refused by the index or server) fail the check unless the policy's ``[skipped]``
table says otherwise; files it leaves out on purpose (not code, ignored, excluded, empty) are
listed and pass. Every skip is listed in every output, with its action.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

from indexer.records import SkipReason


class SkipAction(str, enum.Enum):
    """What a skipped file does to the check."""

    FAIL = "fail"  # a finding: the check fails (exit 1)
    WARN = "warn"  # a finding that does not fail: the outcome is at least review-needed
    IGNORE = "ignore"  # listed only

    @property
    def level(self) -> str:
        """The SARIF level of a notification about such a skip."""
        return {SkipAction.FAIL: "error", SkipAction.WARN: "warning", SkipAction.IGNORE: "note"}[self]


# Files the gate meant to scan and could not: the policy's `on_skipped` decides them.
UNSCANNED = frozenset(
    {
        SkipReason.TOO_LARGE,
        SkipReason.UNREADABLE,
        SkipReason.REFUSED,
        SkipReason.BINARY,
        SkipReason.UNDECODABLE,
    }
)
# The others, left out on purpose or unable to hold code of the repository, unless set per reason.
_LEFT_OUT = {SkipReason.SPECIAL_FILE: SkipAction.WARN}


def skip_actions(
    on_skipped: SkipAction = SkipAction.FAIL, per_reason: Mapping[SkipReason, SkipAction] | None = None
) -> dict[SkipReason, SkipAction]:
    """The action for every skip reason: `on_skipped` for the files that could not be scanned,
    `per_reason` where it says, and listing only for the rest (special files: a warning)."""
    out = {r: on_skipped if r in UNSCANNED else _LEFT_OUT.get(r, SkipAction.IGNORE) for r in SkipReason}
    out.update(per_reason or {})
    return out
