"""Parse one content file from its text: pure functions, no file system.

Each `parse_*` returns the record(s) it could build and every problem found, with file lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import PurePosixPath
from typing import Any, TypeVar

from . import fields as f
from .errors import Problem, Problems
from .markdown import Rendered, TooDeep, TooSlow, render_body, time_limit, unsafe_links
from .model import (
    GRADES,
    MEASURES,
    QUALIFIERS,
    STATEMENT_KINDS,
    STATUSES,
    Confidence,
    Event,
    Page,
    Publisher,
    Region,
    Site,
    Source,
    Statement,
    Tally,
)
from .yamlnodes import Map, Node, Scalar, YamlError, parse_yaml


def _load(text: str, problems: Problems) -> Node | None:
    try:
        return parse_yaml(text, problems.line_offset)
    except YamlError as exc:
        problems.add(exc.line, exc.message, exc.col)
        return None


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, first line of body), or None when the file has no front matter.

    The front matter runs from a first line `---` to the next line `---` or `...` (each with
    trailing white space or not).
    """
    text = text.lstrip("\ufeff")
    opening = text.find("\n")
    if opening < 0 or text[:opening].rstrip() != "---":
        return None
    at = opening  # the line break before each candidate closing line
    while True:
        dashes, dots = text.find("\n---", at), text.find("\n...", at)
        at = dashes if dots < 0 or 0 <= dashes < dots else dots
        if at < 0:
            return None
        end = text.find("\n", at + 1)
        end = len(text) if end < 0 else end
        if text[at + 1 : end].rstrip() in ("---", "..."):
            return text[opening + 1 : at], text[end + 1 :], text.count("\n", 0, at + 1) + 2
        at += 1


def _values(found: dict[str, tuple[Node, Any]]) -> dict[str, Any]:
    return {key: value for key, (_, value) in found.items()}


def _records(
    spec: dict[str, Callable[..., Any]],
    required: tuple[str, ...],
    what: str,
    build: Callable[..., Any],
    plural: str = "",
    non_empty: bool = False,
) -> Callable[[Node, Problems], list[Any]]:
    """A reader for a list of mappings, each turned into a record by `build(values, node, problems)`."""

    def read(node: Node, problems: Problems) -> list[Any]:
        if not isinstance(node, f.Seq):
            raise f.FieldError(node, f"expected a list of {plural or what + 's'}, found {f._kind(node)}")
        if non_empty and not node.items:
            raise f.FieldError(node, f"must list at least one {what}")
        out = []
        for item in node.items:
            found = read_mapping(item, spec, required, problems, what)
            if found is not None:
                record = build(_values(found), item, problems)
                if record is not None:
                    out.append(record)
        return out

    read.collects = True  # type: ignore[attr-defined]
    return read


read_mapping = f.read_mapping


# --- events ---------------------------------------------------------------------------------


def _tally(values: dict[str, Any], node: Node, problems: Problems) -> Tally | None:
    figures = ("count", "low", "high")
    if isinstance(node, Map) and any(
        k not in values and isinstance(v := node.get(k), Scalar) and not v.is_null for k in figures if k in node.keys
    ):
        return None  # a figure that did not read has been reported already
    count, low, high = values.get("count"), values.get("low"), values.get("high")
    if count is not None and (low is not None or high is not None):
        problems.add(node.line, "a tally has either 'count' or 'low'/'high', not both", node.col)
        return None
    if count is None and (low is None or high is None):
        problems.add(node.line, "a tally needs 'count', or both 'low' and 'high'", node.col)
        return None
    if low is not None and high is not None and low > high:
        problems.add(node.line, f"low ({low}) is greater than high ({high})", node.col)
        return None
    return Tally(line=node.line + problems.line_offset, **values)


def _statement(values: dict[str, Any], node: Node, problems: Problems) -> Statement:
    return Statement(line=node.line + problems.line_offset, **values)


def _source(values: dict[str, Any], node: Node, problems: Problems) -> Source:
    return Source(number=0, line=node.line + problems.line_offset, **values)


