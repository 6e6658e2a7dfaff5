"""Data files for researchers and tools: data/events.json (the archive) and data/deleted.json.

Every figure keeps its source, qualifier and as-of date; nothing is summed. `schema_version`
changes only when a field's meaning does.
"""

from __future__ import annotations

import json
from typing import Any

from .dates import EdtfDate
from .model import Archive, Event, History

SCHEMA_VERSION = 1


def _date(value: EdtfDate | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {"text": value.text, "first": value.first.isoformat(), "last": value.last.isoformat()}


def _event(event: Event, base_url: str) -> dict[str, Any]:
    return {
        "id": event.id,
        "url": f"{base_url}events/{event.id}/",
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
    }


def _dump(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=1, sort_keys=False) + "\n").encode("utf-8")


def events_json(archive: Archive) -> bytes:
    events = sorted(archive.events, key=lambda e: (e.date.sort_key, e.id))
    return _dump(
        {
            "schema_version": SCHEMA_VERSION,
            "title": archive.site.title,
            "base_url": archive.site.base_url,
            "license": archive.site.license,
            "regions": [{"id": r.id, "names": dict(r.names), "parent": r.parent} for r in archive.regions],
            "publishers": [
                {"id": p.id, "name": p.name, "type": p.type, "url": p.url, "description": p.description}
                for p in archive.publishers
            ],
            "events": [_event(e, archive.site.base_url) for e in events],
        }
    )


def deleted_json(history: History | None) -> bytes:
    removed = history.removed if history else ()
    return _dump(
        {
            "schema_version": SCHEMA_VERSION,
            "removed": [
                {
                    "id": r.id,
                    "path": r.path,
                    "title": r.last.get("title") if isinstance(r.last, dict) else None,
                    "commit": r.commit,
                    "date": r.date,
                    "subject": r.subject,
                }
                for r in removed
            ],
        }
    )
