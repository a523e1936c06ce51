"""A tiny corpus with known licenses, an index of it, and the app serving that index."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from indexer.backends import open_writer
from indexer.licenses.expressions import license_category
from indexer.placement import BuildSettings
from indexer.records import EMPTY_PROVENANCE, Document, LicenseCategory, Provenance, git_blob_id
from search_api.web import create_app

KEPLER = '''"""Orbital mechanics helpers for the orbit-tools package."""

import math


def solve_kepler(mean_anomaly, eccentricity, tolerance=1e-12, max_iter=64):
    """Solve Kepler's equation M = E - e sin E for the eccentric anomaly E (Newton's method)."""
    ecc_anomaly = mean_anomaly if eccentricity < 0.8 else math.pi
    for _ in range(max_iter):
        delta = (ecc_anomaly - eccentricity * math.sin(ecc_anomaly) - mean_anomaly) / (
            1.0 - eccentricity * math.cos(ecc_anomaly))
        ecc_anomaly -= delta
        if abs(delta) < tolerance:
            return ecc_anomaly
    raise ArithmeticError(f"kepler solver did not converge for M={mean_anomaly}, e={eccentricity}")


def true_anomaly(ecc_anomaly, eccentricity):
    """The true anomaly nu from the eccentric anomaly E, in radians."""
    half = ecc_anomaly / 2.0
    factor = math.sqrt((1.0 + eccentricity) / (1.0 - eccentricity))
    return 2.0 * math.atan2(factor * math.sin(half), math.cos(half))


def orbital_radius(semi_major_axis, eccentricity, ecc_anomaly):
    """Distance from the focus, r = a (1 - e cos E), in the units of the semi-major axis."""
    return semi_major_axis * (1.0 - eccentricity * math.cos(ecc_anomaly))


def orbit_period_seconds(semi_major_axis_m, gravitational_parameter):
    """Kepler's third law: T = 2 pi sqrt(a^3 / mu)."""
    return 2.0 * math.pi * math.sqrt(semi_major_axis_m ** 3 / gravitational_parameter)
'''

LEDGER = """// Double-entry ledger for the globex accounting service.
'use strict';

class LedgerImbalanceError extends Error {
  constructor(entryId, debit, credit) {
    super(`entry ${entryId} is unbalanced: debit ${debit} != credit ${credit}`);
    this.entryId = entryId;
  }
}

function postJournalEntry(ledger, entry) {
  const debit = entry.lines.filter((l) => l.side === 'debit').reduce((s, l) => s + l.amountCents, 0);
  const credit = entry.lines.filter((l) => l.side === 'credit').reduce((s, l) => s + l.amountCents, 0);
  if (debit !== credit) {
    throw new LedgerImbalanceError(entry.id, debit, credit);
  }
  for (const line of entry.lines) {
    const account = ledger.accounts.get(line.account) || { balanceCents: 0, postings: [] };
    account.balanceCents += line.side === 'debit' ? line.amountCents : -line.amountCents;
    account.postings.push({ entryId: entry.id, amountCents: line.amountCents, side: line.side });
    ledger.accounts.set(line.account, account);
  }
  ledger.journal.push(entry);
  return ledger;
}

module.exports = { postJournalEntry, LedgerImbalanceError };
"""

LEVENSHTEIN = '''def levenshtein_distance(left, right):
    """Edit distance between two strings (insertions, deletions, substitutions cost 1)."""
    if len(left) < len(right):
        left, right = right, left
    previous_row = list(range(len(right) + 1))
    for i, left_char in enumerate(left, 1):
        current_row = [i]
        for j, right_char in enumerate(right, 1):
            insert_cost = current_row[j - 1] + 1
            delete_cost = previous_row[j] + 1
            replace_cost = previous_row[j - 1] + (left_char != right_char)
            current_row.append(min(insert_cost, delete_cost, replace_cost))
        previous_row = current_row
    return previous_row[-1]
