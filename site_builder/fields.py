"""Readers that turn YAML nodes into typed values, reporting what is wrong and where.

A reader takes a node and returns a value or raises `FieldError`. `read_mapping` applies a spec
of readers to a mapping, refusing unknown keys (listing the valid ones) and missing required ones.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from .dates import EdtfDate, parse_date
from .errors import Problems
from .yamlnodes import Map, Node, Scalar, Seq

SLUG = re.compile(r"^[a-z0-9-]+$")
LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")

Reader = Callable[[Node], Any]


class FieldError(Exception):
    def __init__(self, node: Node, message: str) -> None:
        super().__init__(message)
        self.node = node
        self.message = message


def _kind(node: Node) -> str:
    if isinstance(node, Seq):
        return "a list"
    if isinstance(node, Map):
        return "a mapping"
    return f"'{node.value}'"


def scalar(node: Node, what: str = "text") -> Scalar:
    if not isinstance(node, Scalar):
        raise FieldError(node, f"expected {what}, found {_kind(node)}")
    return node


# Characters no text may hold, in a file (load.py) or through a double-quoted YAML string's
# escapes (\0, \x1b, \uFFFE): C0 controls but tab, line feed and carriage return, DEL, C1
# controls, the noncharacters U+FFFE and U+FFFF. A carriage return is a line break, not junk.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def text(node: Node) -> str:
    if not isinstance(node, Scalar):
        raise FieldError(node, f"expected text, found {_kind(node)}")
    value = node.value.strip()
    if not value or node.is_null:
        raise FieldError(node, "must not be empty")
    bad = CONTROL.search(value)
    if bad is not None:
        raise FieldError(node, f"control character U+{ord(bad.group()):04X} is not allowed in text")
    return value


def slug(node: Node) -> str:
    value = text(node)
    if value.startswith("TODO"):
        raise FieldError(node, f"'{value}' is a placeholder from `site-builder new`: replace it")
    if not SLUG.match(value):
        raise FieldError(node, f"'{value}' is not a valid id: use lowercase letters, digits and '-'")
    # Ids recur across entries (regions, sources, measures, groups): one string each, here and
    # in the cache, where a pickle writes a string it has seen as a reference to it.
    return sys.intern(value)


# The largest count (and page order): more people than live on Earth is a typing mistake, and
# larger numbers lose digits in JavaScript (the data exports are JSON).
MAX_COUNT = 10_000_000_000


def integer(node: Node) -> int:
    value = scalar(node, "a whole number").value.strip()
    quoted = isinstance(node, Scalar) and not node.plain
    if quoted or not value.isdigit() or not value.isascii():
        shown = value if len(value) <= 40 else value[:40] + "..."
        if quoted:
            hint = " (write the number without quotes)"
        else:
            hint = " (write it without commas or spaces)" if re.fullmatch(r"[\d,. ]+", value) else ""
        sign = " (counts cannot be negative)" if value.startswith("-") else ""
        raise FieldError(node, f"expected a non-negative whole number, found '{shown}'{hint}{sign}")
    if len(value) > len(str(MAX_COUNT)) or int(value) > MAX_COUNT:
        shown = value if len(value) <= 40 else f"{value[:20]}... ({len(value)} digits)"
        raise FieldError(node, f"'{shown}' is too large: the largest number allowed is {MAX_COUNT:,}")
    return int(value)


def edtf(node: Node) -> EdtfDate:
    value = text(node)
    try:
        return parse_date(value)  # each text once (and stored once): errors are not kept
    except ValueError as exc:
        raise FieldError(node, str(exc)) from None


# What urlsplit reads as an http(s) URL with a host, without calling it (most URLs); else it decides.
_PLAIN_WEB_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:[/?#][!-~]*)?\Z")


def web_url(node: Node) -> str:
    value = text(node)
    if _PLAIN_WEB_URL.match(value):
        return value
    if any(c in value for c in "\t\n"):
        raise FieldError(node, "a URL cannot contain tabs or line breaks")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise FieldError(node, f"'{value}' is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FieldError(node, f"'{value}' is not an http or https URL")
    return value


def language(node: Node) -> str:
    value = text(node)
    if not LANGUAGE.match(value):
        raise FieldError(node, f"'{value}' is not a BCP 47 language tag (e.g. en, ar, fr-CA)")
    return sys.intern(value)


def choice(*allowed: str) -> Reader:
    def read(node: Node) -> str:
        value = text(node)
        if value not in allowed:
            raise FieldError(node, f"'{value}' is not one of: {', '.join(allowed)}")
        return sys.intern(value)

    return read


def list_of(reader: Reader, *, non_empty: bool = False) -> Callable[[Node, Problems], list[Any]]:
    """Read a list, reporting each bad item and keeping the good ones."""

    def read(node: Node, problems: Problems) -> list[Any]:
        if not isinstance(node, Seq):
            raise FieldError(node, f"expected a list, found {_kind(node)}")
        if non_empty and not node.items:
            raise FieldError(node, "must list at least one item")
        values = []
        for item in node.items:
            try:
                values.append((item, reader(item)))
            except FieldError as exc:
                problems.add(exc.node.line, exc.message, exc.node.col)
        return values

    read.collects = True  # type: ignore[attr-defined]
    return read


def read_mapping(
    node: Node,
    spec: dict[str, Callable[..., Any]],
    required: tuple[str, ...],
    problems: Problems,
    what: str,
) -> dict[str, tuple[Node, Any]] | None:
    """Apply `spec` to a mapping; returns {key: (node, value)} for the keys that read cleanly.

    Readers marked `collects` also receive `problems` (lists and nested records report each
    item). Returns None when the node is not a mapping or a required key is missing or broken.
    """
    values, ok = read_fields(node, spec, required, problems, what)
    return values if ok else None


def read_fields(
    node: Node,
    spec: dict[str, Callable[..., Any]],
    required: tuple[str, ...],
    problems: Problems,
    what: str,
) -> tuple[dict[str, tuple[Node, Any]], bool]:
    """Like `read_mapping`, but also returns what did read when a required field did not."""
    if not isinstance(node, Map):
        problems.add(node.line, f"{what} must be a mapping of fields, found {_kind(node)}", node.col)
        return {}, False
    values: dict[str, tuple[Node, Any]] = {}
    ok = True
    for key, value_node in node.items:
        name = key.value
        reader = spec.get(name)
        if reader is None:
            problems.add(key.line, f"unknown field '{name}' in {what}; valid fields: {', '.join(spec)}", key.col)
            continue
        if isinstance(value_node, Scalar) and value_node.is_null:
            if name in required:
                problems.add(key.line, f"'{name}' in {what} must have a value", key.col)
                ok = False
            continue
        try:
            collects = getattr(reader, "collects", False)
            values[name] = (value_node, reader(value_node, problems) if collects else reader(value_node))
        except FieldError as exc:
            problems.add(exc.node.line, f"{name}: {exc.message}", exc.node.col)
            if name in required:
                ok = False
    for name in required:
        if name not in node.keys:
            problems.add(node.line, f"missing required field '{name}' in {what}", node.col)
            ok = False
    return values, ok