def _confidence(node: Node, problems: Problems) -> Confidence | None:
    if isinstance(node, Scalar):
        return Confidence(f.choice(*GRADES)(node))
    found = read_mapping(node, {"grade": f.choice(*GRADES), "note": f.text}, ("grade",), problems, "confidence")
    return None if found is None else Confidence(**_values(found))


_confidence.collects = True  # type: ignore[attr-defined]


@cache
def event_spec(measures: tuple[str, ...] = MEASURES) -> dict[str, Callable[..., Any]]:
    """The readers of an event's fields (one dict per set of measures: do not change it)."""
    tally = {
        "measure": f.choice(*measures),
        "group": f.slug,
        "count": f.integer,
        "low": f.integer,
        "high": f.integer,
        "qualifier": f.choice(*QUALIFIERS),
        "verbatim": f.text,
        "as_of": f.edtf,
        "scope": f.text,
        "source": f.slug,
    }
    statement = {
        "speaker": f.text,
        "role": f.text,
        "organization": f.text,
        "date": f.edtf,
        "kind": f.choice(*STATEMENT_KINDS),
        "text": f.text,
        "source": f.slug,
    }
    source = {
        "id": f.slug,
        "name": f.text,
        "title": f.text,
        "url": f.web_url,
        "archive_url": f.web_url,
        "published": f.edtf,
        "accessed": f.edtf,
        "language": f.language,
    }
    return {
        "title": f.text,
        "summary": f.text,
        "date": f.edtf,
        "regions": f.list_of(f.slug, non_empty=True),
        "tags": f.list_of(f.slug),
        "status": f.choice(*STATUSES),
        "confidence": _confidence,
        "tallies": _records(tally, ("measure", "source"), "tally", _tally, plural="tallies"),
        "statements": _records(statement, ("speaker", "text"), "statement", _statement),
        "sources": _records(source, ("id",), "source", _source, non_empty=True),
        "aliases": f.list_of(f.slug),
    }


EVENT_REQUIRED = ("title", "date", "regions", "sources")


def _front_matter(text: str, path: str, what: str) -> tuple[Node | None, str, int, Problems]:
    split = split_front_matter(text)
    if split is None:
        problems = Problems(path)
        article = "an" if what[0] in "aeiou" else "a"
        problems.add(1, f"missing front matter: {article} {what} starts with a '---' line, its YAML fields, then '---'")
        return None, "", 0, problems
    yaml_text, body, body_line = split
    problems = Problems(path, line_offset=1)
    node = _load(yaml_text, problems)
    if node is None and not problems:
        problems.add(1, "the front matter is empty")
    elif node is not None and not isinstance(node, Map):
        problems.add(node.line, "the front matter must be a mapping of fields")
        node = None
    return node, body, body_line, problems


def _check_id(path: str, problems: Problems) -> str:
    stem = _stem(path)
    if not f.SLUG.match(stem):
        problems.items.append(
            Problem(path, 1, f"file name '{stem}' is not a valid id: use lowercase letters, digits and '-'")
        )
    return stem


def _stem(path: str) -> str:
    """PurePosixPath(path).stem, for the paths the loader gives (a tenth of the time)."""
    name = path.rpartition("/")[2]
    dot = name.rfind(".")
    return name[:dot] if 0 < dot < len(name) - 1 else name


@dataclass(frozen=True)
class Registry:
    """Ids defined in regions.yaml and sources.yaml, which entries refer to."""

    regions: frozenset[str]
    publishers: frozenset[str]