'''

# Untrusted content: markup in the code, the repo and the path, and a javascript: URL.
HOSTILE = """function renderBanner(target, user) {
  const banner = "<img src=x onerror=\\"document.body.dataset.pwned = 1\\"><script>window.pwned = 1</script>";
  target.insertAdjacentHTML("beforeend", banner.replace("x", user.avatarUrl));
  const footer = "</pre></code><b onmouseover=alert(1)>hover me</b>";
  target.setAttribute("data-footer", footer + user.displayName.toUpperCase());
  for (const badge of user.badges || []) {
    target.append(document.createTextNode(`[${badge.label}] awarded ${badge.awardedAt}`));
  }
  return target.childElementCount;
}
"""
HOSTILE_REPO = "evil/<img src=x onerror=alert(1)>"
HOSTILE_PATH = "src/<script>alert(1)</script>.js"

# (repo, path, language, content, license, url)
CORPUS = [
    ("acme/orbit-tools", "orbit/kepler.py", "Python", KEPLER, "MIT", None),
    ("globex/ledger", "src/ledger.js", "JavaScript", LEDGER, "GPL-3.0-only", None),
    ("initech/strutil", "strutil/distance.py", "Python", LEVENSHTEIN, "Apache-2.0", None),
    ("hooli/vendored", "third_party/strutil/distance.py", "Python", LEVENSHTEIN, "Apache-2.0", None),
    (HOSTILE_REPO, HOSTILE_PATH, "JavaScript", HOSTILE, "MIT", "javascript:alert(document.domain)"),
]

# What the corpus records of a repository's files (the others: nothing).
PROVENANCE = {
    "acme/orbit-tools": Provenance(
        revision_date=dt.datetime(2014, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
        star_events_count=42,
        fork_events_count=5,
        license_basis="license files (LICENSE)",
    ),
}

# solve_kepler (lines 6-15 of kepler.py) pasted below new code, where it is lines 5-14.
NEW_CODE = "def describe_orbit(name):\n    print('orbit of', name)\n\n\n"
KEPLER_SNIPPET = "\n".join(KEPLER.split("\n")[5:15]) + "\n"
QUERY = NEW_CODE + KEPLER_SNIPPET
QUERY_SPAN = (5, 14)
SOURCE_SPAN = (6, 15)
GOOD_TOKEN = "test-token-0123456789abcdef"


@dataclass(frozen=True)
class Facts:
    """What the tests know about the corpus (conftest is not importable under --import-mode=importlib)."""

    kepler: str = KEPLER
    ledger: str = LEDGER
    levenshtein: str = LEVENSHTEIN
    hostile: str = HOSTILE
    hostile_repo: str = HOSTILE_REPO
    hostile_path: str = HOSTILE_PATH
    query: str = QUERY
    query_span: tuple[int, int] = QUERY_SPAN
    source_span: tuple[int, int] = SOURCE_SPAN
    token: str = GOOD_TOKEN


@pytest.fixture(scope="session")
def facts() -> Facts:
    return Facts()


def documents() -> list[Document]:
    return [
        Document(
            git_blob_id(content.encode()),
            repo,
            path,
            language,
            content,
            spdx,
            license_category(spdx),
            source="test",
            url=url or f"https://example.org/{repo}/blob/main/{path}",
            provenance=PROVENANCE.get(repo, EMPTY_PROVENANCE),
        )
        for repo, path, language, content, spdx, url in CORPUS
    ]


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("web-index") / "index"
    open_writer(path).build(
        documents(), settings=BuildSettings(keep=frozenset(LicenseCategory), workers=1), sources=["test"]
    )
    return path


def make_app(index: Path | str | None, **config: object) -> Flask:
    settings = {
        "INDEX": str(index) if index else None,
        "TESTING": True,
        "RATELIMIT_ENABLED": False,
        "LOAD_ENTRY_POINTS": False,
        **config,
    }
    return create_app(settings)


@pytest.fixture(scope="session")
def app(index_dir: Path) -> Flask:
    return make_app(index_dir)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class LiveServer:
    """A real HTTP server (werkzeug, threaded) running an app in a thread."""

    def __init__(self, app: Flask) -> None:
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def app_factory(index_dir: Path) -> Callable[..., Flask]:
    """`app_factory(**config)`: an app on the test index with these settings (INDEX=None for none)."""

    def factory(**config: object) -> Flask:
        index = config.pop("INDEX", index_dir)
        return make_app(index, **config)  # type: ignore[arg-type]

    return factory


@pytest.fixture()
def serve() -> Iterator[Callable[[Flask], LiveServer]]:
    """`serve(app)`: a live server for `app`, stopped after the test."""
    servers: list[LiveServer] = []

    def start(app: Flask) -> LiveServer:
        servers.append(LiveServer(app))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


# ---- browser tests: Playwright driving Debian's chromium (never `playwright install`) ----------

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install -y chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }
