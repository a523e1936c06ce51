"""Fixtures for the ingestion tests: an S3 API holding blobs (moto's server mode, or the real endpoint
``CODECITE_S3_ENDPOINT`` names). The helpers live in ``tests/s3_emulator.py``, loaded here under
the name `s3_emulator` for the test modules to import (importlib import mode)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest


def _load_emulator():
    path = Path(__file__).parent.parent / "s3_emulator.py"
    spec = importlib.util.spec_from_file_location("s3_emulator", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["s3_emulator"] = module
    spec.loader.exec_module(module)
    return module


s3_emulator = _load_emulator()


@pytest.fixture(scope="session")
def s3() -> Iterator[s3_emulator.S3Target]:
    """An S3 API to put blobs in: CODECITE_S3_ENDPOINT if set, else moto's server started here."""
    pytest.importorskip("boto3", reason="fetching contents by blob id needs the 's3' extra")
    real = s3_emulator.target_from_env()
    if real is not None:
        yield real
        real.cleanup()
        return
    pytest.importorskip("moto.server", reason="the S3 emulator is moto[server] (test extra)")
    moto = s3_emulator.MotoS3()
    try:
        yield moto.target
    finally:
        moto.stop()


@pytest.fixture
def emulator_only(s3: s3_emulator.S3Target) -> s3_emulator.S3Target:
    """The emulator's target: fault injection needs a proxy in front of a server we run."""
    if not s3.emulator:
        pytest.skip("fault injection runs against the S3 emulator only (CODECITE_S3_ENDPOINT is set)")
    return s3
