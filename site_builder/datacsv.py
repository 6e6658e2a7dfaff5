"""data/events.csv (one row per event) and data/tallies.csv (one row per figure).

RFC 4180: comma-separated, fields quoted when they hold a comma, quote or line break, lines ending
in CRLF; UTF-8 without a byte-order mark. A list is its ids joined with ";"; a missing value is an
empty cell. Rows in date order (then id), figures in the order the entry lists them.

Content is untrusted and spreadsheets run formulas: a text cell beginning with = + - @, a tab or a
carriage return gets an apostrophe in front, and so does one that already begins with an
apostrophe, so that the guard can be undone exactly (`unguard`). data/events.json is unguarded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from . import timeline
from .dates import EdtfDate
from .model import Archive, Event, Tally

EVENT_COLUMNS = (
    "id",
    "url",
    "title",
    "date",
    "date_first",
    "date_last",
    "regions",
    "tags",
    "status",
    "confidence",
    "summary",
    "sources",
    "figures",
    "statements",
)
TALLY_COLUMNS = (
    "event_id",
    "event_status",
    "event_date",
    "date_first",
    "date_last",
    "regions",
    "measure",
    "group",
    "count",
    "low",
    "high",
    "qualifier",
    "verbatim",
    "as_of",
    "scope",
    "source",
    "source_name",
    "source_url",
    "chosen",
)
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")

Cell = str | int | None


def guard(cell: Cell) -> str:
    """A cell as written: numbers as digits, None empty, risky text behind an apostrophe."""
    if cell is None:
        return ""
    if isinstance(cell, int):
        return str(cell)
    return "'" + cell if cell.startswith(_TRIGGERS) else cell


def unguard(cell: str) -> str:
    """The text a guarded cell stands for (what a program reading the CSV should apply)."""
    return cell[1:] if cell.startswith("'") else cell


def _table(columns: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows([guard(cell) for cell in row] for row in rows)
    return out.getvalue().encode("utf-8")


def _text(value: EdtfDate | None) -> str:
    return value.text if value else ""


def events_csv(archive: Archive) -> bytes:
    base_url = archive.site.base_url
    return _table(
        EVENT_COLUMNS,
        (
            [
                e.id,
                base_url + e.url,
                e.title,
                e.date.text,
                e.date.first.isoformat(),
                e.date.last.isoformat(),
                ";".join(e.regions),
                ";".join(e.tags),
                e.status,
                e.confidence.grade if e.confidence else "",
                e.summary,
                ";".join(s.id for s in e.sources),
                len(e.tallies),
                len(e.statements),
            ]
            for e in timeline.in_date_order(archive.events)
        ),
    )


def _tally_row(event: Event, tally: Tally, chosen: bool, publishers: dict[str, str]) -> list[Cell]:
    source = event.source(tally.source)
    return [
        event.id,
        event.status,
        event.date.text,
        event.date.first.isoformat(),
        event.date.last.isoformat(),
        ";".join(event.regions),
        tally.measure,
        tally.group,
        tally.count,
        tally.low,
        tally.high,
        tally.qualifier,
        tally.verbatim,
        _text(tally.as_of),
        tally.scope,
        tally.source,
        (source.name if source else "") or publishers.get(tally.source, tally.source),
        source.url if source else "",
        "true" if chosen else "false",
    ]


def tallies_csv(archive: Archive) -> bytes:
    publishers = {p.id: p.name for p in archive.publishers}
    rows = []
    for event in timeline.in_date_order(archive.events):
        chosen = {id(t) for t in timeline.chosen_figures(event).values()}
        rows += [_tally_row(event, t, id(t) in chosen, publishers) for t in event.tallies]
    return _table(TALLY_COLUMNS, rows)
