"""`site-builder schema`: write the JSON Schema of front matter and registries, for editors.

    site-builder schema [--output docs/schema] [--content content]

writes five JSON Schema (draft 2020-12) files: `event.schema.json` (an event's front matter),
`page.schema.json` (a page's front matter), `site.schema.json`, `regions.schema.json` and
`sources.schema.json`. Editors that check YAML against a JSON Schema (VS Code's YAML extension,
JetBrains IDEs) use them to complete field names, show each field's description on hover and flag
mistakes as the contributor types; VS Code's YAML extension reads .yaml files, not the front matter
of Markdown files. `site-builder check` stays the authority: the schemas follow the
validator (parse.py, fields.py) field by field, and tests/test_schema.py runs the entry fixtures
through both.

Editors read YAML 1.2, where `2025`, `1.10` or `true` are numbers and booleans; site-builder keeps
every value as the text written. So text fields also accept numbers and booleans, ids accept whole
numbers and dates accept a bare year: what the validator accepts, the editor does not flag.

Only keywords that draft-07 tools also understand are used (YAML language servers implement
draft-07): no `dependentRequired`, `prefixItems` or `unevaluatedProperties`. `$defs` entries carry
no `description`, so the one written next to each `$ref` is the one an editor shows.
`patternErrorMessage`, which JSON Schema validators ignore, gives editors a readable message.

What a JSON Schema cannot check is said in each schema's top `description` (NOT_CHECKED).

The event schema's measures are the built-in ones plus those `site.yaml` in --content adds. The
output is deterministic, the same bytes for the same input, so the files can be committed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import fields
from .errors import Problem
from .model import GRADES, MEASURES, QUALIFIERS, STATEMENT_KINDS, STATUSES
from .parse import parse_site

Schema = dict[str, Any]

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:site-builder:schema:"
DEFAULT_OUTPUT = Path("docs/schema")
DEFAULT_CONTENT = Path("content")
NAMES = ("event", "page", "site", "regions", "sources")


def file_name(name: str) -> str:
    return f"{name}.schema.json"


# --- value types -----------------------------------------------------------------------------


def _date_pattern() -> str:
    """YYYY, YYYY-MM or YYYY-MM-DD that exist (month lengths, leap years, no year 0), optionally
    followed by ?, ~ or %; or two of those joined by '/'. Only the order of an interval's ends is
    left to the validator."""
    year = "(?!0000)[0-9]{4}"
    month = "(?:0[1-9]|1[0-2])"
    day_31 = "(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    day_30 = "(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    day_28 = "02-(?:0[1-9]|1[0-9]|2[0-8])"
    multiple_of_4 = "(?:0[48]|[2468][048]|[13579][26])"
    leap_year = f"(?:[0-9]{{2}}{multiple_of_4}|{multiple_of_4}00)"
    part = f"(?:{year}(?:-(?:{month}|{day_31}|{day_30}|{day_28}))?|{leap_year}-02-29)[?~%]?"
    return f"^{part}(?:/{part})?$"


DATE_PATTERN = _date_pattern()
URL_PATTERN = "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]"  # what urlsplit reads as an http(s) scheme and a host
NOT_BLANK = "\\S"
ID_MESSAGE = "Not a valid id: use lowercase letters, digits and '-'."
LANGUAGE_MESSAGE = "Not a BCP 47 language tag (e.g. en, ar, fr-CA)."

NOTHING: Schema = {"type": "null"}

DEFS: dict[str, Schema] = {
    # Every scalar is text to site-builder; YAML 1.2 editors see 1.10 or true as numbers and booleans.
    "text": {
        "type": ["string", "number", "boolean"],
        "pattern": NOT_BLANK,
        "patternErrorMessage": "Must not be empty.",
    },
    # An id of digits only (a tag such as 2025) is a number to the editor.
    "id": {
        "type": ["string", "integer"],
        "pattern": fields.SLUG.pattern,
        "patternErrorMessage": ID_MESSAGE,
        "minimum": 0,
    },
    # A bare year (2025) is a number to the editor.
    "date": {
        "type": ["string", "integer"],
        "pattern": DATE_PATTERN,
        "patternErrorMessage": (
            "Not a date that exists: use YYYY, YYYY-MM or YYYY-MM-DD, optionally followed by ? (uncertain), "
            "~ (approximate) or % (both), or two dates joined by / for an interval."
        ),
        "minimum": 1000,
        "maximum": 9999,
        "examples": ["2025-03-08", "2025-03", "2025", "2025-03-07/2025-03-08", "2025-03-08~"],
    },
    "count": {"type": "integer", "minimum": 0, "maximum": fields.MAX_COUNT},
    "url": {
        "type": "string",
        "pattern": URL_PATTERN,
        "patternErrorMessage": "Not an http or https URL.",
    },
    "language": {
        "type": "string",
        "pattern": fields.LANGUAGE.pattern,
        "patternErrorMessage": LANGUAGE_MESSAGE,
    },
    "grade": {"enum": list(GRADES)},
    "ids": {"type": "array", "items": {"$ref": "#/$defs/id"}},
}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


def _field(description: str, schema: Schema) -> Schema:
    """A field that must have a value when its key is given: required fields, and a tally's figures."""
    return {"description": description, **schema}


