"""Both backends keep each document's provenance, and take opt-outs as The Stack does: by owner
and by list, all in one new generation, reported by `index stats`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from indexer.backends import open_index
from indexer.backends.removal import OptOutListError, RemovalSpec, read_opt_out_list
from indexer.records import Document, Provenance, Skip
from search_api.cli import main

KINDS = [pytest.param("embedded"), pytest.param("elastic", marks=pytest.mark.es)]
PROVENANCE = Provenance(
    revision_date=dt.datetime(2012, 3, 4, 5, 6, 7, tzinfo=dt.UTC),
    committer_date=dt.datetime(2012, 3, 5, tzinfo=dt.UTC),
    visit_date=dt.datetime(2023, 9, 1, tzinfo=dt.UTC),
    gha_created_at=dt.datetime(2011, 1, 1, tzinfo=dt.UTC),
    first_commit_date=dt.datetime(2011, 6, 1, tzinfo=dt.UTC),
    star_events_count=120,
    fork_events_count=7,
    snapshot_id="5" * 40,
    is_vendor=False,
    is_generated=False,
    license_basis="The Stack v2 detected_licenses [MIT]",
)


def _with_provenance(items: list[Document | Skip]) -> list[Document | Skip]:
    first = items[0]
    assert isinstance(first, Document)
    items[0] = dataclasses.replace(first, provenance=PROVENANCE)
    second = items[1]
    assert isinstance(second, Document)
    items[1] = dataclasses.replace(second, provenance=Provenance(is_vendor=True, star_events_count=0))
    return items


@pytest.mark.parametrize("kind", KINDS)
def test_provenance_is_stored_and_read_back(kind: str, fresh, corpus_items: list[Document | Skip]) -> None:
    items = _with_provenance(corpus_items)
    built = fresh.build(kind, items)
    for doc in items[:3]:
        assert isinstance(doc, Document)
        doc_id = built.index.find_blob(doc.blob_id) if doc.repo != "beta/vendor" else None
        if doc_id is None:  # the vendored copy shares its blob with the original: find it by member
            members = built.index.identical_members(built.index.find_blob(doc.blob_id) or 0)
            doc_id = next(int(m) for m in members if built.index.info(int(m)).document.repo == doc.repo)
        assert built.index.info(doc_id).document.provenance == doc.provenance, doc.repo
    assert built.index.info(0).document.to_dict(with_content=False)["provenance"]["revision_date"] == (
        "2012-03-04T05:06:07Z"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_opt_out_by_owner_and_repo_in_one_generation(
    kind: str, fresh, corpus_items: list[Document | Skip]
) -> None:
    built = fresh.build(kind, corpus_items)
    before = built.index.generation
    removal = fresh.opt_out(built, RemovalSpec.of(repos=["Gamma/Fork"], owners=["ACME", "beta"]))
    assert removal.documents == 3  # acme/geometry, beta/vendor (by owner), gamma/fork (by name, any case)
    assert removal.manifest.generation == before + 1
    index = open_index(built.uri)
    stats = index.stats()
    assert stats["removed_documents"] == 3
    assert stats["removed_owners"] == ["ACME", "beta"] and stats["removed_repos"] == ["Gamma/Fork"]
    assert index.document_count == built.index.document_count - 3
    remaining = {index.info(d).document.repo for d in range(7) if not index.info(d).removed}
    assert remaining == {"delta/calc", "eta/limiter", "zeta/maps", "eps/gpl"}


def test_opt_out_lists(tmp_path: Path) -> None:
    listed = tmp_path / "opt-out.txt"
    listed.write_text(
        "# BigCode opt-outs\nacme\n\nhttps://github.com/gamma/fork.git\nzeta/maps  # a comment\n"
    )
    assert read_opt_out_list(listed) == RemovalSpec.of(["gamma/fork", "zeta/maps"], ["acme"])
    listed.write_text("acme\nnot a user\n")
    with pytest.raises(
        OptOutListError, match=r"opt-out.txt:2: 'not a user' is neither a user nor owner/repo"
    ):
        read_opt_out_list(listed)
    with pytest.raises(ValueError, match="give repositories as owner/name"):
        RemovalSpec.of(repos=["justaname"])


def test_cli_removes_a_list_and_owners_and_stats_report_it(
    tmp_path: Path, fresh, corpus_items: list[Document | Skip]
) -> None:
    built = fresh.build("embedded", corpus_items)
    listed = tmp_path / "opt-out.txt"
    listed.write_text("gamma/fork\nzeta\n")
    run = CliRunner().invoke(
        main, ["index", "remove", "--index", built.uri, "--opt-out-list", str(listed), "--owner", "eta"]
    )
    assert run.exit_code == 0, run.output
    assert (
        "removed 3 documents of gamma/fork and every repository of eta, zeta; generation 2 is current"
        in run.output
    )
    stats = CliRunner().invoke(main, ["index", "stats", "--index", built.uri])
    assert "(3 removed)" in stats.output and "opted out (owners): eta, zeta" in stats.output
    assert "opted out (repos): gamma/fork" in stats.output
    as_json = json.loads(CliRunner().invoke(main, ["index", "stats", "--index", built.uri, "--json"]).output)
    assert as_json["removed_owners"] == ["eta", "zeta"]

    listed.write_text("delta/calc\nbad line here\n")  # a typo removes nothing
    run = CliRunner().invoke(main, ["index", "remove", "--index", built.uri, "--opt-out-list", str(listed)])
    assert run.exit_code == 2 and "is neither a user nor owner/repo" in run.output
    assert open_index(built.uri).generation == 2
    run = CliRunner().invoke(main, ["index", "remove", "--index", built.uri])
    assert run.exit_code == 2 and "nothing to remove" in run.output
