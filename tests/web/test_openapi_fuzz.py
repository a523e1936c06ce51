"""Schemathesis over /openapi.json: every generated request, valid or not, gets a documented answer
and never a server error (rate limiter off).

The operations are driven through hypothesis directly (`APIOperation.as_strategy`): schemathesis'
lazy pytest fixture does not run under pytest 9.
"""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance


def operations(app: Flask) -> list:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_every_operation_answers_as_documented(app: Flask, mode: GenerationMode) -> None:
    found = operations(app)
    assert {op.path for op in found} >= {
        "/v1/attribute",
        "/v1/attribute/batch",
        "/v1/documents/{blob_id}",
        "/v1/stats",
        "/healthz",
        "/readyz",
        "/metrics",
    }
    if mode is GenerationMode.NEGATIVE:  # only a body can be made invalid (any string is a valid path part)
        found = [op for op in found if op.method.upper() == "POST"]
    for operation in found:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def answers(case) -> None:
            # To the schema an upload is any bytes and a policy any object; binary files and policies the
            # policy engine cannot read are refused with a documented 422. Multipart cannot carry most
            # invalid values (an array becomes nothing), so invalid uploads are not judged either.
            upload = case.media_type == "multipart/form-data"
            free_form = upload or (isinstance(case.body, dict) and case.body.get("policy") is not None)
            excluded = [positive_data_acceptance] if free_form else []
            excluded += [negative_data_rejection] if upload else []
            case.call_and_validate(excluded_checks=excluded)

        answers()
