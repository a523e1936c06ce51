"""The tiny model loads like a real checkpoint and completes code: plain, FIM, batched, streamed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.model import CodeModel, ModelLoadError
from generator.options import DecodeMode, LoadOptions, SamplingOptions
from generator.train import MANIFEST


def continuation(text: str, prompt: str) -> str:
    assert text.startswith(prompt)
    return text[len(prompt) :]


def test_training_writes_a_save_pretrained_checkpoint_with_a_manifest(tiny_model_dir: Path, corpus) -> None:
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "generation_config.json",
        MANIFEST,
    } <= names
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert config["architectures"] == ["Starcoder2ForCausalLM"] and config["model_type"] == "starcoder2"
    manifest = json.loads((tiny_model_dir / MANIFEST).read_text())
    assert {(d["repo"], d["path"], d["license"]) for d in manifest["documents"]} == {
        (f.repo, f.path, f.license) for f in corpus.files
    }


def test_info_describes_the_loaded_model(tiny_model: CodeModel) -> None:
    info = tiny_model.info()
    assert info["architecture"] == "Starcoder2ForCausalLM" and info["fill_in_the_middle"] is True
    assert info["dtype"] == "float32" and info["device"] == "cpu" and info["context"] == 512
    assert info["end_tokens"] == ["<|endoftext|>", "<file_sep>"]


@pytest.mark.parametrize("which", ["mit", "gpl"])
def test_the_tiny_model_reproduces_its_training_files(tiny_model: CodeModel, corpus, which: str) -> None:
    source = getattr(corpus, which)
    prompt = source.prompt(10)
    completion = tiny_model.complete(prompt, sampling=SamplingOptions(max_new_tokens=200))
    expected = continuation(source.text, prompt)
    assert completion.finish_reason in ("eos", "length")
    assert len(completion.text) > 300 and expected.startswith(completion.text.rstrip("\n"))
    assert completion.new_tokens <= 200 and completion.prompt_tokens > 20
    assert completion.first_token_seconds is not None and completion.first_token_seconds <= completion.seconds


def test_trailing_whitespace_of_a_prompt_is_healed(tiny_model: CodeModel, corpus) -> None:
    """A prompt ending in a newline and indentation still continues the file exactly."""
    prompt = corpus.mit.prompt(12) + "\n        "
    completion = tiny_model.complete(prompt, sampling=SamplingOptions(max_new_tokens=40))
    assert completion.text.startswith("self._balance = opening_balance\n")
    assert continuation(corpus.mit.text, prompt).startswith(completion.text)


def test_stop_sequences_end_the_completion_before_them(tiny_model: CodeModel, corpus) -> None:
    prompt = corpus.apache.prompt(8)
    full = continuation(corpus.apache.text, prompt)
    completion = tiny_model.complete(prompt, sampling=SamplingOptions(max_new_tokens=150, stop=("\n\n",)))
    assert completion.finish_reason == "stop"
    assert completion.text == full[: full.index("\n\n")]
    assert completion.new_tokens < 150


def test_streaming_hands_out_the_same_text_piece_by_piece(tiny_model: CodeModel, corpus) -> None:
    prompt = corpus.unlicensed.prompt(9)
    sampling = SamplingOptions(max_new_tokens=60, stop=("\ndef ",))
    stream = tiny_model.stream(prompt, sampling=sampling)
    pieces = list(stream)
    assert len(pieces) > 5
    assert stream.completion is not None and "".join(pieces) == stream.completion.text
    assert stream.completion.text == tiny_model.complete(prompt, sampling=sampling).text


def test_a_stream_can_be_cancelled(tiny_model: CodeModel, corpus) -> None:
    stream = tiny_model.stream(corpus.gpl.prompt(8), sampling=SamplingOptions(max_new_tokens=200))
    received = ""
    for piece in stream:
        received += piece
        if received.count("\n") >= 2:
            stream.cancel()
    assert stream.completion is not None and stream.completion.finish_reason == "cancelled"
    assert stream.completion.new_tokens < 200 and received == stream.completion.text


def test_a_consumer_that_stops_listening_stops_the_model(tiny_model: CodeModel, corpus) -> None:
    stream = tiny_model.stream(corpus.mit.prompt(8), sampling=SamplingOptions(max_new_tokens=200))
    for _ in stream:
        break  # like a closed HTTP connection
    list(stream)  # waits for the model to stop
    assert stream.completion is not None and stream.completion.finish_reason == "cancelled"
    assert stream.completion.new_tokens < 200


def test_a_batch_completes_each_prompt_as_alone(tiny_model: CodeModel, corpus) -> None:
    """Left padding keeps every row on its own prompt (greedy: the same text as one at a time)."""
    prompts = [corpus.mit.prompt(16), corpus.gpl.prompt(6), corpus.unlicensed.prompt(14)]
    sampling = SamplingOptions(max_new_tokens=24)
    batch = tiny_model.complete_batch(prompts, sampling)
    alone = [tiny_model.complete(p, sampling=sampling) for p in prompts]
    assert [c.text for c in batch] == [c.text for c in alone]
    for prompt, source, c in zip(prompts, (corpus.mit, corpus.gpl, corpus.unlicensed), batch):
        assert continuation(source.text, prompt).startswith(c.text)


def test_a_fim_request_runs_on_the_psm_prompt(tiny_model: CodeModel, corpus) -> None:
    """The FIM path end to end: the model sees exactly the PSM ids and writes a middle.
    (Whether the tiny model fills the gap well depends on how long it trained on FIM examples;
    the prompt format itself is pinned token by token in test_fim.py.)"""
    lines = corpus.gpl.text.split("\n")
    prefix, suffix = "\n".join(lines[:9]), "\n".join(lines[10:])
    completion = tiny_model.complete(prefix, suffix, SamplingOptions(max_new_tokens=30))
    assert completion.prompt_tokens == len(tiny_model.prompt_ids(prefix, suffix))
    assert completion.finish_reason in ("eos", "length") and 0 < completion.new_tokens <= 30


def test_static_cache_decodes_the_same_tokens(tiny_model_dir: Path, tiny_model: CodeModel, corpus) -> None:
    static = CodeModel.load(tiny_model_dir, LoadOptions(device="cpu", decode=DecodeMode.STATIC))
    sampling = SamplingOptions(max_new_tokens=30)
    prompt = corpus.apache.prompt(10)
    assert (
        static.complete(prompt, sampling=sampling).text == tiny_model.complete(prompt, sampling=sampling).text
    )


@pytest.mark.slow
def test_compiled_decoding_gives_the_same_tokens(tiny_model_dir: Path, tiny_model: CodeModel, corpus) -> None:
    compiled = CodeModel.load(tiny_model_dir, LoadOptions(device="cpu", decode=DecodeMode.COMPILED))
    sampling = SamplingOptions(max_new_tokens=30)
    prompt = corpus.apache.prompt(10)
    assert (
        compiled.complete(prompt, sampling=sampling).text
        == tiny_model.complete(prompt, sampling=sampling).text
    )
    # A second prompt of another length reuses the compiled step (a fresh static cache each call).
    other = corpus.mit.prompt(12)
    assert (
        compiled.complete(other, sampling=sampling).text == tiny_model.complete(other, sampling=sampling).text
    )


def test_sampling_is_reproducible_with_a_seed(tiny_model: CodeModel) -> None:
    sampling = SamplingOptions(max_new_tokens=20, temperature=1.5, top_p=0.95, seed=7)
    first = tiny_model.complete("def ", sampling=sampling).text
    assert tiny_model.complete("def ", sampling=sampling).text == first


def test_a_long_prompt_keeps_its_end_within_the_context(tiny_model: CodeModel, corpus) -> None:
    prompt = "\n".join(f.text for f in corpus.files) + "\n" + corpus.mit.prompt(10)
    completion = tiny_model.complete(prompt, sampling=SamplingOptions(max_new_tokens=16))
    assert completion.truncated_prompt_tokens > 0
    assert completion.prompt_tokens + 16 <= 512


def test_a_missing_model_names_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="train-tiny"):
        CodeModel.load(tmp_path / "no-such-model", LoadOptions(device="cpu", local_files_only=True))
    with pytest.raises(ModelLoadError, match="huggingface-cli download"):
        CodeModel.load("bigcode/starcoder2-3b", LoadOptions(device="cpu", local_files_only=True))


def test_options_are_validated_with_the_fix() -> None:
    with pytest.raises(ValueError, match="top_p"):
        SamplingOptions(top_p=0)
    with pytest.raises(ValueError, match="use auto, cpu, cuda"):
        LoadOptions(device="tpu")
    with pytest.raises(ValueError, match="8bit or 4bit"):
        LoadOptions(quantization="2bit")