def _optional(description: str, schema: Schema, default: Any = None) -> Schema:
    """An optional field: its value, or nothing (`key:`, `~` and `null` mean "not given")."""
    out: Schema = {"description": description, "anyOf": [schema, NOTHING]}
    if default is not None:
        out["default"] = default
    return out


def _record(properties: dict[str, Schema], required: tuple[str, ...], **extra: Any) -> Schema:
    return {
        "type": "object",
        "required": list(required),
        "properties": properties,
        "additionalProperties": False,
        **extra,
    }


def _document(name: str, title: str, description: str, body: Schema) -> Schema:
    schema: Schema = {"$schema": DIALECT, "$id": ID_PREFIX + name, "title": title, "description": description}
    schema.update(body)
    used = sorted(_refs(schema))
    if used:
        schema["$defs"] = {key: DEFS[key] for key in used}
    return schema


def _refs(schema: Any) -> Iterator[str]:
    """Names of the $defs a schema uses, directly or through other $defs."""
    seen: set[str] = set()
    stack = [schema]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                name = ref.removeprefix("#/$defs/")
                if name not in seen:
                    seen.add(name)
                    yield name
                    stack.append(DEFS[name])
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


# --- what a schema cannot check ----------------------------------------------------------------

YAML_RULES = (
    "YAML features that site-builder refuses before any field is read: anchors (&name), aliases (*name), "
    "tags (!tag, !!str), duplicate keys and more than one document"
)

NOT_CHECKED: dict[str, tuple[str, ...]] = {
    "event": (
        "the event's id, which is its file name (lowercase letters, digits and '-', unique in the archive)",
        "an interval that ends before it starts (2025-03-08/2025-03-07)",
        "a tally's low greater than its high",
        "a source id listed twice in one event",
        "a tally or statement citing a source the event does not list",
        "region ids missing from regions.yaml, and a source that is neither in sources.yaml nor has a name",
        "links in the narrative below the front matter",
        YAML_RULES,
    ),
    "page": (
        "the page's slug, which is its file name (reserved: events, regions, tags, sources, search, pagefind, assets)",
        "links in the text below the front matter",
        YAML_RULES,
    ),
    "site": (YAML_RULES,),
    "regions": (
        "a region id defined twice",
        "a parent that is not a region, and parents that form a cycle",
        YAML_RULES,
    ),
    "sources": ("a source id defined twice", YAML_RULES),
}


