"""Errors of the index backends. Every message says what to do."""

from __future__ import annotations


class IndexStoreError(Exception):
    """Base of the errors an index raises."""


class IndexNotFoundError(IndexStoreError):
    """No index where one was expected."""


class IndexVersionError(IndexStoreError):
    """The index was written in a format this codecite does not read."""


class IndexOptionsError(IndexStoreError):
    """The index was built with other fingerprinting options (or code)."""


class IndexLockedError(IndexStoreError):
    """Another process is writing the index."""


class CorruptIndexError(IndexStoreError):
    """An index file is missing, truncated or altered."""

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"{problem}: the index is damaged; rebuild it with `codecite index build SOURCE... --index DIR`"
        )


class BackendUnavailableError(IndexStoreError):
    """An optional backend's dependencies are missing, or its URI is malformed."""
