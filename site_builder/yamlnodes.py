"""Strict YAML: a tree of scalars, lists and mappings with line numbers, and nothing else.

PyYAML's safe loader still expands aliases, keeps the last of duplicate keys and reads `no` as
False. We build our own tree from the parser's events instead: every scalar stays a string (the
schema decides what it means), anchors, aliases, explicit tags and duplicate keys are refused.
libyaml's C parser is used when present (about ten times faster).

Most front matter is a few kinds of line (`key: value`, `- key: value`, `[a, b]`, `>-` blocks),
and turning parser events into nodes costs more than reading such lines directly. So `_Lines`
reads that subset first, and gives up on anything else (errors included), which the event path
then reads: the tree is the same either way (tests compare the two), and every message comes from
the event path.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - pure-Python fallback
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


class Scalar(NamedTuple):
    """A scalar as written (a named tuple: most nodes are scalars, and it is made 3 times faster)."""

    value: str
    line: int
    col: int
    plain: bool  # unquoted: `~`, `null` and empty mean "no value"

    @property
    def is_null(self) -> bool:
        return self.plain and self.value in _NULLS


_NULLS = frozenset(("", "~", "null", "Null", "NULL"))


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
    if not _UNUSUAL.search(text):
        try:
            return _Lines(text).document()
        except (_Unsupported, RecursionError):  # deep nesting: libyaml has a limit of its own
            pass
    return parse_events(text, line_offset)


def parse_events(text: str, line_offset: int = 0) -> Node | None:
    """`parse_yaml` from libyaml's events: any YAML, and the exact error for what is refused."""
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


@dataclass
class _Open:
    """A list or mapping being composed: its items so far, and a mapping's key waiting for its value."""

    line: int
    col: int
    items: list[Any]
    keys: dict[str, int] | None = None  # a mapping's
    key: Scalar | None = None


def _compose(stream: Iterator[yaml.Event], event: yaml.Event, offset: int = 0) -> Node:
    """The node that starts with `event`, from the events after it.

    With a stack, not recursion: libyaml allows 1,000 levels, more than Python's stack would.
    """
    stack: list[_Open] = []
    while True:
        node: Node | None = None
        if isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            done = stack.pop()
            if done.keys is None:
                node = Seq(tuple(done.items), done.line, done.col)
            else:
                node = Map(tuple(done.items), done.line, done.col, done.keys)
        else:
            _check(event)
            line, col = _pos(event)
            if isinstance(event, yaml.ScalarEvent):
                node = Scalar(event.value, line, col, plain=not event.style)
            elif isinstance(event, yaml.SequenceStartEvent):
                stack.append(_Open(line, col, []))
            elif isinstance(event, yaml.MappingStartEvent):
                stack.append(_Open(line, col, [], {}))
            else:  # pragma: no cover
                raise YamlError(line, f"unexpected YAML event {type(event).__name__}", col)
        if node is not None:
            if not stack:
                return node
            _add(stack[-1], node, offset)
        event = next(stream)


def _add(parent: _Open, node: Node, offset: int) -> None:
    """Put a finished node into the list or mapping it is in: as an item, a key or a key's value."""
    if parent.keys is None:
        parent.items.append(node)
    elif parent.key is not None:
        parent.items.append((parent.key, node))
        parent.key = None
    elif not isinstance(node, Scalar):
        raise YamlError(node.line, "mapping keys must be plain text", node.col)
    elif node.value in parent.keys:
        first = parent.items[parent.keys[node.value]][0].line + offset
        raise YamlError(node.line, f"duplicate key '{node.value}' (first on line {first})", node.col)
    else:
        parent.keys[node.value] = len(parent.items)
        parent.key = node


# --- the common subset, line by line ------------------------------------------------------------

