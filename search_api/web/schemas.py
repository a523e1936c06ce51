"""Marshmallow schemas: request validation, and the OpenAPI description of every body.

Response schemas only document: responses are `Report.to_dict()` and friends
(`search_api.engine.results`, the contract's home), sent as they are. Their closed sets come from
the contract's enums, and a test pushes every Report field and enum value through them, so the two
cannot drift. They accept unknown members because the JSON contract lets fields be added, never
renamed.
"""

from __future__ import annotations

import marshmallow as ma
from flask_smorest.fields import Upload
from marshmallow import fields, validate

from indexer.records import LicenseCategory, NoticeKind
from search_api.engine.results import DateKind, Method, Relation

MAX_CODE_CHARS = 4_000_000  # documented; the size check itself is on bytes, with its own 413 (inputs.py)
LANGUAGE = validate.Length(min=1, max=64)
NO_NUL = "^[^\\u0000]*$"  # documented only: the API answers NUL with its own 422 (binary-input)


class Count(fields.Integer):
    """An integer as JSON Schema has it: 3 or 3.0, never "3" or true."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        return int(value)


class Number(fields.Float):
    """A JSON number (not a string, not a boolean), finite."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Flag(fields.Boolean):
    """A boolean as JSON Schema has it: true or false, never 0, 0.0, 1 or "yes" (which marshmallow's
    Boolean takes, while the OpenAPI document promises a boolean)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _min_confidence(kind: type[fields.Float] = Number) -> fields.Float:
    """The request field (a JSON number; in a multipart form, `fields.Float` reads its text)."""
    return kind(
        load_default=None,
        allow_none=True,
        allow_nan=False,
        validate=validate.Range(min=0.0, max=1.0),
        metadata={
            "description": "Report matches down to this calibrated confidence (0..1; default: the "
            "server's floor). Higher is quieter, lower finds more."
        },
    )


class _Request(ma.Schema):
    class Meta:
        unknown = ma.RAISE  # a misspelt field ("langauge") is an error, not silently ignored


class _Response(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE


# ---- requests ----------------------------------------------------------------------------------


class AttributeRequest(_Request):
    code = fields.String(
        required=True,
        metadata={
            "description": "The code to attribute: text (no NUL characters, "
            "at most 4 MB as UTF-8; more gives 413).",
            "pattern": NO_NUL,
            "maxLength": MAX_CODE_CHARS,
        },
    )
    language = fields.String(
        load_default=None,
        allow_none=True,
        validate=LANGUAGE,
        metadata={"description": "Language as The Stack names it (default: guessed)."},
    )
    filename = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=1024),
        metadata={"description": "File name, used to guess the language when none is given."},
    )
    min_match = Count(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=1, max=1_000_000),
        metadata={"description": "Minimum match size in non-whitespace characters (default 50)."},
    )
    min_confidence = _min_confidence()
    policy = fields.Dict(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "A policy (as in a policy file) to decide on the report; "
            "the answer then has a `decision`."
        },
    )


class AttributeUpload(ma.Schema):
    """multipart/form-data: a `file` and optional form fields."""

    class Meta:
        unknown = ma.EXCLUDE

    file = Upload(
        required=True,
        metadata={
            "description": "The file to attribute: UTF-8 text (a binary file "
            "or another encoding is refused with 422)."
        },
    )
    language = fields.String(load_default=None, validate=LANGUAGE)
    min_match = fields.Integer(load_default=None, validate=validate.Range(min=1, max=1_000_000))
    min_confidence = _min_confidence(fields.Float)


class BatchItem(_Request):
    id = fields.Raw(load_default=None, allow_none=True, metadata={"description": "Echoed in the result."})
    code = fields.String(required=True, metadata={"pattern": NO_NUL, "maxLength": MAX_CODE_CHARS})
    language = fields.String(load_default=None, allow_none=True, validate=LANGUAGE)


class BatchRequest(_Request):
    items = fields.List(fields.Nested(BatchItem), required=True, validate=validate.Length(min=1))
    min_match = Count(load_default=None, allow_none=True, validate=validate.Range(min=1, max=1_000_000))
    min_confidence = _min_confidence()


# ---- responses ---------------------------------------------------------------------------------


class SpanSchema(_Response):
    start_line = fields.Integer(required=True, metadata={"description": "1-based, inclusive."})
    end_line = fields.Integer(required=True, metadata={"description": "1-based, inclusive."})


class CharsSchema(_Response):
    start = fields.Integer(required=True, metadata={"description": "0-based character offset."})
    end = fields.Integer(required=True, metadata={"description": "0-based, end-exclusive."})


class SourceSchema(_Response):
    blob_id = fields.String(required=True)
    repo = fields.String(required=True)
    path = fields.String(required=True)
    license = fields.String(allow_none=True, metadata={"description": "SPDX expression; null: none found."})
    license_category = fields.String(
        required=True, validate=validate.OneOf([c.value for c in LicenseCategory])
    )
    url = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    vendored = fields.Boolean(
        metadata={"description": "Someone else's code carried along (vendor/, third_party/, is_vendor)."}
    )
    date = fields.String(
        allow_none=True, metadata={"description": "ISO 8601, UTC: the earliest date the corpus records."}
    )
    date_kind = fields.String(
        allow_none=True,
        validate=validate.OneOf([k.value for k in DateKind]),
        metadata={"description": "What `date` dates."},
    )
    stars = fields.Integer(allow_none=True, metadata={"description": "GitHub star events of the repository."})
    license_basis = fields.String(allow_none=True, metadata={"description": "Where the license was read."})


class OriginSchema(SourceSchema):
    copies_weighed = fields.Integer(metadata={"description": "Files compared: the source and every copy."})
    reason = fields.String(metadata={"description": "Why this file is the most likely origin."})


class CopySchema(SourceSchema):
    relation = fields.String(
        validate=validate.OneOf([r.value for r in Relation]),
        metadata={
            "description": "identical: the same bytes as the source; near-duplicate: "
            "the same file with edits; same-span: another file holding "
            "the matched span."
        },
    )
    source_span = fields.Nested(SpanSchema)


class EvidenceSchema(_Response):
    chars = fields.Integer(required=True, metadata={"description": "Non-whitespace characters aligned."})
    query_share = fields.Float(
        required=True, metadata={"description": "Of the query's non-whitespace characters."}
    )
    fingerprints = fields.Integer(
        required=True, metadata={"description": "Distinct index fingerprints in the span."}
    )
    median_files = fields.Integer(
        required=True,
        metadata={"description": "Files of the index holding the median fingerprint (1: only the source)."},
    )
    structure = fields.Float(
        required=True,
        metadata={
            "description": "Distinct structural k-grams over all (low for tables, lists, import blocks)."
        },
    )
    lines = fields.Integer(metadata={"description": "Query lines the span touches."})
    run = fields.Integer(metadata={"description": "Characters of the span's longest gap-free run."})
    run_lines = fields.Integer(metadata={"description": "Query lines of that run."})


class NoticeSchema(_Response):
    query_span = fields.Nested(SpanSchema, required=True)
    kind = fields.String(required=True, validate=validate.OneOf([k.value for k in NoticeKind]))
    license = fields.String(allow_none=True, metadata={"description": "SPDX expression the notice names."})
    license_category = fields.String(
        allow_none=True, validate=validate.OneOf([c.value for c in LicenseCategory])
    )
    score = fields.Float(
        metadata={"description": "How closely the wording follows the license document (0..1)."}
    )


class MatchSchema(_Response):
    query_span = fields.Nested(SpanSchema, required=True)
    query_chars = fields.Nested(CharsSchema)
    source = fields.Nested(SourceSchema, required=True)
    source_span = fields.Nested(SpanSchema, required=True)
    similarity = fields.Float(required=True)
    method = fields.String(
        required=True,
        validate=validate.OneOf([m.value for m in Method]),
        metadata={"description": "exact, normalized (identifiers renamed) or near-dup (edited)"},
    )
    matched_tokens = fields.Integer()
    matched_chars = fields.Integer()
    repos_with_span = fields.Integer(required=True)
    boilerplate = fields.Boolean()
    confidence = fields.Float(
        validate=validate.Range(0.0, 1.0),
        metadata={
            "description": "Calibrated probability that the span was copied, not written independently."
        },
    )
    evidence = fields.Nested(EvidenceSchema, allow_none=True)
    copies = fields.List(fields.Nested(CopySchema))
    origin = fields.Nested(
        OriginSchema,
        allow_none=True,
        metadata={
            "description": "The most likely first author among the source and its copies: the "
            "earliest dated file that is not vendored."
        },
    )


class QuerySchema(_Response):
    lines = fields.Integer()
    tokens = fields.Integer()
    chars = fields.Integer()
    language = fields.String(allow_none=True)


class IndexRefSchema(_Response):
    id = fields.String()
    documents = fields.Integer()


class ReportSchema(_Response):
    query = fields.Nested(QuerySchema, required=True)
    matches = fields.List(fields.Nested(MatchSchema), required=True)
    boilerplate = fields.List(
        fields.Nested(MatchSchema),
        metadata={
            "description": "Verified spans too common to attribute (license headers, idioms), listed apart."
        },
    )
    notices = fields.List(
        fields.Nested(NoticeSchema),
        metadata={
            "description": "License, copyright and warranty text and SPDX tags in the query: never matched."
        },
    )
    licenses = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "SPDX expression -> query lines covered."},
    )
    license_categories = fields.Dict(keys=fields.String(), values=fields.Integer())
    index = fields.Nested(IndexRefSchema, required=True)
    discarded = fields.Dict(keys=fields.String(), values=fields.Integer())
    warnings = fields.List(fields.String())
    elapsed_ms = fields.Float()
    decision = fields.Dict(metadata={"description": "The policy decision, when a policy applies."})


class BatchResultSchema(ReportSchema):
    class Meta:
        unknown = ma.INCLUDE

    id = fields.Raw(allow_none=True)
    error = fields.String(metadata={"description": "Why this item has no report."})
    status = fields.Integer(metadata={"description": "The HTTP status the error would have on its own."})
    # An item with an error carries only `id` and `error`.
    query = fields.Nested(QuerySchema)
    matches = fields.List(fields.Nested(MatchSchema))
    licenses = fields.Dict(keys=fields.String(), values=fields.Integer())
    index = fields.Nested(IndexRefSchema)


class BatchResponse(_Response):
    results = fields.List(fields.Nested(BatchResultSchema), required=True)


class ProvenanceSchema(_Response):
    revision_date = fields.String(allow_none=True, metadata={"description": "ISO 8601, UTC."})
    committer_date = fields.String(allow_none=True)
    visit_date = fields.String(allow_none=True, metadata={"description": "Software Heritage's visit."})
    gha_created_at = fields.String(allow_none=True, metadata={"description": "GitHub repository creation."})
    first_commit_date = fields.String(
        allow_none=True, metadata={"description": "git: the commit that first added the file."}
    )
    star_events_count = fields.Integer(allow_none=True)
    fork_events_count = fields.Integer(allow_none=True)
    snapshot_id = fields.String(allow_none=True)
    is_vendor = fields.Boolean(allow_none=True)
    is_generated = fields.Boolean(allow_none=True)
    license_basis = fields.String(allow_none=True, metadata={"description": "Where the license was read."})


class DocumentSchema(_Response):
    blob_id = fields.String(required=True)
    repo = fields.String(required=True)
    path = fields.String(required=True)
    language = fields.String(allow_none=True)
    license = fields.String(allow_none=True)
    license_category = fields.String(required=True)
    url = fields.String(allow_none=True)
    revision = fields.String(allow_none=True)
    provenance = fields.Nested(ProvenanceSchema)
    content = fields.String(required=True)


class StatsSchema(_Response):
    index_id = fields.String()
    documents = fields.Integer()
    features = fields.List(
        fields.String(), required=True, metadata={"description": "Optional features served, e.g. generate."}
    )
    limits = fields.Dict()


class HealthSchema(_Response):
    status = fields.String(required=True)


class ReadySchema(HealthSchema):
    index = fields.String()
    generation = fields.Integer(allow_none=True)
    documents = fields.Integer()
    busy = fields.Boolean(metadata={"description": "A long query holds the index: the last known status."})


class ProblemSchema(_Response):
    """RFC 9457 problem details."""

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True, metadata={"description": "What went wrong and what to do."})
    instance = fields.String()
    errors = fields.Raw(metadata={"description": "Validation errors, by field."})