def parse_entry(
    text: str, path: str, measures: tuple[str, ...] = MEASURES, registry: Registry | None = None
) -> tuple[Event | None, list[Problem]]:
    """Parse an event file; its id is the file name without `.md`.

    Every problem is reported even when a required field is broken (then no event is returned);
    with `registry`, region ids and publisher names are checked too.
    """
    node, body, body_line, problems = _front_matter(text, path, "event")
    event_id = _check_id(path, problems)
    narrative = _narrative(body, body_line, problems, render_body, Rendered("", "", ()))
    _link_problems(narrative.unsafe, body_line, problems)
    if node is None:
        return None, problems.items
    found, ok = f.read_fields(node, event_spec(measures), EVENT_REQUIRED, problems, "event")
    values = _values(found)
    offset = problems.line_offset
    sources = [
        Source(**{**vars(s), "number": n})  # numbered in the order the entry lists them
        for n, s in enumerate(values.pop("sources", []), start=1)
    ]
    seen: dict[str, int] = {}
    for s in sources:
        if s.id in seen:
            problems.items.append(
                Problem(path, s.line, f"source id '{s.id}' is listed twice (first on line {seen[s.id]})")
            )
        seen.setdefault(s.id, s.line)
    if "sources" in found:
        for item in [*values.get("tallies", []), *values.get("statements", [])]:
            if item.source and item.source not in seen:
                known = ", ".join(seen) or "none"
                problems.items.append(
                    Problem(path, item.line, f"source '{item.source}' is not in this entry's sources (listed: {known})")
                )
    regions = [(n.line + offset, n.col, v) for n, v in values.pop("regions", [])]
    if registry is not None:
        for line, col, region in regions:
            if region not in registry.regions:
                problems.items.append(
                    Problem(path, line, f"unknown region '{region}': add it to regions.yaml or fix the id", col)
                )
        for s in sources:
            if not s.name and s.id not in registry.publishers:
                problems.items.append(
                    Problem(path, s.line, f"source '{s.id}' needs a 'name' (it is not in sources.yaml)")
                )
    if not ok:
        return None, problems.items
    event = Event(
        id=event_id,
        path=path,
        title=values.pop("title"),
        date=values.pop("date"),
        regions=tuple(region for _, _, region in regions),
        region_lines=tuple(line for line, _, _ in regions),
        tags=tuple(v for _, v in values.pop("tags", [])),
        aliases=tuple(v for _, v in values.pop("aliases", [])),
        tallies=tuple(values.pop("tallies", [])),
        statements=tuple(values.pop("statements", [])),
        sources=tuple(sources),
        body=body,
        body_line=body_line,
        body_html=narrative.html,
        body_text=narrative.text,
        lines={key: n.line + offset for key, (n, _) in found.items()},
        **values,
    )
    return event, problems.items


# How long reading one narrative as Markdown may take (CPU time): a whole file of 1 MiB takes
# well under half a second, while some nestings of brackets or emphasis take minutes.
MARKDOWN_SECONDS = 2.0

R = TypeVar("R")


def _narrative(body: str, body_line: int, problems: Problems, read: Callable[[str], R], instead: R) -> R:
    """`read(body)` within the time limit; `instead`, and an error at the body's first line, past it."""
    try:
        with time_limit(MARKDOWN_SECONDS):
            return read(body)
    except TooSlow:
        message = (
            f"the text takes more than {MARKDOWN_SECONDS:g} s to read as Markdown: simplify it "
            "(deeply nested brackets, emphasis, links or lists)"
        )
    except TooDeep:
        message = (
            "quotes or lists are nested too deep to read as Markdown (nine lists or eighteen quotes "
            "within each other): the rest of the text would be lost; nest them less"
        )
    problems.items.append(Problem(problems.path, max(body_line, 1), message))
    return instead


def _link_problems(unsafe: Iterable[tuple[int, str]], body_line: int, problems: Problems) -> None:
    for line, url in unsafe:
        problems.items.append(
            Problem(
                problems.path,
                body_line + line,
                f"link '{url}' is not allowed: use http, https, mailto or a relative link",
            )
        )


# --- pages, site and registries --------------------------------------------------------------

PAGE_SPEC: dict[str, Callable[..., Any]] = {"title": f.text, "description": f.text, "order": f.integer}


