# SPDX-License-Identifier: GPL-3.0-only
#
# textdiff - line diffs for humans
# Copyright (C) 2024 The textdiff contributors
#
# This program is free software: you can redistribute it and/or modify
# it under the terms of the GNU General Public License as published by
# the Free Software Foundation, version 3.
#
# This program is distributed in the hope that it will be useful,
# but WITHOUT ANY WARRANTY; without even the implied warranty of
# MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the
# GNU General Public License for more details.
#
# You should have received a copy of the GNU General Public License
# along with this program.  If not, see <https://www.gnu.org/licenses/>.
"""Shortest edit scripts between two sequences (Myers, "An O(ND) Difference Algorithm", 1986)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Edit:
    """One step of an edit script: keep, insert or delete one element."""

    op: str  # "=", "+", "-"
    old_index: int
    new_index: int


def shortest_edit_trace(old, new):
    """The furthest-reaching D-paths, one snapshot of V per edit distance D."""
    n, m = len(old), len(new)
    limit = n + m
    furthest = {1: 0}
    trace = []
    for depth in range(limit + 1):
        trace.append(dict(furthest))
        for diagonal in range(-depth, depth + 1, 2):
            go_down = diagonal == -depth or (
                diagonal != depth and furthest[diagonal - 1] < furthest[diagonal + 1]
            )
            x = furthest[diagonal + 1] if go_down else furthest[diagonal - 1] + 1
            y = x - diagonal
            while x < n and y < m and old[x] == new[y]:
                x, y = x + 1, y + 1
            furthest[diagonal] = x
            if x >= n and y >= m:
                return trace
    raise AssertionError("the edit graph always has a path to its corner")


def backtrack(old, new, trace):
    """Walk the trace backwards from the corner, yielding edits in reverse order."""
    x, y = len(old), len(new)
    for depth in range(len(trace) - 1, -1, -1):
        furthest = trace[depth]
        diagonal = x - y
        go_down = diagonal == -depth or (
            diagonal != depth and furthest[diagonal - 1] < furthest[diagonal + 1]
        )
        previous = diagonal + 1 if go_down else diagonal - 1
        prev_x = furthest[previous]
        prev_y = prev_x - previous
        while x > prev_x and y > prev_y:
            x, y = x - 1, y - 1
            yield Edit("=", x, y)
        if depth > 0:
            if go_down:
                yield Edit("+", x, prev_y)
            else:
                yield Edit("-", prev_x, y)
        x, y = prev_x, prev_y


def diff(old, new):
    """The shortest edit script turning `old` into `new`, in order."""
    trace = shortest_edit_trace(old, new)
    return list(reversed(list(backtrack(old, new, trace))))


def unified(old_lines, new_lines, context=3):
    """A unified-diff style rendering of the edit script with `context` unchanged lines."""
    edits = diff(old_lines, new_lines)
    changed = [i for i, e in enumerate(edits) if e.op != "="]
    if not changed:
        return []
    out = []
    keep = set()
    for i in changed:
        keep.update(range(max(0, i - context), min(len(edits), i + context + 1)))
    last = -2
    for i in sorted(keep):
        if i != last + 1:
            out.append("@@")
        edit = edits[i]
        if edit.op == "+":
            out.append("+" + new_lines[edit.new_index])
        elif edit.op == "-":
            out.append("-" + old_lines[edit.old_index])
        else:
            out.append(" " + old_lines[edit.old_index])
        last = i
    return out
