"""Data files for researchers and tools, written into every edition's data/ folder.

events.json (the archive), sources.json (publishers and the entries citing them),
regions/<id>.json (a region as its page shows it), deleted.json, the two CSV tables
(site_builder.datacsv) and the JSON Schemas of the JSON files (site_builder.dataschema).

Every figure keeps its source, qualifier and as-of date; nothing is summed across sources.
`schema_version` changes only when a field's meaning changes or a field goes away; new fields
keep it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from . import __version__, datacsv, dataschema, feeds, timeline
from .dataschema import SCHEMA_VERSION
from .dates import EdtfDate
from .model import Archive, Edition, Event, History, Region, Snapshot

GENERATED_BY = f"site-builder {__version__}"


def _date(value: EdtfDate | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {"text": value.text, "first": value.first.isoformat(), "last": value.last.isoformat()}


def _event(event: Event, base_url: str) -> dict[str, Any]:
    chosen = {id(t) for t in timeline.chosen_figures(event).values()}
    return {
        "id": event.id,
        "url": base_url + event.url,
        "title": event.title,
        "summary": event.summary,
        "date": _date(event.date),
        "regions": list(event.regions),
        "tags": list(event.tags),
        "status": event.status,
        "confidence": {"grade": event.confidence.grade, "note": event.confidence.note} if event.confidence else None,
        "tallies": [
            {
                "measure": t.measure,
                "group": t.group,
                "count": t.count,
                "low": t.low,
                "high": t.high,
                "qualifier": t.qualifier,
                "verbatim": t.verbatim,
                "as_of": _date(t.as_of),
                "scope": t.scope,
                "source": t.source,
                "chosen": id(t) in chosen,
            }
            for t in event.tallies
        ],
        "statements": [
            {
                "speaker": s.speaker,
                "role": s.role,
                "organization": s.organization,
                "date": _date(s.date),
                "kind": s.kind,
                "text": s.text,
                "source": s.source,
            }
            for s in event.statements
        ],
        "sources": [
            {
                "id": s.id,
                "name": s.name,
                "title": s.title,
                "url": s.url,
                "archive_url": s.archive_url,
                "published": _date(s.published),
                "accessed": _date(s.accessed),
                "language": s.language,
            }
            for s in event.sources
        ],
        "aliases": list(event.aliases),
        "narrative": event.body,
    }


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class Encoded(str):
    """A list item already written as JSON (an event's line, kept by the build cache)."""


def event_line(event: Event, base_url: str) -> Encoded:
    """An event as its line in events.json."""
    return Encoded(_compact(_event(event, base_url)))


Lines = Callable[[Sequence[Event], str], Iterable[Encoded | bytes]]


def event_lines(events: Sequence[Event], base_url: str) -> list[Encoded]:
    return [event_line(event, base_url) for event in events]


def _dump(document: dict[str, Any]) -> bytes:
    """One top-level key a line, and one line per item of a list: readable and diffable entry by
    entry, and fast (json's `indent` takes its pure-Python encoder: 3 times slower on big archives)."""
    # Written into one buffer, a piece at a time, and a list may be an iterator: events.json holds
    # every narrative, and each copy of it whole (the items, then the file) would cost its size.
    out = io.BytesIO()
    for piece in _pieces(document):
        out.write(piece)
    return out.getvalue()  # the buffer itself, not a copy


def _pieces(document: dict[str, Any]) -> Iterator[bytes]:
    """`_dump`'s bytes, a piece at a time (the build writes them to the file as they come)."""
    yield b"{\n"
    for n, (key, value) in enumerate(document.items()):
        yield (b",\n" if n else b"") + f" {_compact(key)}: ".encode()
        if not isinstance(value, (list, Iterator)):
            yield _compact(value).encode("utf-8")
            continue
        separator = b"[\n  "
        for item in value:
            yield separator
            separator = b",\n  "
            if isinstance(item, bytes):  # an event's line as the build keeps it: UTF-8 already
                yield item
            else:
                yield (item if isinstance(item, Encoded) else _compact(item)).encode("utf-8")
        yield b"[]" if separator == b"[\n  " else b"\n ]"
    yield b"\n}\n"


def _region(region: Region) -> dict[str, Any]:
    return {"id": region.id, "names": dict(region.names), "parent": region.parent}


def events_json(archive: Archive, edition: Edition, lines: Lines = event_lines) -> bytes:
    """The whole archive; `commit` and `release` say which version of it this is. `lines` makes
    the events' lines (the build passes one that reuses the lines of unchanged events)."""
    return _dump(_events_document(archive, edition, lines))


def _events_document(archive: Archive, edition: Edition, lines: Lines) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "title": archive.site.title,
        "base_url": archive.site.base_url,
        "license": archive.site.license,
        "generated_by": GENERATED_BY,
        "commit": edition.commit or None,
        "release": edition.release.tag if edition.release else None,
        "regions": [_region(r) for r in archive.regions],
        "publishers": [
            {"id": p.id, "name": p.name, "type": p.type, "url": p.url, "description": p.description}
            for p in archive.publishers
        ],
        "events": iter(lines(timeline.in_date_order(archive.events), archive.site.base_url)),
    }


