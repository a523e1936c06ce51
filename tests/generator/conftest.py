"""A tiny corpus of four distinctive files under four licenses, a tiny StarCoder2-shaped model
trained on it (once per session, on the CPU), and an index of the same corpus.

The corpus is written as a Stack v2-style JSON-lines shard, so training (`codecite model
train-tiny --corpus`) and indexing (`codecite index build`) read it through the same
`open_source` path a real pretraining shard takes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip(
    "torch", reason="the generator tests need the generator extra: pip install 'codecite[generator]'"
)
pytest.importorskip("transformers", reason="the generator tests need: pip install 'codecite[generator]'")

from generator.model import CodeModel
from generator.options import LoadOptions
from generator.train import TinyModelSettings, train_tiny
from indexer.backends import open_index, open_writer
from indexer.backends.base import IndexReader
from indexer.placement import BuildSettings
from indexer.records import LicenseCategory
from indexer.sources import open_source
from search_api.engine.searcher import Searcher

DATA = Path(__file__).parent / "data" / "corpus"

# Small and quick, yet enough steps for the model to memorise the four files (~1,400 tokens).
TINY = TinyModelSettings(
    vocab_size=1024,
    hidden_size=128,
    layers=2,
    heads=4,
    kv_heads=2,
    context=512,
    steps=150,
    batch_size=4,
    learning_rate=5e-3,
    fim_rate=0.25,
    seed=0,
    threads=1,
)


@dataclass(frozen=True)
class CorpusFile:
    repo: str
    path: str
    license: str | None
    name: str  # file under data/corpus

    @property
    def text(self) -> str:
        return (DATA / self.name).read_text(encoding="utf-8")

    def prompt(self, lines: int) -> str:
        """The first `lines` lines, ending at the end of a line's code (no trailing newline)."""
        return "\n".join(self.text.split("\n")[:lines])


MIT = CorpusFile("acme/ring-ledger", "ringbuf/ring_ledger.py", "MIT", "ring_ledger.py")
GPL = CorpusFile("orbitcam/quaternions", "quat/slerp.py", "GPL-3.0-only", "slerp.py")
APACHE = CorpusFile("zeta/survey-tools", "survey/geodesy.py", "Apache-2.0", "geodesy.py")
UNLICENSED = CorpusFile("solo/chapters", "layout/roman.py", None, "roman.py")
FILES = (MIT, GPL, APACHE, UNLICENSED)


@dataclass(frozen=True)
class Corpus:
    """The corpus files by license (a fixture: with importlib imports, tests cannot import conftest)."""

    mit: CorpusFile = MIT
    gpl: CorpusFile = GPL
    apache: CorpusFile = APACHE
    unlicensed: CorpusFile = UNLICENSED
    files: tuple[CorpusFile, ...] = FILES


@pytest.fixture(scope="session")
def corpus() -> Corpus:
    return Corpus()


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Small models run fastest on one thread, and much faster than on two when the CPU is shared."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def corpus_shard(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The corpus as a Stack v2-style shard (repo_name, path, content, language, detected_licenses)."""
    path = tmp_path_factory.mktemp("corpus") / "shard-000.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for f in FILES:
            row = {
                "repo_name": f.repo,
                "path": f.path,
                "content": f.text,
                "language": "Python",
                "detected_licenses": [f.license] if f.license else [],
                "license_type": "permissive"
                if f.license in ("MIT", "Apache-2.0")
                else ("no_license" if f.license is None else "copyleft"),
            }
            out.write(json.dumps(row) + "\n")
    return path


@pytest.fixture(scope="session")
def tiny_model_dir(corpus_shard: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "tiny"
    result = train_tiny([str(corpus_shard)], out, TINY)
    assert result.documents == len(FILES)
    assert result.final_loss < 0.5, f"the tiny model did not learn its corpus (loss {result.final_loss:.3f})"
    return out


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path) -> CodeModel:
    return CodeModel.load(tiny_model_dir, LoadOptions(device="cpu", local_files_only=True))


@pytest.fixture(scope="session")
def index_dir(corpus_shard: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("index") / "idx"
    open_writer(out).build(
        open_source(str(corpus_shard)),
        settings=BuildSettings(keep=frozenset(LicenseCategory)),
        sources=[str(corpus_shard)],
    )
    return out


@pytest.fixture(scope="session")
def index(index_dir: Path) -> IndexReader:
    return open_index(str(index_dir))


@pytest.fixture(scope="session")
def searcher(index: IndexReader) -> Searcher:
    return Searcher(index)
