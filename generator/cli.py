"""`codecite generate` and `codecite model train-tiny|info`, registered through ``codecite.commands``.

This module imports only click and the cheap parts of codecite; torch and transformers load
inside the commands, after a one-line check that names the extra to install.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Literal

import click

from generator.extra import GeneratorExtraMissing, require_generator_extra
from generator.options import DecodeMode, LoadOptions, OutputMode, SamplingOptions
from search_api.cli.errors import CliError, friendly_errors

if TYPE_CHECKING:  # annotations only: these modules load torch
    from generator.attributed import AttributedCompletion, AttributedGenerator, GenerateRequest
    from indexer.backends.base import IndexReader

EXIT_WITHHELD = 1  # block mode withheld the completion: a policy violation, as for `codecite check`

_MODEL_HELP = (
    "A model directory (save_pretrained output, e.g. from `codecite model train-tiny`) or a hub id "
    "such as bigcode/starcoder2-3b (needs the hub, or its files in the local cache)."
)


def _load_options(func):
    decorators = [
        click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N."),
        click.option(
            "--device-map",
            default=None,
            help="Spread the model with transformers' device_map "
            "(e.g. auto; needs accelerate). Replaces --device.",
        ),
        click.option(
            "--dtype",
            type=click.Choice(["auto", "float32", "bfloat16", "float16"]),
            default="auto",
            show_default=True,
            help="auto: bfloat16 on a GPU, float32 on the CPU.",
        ),
        click.option(
            "--quantize",
            type=click.Choice(["8bit", "4bit"]),
            default=None,
            help="Load 8-bit or 4-bit weights with bitsandbytes (CUDA only).",
        ),
        click.option(
            "--decode",
            type=click.Choice([m.value for m in DecodeMode]),
            default="eager",
            show_default=True,
            help="eager; static (static KV cache); compiled (static cache + "
            "torch.compile: slow first call, fast after).",
        ),
        click.option("--offline", is_flag=True, help="Never contact the Hugging Face hub."),
        click.option(
            "--threads",
            type=click.IntRange(1),
            default=None,
            help="CPU threads for torch (default: torch's; 1 is often fastest for small models).",
        ),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _model_options(
    device: str,
    device_map: str | None,
    dtype: str,
    quantize: str | None,
    decode: str,
    offline: bool,
    threads: int | None,
) -> LoadOptions:
    return LoadOptions(
        device=device,
        device_map=device_map,
        dtype=dtype,
        quantization=quantize,
        decode=DecodeMode(decode),
        local_files_only=offline,
        threads=threads,
    )


@click.command("generate")
@click.argument("prompt")
@click.option("--model", "model_name", required=True, help=_MODEL_HELP)
@click.option("--index", "index_uri", required=True, help="Index to attribute the completion against.")
@click.option(
    "--suffix", default=None, help="Fill in the middle: the code after the gap (PROMPT is before it)."
)
@click.option(
    "--mode",
    type=click.Choice([m.value for m in OutputMode]),
    default="annotate",
    show_default=True,
    help="annotate: completion + attribution; block: withhold a completion the policy fails (exit 1); "
    "attribution: add the notice its sources need.",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Policy file (TOML/JSON; default: the shipped policy, `codecite policy init` writes it).",
)
@click.option("--max-new-tokens", type=click.IntRange(1, 100_000), default=128, show_default=True)
@click.option("--temperature", type=click.FloatRange(0, 5), default=0.0, show_default=True, help="0: greedy.")
@click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=1.0, show_default=True)
@click.option("--top-k", type=click.IntRange(0), default=0, show_default=True, help="0: off.")
@click.option("--stop", multiple=True, help="Stop before this text (repeatable).")
@click.option("--seed", type=int, default=None, help="Seed for sampling.")
@click.option("--language", default=None, help="Language of the code (default: guessed).")
@click.option("--stream", "streaming", is_flag=True, help="Print the completion as it is written.")
@click.option("--json", "as_json", is_flag=True, help='Print {"completion": ..., "report": <Report>, ...}.')
@_load_options
def generate_command(
    prompt: str,
    model_name: str,
    index_uri: str,
    suffix: str | None,
    mode: str,
    policy_path: str | None,
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    top_k: int,
    stop: tuple[str, ...],
    seed: int | None,
    language: str | None,
    streaming: bool,
    as_json: bool,
    device: str,
    device_map: str | None,
    dtype: str,
    quantize: str | None,
    decode: str,
    offline: bool,
    threads: int | None,
) -> None:
    """Complete PROMPT (- reads standard input) with a code model, and attribute the completion.

    Prints the completion, then where it came from: matched source files with line spans and
    licenses, the policy's decision and, with --mode attribution, the notice to keep with it.
    """
    if prompt == "-":
        prompt = sys.stdin.read()
    with friendly_errors(), _generator_errors():
        sampling = SamplingOptions(
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_p=top_p,
            top_k=top_k,
            stop=stop,
            seed=seed,
        )
        request = _request(prompt, suffix, sampling, mode, language)
        load = _model_options(device, device_map, dtype, quantize, decode, offline, threads)
        generator, index = _attributed_generator(model_name, load, index_uri, policy_path)
        if streaming and not as_json:
            result = _print_stream(generator, request, index)
        else:
            result = generator.generate(request)
            _print_result(result, index, as_json)
    if result.withheld:
        sys.exit(EXIT_WITHHELD)


@click.group("model")
def model_group() -> None:
    """Train a tiny local model, or describe a model."""


@model_group.command("train-tiny")
@click.option(
    "--corpus",
    "corpus",
    multiple=True,
    required=True,
    help="What to train on: a directory of code, dataset files (Stack v1/v2 columns), 'installed', "
    "hf:NAME (repeatable).",
)
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Directory to write.")
@click.option("--steps", type=click.IntRange(1), default=300, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True)
@click.option(
    "--learning-rate",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=3e-3,
    show_default=True,
)
@click.option("--context", type=click.IntRange(16), default=512, show_default=True, help="Context in tokens.")
@click.option("--vocab-size", type=click.IntRange(300), default=2048, show_default=True)
@click.option("--hidden-size", type=click.IntRange(8), default=128, show_default=True)
@click.option("--layers", type=click.IntRange(1), default=2, show_default=True)
@click.option(
    "--fim-rate",
    type=click.FloatRange(0, 1),
    default=0.25,
    show_default=True,
    help="Share of fill-in-the-middle examples.",
)
@click.option("--max-documents", type=click.IntRange(1), default=2000, show_default=True)
@click.option("--threads", type=click.IntRange(1), default=None, help="CPU threads (default: torch's).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace what is in --out.")
@click.option("--json", "as_json", is_flag=True, help="Print the training summary as JSON.")
def train_tiny_command(
    corpus: tuple[str, ...],
    out_dir: str,
    steps: int,
    batch_size: int,
    learning_rate: float,
    context: int,
    vocab_size: int,
    hidden_size: int,
    layers: int,
    fim_rate: float,
    max_documents: int,
    threads: int | None,
    seed: int,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Train a byte-level BPE tokenizer (StarCoder2's special tokens) and a small Starcoder2ForCausalLM
    on a sample corpus, on the CPU, and save both with save_pretrained.

    The result loads like any checkpoint (`codecite generate --model OUT`). Trained long enough on
    a small corpus it reproduces its training files, which attribution should then catch: index
    the same corpus with `codecite index build ... --keep all`.
    """
    with friendly_errors(), _generator_errors():
        require_generator_extra()
        from generator.train import TinyModelSettings, train_tiny

        settings = TinyModelSettings(
            vocab_size=vocab_size,
            hidden_size=hidden_size,
            layers=layers,
            context=context,
            steps=steps,
            batch_size=batch_size,
            learning_rate=learning_rate,
            fim_rate=fim_rate,
            seed=seed,
            max_documents=max_documents,
            threads=threads,
        )
        with click.progressbar(
            length=steps, label="training", file=sys.stderr, show_pos=True, hidden=as_json
        ) as bar:
            result = train_tiny(
                list(corpus), out_dir, settings, overwrite=overwrite, on_step=lambda step, loss: bar.update(1)
            )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=1))
        return
    click.echo(
        f"trained on {result.documents} files ({result.corpus_tokens:,} tokens) in {result.seconds:.1f} s: "
        f"{result.parameters:,} parameters, loss {result.first_loss:.3f} -> {result.final_loss:.4f}"
    )
    click.echo(f'saved to {out_dir}; try: codecite generate "PROMPT" --model {out_dir} --index INDEX')


