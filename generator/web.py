"""``POST /v1/generate``: attributed completions over HTTP, as a blueprint for the codecite web app.

The app (``search_api.web.create_app``) loads `blueprint` through the ``codecite.web_blueprints``
entry point group (feature ``generate``). The model is named by ``GENERATOR_MODEL`` in the app
config (env ``CODECITE_GENERATOR_MODEL``): a model directory or a hub id. It is loaded on the
first request, once per process, and completions are attributed against the app's index and
decided with its configured policy (else the shipped default).

Request: ``{"prompt", "suffix"?, "max_new_tokens"?, "temperature"?, "top_p"?, "stop"?, "mode"?,
"language"?, "seed"?, "stream"?}``. Answer: ``{"completion": str | null, "report", "decision",
"withheld", "notice"?, ...}``; with ``"stream": true`` a ``text/event-stream`` of ``text``,
``report`` and ``done`` events (each ``data:`` one JSON object). Errors are problem+json.

Settings (app config, or ``CODECITE_*`` env): ``GENERATOR_MODEL``, ``GENERATOR_DEVICE`` (auto),
``GENERATOR_DTYPE`` (auto), ``GENERATOR_DECODE`` (eager | static | compiled),
``GENERATOR_QUANTIZATION`` (8bit | 4bit), ``GENERATOR_OFFLINE`` (never contact the hub),
``GENERATOR_MAX_NEW_TOKENS`` (the most a request may ask for; 256), ``GENERATOR_MAX_PROMPT_CHARS``
(100000), ``GENERATOR_REATTRIBUTE_LINES`` (stream: re-attribute every N lines; 5),
``GENERATOR_THREADS`` (CPU threads for torch; default torch's).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import marshmallow as ma
from flask import Flask, Response, current_app, jsonify, stream_with_context
from flask_smorest import Blueprint
from marshmallow import fields, validate

from generator.extra import require_generator_extra
from generator.options import DecodeMode, LoadOptions, OutputMode, SamplingOptions
from search_api.web.inputs import json_body, load
from search_api.web.openapi import problems
from search_api.web.problems import ProblemError
from search_api.web.schemas import NO_NUL, Count, Flag, Number
from search_api.web.services import get_services

log = logging.getLogger(__name__)

EXTENSION = "codecite.generator"
_DEFAULTS: dict[str, Any] = {
    "GENERATOR_MODEL": None,
    "GENERATOR_DEVICE": "auto",
    "GENERATOR_DTYPE": "auto",
    "GENERATOR_DECODE": "eager",
    "GENERATOR_QUANTIZATION": None,
    "GENERATOR_OFFLINE": False,
    "GENERATOR_MAX_NEW_TOKENS": 256,
    "GENERATOR_MAX_PROMPT_CHARS": 100_000,
    "GENERATOR_REATTRIBUTE_LINES": 5,
    "GENERATOR_RETRY_SECONDS": 30.0,
    "GENERATOR_THREADS": None,
}


class GenerateRequestSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    prompt = fields.String(
        required=True,
        metadata={
            "description": "The code before the cursor (for FIM: before "
            "the gap); text without NUL characters.",
            "pattern": NO_NUL,
        },
    )
    suffix = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "Fill in the middle: the code after the gap.", "pattern": NO_NUL},
    )
    max_new_tokens = Count(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=100_000),
        metadata={
            "description": "Tokens to generate at most (default 128; the server caps it "
            "at its GENERATOR_MAX_NEW_TOKENS, and says so in `warnings`)."
        },
    )
    temperature = Number(
        load_default=0.0,
        validate=validate.Range(min=0.0, max=5.0),
        metadata={"description": "0 (default): greedy decoding."},
    )
    top_p = Number(
        load_default=1.0,
        validate=validate.Range(min=0.0, max=1.0, min_inclusive=False),
        metadata={"exclusiveMinimum": 0.0, "description": "Nucleus sampling: in (0, 1]; 1 is off."},
    )
    stop = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)),
        load_default=list,
        validate=validate.Length(max=16),
        metadata={"description": "Stop before any of these."},
    )
    mode = fields.String(
        load_default="annotate",
        validate=validate.OneOf([m.value for m in OutputMode]),
        metadata={
            "description": "annotate | block (withhold what the policy fails) | attribution (add the notice)."
        },
    )
    language = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=64))
    seed = Count(load_default=None, allow_none=True, validate=validate.Range(min=0, max=2**63 - 1))
    stream = Flag(load_default=False, metadata={"description": "Answer with server-sent events."})


class GenerateResponseSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    completion = fields.String(allow_none=True, metadata={"description": "null when withheld"})
    report = fields.Dict(
        metadata={"description": "The Report of the completion (lines count from its start)"}
    )
    decision = fields.Dict()
    withheld = fields.Boolean()
    notice = fields.String()


_BODY = {"required": True, "content": {"application/json": {"schema": GenerateRequestSchema}}}
_ANSWER = {
    "description": 'The attributed completion; with "stream": true, server-sent events (text, report, done)',
    "content": {
        "application/json": {"schema": GenerateResponseSchema},
        "text/event-stream": {
            "schema": {
                "type": "object",
                "required": ["event", "data"],
                "properties": {
                    "event": {"enum": ["text", "report", "done", "error"]},
                    "data": {"type": "string", "description": "one JSON object"},
                },
            }
        },
    },
}


def blueprint(config: Mapping[str, Any] | None = None) -> Blueprint | None:
    """The ``generate`` feature's blueprint (raises GeneratorExtraMissing without torch/transformers).

    With the app's `config` and no model in it (``GENERATOR_MODEL``, env CODECITE_GENERATOR_MODEL),
    None: /v1/generate is then neither served nor advertised (not in /openapi.json nor in the
    features of GET /v1/stats), and torch is not even imported."""
    if config is not None and not config.get("GENERATOR_MODEL"):
        log.info("web feature 'generate' is off: no model is configured (set CODECITE_GENERATOR_MODEL)")
        return None
    require_generator_extra()
    blp = Blueprint("generate", __name__, url_prefix="/v1", description="Attributed code generation")
    blp.record_once(lambda state: _install(state.app))

    @blp.route("/generate", methods=["POST"])
    @blp.doc(
        summary="Generate code, attributed",
        requestBody=_BODY,
        description="Complete a prompt (or fill in the middle) with the configured model; the completion "
        "comes with its Report and the policy's decision, and in block mode is withheld when "
        "the policy fails it.",
    )
    @blp.doc(responses={"200": _ANSWER})
    @problems(blp, 400, 401, 413, 415, 422, 429, 503)
    def generate() -> Response:
        body = _read_body()
        state: _State = current_app.extensions[EXTENSION]
        wanted = _request(body, current_app.config)
        generator = state.generator()
        try:  # a prompt the model cannot take (PromptError) is a 422 in either mode, before any event
            if body["stream"]:
                events = generator.stream(wanted, int(current_app.config["GENERATOR_REATTRIBUTE_LINES"]))
                return Response(
                    stream_with_context(_server_sent(events)),
                    mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
                )
            result = generator.generate(wanted)
        except ValueError as err:
            raise ProblemError(422, str(err), slug="invalid-generation-request") from None
        answer = result.to_dict()
        asked = body["max_new_tokens"]
        if asked is not None and asked > wanted.sampling.max_new_tokens:
            cap = wanted.sampling.max_new_tokens
            answer["warnings"] = [
                f"max_new_tokens={asked} was capped at {cap}, the most this server generates"
            ]
        response = jsonify(answer)
        response.headers["Cache-Control"] = "no-store"
        return response

    return blp


class _State:
    """One app's generator: the model is loaded on first use; a failed load is retried after a while."""

    def __init__(self, app: Flask) -> None:
        config = app.config
        self.model_name = config["GENERATOR_MODEL"]  # CODECITE_GENERATOR_MODEL, read by the app's config
        self.retry_seconds = float(config["GENERATOR_RETRY_SECONDS"])
        self._options = (
            config["GENERATOR_DEVICE"],
            config["GENERATOR_DTYPE"],
            config["GENERATOR_DECODE"],
            config["GENERATOR_QUANTIZATION"],
            bool(config["GENERATOR_OFFLINE"]),
            config["GENERATOR_THREADS"],
        )
        self._lock = threading.Lock()
        self._model: Any = None
        self._failed: tuple[float, str] | None = None

    def generator(self) -> Any:
        """An AttributedGenerator bound to this request's app services (served index and policy)."""
        from generator.attributed import AttributedGenerator

        services = get_services()  # no configured policy: the generator applies the default one
        return AttributedGenerator(
            self.model(),
            services.served.attribute,  # type: ignore[arg-type]
            services.decider.configured,
        )

    def model(self) -> Any:
        if not self.model_name:
            raise ProblemError(
                503,
                "no model is configured: set CODECITE_GENERATOR_MODEL (or GENERATOR_MODEL in "
                "the app config) to a model directory or hub id, e.g. one made by "
                "`codecite model train-tiny`",
                title="Generator unavailable",
                slug="generator-unavailable",
                headers={"Retry-After": "60"},
            )
        with self._lock:
            if self._model is not None:
                return self._model
            if self._failed is not None and time.monotonic() - self._failed[0] < self.retry_seconds:
                raise self._unavailable(self._failed[1])
            try:
                self._model = self._load()
            except Exception as err:  # noqa: BLE001 - the server stays up and says why
                self._failed = (time.monotonic(), str(err))
                log.error("the generator model %s cannot be loaded: %s", self.model_name, err)
                raise self._unavailable(str(err)) from None
            return self._model

    def _load(self) -> Any:
        from generator.model import CodeModel

        device, dtype, decode, quantization, offline, threads = self._options
        options = LoadOptions(
            device=device,
            dtype=dtype,
            decode=DecodeMode(decode),
            quantization=quantization,
            local_files_only=offline,
            threads=None if threads is None else int(threads),
        )
        return CodeModel.load(self.model_name, options)  # type: ignore[arg-type]

    def _unavailable(self, why: str) -> ProblemError:
        return ProblemError(
            503,
            f"the model {self.model_name} cannot be loaded: {why}",
            title="Generator unavailable",
            slug="generator-unavailable",
            headers={"Retry-After": str(int(self.retry_seconds))},
        )


