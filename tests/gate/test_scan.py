"""Collecting what to scan: .gitignore (nested, negated), binaries, policy ignores, diffs, hunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.backends import open_index
from indexer.records import Skip, SkipReason
from search_api.engine.results import Match, Method, Report, SourceRef, Span
from search_api.gate.attribute import LocalAttributor
from search_api.gate.diff import Piece, collect_diff, file_report, parse_diff
from search_api.gate.git import find_root
from search_api.gate.policy_file import default_policy, load_policy
from search_api.gate.scan import scan
from search_api.gate.targets import ScanOptions, ScanTarget, collect_files


def collected(paths: list[str], root: Path, policy=None, options=ScanOptions()) -> dict[str, str]:
    out = {}
    for item in collect_files(paths, root, policy or default_policy(), options):
        out[item.where if isinstance(item, Skip) else item.path] = (
            item.reason.value if isinstance(item, Skip) else "scan"
        )
    return out


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())


def test_walk_honours_nested_gitignores_and_negations(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            ".gitignore": "*.gen.py\nbuild/\n/top_only.py\n",
            "a.py": "x = 1\n",
            "b.gen.py": "x = 2\n",
            "top_only.py": "x = 3\n",
            "build/out.py": "x = 4\n",
            "pkg/.gitignore": "!keep.gen.py\nlocal.py\n",
            "pkg/keep.gen.py": "x = 5\n",
            "pkg/drop.gen.py": "x = 6\n",
            "pkg/local.py": "x = 7\n",
            "pkg/top_only.py": "x = 8\n",
            "pkg/deep/c.ts": "let x = 9;\n",
            ".git/config": "[core]\n",
            ".git/hooks/x.py": "x = 10\n",
        },
    )
    assert collected([str(tmp_path)], tmp_path) == {
        "a.py": "scan",
        "pkg/keep.gen.py": "scan",
        "pkg/top_only.py": "scan",
        "pkg/deep/c.ts": "scan",
        ".gitignore": "not-code",
        "pkg/.gitignore": "not-code",
    }
    # Starting below the root still applies the ignore files above; a file named explicitly is taken.
    assert collected([str(tmp_path / "pkg"), str(tmp_path / "b.gen.py")], tmp_path) == {
        "pkg/keep.gen.py": "scan",
        "pkg/top_only.py": "scan",
        "pkg/deep/c.ts": "scan",
        "pkg/.gitignore": "not-code",
        "b.gen.py": "scan",
    }


def test_large_empty_and_non_code_files_are_skipped_with_reasons_and_bad_bytes_are_scanned(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "bin.py": b"\x00\x01\x02def f(): pass\n",
            "latin.py": "s = 'caf\xe9'\n".encode("latin-1"),
            "big.py": "x = 1\n" * 400,
            "empty.py": "  \n\n",
            "README.md": "# hi\n",
            "data.bin": b"\x00",
            "ok.go": "package main\n",
        },
    )
    got = collected([str(tmp_path)], tmp_path, options=ScanOptions(max_file_bytes=1000))
    assert got == {
        "bin.py": "scan",  # a gate reads the text of any bytes: a NUL or a bad byte does not hide a file
        "latin.py": "scan",
        "big.py": "too-large",
        "empty.py": "empty",
        "README.md": "not-code",
        "data.bin": "not-code",
        "ok.go": "scan",
    }
    assert collected([str(tmp_path / "README.md")], tmp_path, options=ScanOptions(include_non_code=True)) == {
        "README.md": "scan"
    }


def test_symlinks_are_not_followed(tmp_path: Path) -> None:
    write(tmp_path, {"real.py": "x = 1\n"})
    (tmp_path / "link.py").symlink_to(tmp_path / "real.py")
    assert collected([str(tmp_path)], tmp_path) == {"real.py": "scan", "link.py": "symlink"}


def test_policy_ignore_paths_are_gitignore_patterns_from_the_root(tmp_path: Path) -> None:
    write(tmp_path, {"vendor/x/a.py": "x = 1\n", "src/a.py": "x = 1\n", "src/a_test.py": "x = 1\n"})
    policy = load_policy({"ignore": {"paths": ["vendor/", "*_test.py"]}})
    assert collected([str(tmp_path)], tmp_path, policy) == {
        "vendor/x/a.py": "ignored-by-policy",
        "src/a.py": "scan",
        "src/a_test.py": "ignored-by-policy",
    }


def test_parse_diff_gives_added_runs_per_new_path() -> None:
    diff = """diff --git a/src/a.py b/src/a.py
