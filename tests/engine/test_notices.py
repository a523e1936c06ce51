"""License notices: found with ScanCode's rules, blanked out of a query byte for byte, and told
apart on the source side."""

from __future__ import annotations

from indexer.licenses.notices import find_notices
from indexer.records import NoticeKind
from search_api.engine.notices import NoticeLines, blank_notices, may_be_notice, notices_of
from search_api.engine.results import Span

MIT = """MIT License

Copyright (c) 2019 Jane Doe

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
"""
CODE = "def area(width, height):\n    return width * height\n"


def test_license_text_a_copyright_line_and_an_spdx_tag_are_found_with_their_lines() -> None:
    text = "# SPDX-License-Identifier: Apache-2.0\n" + CODE + '"""\n' + MIT + '"""\n'
    found = {(n.kind, n.license) for n in find_notices(text)}
    assert (NoticeKind.SPDX_TAG, "Apache-2.0") in found
    assert (NoticeKind.LICENSE, "MIT") in found and (NoticeKind.COPYRIGHT, None) in found
    mit = next(n for n in find_notices(text) if n.kind is NoticeKind.LICENSE)
    assert (mit.start_line, mit.end_line) == (9, 21)  # "Permission is hereby granted" .. the disclaimer
    assert find_notices(CODE) == []


def test_blanking_keeps_every_offset_line_and_delimiter() -> None:
    text = "# Copyright (c) 2019 Jane Doe\n" + CODE
    notices = notices_of(text)
    assert [n.query_span for n in notices] == [Span(1, 1)]
    blanked = blank_notices(text, notices)
    assert len(blanked.encode()) == len(text.encode()) and blanked.count("\n") == text.count("\n")
    assert blanked.startswith("# ") and "Copyright" not in blanked and "(c)" not in blanked
    assert blanked.endswith(CODE)
    accented = "# Copyright 2019 Jos\u00e9 M\u00fcller\n" + CODE  # letters of two UTF-8 bytes
    blanked = blank_notices(accented, notices_of(accented))
    assert len(blanked.encode()) == len(accented.encode()) and blanked.endswith(CODE)
    assert blanked.split("\n")[0].strip() == "#"


def test_source_lines_inside_a_notice_are_covered_even_when_notices_nest() -> None:
    body = MIT.split("\n")
    nested = "\n".join([*body[4:10], "", "Copyright (c) 2019 Jane Doe", "", *body[10:]])
    text = '"""\n' + nested + '"""\n' + CODE
    assert [(n.start_line, n.end_line, n.kind) for n in find_notices(text)] == [
        (2, 17, NoticeKind.LICENSE),
        (9, 9, NoticeKind.COPYRIGHT),  # inside the license, and last
    ]
    lines = NoticeLines(text)
    assert lines.cover(Span(12, 17)) and lines.cover(Span(9, 9))
    assert not lines.cover(Span(19, 20))  # the code
    assert not lines.cover(Span(16, 20)) and lines.cover(Span(15, 20))  # half of its lines or more
    assert not NoticeLines(CODE).cover(Span(1, 2))


def test_only_spans_with_a_notice_word_are_looked_at_for_notices() -> None:
    assert not may_be_notice(CODE.encode())
    for fragment in (
        "#    59 Temple Place,\n#    Suite 330,",
        "# Unless required by applicable law",
        "\xa9 2020 Acme",
    ):
        assert may_be_notice(fragment.encode()), fragment
