"""The command line over a real corpus: `codecite index build|add|remove|stats` and
`codecite query` (text, JSON, batch), including the inputs it must refuse politely."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from engine_testlib import QUERIES, REPOS, assert_clean_error, corpus_text, materialize_repos, run_cli

from indexer.records import DEFAULT_KEEP, Document, Skip
from indexer.sources import open_source


@dataclass
class CliIndex:
    tree: Path
    index: Path
    build_output: str


UNINDEXABLE = {"binary": 2, "empty": 1, "undecodable": 1}


def add_unindexable_files(tree: Path) -> None:
    """Files every build must skip: `UNINDEXABLE` counts them by reason."""
    scratch = tree / "nobody/scratch"
    (scratch / "assets").mkdir()
    (scratch / "assets/logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    (scratch / "src/empty.py").write_text("   \n\n")
    (scratch / "src/blob.c").write_bytes(b"int x;\0\0\0binary")
    (scratch / "src/latin1.py").write_bytes("name = 'Gr\u00fc\u00dfe'\n".encode("latin-1"))


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory: pytest.TempPathFactory) -> CliIndex:
    """The corpus as a folder of checkouts, built with `codecite index build` (default license
    filter: the GPL file is left out)."""
    root = tmp_path_factory.mktemp("cli")
    tree = materialize_repos(root / "repos")
    add_unindexable_files(tree)
    index = root / "index"
    result = run_cli(["index", "build", str(tree), "--index", str(index), "--quiet"])
    assert result.exit_code == 0, result.output
    return CliIndex(tree, index, result.output)


def expected_ingest(tree: Path) -> tuple[list[Document], dict[str, int]]:
    """What a build with the default license filter keeps, and its skip counts by reason."""
    kept, skipped = [], {}
    for item in open_source(str(tree)):
        if isinstance(item, Skip):
            skipped[item.reason.value] = skipped.get(item.reason.value, 0) + 1
        elif item.license_category in DEFAULT_KEEP:
            kept.append(item)
        else:
            skipped["license-filtered"] = skipped.get("license-filtered", 0) + 1
    return kept, skipped


def test_build_prints_documents_skips_licenses_and_speed(cli_index: CliIndex) -> None:
    kept, skipped = expected_ingest(cli_index.tree)
    out = cli_index.build_output
    headline = re.search(r"indexed (\d+) documents, [\d.]+ MB in [\d.]+ s \(([\d.]+) MB/s\)", out)
    assert headline, out
    assert int(headline.group(1)) == len(kept)
    assert "(generation 1)" in out
    assert "copies: 1 identical, 1 near-duplicate" in out
    assert re.search(rf"skipped {sum(skipped.values())} files: ", out), out
    for reason, count in skipped.items():
        assert f"{reason} {count}" in out
    assert skipped["license-filtered"] == 1, "the GPL-3.0-only file is not kept by default"
    for reason, count in UNINDEXABLE.items():
        assert skipped[reason] == count
    categories = {}
    for doc in kept:
        categories[doc.license_category.value] = categories.get(doc.license_category.value, 0) + 1
    line = next(l for l in out.splitlines() if l.strip().startswith("license categories:"))
    assert dict(re.findall(r"([\w-]+) (\d+)", line.split(":", 1)[1])) == {
        k: str(v) for k, v in categories.items()
    }
    assert "licenses: " in out and "Apache-2.0" in out


def test_stats_text_and_json(cli_index: CliIndex) -> None:
    kept, _ = expected_ingest(cli_index.tree)
    text = run_cli(["index", "stats", "--index", str(cli_index.index)])
    assert text.exit_code == 0, text.output
    repos = {d.repo for d in kept}
    assert f"documents {len(kept)} in {len(repos)} repos" in text.output
    for needle in ("postings: exact", "license categories:", "languages:", "corpus ", "index "):
        assert needle in text.output
    as_json = run_cli(["index", "stats", "--index", str(cli_index.index), "--json"])
    assert as_json.exit_code == 0, as_json.output
    stats = json.loads(as_json.output)
    assert stats["documents"] == len(kept) and stats["repos"] == len(repos)
    assert stats["generation"] == 1 and stats["removed_documents"] == 0
    assert sum(stats["licenses"].values()) == len(kept)
    assert stats["languages"]["Python"] == sum(d.language == "Python" for d in kept)
    assert stats["postings"]["exact"] > 0 and stats["postings"]["normalized"] > 0


def test_query_text_shows_query_and_source_side_by_side(cli_index: CliIndex, tmp_path: Path) -> None:
    source = corpus_text("tinyco/trie", "src/main/java/tinyco/Trie.java")
    start = source.index("    /** Up to {@code limit} words")
    end = source.index("    private Node find(")
    snippet = source[start:end].rstrip("\n") + "\n"
    query = tmp_path / "Snippet.java"
    query.write_text(snippet)
    result = run_cli(["query", str(query), "--index", str(cli_index.index)])
    assert result.exit_code == 0, result.output
    out = result.output
    first = source[:start].count("\n") + 1
    last = first + snippet.rstrip("\n").count("\n")
    assert re.search(r"^1 match for \d+ lines \(Java\)", out, re.MULTILINE), out
    assert f"= tinyco/trie:src/main/java/tinyco/Trie.java L{first}-{last}" in out
    assert "[MIT, permissive]" in out and "https://github.com/tinyco/trie/blob/HEAD/" in out
    # Each row: a query line (number, text), then the source line it matches.
    rows = [row.split(" | ", 1) for row in out.splitlines() if " | " in row]
    assert len(rows) >= 10
    for offset, (left, right) in enumerate(rows[:10]):
        (q_number, *q_text), (s_number, *s_text) = left.split(None, 1), right.split(None, 1)
        assert (int(q_number), int(s_number)) == (1 + offset, first + offset)
        assert [t.rstrip() for t in q_text] == [t.rstrip() for t in s_text]
        assert [t.rstrip() for t in s_text] == [source.splitlines()[first + offset - 1].strip()][
            : len(s_text)
        ]
    assert "licenses (query lines): MIT" in out


CONTRACT_SOURCE_KEYS = {"blob_id", "repo", "path", "license", "license_category", "url"}


def assert_contract(report: dict) -> None:
    """The JSON contract of DESIGN.md (fields may be added, none renamed)."""
    assert {"lines", "tokens"} <= set(report["query"])
    assert isinstance(report["matches"], list)
    for m in report["matches"]:
        assert set(m["query_span"]) == {"start_line", "end_line"} == set(m["source_span"])
        assert CONTRACT_SOURCE_KEYS <= set(m["source"])
        assert isinstance(m["similarity"], float) and 0 < m["similarity"] <= 1
        assert m["method"] in {"exact", "normalized", "near-dup"}
        assert isinstance(m["matched_tokens"], int) and isinstance(m["repos_with_span"], int)
        for c in m["copies"]:
            assert {"repo", "path", "license"} <= set(c)
    assert all(isinstance(k, str) and isinstance(v, int) for k, v in report["licenses"].items())
    assert isinstance(report["index"]["id"], str) and isinstance(report["index"]["documents"], int)


def test_query_json_is_the_contract(cli_index: CliIndex) -> None:
    result = run_cli(
        ["query", str(QUERIES / "identical_copies.py"), "--index", str(cli_index.index), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert_contract(report)
    (match,) = report["matches"]
    holders = {match["source"]["repo"]} | {c["repo"] for c in match["copies"]}
    assert holders == {"python/cpython-lib", "vendorco/webapp"}
    assert match["repos_with_span"] == 2
    assert report["index"]["documents"] == len(expected_ingest(cli_index.tree)[0])


def test_query_reads_standard_input(cli_index: CliIndex) -> None:
    code = (QUERIES / "verbatim.py").read_text()
    result = run_cli(
        ["query", "-", "--index", str(cli_index.index), "--json", "--language", "python"], input=code
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [m["source"]["repo"] for m in report["matches"]] == ["kjd/idna"]


def test_batch_answers_every_line_in_order(cli_index: CliIndex, tmp_path: Path) -> None:
    verbatim = (QUERIES / "verbatim.py").read_text()
    novel = (QUERIES / "novel.py").read_text()
    lines = [
        json.dumps({"id": "first", "code": verbatim, "language": "python"}),
        json.dumps({"id": 2, "code": novel}),
        "{this is not json",
        "",
        json.dumps({"id": "no-code", "code": 42}),
        json.dumps({"id": "binary", "code": "x = 1\u0000\u0001"}),
        json.dumps(["a", "list"]),
        json.dumps({"id": {"nested": True}, "code": verbatim}),
    ]
    batch = tmp_path / "in.jsonl"
    batch.write_text("\n".join(lines) + "\n")
    out_file = tmp_path / "out.jsonl"
    result = run_cli(["query", "--batch", str(batch), "--index", str(cli_index.index), "-o", str(out_file)])
    assert result.exit_code == 1, result.output  # some lines failed: said by the exit status and on stderr
    assert "4 line(s) of" in result.stderr
    answers = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert len(answers) == 7, "one answer per non-blank line"
    first, second, malformed, no_code, binary, listed, nested = answers
    assert [a["id"] for a in (first, second, malformed, binary, listed, nested)] == [
        "first",
        2,
        None,
        "binary",
        None,
        {"nested": True},
    ]
    assert (no_code["line"], malformed["line"], listed["line"]) == (5, 3, 7)
    assert_contract(first) and assert_contract(second) and assert_contract(nested)
    assert [m["source"]["repo"] for m in first["matches"]] == ["kjd/idna"]
    assert second["matches"] == [] and "error" not in second
    assert malformed["line"] == 3 and "line 3" in malformed["error"]
    assert '"code"' in no_code["error"] and '"code"' in listed["error"]
    assert "binary" in binary["error"] or "NUL" in binary["error"]
    assert nested["matches"] == first["matches"]


def test_a_batch_error_keeps_the_id_it_was_sent(cli_index: CliIndex) -> None:
    line = json.dumps({"id": "no-code", "code": 42}) + "\n"
    result = run_cli(["query", "--batch", "-", "--index", str(cli_index.index)], input=line)
    assert result.exit_code == 1
    (answer,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert "error" in answer and answer["id"] == "no-code"


def test_batch_from_standard_input(cli_index: CliIndex) -> None:
    lines = "".join(
        json.dumps({"id": i, "code": (QUERIES / name).read_text()}) + "\n"
        for i, name in enumerate(["verbatim.py", "no_license.js", "novel.py"])
    )
    result = run_cli(["query", "--batch", "-", "--index", str(cli_index.index)], input=lines)
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.output.splitlines()]
    assert [a["id"] for a in answers] == [0, 1, 2]
    assert [len(a["matches"]) for a in answers] == [1, 1, 0]


# -- inputs that are not source code --------------------------------------------------------------


def test_empty_input_says_so(cli_index: CliIndex, tmp_path: Path) -> None:
    for content in ("", "  \n\t\n"):
        empty = tmp_path / "empty.py"
        empty.write_text(content)
        result = run_cli(["query", str(empty), "--index", str(cli_index.index)])
        assert result.exit_code == 0 and "Traceback" not in result.output
        assert "0 matches" in result.output and "empty query" in result.output
        as_json = run_cli(["query", str(empty), "--index", str(cli_index.index), "--json"])
        report = json.loads(as_json.output)
        assert report["matches"] == [] and report["warnings"]


@pytest.mark.parametrize(
    "content,message",
    [
        (b"def f():\n    return 1\n\x00\x01\x02\xff", "binary"),
        (b"name = 'Gr\xfc\xdfe'\nprint(name)\n", "UTF-8"),
    ],
)
def test_binary_and_undecodable_files_are_refused(
    cli_index: CliIndex, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "input.py"
    path.write_bytes(content)
    for extra in ([], ["--json"]):
        assert_clean_error(
            run_cli(["query", str(path), "--index", str(cli_index.index), *extra]), message, str(path)
        )
    assert_clean_error(run_cli(["query", "-", "--index", str(cli_index.index)], input=content), message)


def test_missing_files_and_bad_arguments_are_refused(cli_index: CliIndex, tmp_path: Path) -> None:
    index = str(cli_index.index)
    assert_clean_error(run_cli(["query", str(tmp_path / "nope.py"), "--index", index]), "nope.py")
    assert_clean_error(
        run_cli(["query", "--batch", str(tmp_path / "nope.jsonl"), "--index", index]), "nope.jsonl"
    )
    assert_clean_error(run_cli(["query", str(tmp_path), "--index", index]), "directory")
    assert_clean_error(run_cli(["query", "--index", index]), "--batch")
    both = run_cli(
        ["query", str(QUERIES / "novel.py"), "--batch", str(QUERIES / "novel.py"), "--index", index]
    )
    assert_clean_error(both, "either")
    assert_clean_error(
        run_cli(["query", str(QUERIES / "novel.py"), "--index", index, "--min-match", "0"]), "--min-match"
    )


def test_build_of_a_missing_directory_is_refused(tmp_path: Path) -> None:
    result = run_cli(
        ["index", "build", str(tmp_path / "absent"), "--index", str(tmp_path / "index"), "--quiet"]
    )
    assert_clean_error(result, "absent")
    assert not (tmp_path / "index" / "CURRENT").exists()


# -- add, then opt a repository out ------------------------------------------------------------------


def test_add_then_remove_a_repository(tmp_path: Path) -> None:
    first_repos = [r for r in REPOS if r != "vendorco/webapp"]
    tree_a = materialize_repos(tmp_path / "a", first_repos)
    tree_b = materialize_repos(tmp_path / "b", ["vendorco/webapp"])
    index = str(tmp_path / "index")
    built = run_cli(["index", "build", str(tree_a), "--index", index, "--keep", "all", "--quiet"])
    assert built.exit_code == 0, built.output
    added = run_cli(["index", "add", str(tree_b), "--index", index, "--keep", "all", "--json"])
    assert added.exit_code == 0, added.output
    summary = json.loads(added.output)
    assert summary["documents"] == 2 and summary["generation"] == 2
    assert summary["identical_copies"] == 1, "the vendored graphlib.py joins the original's cluster"

    copies_query = str(QUERIES / "identical_copies.py")
    before = json.loads(run_cli(["query", copies_query, "--index", index, "--json"]).output)
    assert {before["matches"][0]["source"]["repo"]} | {c["repo"] for c in before["matches"][0]["copies"]} == {
        "python/cpython-lib",
        "vendorco/webapp",
    }

    stats_before = json.loads(run_cli(["index", "stats", "--index", index, "--json"]).output)
    removed = run_cli(["index", "remove", "--index", index, "--repo", "python/cpython-lib"])
    assert removed.exit_code == 0, removed.output
    cpython_files = len(list((tree_a / "python/cpython-lib").rglob("*.py")))
    assert (
        f"removed {cpython_files} documents of python/cpython-lib; generation 3 is current" in removed.output
    )

    after = run_cli(["query", copies_query, "--index", index, "--json"])
    report = json.loads(after.output)
    assert "python/cpython-lib" not in after.output, "a removed repository is never reported again"
    (match,) = report["matches"]
    assert match["source"]["repo"] == "vendorco/webapp" and match["copies"] == []
    # A span only the removed repository held is no longer attributed; the rest of the query is.
    two = json.loads(run_cli(["query", str(QUERIES / "two_sources.py"), "--index", index, "--json"]).output)
    assert [m["source"]["repo"] for m in two["matches"]] == ["pallets/itsdangerous"]
    assert "python/cpython-lib" not in json.dumps(two)

    stats = json.loads(run_cli(["index", "stats", "--index", index, "--json"]).output)
    assert stats["removed_documents"] == cpython_files and stats["removed_repos"] == ["python/cpython-lib"]
    assert stats["documents"] == stats_before["documents"] - cpython_files

    again = run_cli(["index", "remove", "--index", index, "--repo", "no/such-repo"])
    assert (
        again.exit_code == 0
        and "removed 0 documents" in again.output
        and "check the spelling" in again.output
    )