# Text with any of these goes to the event path: tab, CR and other controls, Unicode line breaks
# (NEL, LS, PS: line breaks to libyaml, not to str.split), BOM, and what libyaml refuses.
_UNUSUAL = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
# `key:` then a space or the end; a simple key is at most 1,024 characters in libyaml.
_NAME = r"([A-Za-z0-9_][A-Za-z0-9_-]{0,200})"
_KEY = re.compile(rf"{_NAME}:(?: +(.*))?\Z")
# A plain scalar on one line, without comment or trailing space: no indicator first, no ": ",
# no " #", no ":" at the end (runs matched possessively).
_PLAIN = r"""[^\s\-?:,\[\]{}#&*!|>'"%@`](?:[^ \n:#]++| ++(?=[^ \n#])|:(?=[^ \n])|#)*+"""
# `key:` and a plain scalar (group 2), else the rest of the line (group 3), if any.
_PAIR = re.compile(rf"{_NAME}:(?: +(?:({_PLAIN}) *(?: #.*)?\Z|(.*)))?\Z")
_DOUBLE = re.compile(r'"([^"\\]*)"(?: +#.*)? *\Z')
_SINGLE = re.compile(r"'((?:[^']|'')*)'(?: +#.*)? *\Z")
_FLOW_ITEM = re.compile(r"\w[\w./-]*(?: +[\w./-]+)*")
_FLOW = re.compile(rf"\[ *(?:{_FLOW_ITEM.pattern} *(?:, *{_FLOW_ITEM.pattern} *)*)?\](?: +#.*)? *\Z")
_BLOCK = re.compile(r"([|>])(-?)(?: +#.*)? *\Z")
_NOT_PLAIN_FIRST = frozenset("-?:,[]{}#&*!|>'\"%@`")


_new = tuple.__new__  # _new(Scalar, fields): Scalar(*fields) without a named tuple's argument handling


class _Unsupported(Exception):
    """Text outside the subset `_Lines` reads: the event path reads it instead."""


class _Lines:
    """Block YAML in the plain style of the content format, read line by line.

    Reads block mappings with plain keys and block lists (a list also at its key's indentation),
    plain scalars on one line (with a trailing comment), one-line quoted scalars without escapes,
    one-line flow lists of simple words, and `|`, `|-`, `>`, `>-` block scalars whose lines are all
    indented alike. Raises _Unsupported on anything else, errors and duplicate keys included,
    without trying to be clever: it only has to be right on what it accepts.
    """

    __slots__ = ("i", "lines", "n")

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.n = len(self.lines)
        self.i = 0

    def document(self) -> Node | None:
        i = self.next()
        if i >= self.n:
            return None
        line = self.lines[i]
        at = len(line) - len(line.lstrip(" "))
        node = self.sequence(at, False) if _is_dash(line, at) else self.mapping(at)
        if self.next() < self.n:
            raise _Unsupported
        return node

    def next(self) -> int:
        """Skip blank and comment lines; the index of the next line with content."""
        self.i = next_content(self.lines, self.i)
        return self.i

    def mapping(self, indent: int) -> Map:
        pairs: list[tuple[Scalar, Node]] = []
        keys: dict[str, int] = {}
        lines, n, i, first, margin = self.lines, self.n, self.i, -1, " " * indent
        while i < n:
            line = lines[i]
            match = _PAIR.match(line, indent)
            if match is None or not line.startswith(margin):  # not a key at `indent`
                content = line.lstrip(" ")
                if not content or content[0] == "#":
                    i += 1
                    continue
                if len(line) - len(content) < indent:
                    break
                raise _Unsupported
            key, plain, rest = match.groups()
            key = sys.intern(key)  # field names: one string for every entry that has the field
            if key in keys:
                raise _Unsupported  # the event path names both lines
            keys[key] = len(pairs)
            first = i if first < 0 else first
            if plain is not None:  # the commonest line, read by _PAIR alone
                value: Node = _new(Scalar, (plain, i + 1, match.start(2) + 1, True))
            else:
                self.i = i + 1
                if rest and rest[0] != "#":
                    value = self.inline(rest, i, len(line) - len(rest), indent)
                else:
                    value = self.below(i, match.end(1) + 2, indent)
            pairs.append((_new(Scalar, (key, i + 1, indent + 1, True)), value))
            i = self.i if plain is None else i + 1
        self.i = i
        if not pairs:
            raise _Unsupported
        return Map(tuple(pairs), first + 1, indent + 1, keys)

    def below(self, i: int, col: int, indent: int) -> Node:
        """A key's value on the lines below it, else an empty scalar just after its colon."""
        j = self.next()
        if j < self.n:
            line = self.lines[j]
            at = len(line) - len(line.lstrip(" "))
            dash = _is_dash(line, at)
            if at > indent:
                return self.sequence(at, False) if dash else self.mapping(at)
            if at == indent and dash:
                return self.sequence(at, True)
        return Scalar("", i + 1, col, True)

    def sequence(self, indent: int, of_key: bool) -> Seq:
        """A block list at `indent`; `of_key`: at its key's indentation, so a key ends it."""
        items: list[Node] = []
        lines, n, i, first = self.lines, self.n, self.i, -1
        while i < n:
            line = lines[i]
            content = line.lstrip(" ")
            if not content or content[0] == "#":
                i += 1
                continue
            at = len(line) - len(content)
            if at < indent:
                break
            if at > indent:
                raise _Unsupported
            if not _is_dash(line, at):
                if of_key:
                    break  # the next key of the mapping this list is a value of
                raise _Unsupported
            first = i if first < 0 else first
            rest = line[at + 1 :].lstrip(" ")
            if not rest or rest[0] in "-#":
                raise _Unsupported  # an empty item, a nested block below the dash, a list in a list
            column = len(line) - len(rest)
            if _KEY.match(rest):
                lines[i] = " " * column + rest  # a mapping that starts on the dash's line
                self.i = i
                items.append(self.mapping(column))
            else:
                self.i = i + 1
                items.append(self.inline(rest, i, column, indent))
            i = self.i
        self.i = i
        return Seq(tuple(items), first + 1, indent + 1)

    def inline(self, text: str, i: int, column: int, indent: int) -> Node:
        """The value that starts at `column` of line i, the rest of the line being `text`."""
        first = text[0]
        if first == '"' or first == "'":
            match = (_DOUBLE if first == '"' else _SINGLE).match(text)
            if match is None:
                raise _Unsupported
            value = match.group(1) if first == '"' else match.group(1).replace("''", "'")
            return Scalar(value, i + 1, column + 1, False)
        if first == "[":
            if not _FLOW.match(text):
                raise _Unsupported
            close = text.index("]")
            words = _FLOW_ITEM.finditer(text, 1, close)
            items = tuple(Scalar(m.group(), i + 1, column + m.start() + 1, True) for m in words)
            return Seq(items, i + 1, column + 1)
        if first == "|" or first == ">":
            match = _BLOCK.match(text)
            if match is None:
                raise _Unsupported
            value = self.block(first == ">", match.group(2) == "-", indent)
            return Scalar(value, i + 1, column + 1, False)
        if first in _NOT_PLAIN_FIRST:
            raise _Unsupported
        cut = text.find(" #")
        value = (text[:cut] if cut >= 0 else text).rstrip(" ")
        if ": " in value or value[-1] == ":":
            raise _Unsupported
        return Scalar(value, i + 1, column + 1, True)

    def block(self, folded: bool, strip: bool, indent: int) -> str:
        text, self.i = block_scalar(self.lines, self.i, folded, strip, indent)
        return text


def next_content(lines: list[str], i: int) -> int:
    """The index of the first line from `i` that is neither blank nor a comment (or len(lines))."""
    n = len(lines)
    while i < n:
        stripped = lines[i].lstrip(" ")
        if stripped and stripped[0] != "#":
            break
        i += 1
    return i


def block_scalar(lines: list[str], i: int, folded: bool, strip: bool, indent: int) -> tuple[str, int]:
    """A block scalar (`|`, `>`, with `-`) whose lines start at `lines[i]`, all indented alike:
    its text and the index of the line after it. Raises _Unsupported on anything else.
    (frontmatter.py's reader uses it too.)"""
    n = len(lines)
    if i >= n:
        raise _Unsupported
    first = lines[i]
    at = len(first) - len(first.lstrip(" "))
    if at <= indent or at == len(first):
        raise _Unsupported  # empty, or starting with an empty line
    out: list[str] = []
    while i < n:
        line = lines[i]
        if line:
            start = len(line) - len(line.lstrip(" "))
            if start == len(line) or start > at:
                raise _Unsupported  # a line of spaces, or a more indented one
            if start < at:
                break
            line = line[at:]
        out.append(line)
        i += 1
    broken = i < n or not out[-1]  # a line break after the last line: "clip" keeps one
    while not out[-1]:
        out.pop()
    if folded:
        text = out[0]
        empty = 0
        for line in out[1:]:
            if not line:
                empty += 1
                continue
            text += "\n" * empty if empty else " "
            text += line
            empty = 0
    else:
        text = "\n".join(out)
    return (text + "\n" if broken and not strip else text), i


def _is_dash(line: str, at: int) -> bool:
    """Whether the line's content, at `at`, starts a block list item."""
    return line.startswith("-", at) and (len(line) == at + 1 or line[at + 1] == " ")
