"""JSON Schemas (draft 2020-12) of the JSON data files, written beside them into data/.

Every object requires all its properties and allows no others, so validating the exports against
these schemas (tests/test_data.py) also checks that code and schema agree. The files carry no
`$schema` key: in JSON Schema that keyword belongs to schemas, and a relative reference is not
allowed there. A file's schema is the one of the same name: events.json -> events.schema.json.
"""

from __future__ import annotations

import json
from typing import Any

from .model import GRADES, QUALIFIERS, STATEMENT_KINDS, STATUSES

DRAFT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_VERSION = 1
Schema = dict[str, Any]

TEXT: Schema = {"type": "string"}
SLUG: Schema = {"type": "string", "pattern": "^[a-z0-9-]+$"}
SLUGS: Schema = {"type": "array", "items": SLUG}
COUNT: Schema = {"type": ["integer", "null"], "minimum": 0}
DAY: Schema = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
URL: Schema = {"type": "string", "description": "an absolute http(s) address, or empty"}
DATE: Schema = {"$ref": "#/$defs/date"}
DATE_OR_NULL: Schema = {"anyOf": [DATE, {"type": "null"}]}
DATE_DEF: Schema = {
    "type": "object",
    "description": "an EDTF date as the entry gives it, with its first and last possible day",
    "properties": {"text": TEXT, "first": DAY, "last": DAY},
    "required": ["text", "first", "last"],
    "additionalProperties": False,
}


def _object(properties: dict[str, Schema], description: str = "") -> Schema:
    schema: Schema = {"type": "object"}
    if description:
        schema["description"] = description
    return {**schema, "properties": properties, "required": list(properties), "additionalProperties": False}


def _document(title: str, properties: dict[str, Schema]) -> Schema:
    return {"$schema": DRAFT, "title": title, **_object(properties), "$defs": {"date": DATE_DEF}}


def _described(schema: Schema, description: str) -> Schema:
    return {**schema, "description": description}


VERSION: Schema = _described({"const": SCHEMA_VERSION}, "changes when a field's meaning changes or a field goes away")
REGION: Schema = _object(
    {
        "id": SLUG,
        "names": _described(
            {"type": "object", "additionalProperties": TEXT}, 'language code -> name; "" for an untranslated name'
        ),
        "parent": {"anyOf": [SLUG, {"type": "null"}]},
    }
)
TALLY: Schema = _object(
    {
        "measure": SLUG,
        "group": SLUG,
        "count": _described(COUNT, "the figure; null when the source gave a range (low, high)"),
        "low": COUNT,
        "high": COUNT,
        "qualifier": {"enum": list(QUALIFIERS)},
        "verbatim": _described(TEXT, "the figure in the source's own words"),
        "as_of": _described(DATE_OR_NULL, "when the figure was stated"),
        "scope": _described(TEXT, "what part of the event the figure covers; empty: all of it"),
        "source": _described(SLUG, "id of one of the entry's sources"),
        "chosen": _described(
            {"type": "boolean"}, "the figure region totals count for the event (one per measure and group)"
        ),
    },
    "one figure, as one source stated it; figures are never added across sources",
)
STATEMENT: Schema = _object(
    {
        "speaker": TEXT,
        "role": TEXT,
        "organization": TEXT,
        "date": DATE_OR_NULL,
        "kind": {"enum": list(STATEMENT_KINDS)},
        "text": TEXT,
        "source": SLUG,
    }
)
SOURCE: Schema = _object(
    {
        "id": _described(SLUG, "the publisher's id in sources.json"),
        "name": _described(TEXT, "the name as this entry gives it; empty: the publisher's name"),
        "title": TEXT,
        "url": URL,
        "archive_url": URL,
        "published": DATE_OR_NULL,
        "accessed": DATE_OR_NULL,
        "language": TEXT,
    }
)
EVENT: Schema = _object(
    {
        "id": SLUG,
        "url": _described(TEXT, "the event's permanent address"),
        "title": TEXT,
        "summary": TEXT,
        "date": DATE,
        "regions": SLUGS,
        "tags": SLUGS,
        "status": {"enum": [s for s in STATUSES if s != "draft"]},
        "confidence": {"anyOf": [_object({"grade": {"enum": list(GRADES)}, "note": TEXT}), {"type": "null"}]},
        "tallies": {"type": "array", "items": TALLY},
        "statements": {"type": "array", "items": STATEMENT},
        "sources": {"type": "array", "items": SOURCE},
        "aliases": _described(SLUGS, "former ids; their old addresses redirect here"),
        "narrative": _described(TEXT, "the entry's text, in Markdown (raw HTML in it is shown as text)"),
    }
)
PUBLISHER: Schema = {"id": SLUG, "name": TEXT, "type": TEXT, "url": URL, "description": TEXT}

SCHEMAS: dict[str, Schema] = {
    "events.schema.json": _document(
        "events.json: every published entry of the archive",
        {
            "schema_version": VERSION,
            "title": TEXT,
            "base_url": TEXT,
            "license": TEXT,
            "generated_by": _described(TEXT, '"site-builder <version>"'),
            "commit": _described({"type": ["string", "null"]}, "the Git commit built, when known"),
            "release": _described({"type": ["string", "null"]}, "the release tag; null for the current archive"),
            "regions": {"type": "array", "items": REGION},
            "publishers": {"type": "array", "items": _object(PUBLISHER)},
            "events": {"type": "array", "items": EVENT},
        },
    ),
    "sources.schema.json": _document(
        "sources.json: the sources registry and the entries citing each",
        {
            "schema_version": VERSION,
            "sources": {"type": "array", "items": _object({**PUBLISHER, "events": SLUGS})},
        },
    ),
    "region.schema.json": _document(
        "regions/<id>.json: one region, its totals and its events, as its page shows them",
        {
            "schema_version": VERSION,
            "region": _object(
                {**REGION["properties"], "url": TEXT, "ancestors": SLUGS, "children": SLUGS},
                "ancestors from the top of the hierarchy down to the parent",
            ),
            "totals": {
                "type": "array",
                "items": _object(
                    {
                        "measure": SLUG,
                        "group": SLUG,
                        "low": {"type": "integer", "minimum": 0},
                        "high": _described(COUNT, "null: open-ended ('at least')"),
                        "exact": {"type": "boolean"},
                        "events": _described({"type": "integer", "minimum": 1}, "how many events the total adds"),
                    },
                    "the chosen figure of each event of the region and its sub-regions, added once per event",
                ),
            },
            "events": {"type": "array", "items": _object({"id": SLUG, "url": TEXT})},
        },
    ),
    "deleted.schema.json": _document(
        "deleted.json: entries removed from the archive (from Git history)",
        {
            "schema_version": VERSION,
            "removed": {
                "type": "array",
                "items": _object(
                    {
                        "id": SLUG,
                        "path": TEXT,
                        "title": {"type": ["string", "null"]},
                        "commit": TEXT,
                        "date": DAY,
                        "subject": TEXT,
                    }
                ),
            },
        },
    ),
}


def schema_json(name: str) -> bytes:
    return (json.dumps(SCHEMAS[name], ensure_ascii=False, indent=1) + "\n").encode("utf-8")
