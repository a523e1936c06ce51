"""Property: whatever bytes surround a copied GPL span in a file (random bytes, NULs, invalid UTF-8, a
UTF-16 byte-order mark, padding past the size limit), the gate never passes it, and never hangs."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.backends import open_index
from search_api.gate.attribute import LocalAttributor
from search_api.gate.policy import Outcome
from search_api.gate.policy_file import default_policy
from search_api.gate.scan import ScanResult, scan
from search_api.gate.targets import ScanOptions, collect_files, read_target

LIMIT = 6_000  # --max-file-bytes for these tests: "huge" files are cheap to write
SECONDS = 60  # no single scan may take longer: a hang fails the test instead of the suite

junk = st.one_of(
    st.binary(max_size=300),
    st.lists(
        st.sampled_from([b"\0", b"\xff", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\r", b"x"]), max_size=60
    ).map(b"".join),
)


def within(seconds: float, work: Callable[..., Any], *args: Any) -> Any:
    """`work(*args)` in a daemon thread; a hang fails the test (and never holds the test run)."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = work(*args)
        except BaseException as err:  # noqa: BLE001 - handed to the test
            box["error"] = err

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{work.__name__} hangs"
    if "error" in box:
        raise box["error"]
    return box["value"]


def scan_file(root: Path, index: Path) -> ScanResult:
    """The default policy's scan of `root`, with a timeout (a hang fails here)."""
    policy = default_policy()
    attributor = LocalAttributor(open_index(str(index)))
    targets = collect_files([str(root)], root, policy, ScanOptions(max_file_bytes=LIMIT))
    return within(SECONDS, scan, targets, attributor, policy)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(before=junk, after=junk, utf16=st.booleans(), pad=st.integers(0, 2 * LIMIT))
def test_junk_around_a_copy_never_passes(
    workdir: Path, corpus_index: Path, texts, before: bytes, after: bytes, utf16: bool, pad: int
) -> None:
    copy = texts.body(texts.GPL_SOURCE)
    if utf16:
        raw = copy.encode("utf-16") + after  # a BOM, then the copy as UTF-16, then junk
    else:
        raw = before + b"\n" + copy.encode() + b"\n" + after  # the copy's lines intact, as text
    raw += b"#" * pad
    path = workdir / "src" / "copied.py"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(raw)
    result = scan_file(workdir, corpus_index)
    assert result.outcome is Outcome.FAIL and result.exit_code == 1
    (reason,) = {s.reason.value for s in result.skipped} or {"scanned"}
    assert reason == ("too-large" if len(raw) > LIMIT else "scanned")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(raw=st.binary(max_size=2 * LIMIT))
def test_any_bytes_are_read_as_text_or_skipped_with_a_reason(tmp_path_factory, raw: bytes) -> None:
    path = tmp_path_factory.mktemp("bytes") / "any.py"
    path.write_bytes(raw)
    got = read_target(path, "any.py", ScanOptions(max_file_bytes=LIMIT))
    if len(raw) > LIMIT:
        assert got.reason.value == "too-large"  # type: ignore[union-attr]
    elif hasattr(got, "reason"):
        assert got.reason.value == "empty"  # type: ignore[union-attr]
    else:
        assert "\0" not in got.text and (got.decoding == "") == _exact_text(raw)  # type: ignore[union-attr]


def _exact_text(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\0" not in raw


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
def test_special_files_are_skipped_without_being_opened(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"special-{kind}.py"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "socket":
        import socket

        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.bind(str(path))
        except OSError:
            pytest.skip("cannot bind a UNIX socket here")
    else:
        path.symlink_to("/dev/zero")  # the link is skipped; the device itself when named directly below
    got = within(SECONDS, read_target, path, path.name, ScanOptions())
    assert got.reason.value in ("special-file", "symlink")
    if kind == "device" and stat.S_ISCHR(os.stat("/dev/zero").st_mode):
        # The device named directly, read in a child with 1 GB of address space: were it read, the
        # child would fail, never the machine.
        child = subprocess.run(
            [sys.executable, "-c", _READ_DEVICE],
            capture_output=True,
            text=True,
            timeout=SECONDS,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)),
            check=False,
        )
        assert child.stdout.strip() == "special-file: a character device", child.stderr[-500:]


_READ_DEVICE = """
from pathlib import Path
from search_api.gate.targets import ScanOptions, read_target
got = read_target(Path("/dev/zero"), "zero.py", ScanOptions())
print(f"{got.reason.value}: {got.detail}")
"""