def sources_json(archive: Archive) -> bytes:
    """Each publisher of sources.yaml with the entries citing it, in date order."""
    citing: dict[str, list[str]] = {p.id: [] for p in archive.publishers}
    for event in timeline.in_date_order(archive.events):
        for source_id in dict.fromkeys(s.id for s in event.sources):
            if source_id in citing:
                citing[source_id].append(event.id)
    return _dump(
        {
            "schema_version": SCHEMA_VERSION,
            "sources": [
                {
                    "id": p.id,
                    "name": p.name,
                    "type": p.type,
                    "url": p.url,
                    "description": p.description,
                    "events": citing[p.id],
                }
                for p in archive.publishers
            ],
        }
    )


def region_json(archive: Archive, tree: timeline.RegionTree, region_id: str) -> bytes:
    """A region as its page shows it: the same roll-up of events and the same totals."""
    region = tree.regions[region_id]
    events = tree.events(region_id)
    base_url = archive.site.base_url
    return _dump(
        {
            "schema_version": SCHEMA_VERSION,
            "region": {
                **_region(region),
                "url": f"{base_url}regions/{region_id}/",
                "ancestors": tree.ancestors(region_id),
                "children": list(tree.children[region_id]),
            },
            "totals": [
                {
                    "measure": total.measure,
                    "group": total.group,
                    "low": total.low,
                    "high": total.high,
                    "exact": total.exact,
                    "events": total.events,
                }
                for total in timeline.totals(events, archive.site.measures)
            ],
            "events": [{"id": e.id, "url": base_url + e.url} for e in events],
        }
    )


def _title(snapshot: Snapshot) -> str | None:
    title = snapshot.get("title") if snapshot else None
    return title if isinstance(title, str) else None


def deleted_json(history: History | None) -> bytes:
    removed = history.removed if history else ()
    return _dump(
        {
            "schema_version": SCHEMA_VERSION,
            "removed": [
                {
                    "id": r.id,
                    "path": r.path,
                    "title": _title(r.last),
                    "commit": r.commit,
                    "date": r.date,
                    "subject": r.subject,
                }
                for r in removed
            ],
        }
    )


def events_json_frame(archive: Archive, edition: Edition) -> tuple[bytes, bytes, bytes]:
    """What events.json holds before its first event's line, between two lines, and after the
    last (for an archive with events): the build puts the file together from the lines it keeps."""
    empty = _dump(_events_document(archive, edition, lambda events, base_url: []))
    head = empty.removesuffix(b"[]\n}\n")
    assert len(head) < len(empty), "events.json's form changed: see _pieces"
    return head + b"[\n  ", b",\n  ", b"\n ]\n}\n"


def events_json_pieces(archive: Archive, edition: Edition, lines: Lines) -> Iterator[bytes]:
    """events.json a piece at a time, for the build to write as they come (at 100,000 entries
    the file is over 100 MB: never held whole)."""
    return _pieces(_events_document(archive, edition, lines))


def data_files(archive: Archive, history: History | None, edition: Edition) -> dict[str, bytes]:
    """Every file of data/, by its path in the edition."""
    return {path: make() for path, make in file_makers(archive, history, edition).items()}


def file_makers(
    archive: Archive,
    history: History | None,
    edition: Edition,
    lines: Lines = event_lines,
) -> dict[str, Callable[[], bytes]]:
    """Every file of data/, by its path in the edition, made when called (the build makes only
    those whose inputs changed)."""
    tree = timeline.RegionTree(archive.regions, archive.events)
    files: dict[str, Callable[[], bytes]] = {
        "data/events.json": partial(events_json, archive, edition, lines),
        "data/events.csv": partial(datacsv.events_csv, archive),
        "data/tallies.csv": partial(datacsv.tallies_csv, archive),
        "data/sources.json": partial(sources_json, archive),
        "data/deleted.json": partial(deleted_json, history),
    }
    files.update({f"data/regions/{r}.json": partial(region_json, archive, tree, r) for r in tree.regions})
    files.update({f"data/{name}": partial(dataschema.schema_json, name) for name in dataschema.SCHEMAS})
    return files


@dataclass(frozen=True)
class DataFile:
    """One file as the data page describes it (`key` names its description in the strings table)."""

    path: str
    key: str
    schema: str = ""
    columns: tuple[str, ...] = ()


FILES = (
    DataFile("data/events.json", "events_json", "data/events.schema.json"),
    DataFile("data/sources.json", "sources_json", "data/sources.schema.json"),
    DataFile("data/deleted.json", "deleted_json", "data/deleted.schema.json"),
    DataFile("data/events.csv", "events_csv", columns=datacsv.EVENT_COLUMNS),
    DataFile("data/tallies.csv", "tallies_csv", columns=datacsv.TALLY_COLUMNS),
)


def page_context() -> dict[str, Any]:
    """What data.html needs beyond the common context: the files, as the code writes them."""
    return {
        "schema_version": SCHEMA_VERSION,
        "files": FILES,
        "region_schema": "data/region.schema.json",
        "feed_size": feeds.FEED_SIZE,
    }
