"""Where a matched span came from first: the origin among a match's source and all its copies.

    every file holding the span ─► its date (the earliest the corpus records) and vendoring
        ─► the earliest dated file that is not vendored (more stars break a tie) ─► Origin + reason

A file's date is the earliest of: the commit that first added it (git), its revision's author and
committer dates and its GitHub repository's creation (The Stack v2); Software Heritage's visit
only when there is nothing else. Snapshot dates bound a file's age from above and a repository's
creation from below, so neither is exact; they rank copies the way Software Heritage's provenance
service does ("the origin with the oldest revision"). A vendored copy (`Document.vendored`) is
someone else's code by definition, so it is the origin only when every copy is vendored — even if
its snapshot is older (a large project that vendored a library is often older than the library).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from indexer.records import Document, Provenance, format_timestamp, parse_timestamp
from search_api.engine.results import DateKind, Origin, SourceRef

_WORDS = {
    DateKind.FIRST_COMMITTED: ("earliest committed", " (the commit that added the file)"),
    DateKind.COMMITTED: ("earliest committed", ""),
    DateKind.REPOSITORY_CREATED: ("earliest", " (its repository's creation)"),
    DateKind.ARCHIVED: ("earliest archived", ""),
}


def source_ref(doc: Document) -> SourceRef:
    """The Report's reference to an indexed file, with the provenance an origin is judged on."""
    when, kind = file_date(doc.provenance)
    return SourceRef(
        doc.blob_id,
        doc.repo,
        doc.path,
        doc.license,
        doc.license_category.value,
        doc.url,
        doc.language,
        vendored=doc.vendored,
        date=format_timestamp(when),
        date_kind=kind,
        stars=doc.provenance.star_events_count,
        license_basis=doc.provenance.license_basis,
    )


def file_date(p: Provenance) -> tuple[dt.datetime | None, DateKind | None]:
    """The earliest date the corpus records for a file, and what it dates (None, None: none)."""
    dated = [
        (p.first_commit_date, DateKind.FIRST_COMMITTED),
        (p.revision_date, DateKind.COMMITTED),
        (p.committer_date, DateKind.COMMITTED),
        (p.gha_created_at, DateKind.REPOSITORY_CREATED),
    ]
    known = [(when, kind) for when, kind in dated if when is not None]
    if not known and p.visit_date is not None:
        known = [(p.visit_date, DateKind.ARCHIVED)]
    if not known:
        return None, None
    return min(known, key=lambda wk: wk[0])


def find_origin(refs: Sequence[SourceRef]) -> Origin | None:
    """The origin among `refs` (a match's source first, then every copy), with its reason; None
    when there are no files."""
    if not refs:
        return None
    ranked = sorted(range(len(refs)), key=lambda i: _rank(refs[i], i))
    chosen = refs[ranked[0]]
    return Origin(chosen, len(refs), _reason(chosen, [refs[i] for i in ranked[1:]]))


def _rank(ref: SourceRef, order: int) -> tuple[bool, bool, str, int, int]:
    """Non-vendored first; then dated before undated, earliest first; then most stars; then as listed."""
    when = _moment(ref)
    return ref.vendored, when is None, when or "", -(ref.stars or 0), order


def _moment(ref: SourceRef) -> str | None:
    """The ref's date normalised for comparison (ISO 8601 UTC strings sort in time order)."""
    return format_timestamp(parse_timestamp(ref.date)) if ref.date else None


def _reason(chosen: SourceRef, others: list[SourceRef]) -> str:
    n = len(others) + 1
    if not others:
        dated = f", dated {_day(chosen)}" if chosen.date else ""
        return f"the only file in the index holding this code{dated}"
    head = _headline(chosen, others, n)
    notes = [note for note in (_vendored_note(chosen, others), _tie_note(chosen, others)) if note]
    return "; ".join([head, *notes])


def _headline(chosen: SourceRef, others: list[SourceRef], n: int) -> str:
    if chosen.vendored:
        prefix = f"every one of the {n} copies is vendored; "
        return prefix + (f"{_words(chosen, n)}" if chosen.date else "none has a date: the most starred")
    if chosen.date is None:
        free = sum(not o.vendored for o in others)
        if not free:
            return f"no copy of {n} has a date: the only one not vendored"
        return f"no copy of {n} has a date: the most starred of {free + 1} not vendored"
    return _words(chosen, n)


def _words(chosen: SourceRef, n: int) -> str:
    kind = chosen.date_kind or DateKind.COMMITTED
    lead, tail = _WORDS[kind]
    return f"{lead} of {n} copies, {_day(chosen)}{tail}"


def _vendored_note(chosen: SourceRef, others: list[SourceRef]) -> str:
    vendored = [o for o in others if o.vendored]
    if chosen.vendored or chosen.date is None or not vendored:  # the headline said it already
        return ""
    if len(vendored) == len(others):
        note = "the others are vendored" if len(others) > 1 else "the other is vendored"
    else:
        note = f"{len(vendored)} vendored"
    earlier = [
        o for o in vendored if _moment(o) and chosen.date and (_moment(o) or "") < (_moment(chosen) or "")
    ]
    if earlier:
        first = min(earlier, key=lambda o: _moment(o) or "")
        note += f" (vendored copies are not the author's, though {first.repo}'s is dated {_day(first)})"
    return note


def _tie_note(chosen: SourceRef, others: list[SourceRef]) -> str:
    tied = [o for o in others if not o.vendored and chosen.date and _moment(o) == _moment(chosen)]
    if not tied:
        return ""
    return (
        f"tied on date with {len(tied)} other{'s' if len(tied) > 1 else ''}: most stars ({chosen.stars or 0})"
    )


def _day(ref: SourceRef) -> str:
    return (ref.date or "")[:10]