def _description(name: str, summary: str) -> str:
    rules = "; ".join(NOT_CHECKED[name])
    return (
        f"{summary} Generated by `site-builder schema` from the rules `site-builder check` applies; regenerate it "
        f"rather than editing it (see docs/content-format.md). Not checked by this schema, only by "
        f"`site-builder check`: {rules}. Text fields accept numbers and true/false too, because a YAML 1.2 editor "
        f"reads `1.10` or `true` as such while site-builder keeps the text as written."
    )


# --- the five schemas -------------------------------------------------------------------------


def event_schema(measures: tuple[str, ...] = MEASURES) -> Schema:
    extra = [m for m in measures if m not in MEASURES]
    measure_note = (
        f"It lists the built-in measures ({', '.join(MEASURES)})"
        + (f" and those this archive's site.yaml adds ({', '.join(extra)})" if extra else "")
        + "; an archive whose site.yaml adds measures regenerates it with `site-builder schema --content DIR`."
    )
    tally = _record(
        {
            "measure": _field(
                "What is counted: killed, injured, missing, detained, displaced, or a measure listed in site.yaml.",
                {"enum": list(measures)},
            ),
            "group": _optional(
                "Who is counted, e.g. all, civilians, security-forces, combatants. Put the source's own words in "
                "verbatim.",
                _ref("id"),
                default="all",
            ),
            "count": _field("A single figure: digits only, no commas, spaces, signs or decimal point.", _ref("count")),
            "low": _field("The lower end of a range; give high too, and not count.", _ref("count")),
            "high": _field("The upper end of a range; give low too, and not count.", _ref("count")),
            "qualifier": _optional("How precise the source was.", {"enum": list(QUALIFIERS)}, default="exact"),
            "verbatim": _optional(
                "The source's own words for the figure, e.g. 'exceeded 1,000'. Use it whenever the figure is not "
                "exactly as stated.",
                _ref("text"),
            ),
            "as_of": _optional("When the source stated the figure (not when it happened).", _ref("date")),
            "scope": _optional("Part of the event the figure covers, e.g. Latakia or northern Lebanon.", _ref("text")),
            "source": _field("The id of one of this event's sources.", _ref("id")),
        },
        ("measure", "source"),
        oneOf=[
            {"required": ["count"], "not": {"anyOf": [{"required": ["low"]}, {"required": ["high"]}]}},
            {"required": ["low", "high"], "not": {"required": ["count"]}},
        ],
    )
    statement = _record(
        {
            "speaker": _field(
                "A person, body or group, as the source names it ('Activists on the ground').", _ref("text")
            ),
            "role": _optional("The speaker's role, e.g. UN Special Envoy for Syria.", _ref("text")),
            "organization": _optional("The speaker's organisation, e.g. United Nations.", _ref("text")),
            "date": _optional("When the statement was made, if the source says.", _ref("date")),
            "kind": _optional(
                "quote only where the source gives the words verbatim (text is then exactly those words); "
                "paraphrase otherwise.",
                {"enum": list(STATEMENT_KINDS)},
                default="paraphrase",
            ),
            "text": _field(
                "The quoted words, or the paraphrase. A paraphrase may contain quoted fragments in quotation marks.",
                _ref("text"),
            ),
            "source": _optional("The id of one of this event's sources.", _ref("id")),
        },
        ("speaker", "text"),
    )
    source = _record(
        {
            "id": _field(
                "Unique within the event; tallies and statements refer to it. When it matches an id in sources.yaml, "
                "the publisher's details come from there.",
                _ref("id"),
            ),
            "name": _optional("The publisher's name; needed unless the id is in sources.yaml.", _ref("text")),
            "title": _optional("Title of the article, report or statement.", _ref("text")),
            "url": _optional("http or https address. Leave it out when unknown; never guess one.", _ref("url")),
            "archive_url": _optional("A preserved copy, e.g. in a web archive (http or https).", _ref("url")),
            "published": _optional(
                "When the item was published; an interval if only known to within days.", _ref("date")
            ),
            "accessed": _optional("When it was read.", _ref("date")),
            "language": _optional("Language of the item, a BCP 47 tag such as en, ar or pt-BR.", _ref("language")),
        },
        ("id",),
    )
    confidence = _record(
        {
            "grade": _field("How well the sources support the account.", _ref("grade")),
            "note": _optional("Why; state facts about the sources rather than opinions.", _ref("text")),
        },
        ("grade",),
    )
    body = _record(
        {
            "title": _field("The event's title.", _ref("text")),
            "summary": _optional("One or two sentences, shown on timelines and lists.", _ref("text")),
            "date": _field(
                "When it happened: YYYY, YYYY-MM or YYYY-MM-DD, optionally followed by ? (uncertain), ~ (approximate) "
                "or % (both); an interval joins two dates with /, e.g. 2025-03-07/2025-03-08.",
                _ref("date"),
            ),
            "regions": _field(
                "Ids of the regions it happened in, at least one; each must exist in regions.yaml.",
                {**_ref("ids"), "minItems": 1},
            ),
            "tags": _optional("Descriptive tags, e.g. displacement, protest, background.", _ref("ids")),
            "status": _optional(
                "published: a normal entry. disputed: shown with a notice that the account is disputed. retracted: "
                "kept and shown with a notice that it has been retracted. draft: not built at all.",
                {"enum": list(STATUSES)},
                default="published",
            ),
            "confidence": _optional(
                "A grade (confirmed, fair, weak, contested), or a mapping of grade and a note saying why.",
                {"anyOf": [_ref("grade"), confidence]},
            ),
            "tallies": _optional(
                "Figures, each as one source stated it on one date. Never merge figures from different sources; when "
                "a source revises a figure, add a tally with the new as_of and keep the old one.",
                {"type": "array", "items": tally},
            ),
            "statements": _optional("Quotes and paraphrases.", {"type": "array", "items": statement}),
            "sources": _field(
                "What the event is based on, at least one, primary sources first: they are numbered in this order, "
                "which also breaks ties between figures.",
                {"type": "array", "items": source, "minItems": 1},
            ),
            "aliases": _optional(
                "Former ids of this event, so that links to its old address keep working.", _ref("ids")
            ),
        },
        ("title", "date", "regions", "sources"),
    )
    summary = (
        "The YAML front matter of an event file, content/events/<year>/<id>.md, between the two --- lines. "
        + measure_note
    )
    return _document("event", "site-builder event front matter", _description("event", summary), body)


