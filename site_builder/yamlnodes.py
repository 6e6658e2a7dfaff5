"""Strict YAML: a tree of scalars, lists and mappings with line numbers, and nothing else.

PyYAML's safe loader still expands aliases, keeps the last of duplicate keys and reads `no` as
False. We build our own tree from the parser's events instead: every scalar stays a string (the
schema decides what it means), anchors, aliases, explicit tags and duplicate keys are refused.
libyaml's C parser is used when present (about ten times faster).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure-Python fallback
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


@dataclass(frozen=True)
class Scalar:
    value: str
    line: int
    col: int
    plain: bool  # unquoted: `~`, `null` and empty mean "no value"

    @property
    def is_null(self) -> bool:
        return self.plain and self.value in ("", "~", "null", "Null", "NULL")


@dataclass(frozen=True)
class Seq:
    items: tuple[Node, ...]
    line: int
    col: int


@dataclass(frozen=True)
class Map:
    items: tuple[tuple[Scalar, Node], ...]
    line: int
    col: int
    keys: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    def get(self, key: str) -> Node | None:
        index = self.keys.get(key)
        return None if index is None else self.items[index][1]


Node = Scalar | Seq | Map


class YamlError(Exception):
    def __init__(self, line: int, message: str, col: int = 0) -> None:
        super().__init__(message)
        self.line = line
        self.col = col
        self.message = message


def _pos(event: yaml.Event) -> tuple[int, int]:
    mark = event.start_mark
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 0)


def parse_yaml(text: str, line_offset: int = 0) -> Node | None:
    """Parse one YAML document into a node tree; None for an empty document.

    `line_offset` is where the text sits in its file (front matter starts on line 2), so the
    lines quoted inside messages are file lines; node lines stay relative to the text.
    """
    try:
        events = list(yaml.parse(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        col = mark.column + 1 if mark else 0
        raise YamlError(line, f"malformed YAML: {exc.problem or exc.context}", col) from None
    except yaml.YAMLError as exc:
        raise YamlError(1, f"malformed YAML: {exc}") from None
    stream = iter(events)
    next(stream)  # StreamStart
    event = next(stream)
    if isinstance(event, yaml.StreamEndEvent):
        return None
    node = _compose(stream, next(stream), line_offset)
    next(stream)  # DocumentEnd
    after = next(stream)
    if isinstance(after, yaml.DocumentStartEvent):
        raise YamlError(_pos(after)[0], "only one YAML document is allowed")
    return node


def _check(event: yaml.Event) -> None:
    line, col = _pos(event)
    if isinstance(event, yaml.AliasEvent):
        raise YamlError(line, "YAML aliases (*name) are not allowed", col)
    anchor = getattr(event, "anchor", None)
    if anchor is not None:
        raise YamlError(line, f"YAML anchors (&{anchor}) are not allowed", col)
    tag = getattr(event, "tag", None)
    implicit = getattr(event, "implicit", True)
    explicit = tag is not None and (not implicit if isinstance(implicit, bool) else not any(implicit))
    if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
        explicit = tag is not None and not event.implicit
    if explicit and tag != "!":
        raise YamlError(line, f"YAML tags ({tag}) are not allowed", col)


def _compose(stream: Iterator[yaml.Event], event: yaml.Event, offset: int = 0) -> Node:
    _check(event)
    line, col = _pos(event)
    if isinstance(event, yaml.ScalarEvent):
        return Scalar(event.value, line, col, plain=not event.style)
    if isinstance(event, yaml.SequenceStartEvent):
        items: list[Node] = []
        for item in stream:
            if isinstance(item, yaml.SequenceEndEvent):
                return Seq(tuple(items), line, col)
            items.append(_compose(stream, item, offset))
    if isinstance(event, yaml.MappingStartEvent):
        pairs: list[tuple[Scalar, Node]] = []
        keys: dict[str, int] = {}
        for item in stream:
            if isinstance(item, yaml.MappingEndEvent):
                return Map(tuple(pairs), line, col, keys)
            key = _compose(stream, item, offset)
            if not isinstance(key, Scalar):
                raise YamlError(key.line, "mapping keys must be plain text", key.col)
            if key.value in keys:
                first = pairs[keys[key.value]][0].line + offset
                raise YamlError(key.line, f"duplicate key '{key.value}' (first on line {first})", key.col)
            keys[key.value] = len(pairs)
            pairs.append((key, _compose(stream, next(stream), offset)))
    raise YamlError(line, f"unexpected YAML event {type(event).__name__}", col)  # pragma: no cover