@model_group.command("info")
@click.argument("model_name")
@_load_options
def info_command(
    model_name: str,
    device: str,
    device_map: str | None,
    dtype: str,
    quantize: str | None,
    decode: str,
    offline: bool,
    threads: int | None,
) -> None:
    """Load MODEL_NAME and print what it is (size, dtype, device, context, FIM support) as JSON."""
    with friendly_errors(), _generator_errors():
        require_generator_extra()
        from generator.model import CodeModel

        model = CodeModel.load(
            model_name, _model_options(device, device_map, dtype, quantize, decode, offline, threads)
        )
    click.echo(json.dumps(model.info(), indent=1))


# ---- helpers -----------------------------------------------------------------------------------


class _generator_errors:
    """The generator's own errors as CliError (exit 2), with their messages."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: object
    ) -> Literal[False]:
        if err is None or isinstance(err, click.exceptions.Exit | click.ClickException | SystemExit):
            return False
        if isinstance(err, GeneratorExtraMissing):
            raise CliError(str(err)) from err
        from generator.loading import ModelLoadError  # torch is importable when a model error was raised

        if isinstance(err, ModelLoadError):
            raise CliError(str(err)) from err
        return False


def _request(
    prompt: str, suffix: str | None, sampling: SamplingOptions, mode: str, language: str | None
) -> GenerateRequest:
    from generator.attributed import GenerateRequest

    return GenerateRequest(prompt, suffix, sampling, OutputMode(mode), language)


def _attributed_generator(
    model_name: str, load: LoadOptions, index_uri: str, policy_path: str | None
) -> tuple[AttributedGenerator, IndexReader]:
    """Open the index first (a cheap error before an expensive model load), then load the model."""
    require_generator_extra()
    from generator.attributed import AttributedGenerator
    from generator.model import CodeModel
    from indexer.backends import open_index
    from search_api.engine.searcher import Searcher
    from search_api.gate.policy_file import default_policy, load_policy

    index = open_index(index_uri)
    policy = load_policy(policy_path) if policy_path else default_policy()
    model = CodeModel.load(model_name, load)
    return AttributedGenerator(model, Searcher(index).attribute, policy), index


def _print_stream(
    generator: AttributedGenerator, request: GenerateRequest, index: IndexReader
) -> AttributedCompletion:
    result = None
    for event in generator.stream(request):
        if event.kind == "text":
            click.echo(event.text, nl=False)
        elif event.kind == "done":
            result = event.result
    click.echo("")
    assert result is not None
    _print_summary(result, index)
    return result


def _print_result(result: AttributedCompletion, index: IndexReader, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=1, ensure_ascii=False))
        return
    if result.text is not None:
        click.echo(result.text)
    _print_summary(result, index)


def _print_summary(result: AttributedCompletion, index: IndexReader) -> None:
    from search_api.render.text import render_report

    click.echo("-" * 40, err=True)
    if result.withheld:
        click.echo(result.notice, err=True)
        return
    click.echo(render_report(result.report, result.completion.text, index), err=True)
    decision = result.decision
    click.echo(f"policy {decision.policy}: {decision.outcome.value}", err=True)
    if result.notice:
        click.echo(result.notice, err=True)