def parse_page(text: str, path: str) -> tuple[Page | None, list[Problem]]:
    node, body, body_line, problems = _front_matter(text, path, "page")
    slug = _check_id(path, problems)
    _link_problems(_narrative(body, body_line, problems, unsafe_links, []), body_line, problems)
    if node is None:
        return None, problems.items
    found = read_mapping(node, PAGE_SPEC, ("title",), problems, "page")
    if found is None:
        return None, problems.items
    return Page(slug=slug, path=path, body=body, body_line=body_line, **_values(found)), problems.items


def _measures(node: Node, problems: Problems) -> tuple[str, ...]:
    extra = [v for _, v in f.list_of(f.slug)(node, problems)]
    return MEASURES + tuple(m for m in extra if m not in MEASURES)


_measures.collects = True  # type: ignore[attr-defined]


def _base_url(node: Node) -> str:
    value = f.web_url(node)
    return value if value.endswith("/") else value + "/"


SITE_SPEC: dict[str, Callable[..., Any]] = {
    "title": f.text,
    "description": f.text,
    "base_url": _base_url,
    "language": f.language,
    "measures": _measures,
    "license": f.text,
    "release_tags": f.text,
}


def parse_site(text: str, path: str) -> tuple[Site | None, list[Problem]]:
    problems = Problems(path)
    node = _load(text, problems)
    if node is None:
        if not problems:
            problems.add(1, "site.yaml is empty: it needs at least title, description and base_url")
        return None, problems.items
    found = read_mapping(node, SITE_SPEC, ("title", "description", "base_url"), problems, "site.yaml")
    if found is None:
        return None, problems.items
    return Site(**_values(found)), problems.items


def _names(node: Node, problems: Problems) -> dict[str, str]:
    if isinstance(node, Scalar):
        return {"": f.text(node)}
    if not isinstance(node, Map) or not node.items:
        raise f.FieldError(node, "expected a name, or a mapping of language to name")
    names = {}
    lines: dict[str, int] = {}  # language tags are case-insensitive: `en` and `EN` are one language
    for key, value in node.items:
        try:
            language = f.language(key)
            first = lines.get(language.lower())
            if first is not None:
                raise f.FieldError(key, f"language '{language}' is given twice (first on line {first})")
            lines[language.lower()] = key.line + problems.line_offset
            names[language] = f.text(value)
        except f.FieldError as exc:
            problems.add(exc.node.line, f"name: {exc.message}", exc.node.col)
    return names


_names.collects = True  # type: ignore[attr-defined]


def _registry(
    text: str, path: str, spec: dict[str, Callable[..., Any]], what: str, build: Callable[..., Any]
) -> tuple[list[Any], list[Problem]]:
    problems = Problems(path)
    node = _load(text, problems)
    if node is None:
        return [], problems.items
    if not isinstance(node, f.Seq):
        problems.add(node.line, f"{PurePosixPath(path).name} must be a list of {what}s")
        return [], problems.items
    records = _records(spec, ("id", "name"), what, build)(node, problems)
    seen: dict[str, int] = {}
    for record in records:
        if record.id in seen:
            problems.add(record.line, f"{what} id '{record.id}' is defined twice (first on line {seen[record.id]})")
        seen.setdefault(record.id, record.line)
    return records, problems.items


def parse_regions(text: str, path: str) -> tuple[list[Region], list[Problem]]:
    def build(values: dict[str, Any], node: Node, _: Problems) -> Region:
        return Region(names=values["name"], parent=values.get("parent"), id=values["id"], line=node.line)

    spec: dict[str, Callable[..., Any]] = {"id": f.slug, "name": _names, "parent": f.slug}
    return _registry(text, path, spec, "region", build)


def parse_publishers(text: str, path: str) -> tuple[list[Publisher], list[Problem]]:
    spec: dict[str, Callable[..., Any]] = {
        "id": f.slug,
        "name": f.text,
        "type": f.text,
        "url": f.web_url,
        "description": f.text,
    }
    return _registry(text, path, spec, "source", lambda v, node, _: Publisher(line=node.line, **v))
