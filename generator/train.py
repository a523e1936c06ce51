"""Train a tiny StarCoder2-shaped model on a sample corpus, on the CPU, in minutes.

    corpus (any `open_source` spec, or Documents)  →  byte-level BPE tokenizer with StarCoder2's
    special tokens  →  a small `Starcoder2ForCausalLM`  →  next-token training on whole files
    (and FIM examples)  →  `save_pretrained` (model, tokenizer, generation config) + codecite-tiny.json

The result loads through exactly the code path of the real checkpoints (`CodeModel.load`). Trained
long enough on a small corpus it reproduces its training files verbatim — the behaviour attribution
has to catch — so tests and demos can show attribution of model output end to end, offline.

Examples start at the beginning of a file (a file longer than the context gives a window at a
random offset), the way a prompt taken from a file starts: a model trained only on short random
windows does not generalise to positions it never saw. With probability `fim_rate` an example is
turned into a PSM fill-in-the-middle example split at two random characters (Bavarian et al. 2022).
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from generator.extra import require_generator_extra

require_generator_extra()

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import GenerationConfig, PreTrainedTokenizerFast, Starcoder2Config, Starcoder2ForCausalLM

from generator.fim import ENDOFTEXT, FILE_SEP, STARCODER2_SPECIAL_TOKENS, fim_ids, token_id_of
from indexer.records import Document, Skip
from indexer.sources import open_source

log = logging.getLogger(__name__)

MANIFEST = "codecite-tiny.json"


@dataclass(frozen=True, slots=True)
class TinyModelSettings:
    """Sizes of the tokenizer, the model and the training run.

    `context` is both the model's maximum positions and the longest training example, in tokens.
    `steps` optimizer steps of `batch_size` examples at a peak `learning_rate` (warm-up, then cosine
    decay). `max_corpus_bytes` / `max_documents` bound what is read from the corpus. `threads`: CPU
    threads for training (None: torch's default; 1 is fastest on a small, busy machine).
    """

    vocab_size: int = 2048
    hidden_size: int = 128
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    context: int = 512
    steps: int = 300
    batch_size: int = 8
    learning_rate: float = 3e-3
    fim_rate: float = 0.25
    seed: int = 0
    max_documents: int = 2000
    max_corpus_bytes: int = 4_000_000
    threads: int | None = None

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "fim_rate":
                if not 0.0 <= value <= 1.0:
                    problems.append(f"fim_rate={value} must be between 0 and 1")
            elif f.name == "learning_rate":
                if not 0.0 < value < 1.0:
                    problems.append(f"learning_rate={value} must be between 0 and 1")
            elif f.name == "threads":
                if value is not None and value < 1:
                    problems.append(f"threads={value} must be at least 1 (or None: torch's default)")
            elif f.name != "seed" and value < 1:
                problems.append(f"{f.name}={value} must be at least 1")
        if self.vocab_size < len(STARCODER2_SPECIAL_TOKENS) + 256:
            problems.append(
                f"vocab_size={self.vocab_size} must be at least {len(STARCODER2_SPECIAL_TOKENS) + 256} "
                "(the special tokens and the 256 byte symbols)"
            )
        if self.hidden_size % self.heads or self.heads % self.kv_heads:
            problems.append(
                f"hidden_size={self.hidden_size}, heads={self.heads}, kv_heads={self.kv_heads}: "
                "hidden_size must divide by heads, and heads by kv_heads"
            )
        if problems:
            raise ValueError("invalid tiny-model settings: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What a training run made. Losses are mean cross-entropy per token (nats)."""

    out_dir: Path
    documents: int
    skipped: int
    corpus_tokens: int
    parameters: int
    steps: int
    first_loss: float
    final_loss: float
    seconds: float

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "out_dir": str(self.out_dir)}