def page_schema() -> Schema:
    body = _record(
        {
            "title": _field("The page's title.", _ref("text")),
            "description": _optional("One line describing the page.", _ref("text")),
            "order": _optional(
                "Position in the navigation; lower comes first. Digits only.", _ref("count"), default=100
            ),
        },
        ("title",),
    )
    summary = "The YAML front matter of a page, content/pages/<slug>.md, between the two --- lines."
    return _document("page", "site-builder page front matter", _description("page", summary), body)


def site_schema() -> Schema:
    body = _record(
        {
            "title": _field("Site name.", _ref("text")),
            "description": _field("One or two sentences, used on the home page and in metadata.", _ref("text")),
            "base_url": _field(
                "Absolute http:// or https:// URL where the site will be published; a final / is added if missing.",
                _ref("url"),
            ),
            "language": _optional(
                "Language of the site, a BCP 47 tag such as en, ar or pt-BR. Also chooses which region names are "
                "shown.",
                _ref("language"),
                default="en",
            ),
            "measures": _optional(
                "Extra measures beyond the built-in killed, injured, missing, detained and displaced; they come after "
                "them. Regenerate the event schema with `site-builder schema` after changing them.",
                _ref("ids"),
            ),
            "license": _optional("Licence of the archive's text, shown on the site.", _ref("text")),
            "release_tags": _optional(
                "Which Git tags are releases, as a glob; `site-builder build --versions` builds each into "
                "versions/<tag>/.",
                _ref("text"),
                default="v*",
            ),
        },
        ("title", "description", "base_url"),
    )
    summary = "content/site.yaml: the site's settings."
    return _document("site", "site-builder site.yaml", _description("site", summary), body)


