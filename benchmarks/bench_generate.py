"""Generation speed: tokens/s at batch 1 and 8, prefill time, and what attribution adds.

tiny (default, CPU): train a tiny StarCoder2-shaped model on a sample corpus (or --model DIR)
    ─►  index the same corpus  ─►  per decode path: 8 completions one at a time (time to first
    token, tokens/s), the same 8 as one batch, a prefill of --prompt-tokens, and the attribution
    of every completion (its time as a share of the generation time)
    ─►  benchmarks/results/generate-tiny-cpu.md (+ .json)

--gpu-15b-shape: a randomly initialised Starcoder2ForCausalLM with StarCoder2-15B's published
    shape (hidden 6144, 40 layers, 48 heads, 4 KV heads, intermediate 24576, vocab 49152,
    sliding window 4096) in bfloat16 on a CUDA GPU; eager vs static KV cache vs static cache +
    torch.compile; prefill and decode tokens/s at batch 1 and 8
    ─►  benchmarks/results/generate-15b-shape-gpu.md (+ .json)
    --smoke runs that code on a model of the same proportions but tiny, on any device, to
    check the path (its numbers say nothing about 15B).

python benchmarks/bench_generate.py                                # tiny model, CPU
python benchmarks/bench_generate.py --decode eager,static,compiled # + torch.compile (slow start)
python benchmarks/bench_generate.py --gpu-15b-shape                # needs a GPU with ~40 GB free
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import torch
import transformers

from generator.decoding import StaticCachePool, generation_config
from generator.model import CodeModel
from generator.options import DecodeMode, LoadOptions, SamplingOptions
from generator.train import TinyModelSettings, train_tiny
from indexer.backends import open_writer
from indexer.placement import BuildSettings
from indexer.records import LicenseCategory
from indexer.sources import open_source
from search_api.engine.searcher import Searcher

HERE = Path(__file__).resolve().parent
SAMPLE_CORPUS = HERE.parent / "tests" / "generator" / "data" / "corpus"
STARCODER2_15B = {
    "hidden_size": 6144,
    "num_hidden_layers": 40,
    "num_attention_heads": 48,
    "num_key_value_heads": 4,
    "intermediate_size": 24576,
    "vocab_size": 49152,
    "sliding_window": 4096,
    "max_position_embeddings": 16384,
    "rope_theta": 100000.0,
    "tie_word_embeddings": False,
}
SMOKE_SHAPE = {**STARCODER2_15B, "hidden_size": 96, "num_hidden_layers": 2, "intermediate_size": 384}


def main() -> int:
    args = _arguments()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.gpu_15b_shape:
        return _shape_benchmark(args)
    return _tiny_benchmark(args)


# ---- tiny model on the CPU ---------------------------------------------------------------------


def _tiny_benchmark(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as tmp:
        model_dir, trained = Path(args.model) if args.model else Path(tmp) / "tiny", None
        if not args.model:
            settings = TinyModelSettings(
                vocab_size=1024,
                context=512,
                steps=args.train_steps,
                batch_size=4,
                learning_rate=5e-3,
                threads=args.threads,
            )
            trained = train_tiny([args.corpus], model_dir, settings)
        index_dir = Path(tmp) / "index"
        open_writer(index_dir).build(
            open_source(args.corpus), settings=BuildSettings(keep=frozenset(LicenseCategory))
        )
        from indexer.backends import open_index

        searcher = Searcher(open_index(str(index_dir)))
        prompts = _corpus_prompts(args.corpus, 8)
        rows = []
        for decode in args.decode.split(","):
            model = CodeModel.load(model_dir, LoadOptions(device="cpu", decode=DecodeMode(decode)))
            rows.append(_measure_tiny(model, searcher, prompts, args))
    info = model.info()
    _write("generate-tiny-cpu", _tiny_table(rows, info, trained, args), {"model": info, "rows": rows}, args)
    return 0


def _corpus_prompts(spec: str, count: int) -> list[str]:
    """The first 6 and 10 lines of the corpus files, `count` prompts in all."""
    texts = [d.content for d in open_source(spec) if hasattr(d, "content")]
    prompts = [("\n".join(t.split("\n")[:n])) for n in (6, 10) for t in texts]
    return (prompts * count)[:count]


def _measure_tiny(model: CodeModel, searcher: Searcher, prompts: list[str], args: argparse.Namespace) -> dict:
    sampling = SamplingOptions(max_new_tokens=args.new_tokens)
    started = time.perf_counter()
    for prompt in prompts:  # warm-up: every cache size and batch shape once (compiles in the compiled mode)
        model.complete(prompt, sampling=sampling)
    model.complete_batch(prompts, sampling)
    warmup = time.perf_counter() - started
    singles, attribution, matched = [], [], 0
    for _ in range(args.repeats):
        for prompt in prompts:
            completion = model.complete(prompt, sampling=sampling)
            t0 = time.perf_counter()
            matched += bool(searcher.attribute(completion.text).matches)
            attribution.append(time.perf_counter() - t0)
            singles.append(completion)
    batches = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        done = model.complete_batch(prompts, sampling)
        batches.append((sum(c.new_tokens for c in done), time.perf_counter() - t0))
    generation = sum(c.seconds for c in singles)
    return {
        "decode": model.options.decode.value,
        "warmup_s": warmup,
        "batch1_tokens_per_s": sum(c.new_tokens for c in singles) / generation,
        "batch1_decode_tokens_per_s": statistics.median(
            (c.new_tokens - 1) / (c.seconds - c.first_token_seconds) for c in singles if c.new_tokens > 1
        ),
        "time_to_first_token_ms": 1000 * statistics.median(c.first_token_seconds for c in singles),
        "new_tokens_mean": statistics.mean(c.new_tokens for c in singles),
        "batch8_tokens_per_s": statistics.median(n / s for n, s in batches),
        "prefill_ms_batch1": _prefill_ms(model.model, 1, args.prompt_tokens, model.pad_token_id),
        "prefill_ms_batch8": _prefill_ms(model.model, 8, args.prompt_tokens, model.pad_token_id),
        "attribution_ms_mean": 1000 * statistics.mean(attribution),
        "attribution_share": sum(attribution) / generation,
        "matched_completions": matched / len(singles),
    }


def _prefill_ms(model: torch.nn.Module, batch: int, tokens: int, token_id: int, repeats: int = 5) -> float:
    """Median time of one forward pass over `batch` x `tokens` prompt tokens (filling the KV cache,
    logits for the last position only, as `generate` computes them)."""
    device = next(model.parameters()).device
    ids = torch.full((batch, tokens), token_id, device=device)
    times = []
    with torch.inference_mode():
        for i in range(repeats + 1):
            _sync(device)
            t0 = time.perf_counter()
            model(
                input_ids=ids, use_cache=True, logits_to_keep=1
            )  # as generate does: the last position's logits
            _sync(device)
            if i:
                times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def _tiny_table(rows: list[dict], info: dict, trained: object, args: argparse.Namespace) -> str:
    setup = (
        f"Model: {info['architecture']}, {info['parameters']:,} parameters, {info['dtype']}, context "
        f"{info['context']}; {args.new_tokens} new tokens per completion (greedy), 8 prompts "
        f"(first 6 / 10 lines of each corpus file), {args.repeats} repeat(s); prefill of "
        f"{args.prompt_tokens} tokens."
    )
    lines = [f"# Generation speed: tiny model on the CPU ({_now()})", "", _environment(args), "", setup]
    if trained is not None:
        lines.append(
            f"Trained here: {trained.documents} files, {trained.corpus_tokens:,} tokens, {trained.steps} "
            f"steps in {trained.seconds:.1f} s (loss {trained.final_loss:.4f})."
        )
    header = (
        "| decode | warm-up s | batch 1 tok/s | batch 1 decode tok/s | TTFT ms | batch 8 tok/s | "
        "prefill ms (b1 / b8) | attribution ms | attribution / generation | completions matched |"
    )
    lines += ["", header, "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(
            f"| {r['decode']} | {r['warmup_s']:.2f} | {r['batch1_tokens_per_s']:.0f} | "
            f"{r['batch1_decode_tokens_per_s']:.0f} | {r['time_to_first_token_ms']:.1f} | "
            f"{r['batch8_tokens_per_s']:.0f} | {r['prefill_ms_batch1']:.1f} / {r['prefill_ms_batch8']:.1f} | "
            f"{r['attribution_ms_mean']:.2f} | {100 * r['attribution_share']:.1f}% | "
            f"{100 * r['matched_completions']:.0f}% |"
        )
    lines += [
        "",
        (
            "TTFT: time to the first new token (tokenizing, prefill and one step). Batch 8 tokens/s counts "
            "every row's tokens. Attribution: `Searcher.attribute` of each completion against an index of "
            "the training corpus."
        ),
    ]
    return "\n".join(lines) + "\n"


# ---- StarCoder2-15B shape on a GPU ---------------------------------------------------------------


def _shape_benchmark(args: argparse.Namespace) -> int:
    cuda = torch.cuda.is_available()
    if not cuda and not args.smoke:
        print(
            "--gpu-15b-shape needs a CUDA GPU (about 35 GB free for weights and caches); "
            "add --smoke to run the same code on a tiny model of the same proportions"
        )
        return 2
    device = "cuda" if cuda else "cpu"
    dtype = torch.bfloat16 if cuda else torch.float32
    shape = SMOKE_SHAPE if args.smoke else STARCODER2_15B
    model = _random_model(shape, device, dtype)
    parameters = sum(p.numel() for p in model.parameters())
    rows = []
    for decode in args.decode.split(","):
        for batch in (1, 8):
            rows.append(_measure_shape(model, DecodeMode(decode), batch, args))
    meta = {
        "shape": shape,
        "parameters": parameters,
        "device": _device_name(device),
        "dtype": str(dtype),
        "smoke": args.smoke,
    }
    name = "generate-15b-shape-smoke" if args.smoke else "generate-15b-shape-gpu"
    _write(name, _shape_table(rows, meta, args), {**meta, "rows": rows}, args)
    return 0


def _random_model(shape: dict, device: str, dtype: torch.dtype) -> torch.nn.Module:
    """A randomly initialised Starcoder2ForCausalLM of `shape`, built directly on `device` in `dtype`."""
    config = transformers.Starcoder2Config(**shape, bos_token_id=0, eos_token_id=0, use_bias=True)
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        torch.manual_seed(0)
        with torch.device(device):
            model = transformers.Starcoder2ForCausalLM(config)
    finally:
        torch.set_default_dtype(previous)
    return model.eval()


def _measure_shape(model: torch.nn.Module, decode: DecodeMode, batch: int, args: argparse.Namespace) -> dict:
    device = next(model.parameters()).device
    sampling = SamplingOptions(max_new_tokens=args.new_tokens)
    config = generation_config(model, sampling, decode, end_token_ids=[0], pad_token_id=0)
    config.min_new_tokens = args.new_tokens  # a random model: always the same number of tokens
    generator = torch.Generator(device="cpu").manual_seed(batch)
    ids = torch.randint(1, model.config.vocab_size, (batch, args.prompt_tokens), generator=generator).to(
        device
    )
    mask = torch.ones_like(ids)
    caches = StaticCachePool(model, decode)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()

    def run() -> float:
        _sync(device)
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(
                input_ids=ids,
                attention_mask=mask,
                generation_config=config,
                **caches.generate_inputs(batch, args.prompt_tokens + args.new_tokens),
            )
        _sync(device)
        assert out.shape[1] == args.prompt_tokens + args.new_tokens
        return time.perf_counter() - t0

    warmup = [run() for _ in range(2 if decode is DecodeMode.COMPILED else 1)]
    times = [run() for _ in range(args.repeats)]
    total = statistics.median(times)
    prefill = _prefill_ms(model, batch, args.prompt_tokens, 1, repeats=3) / 1000
    decode_s = total - prefill if total > prefill else None  # None: too fast to tell apart from the noise
    return {
        "decode": decode.value,
        "batch": batch,
        "warmup_s": sum(warmup),
        "seconds": total,
        "prefill_ms": 1000 * prefill,
        "tokens_per_s": batch * args.new_tokens / total,
        "decode_tokens_per_s_per_sequence": (args.new_tokens - 1) / decode_s if decode_s else None,
        "ms_per_token": 1000 * decode_s / (args.new_tokens - 1) if decode_s else None,
        "peak_memory_gb": torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else None,
    }


def _shape_table(rows: list[dict], meta: dict, args: argparse.Namespace) -> str:
    title = (
        "smoke run of the 15B-shape code on a tiny model of the same proportions — not 15B numbers"
        if meta["smoke"]
        else "StarCoder2-15B shape, random weights"
    )
    lines = [
        f"# Generation speed: {title} ({_now()})",
        "",
        _environment(args),
        "",
        (
            f"{meta['parameters'] / 1e9:.2f} B parameters, {meta['dtype'].removeprefix('torch.')} on "
            f"{meta['device']}; prompt {args.prompt_tokens} tokens, {args.new_tokens} new tokens (forced), "
            f"median of {args.repeats}. Shape: "
            + ", ".join(f"{k}={v}" for k, v in meta["shape"].items())
            + "."
        ),
        "",
        (
            "| decode | batch | warm-up s | prefill ms | ms / token (decode) | decode tok/s per sequence | "
            "tokens/s (all rows, end to end) | peak GiB |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        memory = f"{r['peak_memory_gb']:.1f}" if r["peak_memory_gb"] is not None else "-"
        per_token = f"{r['ms_per_token']:.2f}" if r["ms_per_token"] is not None else "n/a"
        per_sequence = (
            f"{r['decode_tokens_per_s_per_sequence']:.1f}"
            if r["decode_tokens_per_s_per_sequence"] is not None
            else "n/a"
        )
        lines.append(
            f"| {r['decode']} | {r['batch']} | {r['warmup_s']:.1f} | {r['prefill_ms']:.1f} | "
            f"{per_token} | {per_sequence} | {r['tokens_per_s']:.1f} | {memory} |"
        )
    lines += [
        "",
        (
            "eager: dynamic KV cache; static: preallocated KV cache; compiled: static cache + torch.compile "
            "(mode reduce-overhead: CUDA graphs), as `codecite generate --decode` selects. Warm-up includes "
            "compilation. Prefill: one eager forward pass over the prompt; decode ms/token = (end-to-end - "
            "prefill) / (new tokens - 1)."
        ),
    ]
    return "\n".join(lines) + "\n"


# ---- common ---------------------------------------------------------------------------------------


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _device_name(device: str) -> str:
    return torch.cuda.get_device_name(0) if device == "cuda" else (platform.processor() or platform.machine())


def _environment(args: argparse.Namespace) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"Python {platform.python_version()}, torch {torch.__version__}, transformers {transformers.__version__}; "
        f"{os.cpu_count()} CPU cores, {torch.get_num_threads()} torch thread(s); load average {load} "
        "(the CPU is shared with other work: compare rows of one run, not runs)."
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _write(name: str, table: str, data: dict, args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.md").write_text(table, encoding="utf-8")
    (out / f"{name}.json").write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    print(table)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--gpu-15b-shape", action="store_true", help="Random StarCoder2-15B-shaped model on a GPU."
    )
    parser.add_argument("--smoke", action="store_true", help="With --gpu-15b-shape: a tiny model, same code.")
    parser.add_argument(
        "--model", default=None, help="Tiny mode: an existing model directory (default: train)."
    )
    parser.add_argument(
        "--corpus", default=str(SAMPLE_CORPUS), help="Tiny mode: corpus to train on and index."
    )
    parser.add_argument("--train-steps", type=int, default=150)
    parser.add_argument(
        "--decode",
        default=None,
        help="Comma-separated decode paths (default: eager,static on the "
        "CPU; eager,static,compiled with --gpu-15b-shape).",
    )
    parser.add_argument("--new-tokens", type=int, default=128)
    parser.add_argument("--prompt-tokens", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: 1 in tiny mode)."
    )
    parser.add_argument("--out", default=str(HERE / "results"))
    args = parser.parse_args()
    if args.decode is None:
        args.decode = "eager,static,compiled" if args.gpu_15b_shape else "eager,static"
    if args.threads is None and not args.gpu_15b_shape:
        args.threads = 1
    return args


if __name__ == "__main__":
    raise SystemExit(main())
