"""Reading requests: JSON or a multipart upload in, checked text out, each refusal with its fix.

wrong media type -> 415 · unreadable JSON -> 400 · schema violation -> 422 (with `errors`)
binary, invalid UTF-8, unpaired surrogates -> 422 · more code than a query may hold -> 413
a body past MAX_CONTENT_LENGTH, chunked or not -> 413 · nested more than MAX_JSON_DEPTH levels,
numbers past Python's 4,300 digits, NaN or Infinity -> 400

Every JSON body is read here (`json_body`), once per request, so no request reaches a 500 through
the JSON parser.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import g, request

from indexer.analysis.text_input import NotSourceText, decode_source
from indexer.records import SkipReason
from search_api.engine.options import QueryOptions
from search_api.web.problems import ProblemError
from search_api.web.schemas import AttributeRequest, AttributeUpload


@dataclass(frozen=True, slots=True)
class QueryTuning:
    """What a request may change of the server's query options (None: the server's own)."""

    min_match: int | None = None
    min_confidence: float | None = None

    @classmethod
    def of(cls, body: Mapping[str, Any]) -> QueryTuning:
        """The tuning a loaded request body asks for."""
        return cls(body.get("min_match"), body.get("min_confidence"))

    def applied_to(self, options: QueryOptions) -> QueryOptions:
        return options.with_min_match(self.min_match).with_min_confidence(self.min_confidence)


@dataclass(frozen=True, slots=True)
class AttributeInput:
    """One attribution request, checked: `code` is text; `language` and `filename` as given (the
    engine resolves the language from them)."""

    code: str
    language: str | None
    filename: str | None
    tuning: QueryTuning
    policy: dict[str, Any] | None


def read_attribute_request(options: QueryOptions) -> AttributeInput:
    """The JSON body or the multipart upload of POST /v1/attribute."""
    if request.mimetype == "multipart/form-data":
        form = load(AttributeUpload, {**request.form.to_dict(), **request.files.to_dict()})
        upload = form["file"]
        code = checked_text(upload.read(), options)
        return AttributeInput(code, form["language"], upload.filename, QueryTuning.of(form), None)
    body = load(AttributeRequest, json_body())
    code = checked_text(body["code"], options)
    return AttributeInput(code, body["language"], body["filename"], QueryTuning.of(body), body["policy"])


@functools.cache
def _schema(cls: type[ma.Schema]) -> ma.Schema:
    """One instance per schema class (making one deep-copies its fields; loading keeps no state)."""
    return cls()


CODE_EXAMPLE = '{"code": "..."}'
UPLOAD_HINT = "files can be sent as multipart/form-data with a `file` field to POST /v1/attribute"


MAX_JSON_DEPTH = 64  # arrays and objects inside each other; a request needs 4


def json_body(example: str = CODE_EXAMPLE, hint: str | None = UPLOAD_HINT) -> object:
    """The request's JSON document (415 for another media type, 413 past the size limit, 400 when it
    does not parse); errors show `example`, a body to send, and the 415 adds `hint`."""
    if not request.is_json:
        got = request.mimetype or "no Content-Type"
        raise ProblemError(
            415,
            f"send the request as JSON with Content-Type: application/json (got {got})"
            + (f"; {hint}" if hint else ""),
            slug="unsupported-media-type",
        )
    if "codecite.json" not in g:
        g.setdefault("codecite.json", _parse(body_bytes(), example))
    return g.get("codecite.json")


def body_bytes() -> bytes:
    """The request body; 413 when it is larger than MAX_CONTENT_LENGTH, also when it came chunked
    (Werkzeug stops reading a chunked body at the limit and would hand over a truncated body)."""
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if limit is not None and request.content_length is None and len(raw) >= limit:
        raise ProblemError(
            413,
            f"the request body is larger than the {limit:,} bytes this server accepts: send one "
            "file or a part of it at a time",
            slug="body-too-large",
        )
    return raw


def _parse(raw: bytes, example: str) -> object:
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except UnicodeDecodeError as err:
        raise _invalid(
            f"the body is not UTF-8 (byte {err.start}): JSON must be UTF-8 encoded", example
        ) from None
    except json.JSONDecodeError as err:
        where = f"{err.msg} at line {err.lineno}, column {err.colno}"
        raise _invalid(f"the body is not valid JSON ({where})", example) from None
    except RecursionError:
        raise _invalid(
            f"the body nests arrays or objects more than {MAX_JSON_DEPTH} levels deep", example
        ) from None
    except ValueError as err:  # a number of more than 4,300 digits, NaN, Infinity
        raise _invalid(f"the body holds a value JSON requests may not ({err})", example) from None
    if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and _deeper_than(data, MAX_JSON_DEPTH):
        raise _invalid(f"the body nests arrays or objects more than {MAX_JSON_DEPTH} levels deep", example)
    return data


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _invalid(what: str, example: str) -> ProblemError:
    return ProblemError(400, f"{what}: send an object such as {example}", slug="invalid-json")


def _deeper_than(data: object, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels (iterative: no recursion limit)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > limit:
                    return True
                stack.append((child, depth + 1))
    return False


def load(schema_class: type[ma.Schema], data: object, example: str = CODE_EXAMPLE) -> dict[str, Any]:
    """Validate with the schema; 422 naming every bad field otherwise."""
    if not isinstance(data, dict):
        raise ProblemError(
            422,
            f"the body must be a JSON object, not {type(data).__name__}: send {example}",
            slug="validation-error",
        )
    try:
        return _schema(schema_class).load(data)
    except ma.ValidationError as err:
        fields = ", ".join(sorted(str(k) for k in err.messages)) if isinstance(err.messages, dict) else "body"
        raise ProblemError(
            422,
            f"the request has invalid fields ({fields}): see `errors` and /openapi.json",
            slug="validation-error",
            errors=err.messages,
        ) from None


def checked_text(code: str | bytes, options: QueryOptions) -> str:
    """`code` as text, or a problem: too large (413), binary, not UTF-8 or unpaired surrogates (422)."""
    if isinstance(code, str):
        try:
            raw = code.encode("utf-8")
        except UnicodeEncodeError as err:
            lone = f"\\u{ord(code[err.start]):04x}"
            raise ProblemError(
                422,
                f"the code has an unpaired surrogate at character {err.start} (a lone {lone} "
                "escape), which is not text: send source code as UTF-8 text",
                slug="not-text",
            ) from None
    else:
        raw = code
    if len(raw) > options.max_query_bytes:
        raise ProblemError(
            413,
            f"the code has {len(raw):,} bytes, more than the {options.max_query_bytes:,} a query "
            "may hold: send one file or a part of it at a time",
            slug="query-too-large",
        )
    try:
        text = decode_source(raw)
    except NotSourceText as err:
        if err.reason is SkipReason.BINARY:
            raise ProblemError(
                422,
                "the code contains NUL bytes, so it looks binary: send source code as UTF-8 text",
                slug="binary-input",
            ) from None
        raise ProblemError(
            422,
            f"the file is not valid UTF-8 ({err.detail}): convert it to UTF-8 "
            "(e.g. iconv -t UTF-8) and send it again",
            slug="invalid-utf8",
        ) from None
    return code if isinstance(code, str) else text.removeprefix("\ufeff")