def train_tiny(
    corpus: Sequence[str] | Iterable[Document | Skip],
    out_dir: str | Path,
    settings: TinyModelSettings = TinyModelSettings(),
    overwrite: bool = False,
    on_step: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train a tokenizer and a tiny model on `corpus` and save both to `out_dir`.

    `corpus` is a list of source specs (as `codecite index build` takes them: directories, dataset
    files, ``installed``, ``hf:NAME``) or an iterable of Documents. `on_step(step, loss)` is called
    after every optimizer step. Raises ValueError for an empty corpus or an occupied `out_dir`.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise ValueError(f"{out} is not empty: choose a new directory, or pass overwrite (--overwrite)")
    documents, skipped = collect_documents(corpus, settings)
    tokenizer = train_tokenizer([d.content for d in documents], settings.vocab_size)
    examples = _Examples(documents, tokenizer, settings)
    model = tiny_model(tokenizer, settings)
    losses = fit(model, examples, settings, on_step)
    result = TrainResult(
        out,
        len(documents),
        skipped,
        examples.corpus_tokens,
        sum(p.numel() for p in model.parameters()),
        settings.steps,
        losses[0],
        _tail_mean(losses),
        time.perf_counter() - started,
    )
    _save(model, tokenizer, out, documents, corpus, settings, result)
    return result


def _source_specs(corpus: object) -> list[str] | None:
    """The source specs `corpus` names (one string is one spec); None when it holds Documents."""
    if isinstance(corpus, str):
        return [corpus]
    if isinstance(corpus, Sequence) and all(isinstance(c, str) for c in corpus):
        return list(corpus)
    return None


def collect_documents(
    corpus: Sequence[str] | Iterable[Document | Skip], settings: TinyModelSettings
) -> tuple[list[Document], int]:
    """The documents to train on (every license: the model should be able to reproduce any of
    them), within the size limits; and how many items were skipped."""
    specs = _source_specs(corpus)
    items: Iterable[Document | Skip | str]
    if specs is not None:
        items = (item for spec in specs for item in open_source(spec))
    else:
        items = corpus
    documents: list[Document] = []
    skipped = total = 0
    for item in items:
        if not isinstance(item, Document) or not item.content.strip():
            skipped += 1
            continue
        size = item.size_bytes
        if len(documents) >= settings.max_documents or total + size > settings.max_corpus_bytes:
            log.info(
                "corpus limit reached (%d documents, %d bytes): the rest is not read", len(documents), total
            )
            break
        documents.append(item)
        total += size
    if not documents:
        raise ValueError(
            "the corpus has no source files to train on: give a directory of code or a dataset file "
            f"(read {skipped} items, all skipped)"
        )
    return documents, skipped


def train_tokenizer(texts: Sequence[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer shaped like StarCoder2's: digits split one by one, GPT-2 byte-level
    pre-tokenization, and StarCoder2's 38 special tokens at ids 0..37 (``<|endoftext|>`` = 0)."""
    model = Tokenizer(models.BPE())
    model.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    model.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(STARCODER2_SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    model.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=model,
        bos_token=ENDOFTEXT,
        eos_token=ENDOFTEXT,
        unk_token=ENDOFTEXT,
        additional_special_tokens=list(STARCODER2_SPECIAL_TOKENS[1:]),
        clean_up_tokenization_spaces=False,
    )


def tiny_model(tokenizer: PreTrainedTokenizerFast, settings: TinyModelSettings) -> Starcoder2ForCausalLM:
    """A randomly initialised `Starcoder2ForCausalLM` of the given sizes (seeded)."""
    eos = token_id_of(tokenizer)(ENDOFTEXT)
    config = Starcoder2Config(
        vocab_size=len(tokenizer),
        hidden_size=settings.hidden_size,
        intermediate_size=4 * settings.hidden_size,
        num_hidden_layers=settings.layers,
        num_attention_heads=settings.heads,
        num_key_value_heads=settings.kv_heads,
        max_position_embeddings=settings.context,
        sliding_window=None,
        bos_token_id=eos,
        eos_token_id=eos,
        use_bias=True,
        tie_word_embeddings=True,
    )
    torch.manual_seed(settings.seed)
    return Starcoder2ForCausalLM(config)


def fit(
    model: Starcoder2ForCausalLM,
    examples: _Examples,
    settings: TinyModelSettings,
    on_step: Callable[[int, float], None] | None = None,
) -> list[float]:
    """AdamW with a linear warm-up and cosine decay; returns the loss of every step."""
    torch.manual_seed(settings.seed)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=settings.learning_rate, betas=(0.9, 0.95), weight_decay=0.0
    )
    warmup = max(1, settings.steps // 10)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, settings.steps - warmup)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    model.train()
    losses: list[float] = []
    threads = torch.get_num_threads()
    if settings.threads is not None:
        torch.set_num_threads(settings.threads)
    # Tiny weights late in training are denormal floats, very slow on a CPU: flush them to zero while
    # training, and turn that off again (it is a process-wide CPU flag).
    torch.set_flush_denormal(True)
    try:
        _steps(model, examples, settings, optimizer, schedule, losses, on_step)
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)
    model.eval()
    return losses


def _steps(
    model: Starcoder2ForCausalLM,
    examples: _Examples,
    settings: TinyModelSettings,
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    losses: list[float],
    on_step: Callable[[int, float], None] | None,
) -> None:
    for step in range(settings.steps):
        input_ids, mask, labels = examples.batch()
        loss = model(input_ids=input_ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        if on_step is not None:
            on_step(step, losses[-1])


class _Examples:
    """Training examples: whole files (or a window of a long one), some as FIM examples."""

    def __init__(
        self, documents: list[Document], tokenizer: PreTrainedTokenizerFast, settings: TinyModelSettings
    ) -> None:
        self._texts = [d.content for d in documents]
        self._tokenizer = tokenizer
        self._settings = settings
        self._random = random.Random(settings.seed)
        self._eos = token_id_of(tokenizer)(ENDOFTEXT)
        self._ids = [self._encode(t) + [self._eos] for t in self._texts]
        self.corpus_tokens = sum(len(ids) for ids in self._ids)

    def batch(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        rows = [
            self._example(self._random.randrange(len(self._ids))) for _ in range(self._settings.batch_size)
        ]
        width = max(len(r) for r in rows)
        input_ids = torch.tensor([r + [self._eos] * (width - len(r)) for r in rows])
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
        labels = input_ids.masked_fill(mask == 0, -100)
        return input_ids, mask, labels

    def _example(self, i: int) -> list[int]:
        context = self._settings.context
        if self._random.random() < self._settings.fim_rate:
            fim = self._fim(self._texts[i])
            if len(fim) <= context:
                return fim
        ids = self._ids[i]
        if len(ids) <= context:
            return ids
        start = self._random.randrange(len(ids) - context + 1)
        return ids[start : start + context]

    def _fim(self, text: str) -> list[int]:
        a, b = sorted(self._random.randrange(len(text) + 1) for _ in range(2))
        prompt = fim_ids(token_id_of(self._tokenizer), self._encode(text[:a]), self._encode(text[b:]))
        return [*prompt, *self._encode(text[a:b]), self._eos]

    def _encode(self, text: str) -> list[int]:
        return list(self._tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"])


def _save(
    model: Starcoder2ForCausalLM,
    tokenizer: PreTrainedTokenizerFast,
    out: Path,
    documents: list[Document],
    corpus: object,
    settings: TinyModelSettings,
    result: TrainResult,
) -> None:
    """Write model, tokenizer and manifest to a temporary directory beside `out`, then move it in place."""
    eos = token_id_of(tokenizer)(ENDOFTEXT)
    model.generation_config = GenerationConfig(
        bos_token_id=eos, eos_token_id=[eos, tokenizer.convert_tokens_to_ids(FILE_SEP)], pad_token_id=eos
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        manifest = {
            "kind": "codecite tiny StarCoder2-shaped model",
            "corpus": specs if (specs := _source_specs(corpus)) is not None else "documents",
            "settings": asdict(settings),
            "result": {k: v for k, v in result.to_dict().items() if k != "out_dir"},
            "documents": [
                {"blob_id": d.blob_id, "repo": d.repo, "path": d.path, "license": d.license}
                for d in documents[:10_000]
            ],
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    log.info(
        "saved a tiny model (%s parameters, final loss %.4f) to %s",
        f"{result.parameters:,}",
        result.final_loss,
        out,
    )


def _tail_mean(losses: list[float]) -> float:
    tail = losses[-max(1, len(losses) // 10) :]
    return sum(tail) / len(tail)
