"""What an event page shows beyond its own fields: its history, how its figures moved, a citation.

Plain records computed here, so templates only present them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from .changes import describe
from .model import Edition, Event, History, Tally

Translate = Callable[..., str]


@dataclass(frozen=True)
class RevisionRow:
    date: str
    commit: str
    short: str
    subject: str
    changes: tuple[str, ...]


@dataclass(frozen=True)
class EntryHistory:
    first: str  # first published, YYYY-MM-DD
    updated: str  # last updated
    rows: tuple[RevisionRow, ...]  # newest first


def entry_history(
    event: Event, history: History | None, t: Translate, source_name: Callable[[str], str]
) -> EntryHistory | None:
    revisions = history.revisions.get(event.id, ()) if history else ()
    if not revisions:
        return None
    rows = tuple(
        RevisionRow(
            r.date,
            r.commit,
            r.commit[:7],
            r.subject,
            tuple(describe(r.before, r.after, t, source_name)) or (t("change_text_only"),),
        )
        for r in reversed(revisions)
    )
    return EntryHistory(first=revisions[0].date, updated=revisions[-1].date, rows=rows)


@dataclass(frozen=True)
class Series:
    measure: str
    group: str
    points: tuple[Tally, ...]  # in as_of order


def figure_series(event: Event) -> list[Series]:
    """Per measure and group with more than one figure: the figures in the order they were stated."""
    groups: dict[tuple[str, str], list[Tally]] = {}
    for tally in event.tallies:
        groups.setdefault((tally.measure, tally.group), []).append(tally)
    out = []
    for (measure, group), tallies in groups.items():
        if len(tallies) > 1:
            ordered = sorted(tallies, key=lambda x: (x.as_of.last if x.as_of else date.min, x.line))
            out.append(Series(measure, group, tuple(ordered)))
    return out


def citation(event: Event, title: str, url: str, edition: Edition, t: Translate) -> Markup:
    """'Site. “Title”. URL. Release v1. Accessed <date>.', the date filled in by the reader's browser."""
    if edition.release:
        version = t("cite_version_release", tag=edition.release.tag)
    elif edition.commit:
        version = t("cite_version_commit", commit=edition.commit[:7])
    else:
        version = ""
    accessed = Markup('<span class="cite-today">{}</span>').format(t("cite_accessed_placeholder"))
    text = Markup(escape(t("cite_text"))).format(
        site=title, title=event.title, url=url, version=version, accessed=accessed
    )
    return Markup(text.replace(" . ", " ").replace(". .", "."))
