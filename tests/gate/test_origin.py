"""The earliest origin of a match: among its source and every copy, the earliest dated file that is
not vendored; the Report names it, the text shows it, and the notice credits its license and
copyright rather than a vendoring copy's."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from indexer.backends import open_index, open_writer
from indexer.licenses.expressions import license_category
from indexer.placement import BuildSettings
from indexer.records import Document, LicenseCategory, Provenance, git_blob_id
from search_api.engine.origin import find_origin
from search_api.engine.results import DateKind, Report, SourceRef
from search_api.engine.searcher import Searcher
from search_api.gate.attribute import LocalAttributor
from search_api.gate.decision import decide
from search_api.gate.policy_file import default_policy
from search_api.gate.scan import scan
from search_api.gate.targets import collect_files
from search_api.render.notice import collect_notices, render_notices
from search_api.render.text import render_report

FUNCTION = '''def weighted_median(values, weights):
    """The value below which half of the total weight lies (ties: the lower value)."""
    if len(values) != len(weights):
        raise ValueError("values and weights differ in length")
    pairs = sorted(zip(values, weights), key=lambda pair: pair[0])
    total = sum(weight for _, weight in pairs)
    if total <= 0:
        raise ValueError("the weights must add up to more than zero")
    running = 0.0
    for value, weight in pairs:
        running += weight
        if running * 2 >= total:
            return value
    return pairs[-1][0]
'''


def _doc(repo: str, path: str, header: str, license_expr: str, provenance: Provenance) -> Document:
    text = header + "\n\n" + FUNCTION
    return Document(
        git_blob_id(text.encode()),
        repo,
        path,
        "Python",
        text,
        license_expr,
        license_category(license_expr),
        source="fixture",
        url=f"https://github.com/{repo}/blob/main/{path}",
        provenance=provenance,
    )


def _when(year: int, month: int, day: int) -> dt.datetime:
    return dt.datetime(year, month, day, 12, 0, tzinfo=dt.UTC)


# One function in three repositories: the author's, a later fork with more stars, and an app that
# vendored it — whose snapshot is the oldest of the three, and whose license is its own.
COPIES = [
    _doc(
        "bigapp/server",
        "third_party/statlib/median.py",
        "# Copyright 2009 BigApp Inc. All rights reserved.",
        "Apache-2.0",
        Provenance(revision_date=_when(2010, 1, 5), star_events_count=4000),
    ),
    _doc(
        "jane/statlib",
        "statlib/median.py",
        "# Copyright (c) 2012 Jane Author",
        "MIT",
        Provenance(revision_date=_when(2012, 3, 4), star_events_count=50),
    ),
    _doc(
        "forker/statlib-plus",
        "median.py",
        "# Copyright 2016 Fork Person",
        "BSD-3-Clause",
        Provenance(revision_date=_when(2016, 7, 8), star_events_count=500),
    ),
]


@pytest.fixture(scope="module")
def index_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("origin") / "idx"
    open_writer(path).build(COPIES, settings=BuildSettings(keep=frozenset(LicenseCategory)))
    return path


def _report(index_path: Path) -> Report:
    report = Searcher(open_index(index_path)).attribute(FUNCTION, "Python")
    assert len(report.matches) == 1, report.to_dict()
    return report


def test_origin_is_the_earliest_copy_not_vendored(index_path: Path) -> None:
    match = _report(index_path).matches[0]
    origin = match.origin
    assert origin is not None
    assert (origin.source.repo, origin.source.path) == ("jane/statlib", "statlib/median.py")
    assert origin.source.date == "2012-03-04T12:00:00Z" and origin.source.date_kind is DateKind.COMMITTED
    assert origin.copies_weighed == 3
    assert origin.reason.startswith("earliest committed of 3 copies, 2012-03-04; 1 vendored")
    assert "bigapp/server's is dated 2010-01-05" in origin.reason
    vendored = {c.source.repo: c.source.vendored for c in match.copies} | {
        match.source.repo: match.source.vendored
    }
    assert vendored == {"bigapp/server": True, "jane/statlib": False, "forker/statlib-plus": False}


def test_the_report_carries_the_origin_both_ways(index_path: Path) -> None:
    report = _report(index_path)
    body = json.loads(json.dumps(report.to_dict()))
    assert body["matches"][0]["origin"]["repo"] == "jane/statlib"
    assert body["matches"][0]["origin"]["copies_weighed"] == 3
    assert Report.from_dict(body).to_dict() == report.to_dict()


def test_the_text_output_names_the_origin(index_path: Path) -> None:
    report = _report(index_path)
    text = render_report(report, FUNCTION, open_index(index_path), width=160)
    assert "origin:" in text and "earliest committed of 3 copies, 2012-03-04" in text
    assert "vendored" in text  # the vendoring copy is marked in the copies line or the header


def test_the_notice_credits_the_origin_not_the_vendoring_copy(index_path: Path, tmp_path: Path) -> None:
    finding = decide(_report(index_path), default_policy()).findings[0]
    assert finding.credited.repo == "jane/statlib" and finding.credited.license == "MIT"
    assert (
        "jane/statlib: statlib/median.py" in finding.attribution
        and "licensed under MIT" in finding.attribution
    )

    (tmp_path / "app.py").write_text(FUNCTION)
    local = LocalAttributor(open_index(index_path))
    policy = default_policy()
    result = scan(collect_files([str(tmp_path)], tmp_path, policy), local, policy)
    entries = collect_notices(result, local.source_text)
    assert [(e.repo, e.license, e.copyrights) for e in entries] == [
        ("jane/statlib", "MIT", ("Copyright (c) 2012 Jane Author",))
    ]
    text = render_notices(entries)
    assert "BigApp" not in text and "Apache-2.0" not in text


def _ref(repo: str, date: str | None, *, vendored: bool = False, stars: int | None = None) -> SourceRef:
    return SourceRef(
        git_blob_id(repo.encode()), repo, "x.py", "MIT", "permissive", None, "Python", vendored, date,
        DateKind.COMMITTED if date else None, stars,
    )  # fmt: skip


def test_ties_go_to_more_stars_and_vendored_copies_only_when_all_are() -> None:
    tied = find_origin(
        [_ref("a/one", "2015-01-01T00:00:00Z", stars=3), _ref("b/two", "2015-01-01T00:00:00Z", stars=90)]
    )
    assert tied is not None and tied.source.repo == "b/two" and "tied on date with 1 other" in tied.reason

    undated = find_origin([_ref("a/one", None, vendored=True), _ref("b/two", None, stars=1)])
    assert undated is not None and undated.source.repo == "b/two"
    assert undated.reason == "no copy of 2 has a date: the only one not vendored"

    all_vendored = find_origin(
        [
            _ref("a/one", "2018-01-01T00:00:00Z", vendored=True),
            _ref("b/two", "2014-01-01T00:00:00Z", vendored=True),
        ]
    )
    assert all_vendored is not None and all_vendored.source.repo == "b/two"
    assert all_vendored.reason.startswith("every one of the 2 copies is vendored")

    alone = find_origin([_ref("a/one", "2020-02-02T00:00:00Z")])
    assert (
        alone is not None and alone.reason == "the only file in the index holding this code, dated 2020-02-02"
    )
    assert find_origin([]) is None