def regions_schema() -> Schema:
    names = {
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"pattern": fields.LANGUAGE.pattern, "patternErrorMessage": LANGUAGE_MESSAGE},
        "additionalProperties": _ref("text"),
    }
    region = _record(
        {
            "id": _field("Unique. Used in events' regions and in the region's URL.", _ref("id")),
            "name": _field(
                "The region's name, or a mapping of language code to name, e.g. {en: Syria, ar: سوريا}. With a "
                "mapping, the site's language is used, else en, else the first name given.",
                {"anyOf": [_ref("text"), names]},
            ),
            "parent": _optional("The id of the region this one lies in.", _ref("id")),
        },
        ("id", "name"),
    )
    body = {"type": ["array", "null"], "items": region}
    summary = "content/regions.yaml: a list of the regions events happen in, forming a tree through parent."
    return _document("regions", "site-builder regions.yaml", _description("regions", summary), body)


def sources_schema() -> Schema:
    publisher = _record(
        {
            "id": _field("Unique. An event source with this id takes its details from here.", _ref("id")),
            "name": _field("Full name.", _ref("text")),
            "type": _optional(
                "Kind of publisher, e.g. monitor, news-agency, government, united-nations, commission, news-report.",
                _ref("text"),
            ),
            "url": _optional(
                "The publisher's home page (http or https). Leave it out if unknown; never guess one.", _ref("url")
            ),
            "description": _optional("A line or two about the publisher.", _ref("text")),
        },
        ("id", "name"),
    )
    body = {"type": ["array", "null"], "items": publisher}
    summary = "content/sources.yaml: the registry of publishers (organisations and outlets) cited by events."
    return _document("sources", "site-builder sources.yaml", _description("sources", summary), body)


def generate(measures: tuple[str, ...] = MEASURES) -> dict[str, Schema]:
    """Every schema by name (event, page, site, regions, sources)."""
    return {
        "event": event_schema(measures),
        "page": page_schema(),
        "site": site_schema(),
        "regions": regions_schema(),
        "sources": sources_schema(),
    }


def render(schema: Schema) -> str:
    """The text of a schema file: stable key order as built, two-space indent, final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def site_measures(content: Path) -> tuple[tuple[str, ...], list[Problem]]:
    """The measures of `content`/site.yaml, the built-in ones without one; problems if it does not read."""
    path = content / "site.yaml"
    label = f"{content.as_posix().rstrip('/')}/site.yaml"
    if path.is_symlink():
        return MEASURES, [Problem(label, 1, "symbolic links are not followed: replace the link with the file")]
    if not path.is_file():
        return MEASURES, []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return MEASURES, [Problem(label, 1, f"cannot read: {exc}")]
    site, problems = parse_site(text, label)
    if site is None or problems:
        return MEASURES, problems
    return site.measures, []


# --- command ---------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Write the JSON Schema (draft 2020-12) of event and page front matter, site.yaml, regions.yaml and "
        "sources.yaml, for editors to complete and check fields as you type."
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help=f"folder to write to (default: {DEFAULT_OUTPUT})"
    )
    parser.add_argument(
        "--content",
        type=Path,
        default=DEFAULT_CONTENT,
        help="content folder whose site.yaml may add measures (default: content)",
    )


def run(args: argparse.Namespace) -> int:
    measures, problems = site_measures(args.content)
    if problems:
        for problem in sorted(problems):
            print(problem, file=sys.stderr)
        print("site.yaml has errors, so its measures are unknown; nothing was written.", file=sys.stderr)
        return 1
    output: Path = args.output
    try:
        output.mkdir(parents=True, exist_ok=True)
        for name, schema in generate(measures).items():
            path = output / file_name(name)
            path.write_text(render(schema), encoding="utf-8", newline="\n")
            print(path.as_posix())
    except OSError as exc:
        print(f"site-builder: error: cannot write the schema: {exc}", file=sys.stderr)
        return 1
    return 0