index 1..2 100644
--- a/src/a.py
+++ b/src/a.py
@@ -3,0 +4,2 @@ def f():
+x
+y
@@ -10 +12 @@
-old
+new
@@ -20 +21,0 @@
-gone
diff --git a/old name.py b/dir/new name.py
similarity index 90%
rename from old name.py
rename to dir/new name.py
--- a/old name.py
+++ b/dir/new name.py
@@ -1,0 +2,3 @@
+a
+b
+c
diff --git a/logo.png b/logo.png
Binary files a/logo.png and b/logo.png differ
diff --git "a/caf\\303\\251.py" "b/caf\\303\\251.py"
--- "a/caf\\303\\251.py"
+++ "b/caf\\303\\251.py"
@@ -0,0 +1 @@
+print(1)
"""
    assert list(parse_diff(diff)) == [
        ("src/a.py", [(4, 5), (12, 12)]),
        ("dir/new name.py", [(2, 4)]),
        ("logo.png", None),  # binary to git: scanned whole (one NUL byte makes a .py "binary")
        ("café.py", [(1, 1)]),
    ]


def test_diff_of_a_renamed_file_scans_only_what_changed(project: Path, corpus_index: Path, texts) -> None:
    texts.git(project, "mv", "src/app.py", "src/renamed app.py")
    path = project / "src" / "renamed app.py"
    path.write_text(path.read_text() + "\n\ndef extra():\n    return 2\n")
    texts.git(project, "add", "-A")
    items = list(collect_diff("HEAD", [], project, default_policy()))
    assert [(t.path, t.runs) for t in items if isinstance(t, ScanTarget)] == [
        ("src/renamed app.py", ((66, 69),))
    ]


def test_hunks_are_attributed_apart_and_mapped_back_to_file_lines(corpus_index: Path, texts) -> None:
    filler = "".join(f"value_{i} = compute({i}, scale={i * 3})\n" for i in range(40))
    text = filler + texts.body(texts.MIT_SOURCE) + filler + texts.body(texts.GPL_SOURCE) + filler
    mit_first = 41
    gpl_first = 40 + texts.body(texts.MIT_SOURCE).count("\n") + 41
    runs = ((mit_first, mit_first + 23), (gpl_first, gpl_first + 29))
    result = scan(
        [ScanTarget("x.py", "Python", text, runs)],
        LocalAttributor(open_index(str(corpus_index))),
        default_policy(),
    )
    matches = result.files[0].report.matches
    assert sorted((m.query_span.start_line, m.query_span.end_line, m.source.repo) for m in matches) == [
        (mit_first, mit_first + 23, "janedoe/statkit"),
        (gpl_first, gpl_first + 29, "regexhackers/tinyregex"),
    ]
    for m in matches:  # character offsets are the file's too
        assert text[m.query_chars[0] : m.query_chars[1]].strip().startswith(("import math", "def match_here"))


def test_a_diff_outside_git_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a git repository"):
        list(collect_diff("HEAD", [], tmp_path, default_policy()))


def test_root_is_the_git_top_level(project: Path) -> None:
    assert find_root([str(project / "src" / "app.py")]) == project.resolve()
    assert find_root([str(project / "src")]) == project.resolve()


def test_identical_files_are_attributed_once(tmp_path: Path, corpus_index: Path, texts) -> None:
    for name in ("a.py", "b.py", "c/d.py"):
        write(tmp_path, {name: texts.body(texts.MIT_SOURCE)})
    calls: list[int] = []
    local = LocalAttributor(open_index(str(corpus_index)))

    def counting(queries):
        calls.append(len(queries))
        return local(queries)

    result = scan(collect_files([str(tmp_path)], tmp_path, default_policy()), counting, default_policy())
    assert calls == [1] and len(result.files) == 3
    assert all(f.report.matches[0].source.repo == "janedoe/statkit" for f in result.files)
    assert SkipReason.REFUSED not in {s.reason for s in result.skipped}


def test_a_diff_keeps_the_boilerplate_spans_that_touch_added_lines() -> None:
    text = "".join(f"value_{i} = {i}\n" for i in range(1, 101))
    target = ScanTarget("x.py", "Python", text, ((51, 60),))
    piece = Piece(text, 41, 400)  # a piece that starts at file line 41, character 400
    source = SourceRef("b" * 40, "many/forks", "setup.py", "MIT", "permissive", None, "Python")

    def found(lines: tuple[int, int]) -> Match:
        return Match(
            Span(*lines),
            source,
            Span(1, 10),
            1.0,
            Method.EXACT,
            40,
            200,
            60,
            boilerplate=True,
            query_chars=(10, 210),
        )

    part = Report(
        100, 500, len(text), "Python", (), "test/gen-1", 9, boilerplate=(found((11, 20)), found((1, 5)))
    )
    kept = file_report(target, [(piece, part)]).boilerplate
    assert [(m.query_span.start_line, m.query_span.end_line, m.query_chars) for m in kept] == [
        (51, 60, (410, 610))
    ]
