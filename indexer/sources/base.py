"""What every corpus source shares: the ingestion options, the `Source` interface, `SourceError`."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from indexer.analysis.languages import NON_CODE, canonical_language, known_languages
from indexer.records import Document, Skip

if TYPE_CHECKING:
    from indexer.sources.blob_store import BlobStoreSettings


class SourceError(Exception):
    """A source cannot be opened or read as a whole. The message says what to do about it.

    Single bad files never raise: they become a counted `Skip`.
    """


@dataclass(frozen=True, slots=True)
class IngestOptions:
    """Which files ingestion keeps. Validated once, here; every message names the fix.

    The line limits are The Stack's minified-file filters: a file with any line longer than
    `max_line_chars` characters, or with a mean line length above `max_mean_line_chars`
    characters, is skipped as minified. `languages` lists the languages to keep, in The Stack's
    spelling (see `indexer.analysis.languages.known_languages()`); None keeps every language codecite knows
    except prose and data (`indexer.analysis.languages.NON_CODE`). `blob_store` says where
    datasets that list files by blob id (The Stack v2) have their contents fetched from; None:
    Software Heritage's bucket, or what ``CODECITE_S3_*`` variables say.
    """

    max_file_bytes: int = 1_000_000
    max_line_chars: int = 1000
    max_mean_line_chars: int = 100
    languages: frozenset[str] | None = None
    blob_store: BlobStoreSettings | None = None

    def __post_init__(self) -> None:
        for name in ("max_file_bytes", "max_line_chars", "max_mean_line_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"IngestOptions.{name} must be a positive whole number, got {value!r}")
        if self.max_mean_line_chars > self.max_line_chars:
            raise ValueError(
                f"IngestOptions.max_mean_line_chars ({self.max_mean_line_chars}) cannot exceed "
                f"max_line_chars ({self.max_line_chars}); raise max_line_chars or lower the mean limit"
            )
        if self.languages is not None:
            object.__setattr__(self, "languages", _canonical_languages(self.languages))

    def keeps_language(self, language: str) -> bool:
        """Whether files of `language` (The Stack's spelling) are kept."""
        if self.languages is None:
            return language not in NON_CODE
        return language in self.languages


def _canonical_languages(names: frozenset[str] | set[str] | list[str] | str) -> frozenset[str]:
    if isinstance(names, str):
        raise ValueError(  # noqa: TRY004 - option errors are ValueErrors, which callers report as such
            f"IngestOptions.languages must be a set of language names, not the string {names!r}; "
            f"write frozenset({{{names!r}}})"
        )
    out = set()
    for name in names:
        canonical = canonical_language(name)
        if canonical is None:
            raise ValueError(
                f"unknown language {name!r} in IngestOptions.languages; use names as The Stack spells "
                f"them, any of: {', '.join(known_languages())}"
            )
        out.add(canonical)
    if not out:
        raise ValueError("IngestOptions.languages is empty; give at least one language, or None for all code")
    return frozenset(out)


class Source(abc.ABC):
    """A corpus to ingest: iterating it yields one `Document` per kept file and one `Skip` per
    dropped one, streaming (a source never holds the corpus in memory).

    `description` says in words what is being read; `estimated_bytes` is roughly how many bytes
    of input the source holds (for progress bars), or None when that is not cheap to know.
    """

    description: str = ""
    estimated_bytes: int | None = None

    @abc.abstractmethod
    def __iter__(self) -> Iterator[Document | Skip]:
        """Yield a `Document` for every kept file and a `Skip` for every dropped one."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.description}>"
