"""Helpers shared by the engine tests (conftest.py loads this module as `engine_testlib`, since
pytest's importlib mode puts no test directory on sys.path)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from indexer.analysis.languages import language_for_path
from indexer.licenses.expressions import license_category
from indexer.placement import BuildSettings
from indexer.records import Document, LicenseCategory, git_blob_id
from search_api.cli import main
from search_api.engine.results import Report
from search_api.engine.searcher import Searcher

DATA = Path(__file__).parent / "data"
CORPUS = DATA / "corpus"
QUERIES = DATA / "queries"
REPOS: dict[str, dict[str, str | None]] = json.loads((CORPUS / "repos.json").read_text())
KEEP_ALL = BuildSettings(keep=frozenset(LicenseCategory))
REGEN_GOLDEN = os.environ.get("CODECITE_REGEN_GOLDEN") == "1"

# Property tests: no deadline (the first call of a compiled kernel compiles or loads it), and
# few enough examples that the whole area stays fast on two cores; CODECITE_HYPOTHESIS_EXAMPLES
# raises the count for a longer search.
FAST = settings(
    max_examples=int(os.environ.get("CODECITE_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def repo_files(repo: str) -> list[tuple[str, Path]]:
    """(path inside the repository, file on disk) of every file of one corpus repository."""
    root = CORPUS / repo
    return [(p.relative_to(root).as_posix(), p) for p in sorted(root.rglob("*")) if p.is_file()]


def corpus_documents(repos: Sequence[str] | None = None) -> list[Document]:
    """The corpus as Documents, repository by repository (licenses from repos.json)."""
    docs = []
    for repo in sorted(repos if repos is not None else REPOS):
        license_expr = REPOS[repo]["license"]
        for rel, path in repo_files(repo):
            raw = path.read_bytes()
            docs.append(
                Document(
                    blob_id=git_blob_id(raw),
                    repo=repo,
                    path=rel,
                    language=language_for_path(rel) or "Text",
                    content=raw.decode("utf-8"),
                    license=license_expr,
                    license_category=license_category(license_expr),
                    source="engine-tests",
                    url=f"https://example.org/{repo}/blob/main/{rel}",
                )
            )
    return docs


def corpus_text(repo: str, path: str) -> str:
    return (CORPUS / repo / path).read_text()


def materialize_repos(dest: Path, repos: Sequence[str] | None = None) -> Path:
    """Copy corpus repositories under `dest` as checkouts (a ``.git/config`` naming the origin), so
    that `codecite index build DEST` sees one repository per folder, named owner/repo."""
    for repo in sorted(repos if repos is not None else REPOS):
        target = dest / repo
        shutil.copytree(CORPUS / repo, target)
        git = target / ".git"
        git.mkdir()
        (git / "config").write_text(f'[remote "origin"]\n\turl = https://github.com/{repo}.git\n')
        (git / "HEAD").write_text("ref: refs/heads/main\n")
    return dest


def run_cli(args: list[str], input: str | bytes | None = None) -> Result:
    """`codecite ARGS` in this process, with a wide terminal for the side-by-side view."""
    return CliRunner().invoke(main, args, input=input, env={"COLUMNS": "200"}, catch_exceptions=True)


def assert_clean_error(result: Result, *needles: str) -> None:
    """The command failed the way codecite's commands fail: exit 2, a message, no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), f"uncaught {result.exception!r}\n{result.output}"
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output, f"{needle!r} not in {result.output!r}"


def assert_plain_json(value: object, where: str = "report") -> None:
    """Only JSON's own Python types: numpy scalars (some subclass float or int) must not leak
    into a report, where other JSON encoders would choke on them."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert type(k) is str, f"{where}: key {k!r}"
            assert_plain_json(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            assert_plain_json(v, f"{where}[{i}]")
    else:
        assert value is None or type(value) in (str, int, float, bool), f"{where}: {type(value).__name__}"


class CheckedSearcher(Searcher):
    """A Searcher whose every Report must survive `json.dumps` as plain JSON: the tests query
    through it, so each of their reports is checked."""

    def attribute(self, *args, **kwargs) -> Report:
        report = super().attribute(*args, **kwargs)
        as_dict = report.to_dict()
        assert json.loads(json.dumps(as_dict)) == as_dict
        assert_plain_json(as_dict)
        return report