def _install(app: Flask) -> None:
    for key, value in _DEFAULTS.items():
        app.config.setdefault(key, value)
    app.extensions[EXTENSION] = _State(app)


_EXAMPLE = '{"prompt": "def fib(n):"}'


def _read_body() -> dict[str, Any]:
    """The JSON body, validated (415 for another media type, 400 unreadable, 422 invalid fields)."""
    return load(GenerateRequestSchema, json_body(_EXAMPLE, hint=None), _EXAMPLE)


def _request(body: dict[str, Any], config: Any) -> Any:
    from generator.attributed import GenerateRequest

    limit = int(config["GENERATOR_MAX_NEW_TOKENS"])
    wanted = min(body["max_new_tokens"] if body["max_new_tokens"] is not None else 128, limit)
    longest = int(config["GENERATOR_MAX_PROMPT_CHARS"])
    size = len(body["prompt"]) + len(body["suffix"] or "")
    if size > longest:
        raise ProblemError(
            413,
            f"the prompt and suffix have {size:,} characters, more than the {longest:,} this "
            "server takes: send the code nearest the cursor",
            slug="prompt-too-large",
        )
    for name in ("prompt", "suffix"):
        _check_text(name, body[name] or "")
    try:
        sampling = SamplingOptions(
            max_new_tokens=wanted,
            temperature=body["temperature"],
            top_p=body["top_p"],
            stop=tuple(body["stop"]),
            seed=body["seed"],
        )
    except ValueError as err:
        raise ProblemError(422, str(err), slug="invalid-generation-request") from None
    return GenerateRequest(
        body["prompt"], body["suffix"], sampling, OutputMode(body["mode"]), body["language"]
    )


def _check_text(name: str, text: str) -> None:
    if "\0" in text:
        raise ProblemError(
            422,
            f"the {name} contains NUL characters, so it looks binary: send source code as text",
            slug="binary-input",
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ProblemError(
            422,
            f"the {name} has an unpaired surrogate at character {err.start} (a lone "
            f"\\u{ord(text[err.start]):04x}): send valid Unicode text",
            slug="invalid-text",
        ) from None


def _server_sent(events: Iterator[Any]) -> Iterator[str]:
    """Server-sent events: ``text`` pieces, interim ``report``s, then ``done`` (or ``error``)."""
    try:
        for event in events:
            yield f"event: {event.kind}\ndata: {json.dumps(event.to_dict(), ensure_ascii=False)}\n\n"
    except Exception as err:
        log.exception("generation failed while streaming")
        problem = {
            "type": "urn:codecite:problem:generation-failed",
            "title": "Generation failed",
            "status": 500,
            "detail": f"{type(err).__name__}: {err}",
        }
        yield f"event: error\ndata: {json.dumps(problem)}\n\n"
