"""`codecite generate` and `codecite model train-tiny|info`, through their click objects."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import generate_command, model_group
from generator.extra import GeneratorExtraMissing, require_generator_extra
from generator.model import CodeModel
from generator.train import MANIFEST, TinyModelSettings, train_tiny


def run(command, args: list[str], **kwargs) -> object:
    return CliRunner().invoke(command, args, catch_exceptions=False, **kwargs)


def test_generate_json_gives_the_completion_and_its_report(
    tiny_model_dir: Path, index_dir: Path, corpus
) -> None:
    prompt = corpus.mit.prompt(10)
    result = run(
        generate_command,
        [
            prompt,
            "--model",
            str(tiny_model_dir),
            "--index",
            str(index_dir),
            "--json",
            "--max-new-tokens",
            "120",
            "--threads",
            "1",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert corpus.mit.text[len(prompt) :].startswith(body["completion"])
    match = body["report"]["matches"][0]
    assert match["source"]["repo"] == corpus.mit.repo and match["source"]["license"] == "MIT"
    assert body["decision"]["outcome"] == "attribution-needed" and body["withheld"] is False
    assert body["usage"]["completion_tokens"] <= 120 and body["finish_reason"] in ("eos", "length")


def test_generate_prints_the_code_on_stdout_and_the_attribution_on_stderr(
    tiny_model_dir: Path, index_dir: Path, corpus
) -> None:
    prompt = corpus.apache.prompt(9)
    result = run(
        generate_command,
        [
            prompt,
            "--model",
            str(tiny_model_dir),
            "--index",
            str(index_dir),
            "--mode",
            "attribution",
            "--max-new-tokens",
            "100",
        ],
    )
    assert result.exit_code == 0, result.output
    assert corpus.apache.text[len(prompt) :].startswith(result.stdout.rstrip("\n"))
    assert f"{corpus.apache.repo}:{corpus.apache.path}" in result.stderr and "Apache-2.0" in result.stderr
    assert "keep this notice" in result.stderr


def test_block_mode_withholds_gpl_output_and_exits_1(tiny_model_dir: Path, index_dir: Path, corpus) -> None:
    result = run(
        generate_command,
        [
            corpus.gpl.prompt(7),
            "--model",
            str(tiny_model_dir),
            "--index",
            str(index_dir),
            "--mode",
            "block",
            "--max-new-tokens",
            "120",
        ],
    )
    assert result.exit_code == 1
    assert result.stdout == ""
    assert (
        "withheld" in result.stderr and corpus.gpl.path in result.stderr and "GPL-3.0-only" in result.stderr
    )


def test_generate_streams_from_standard_input(tiny_model_dir: Path, index_dir: Path, corpus) -> None:
    prompt = corpus.mit.prompt(10)
    result = run(
        generate_command,
        [
            "-",
            "--model",
            str(tiny_model_dir),
            "--index",
            str(index_dir),
            "--stream",
            "--max-new-tokens",
            "60",
        ],
        input=prompt,
    )
    assert result.exit_code == 0, result.output
    assert corpus.mit.text[len(prompt) :].startswith(result.stdout.rstrip("\n"))


def test_generate_errors_exit_2_and_name_the_fix(
    tiny_model_dir: Path, index_dir: Path, tmp_path: Path
) -> None:
    missing_model = CliRunner().invoke(
        generate_command, ["x", "--model", str(tmp_path / "none"), "--index", str(index_dir), "--offline"]
    )
    assert missing_model.exit_code == 2 and "train-tiny" in missing_model.output
    missing_index = CliRunner().invoke(
        generate_command, ["x", "--model", str(tiny_model_dir), "--index", str(tmp_path / "no-index")]
    )
    assert missing_index.exit_code == 2 and "index" in missing_index.output.lower()
    bad_policy = tmp_path / "policy.toml"
    bad_policy.write_text('[categories]\ncopyleft = "maybe"\n')
    policy = CliRunner().invoke(
        generate_command,
        ["x", "--model", str(tiny_model_dir), "--index", str(index_dir), "--policy", str(bad_policy)],
    )
    assert policy.exit_code == 2 and "policy.toml:2" in policy.output


def test_train_tiny_writes_a_model_that_loads_like_a_checkpoint(tmp_path: Path) -> None:
    corpus = Path(__file__).parent / "data" / "corpus"
    out = tmp_path / "model"
    result = run(
        model_group,
        [
            "train-tiny",
            "--corpus",
            str(corpus),
            "--out",
            str(out),
            "--steps",
            "3",
            "--vocab-size",
            "400",
            "--hidden-size",
            "32",
            "--context",
            "128",
            "--threads",
            "1",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["documents"] == 4 and summary["steps"] == 3 and summary["parameters"] > 0
    model = CodeModel.load(out)
    assert model.info()["context"] == 128 and model.supports_fim
    again = CliRunner().invoke(
        model_group, ["train-tiny", "--corpus", str(corpus), "--out", str(out), "--steps", "1"]
    )
    assert again.exit_code == 2 and "--overwrite" in again.output
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = CliRunner().invoke(
        model_group, ["train-tiny", "--corpus", str(empty), "--out", str(tmp_path / "m2")]
    )
    assert nothing.exit_code == 2 and "no source files" in nothing.output


def test_a_corpus_named_by_one_string_is_recorded_as_that_source(tmp_path: Path) -> None:
    corpus = str(Path(__file__).parent / "data" / "corpus")
    settings = TinyModelSettings(
        vocab_size=400,
        hidden_size=32,
        layers=1,
        heads=2,
        kv_heads=1,
        context=64,
        steps=1,
        batch_size=2,
        threads=1,
    )
    result = train_tiny(corpus, tmp_path / "model", settings)
    manifest = json.loads((tmp_path / "model" / MANIFEST).read_text())
    assert result.documents == 4 and manifest["corpus"] == [corpus]


def test_model_info_prints_json(tiny_model_dir: Path) -> None:
    result = run(model_group, ["info", str(tiny_model_dir)])
    assert result.exit_code == 0
    info = json.loads(result.stdout)
    assert info["architecture"] == "Starcoder2ForCausalLM" and info["fill_in_the_middle"] is True


def test_a_missing_extra_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("generator.extra._MODULES", ("torch", "no_such_module_for_codecite"))
    with pytest.raises(GeneratorExtraMissing) as err:
        require_generator_extra()
    assert str(err.value).count("\n") == 0
    assert "no_such_module_for_codecite" in str(err.value) and "pip install 'codecite[generator]'" in str(
        err.value
    )


def test_importing_the_generator_and_its_cli_and_web_modules_loads_no_torch() -> None:
    web = ", generator.web" if importlib.util.find_spec("flask_smorest") else ""
    code = (
        f"import sys, generator, generator.cli{web}; "
        "heavy = [m for m in ('torch', 'transformers', 'tokenizers') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
