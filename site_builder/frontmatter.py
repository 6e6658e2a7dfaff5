"""Front matter as plain data, fast: every scalar a string, as `yaml.load(text, CBaseLoader)` gives.

The history reader parses tens of thousands of old revisions; PyYAML takes about 0.2 ms for a
30-line front matter, too slow for that. So front matter is read in pieces, each looked up by its
exact text: one piece per top-level key, and one per item of a top-level list (`tallies`,
`sources`, ...). A revision then parses only the pieces it changed, and unchanged pieces are
shared. Pieces in the plain YAML the content format uses are read by a small line reader
(`_Lines`) that gives up on anything else, which PyYAML then reads; the result is PyYAML's on the
whole front matter (tests compare the two on many variants). Snapshots are shared: read-only.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml

from .model import Snapshot
from .yamlnodes import _Unsupported, block_scalar, next_content  # the strict reader's line helpers

_LOADER: Any = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

_OPEN = re.compile(r"---[^\S\n]*(?:\n|\Z)")
# Characters on which a piece goes to PyYAML: tab, CR, Unicode line breaks, BOM, and whatever
# libyaml refuses.
_UNUSUAL = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_PIECE = re.compile(r"\n(?=[A-Za-z0-9_])")  # before a line starting a top-level key
_NAME = r"[A-Za-z0-9_][A-Za-z0-9_-]*"
_LIST_HEAD = re.compile(rf"({_NAME}):(?: *| +#[^\n]*)\n( *)-(?=[ \n]|\Z)")
_ITEM_SPLIT: dict[int, re.Pattern[str]] = {}
_KEY = re.compile(rf"({_NAME}):(?: +(.*))?\Z")
# A plain scalar on one line without comment or trailing space: no indicator first, no ": ", no
# " #", no ":" at the end (runs matched possessively: this is most of the parsing time).
_PLAIN = r"""[^\s\-?:,\[\]{}#&*!|>'"%@`](?:[^ \t\n:#]++| ++(?=[^ \t\n#])|:(?=[^ \t\n])|#)*+"""
_FLAT_ITEM = re.compile(rf"( *)- {_NAME}: +{_PLAIN} *(?:\n\1  {_NAME}: +{_PLAIN} *)*\n*\Z")
_FLAT_PAIR = re.compile(rf"({_NAME}): +({_PLAIN}) *$", re.MULTILINE)
_DOUBLE = re.compile(r'"([^"\\]*)"(?: +#.*)? *\Z')
_SINGLE = re.compile(r"'((?:[^']|'')*)'(?: +#.*)? *\Z")
_FLOW_ITEM = r"\w[\w./-]*(?: +[\w./-]+)*"
_FLOW = re.compile(rf"\[ *((?:{_FLOW_ITEM})(?: *, *{_FLOW_ITEM})*)? *\](?: +#.*)? *\Z")
_BLOCK = re.compile(r"([|>])(-?)(?: +#.*)? *\Z")
_NOT_PLAIN_FIRST = frozenset("-?:,[]{}#&*!|>'\"%@`")
_KEY_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_MISSING: Any = object()


def front_matter(text: str) -> str | None:
    """The front matter of an entry file as `parse.split_front_matter` finds it, without the body."""
    text = text.lstrip("\ufeff")
    opening = _OPEN.match(text)
    if opening is None:
        return None
    start = opening.end()
    if text[start - 1 : start] != "\n":
        return None  # "---" and nothing after it
    at = start - 1  # each candidate closing line starts after the newline at `at`
    while True:
        dashes = text.find("\n---", at)
        dots = text.find("\n...", at, dashes if dashes >= 0 else len(text))
        at = dots if dots >= 0 else dashes
        if at < 0:
            return None
        end = text.find("\n", at + 1)
        if text[at + 1 : end if end >= 0 else len(text)].rstrip() in ("---", "..."):
            return text[start:at] if at >= start else ""
        at += 1


def load_front_matter(text: str) -> Snapshot:
    """The reference reading of front matter: PyYAML without type resolution; None unless a mapping."""
    try:
        data = yaml.load(text, Loader=_LOADER)
    except (yaml.YAMLError, RecursionError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _short(text: str) -> str:
    """Short strings interned: the same values recur in many entries, and are then stored once."""
    return sys.intern(text) if len(text) <= 40 else text


class _Parser:
    """Front matter to snapshots, parsing each distinct piece of text once (see the module doc)."""

    def __init__(self) -> None:
        self.texts: dict[str, Snapshot] = {}  # front matter -> snapshot
        self.pieces: dict[str, tuple[tuple[str, Any], ...] | None] = {}  # top-level piece -> its keys
        self.items: dict[str, list[Any] | None] = {}  # a list item's lines -> [the item]

    def blob(self, data: bytes) -> Snapshot:
        text = front_matter(data.decode("utf-8", "replace"))
        if text is None:
            return None
        snapshot = self.texts.get(text, _MISSING)
        if snapshot is _MISSING:
            snapshot = self.texts[text] = self.snapshot(text)
        return snapshot

    def snapshot(self, text: str) -> Snapshot:
        """The same as `load_front_matter(text)`, from pieces."""
        pairs: list[tuple[str, Any]] = []
        pieces = self.pieces
        for piece in _lines_of(_PIECE.split(text)):
            found = pieces.get(piece, _MISSING)
            if found is _MISSING:
                found = pieces[piece] = self._piece(piece)
            if found is None:
                return load_front_matter(text)
            pairs += found
        return dict(pairs) if pairs else load_front_matter(text)

    def _piece(self, text: str) -> tuple[tuple[str, Any], ...] | None:
        """A top-level key and its value (none, for comments), or None: PyYAML reads the whole.

        A piece starts at a line starting with a letter, digit or `_`, and runs to the next (with
        the line break that ends it, which a block scalar's value may keep). Read alone, it gives
        what it gives inside the whole front matter, unless reading it fails (an alias of an anchor
        in another piece, a multi-line scalar cut in two, ...); then PyYAML reads the whole.
        """
        if not _UNUSUAL.search(text):
            try:
                body = text.rstrip("\n")
                if "\n" not in body:
                    key = _KEY.match(body)
                    if key is not None and key.group(2) and key.group(2)[0] not in "#|>":
                        return ((sys.intern(key.group(1)), _scalar(key.group(2))),)
                head = _LIST_HEAD.match(text)
                if head is not None:
                    return ((sys.intern(head.group(1)), self._list(text[head.start(2) :], len(head.group(2)))),)
                return tuple(_Lines(text).document().items())
            except _Unsupported:
                pass
        # An anchor could clash with one in another piece (PyYAML refuses a duplicate anchor).
        data = load_front_matter(text) if "&" not in text and _at_margin(text) else None
        return tuple(data.items()) if data else None

    def _list(self, text: str, indent: int) -> list[Any]:
        """A block list, item by item, each item looked up by its text."""
        split = _ITEM_SPLIT.get(indent)
        if split is None:
            split = _ITEM_SPLIT[indent] = re.compile(rf"\n(?= {{{indent}}}-(?:[ \n]|\Z))")
        out: list[Any] = []
        items = self.items
        for item in _lines_of(split.split(text)):
            found = items.get(item, _MISSING)
            if found is _MISSING:
                found = items[item] = _item(item, indent)
            if found is None:
                raise _Unsupported
            out += found
        return out


def _lines_of(parts: list[str]) -> list[str]:
    """Parts of a text split at newlines, each but the last with its newline back.

    (Faster than splitting after the newline: a pattern starting with a look-behind is tried at
    every position, one starting with a newline only at newlines.)
    """
    last = parts.pop()
    parts = [part + "\n" for part in parts]
    parts.append(last)
    return parts


def _at_margin(text: str) -> bool:
    """Whether the first line with content starts a key at the margin, as the whole's keys do.

    True of every piece but the first by the way they are cut; the first may be indented, and
    then it is the whole front matter that decides (usually: an error).
    """
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        if stripped and stripped[0] != "#":
            return line[0] in _KEY_START
    return False


def _item(text: str, indent: int) -> list[Any] | None:
    """One list item as [item], or None when `_Lines` cannot read it."""
    if _FLAT_ITEM.match(text):  # `- key: value` lines only, the commonest kind
        intern = sys.intern
        return [{intern(key): intern(value) for key, value in _FLAT_PAIR.findall(text)}]
    try:
        return _Lines(text).items(indent)
    except _Unsupported:
        return None


def _scalar(text: str) -> Any:
    """A value on one line after `key: ` or `- `, but a block scalar: plain, quoted or a flow list."""
    first = text[0]
    if first == '"':
        match = _DOUBLE.match(text)
        if match is None:
            raise _Unsupported
        return _short(match.group(1))
    if first == "'":
        match = _SINGLE.match(text)
        if match is None:
            raise _Unsupported
        return _short(match.group(1).replace("''", "'"))
    if first == "[":
        match = _FLOW.match(text)
        if match is None:
            raise _Unsupported
        items = match.group(1)
        return [_short(item.strip(" ")) for item in items.split(",")] if items else []
    if first in _NOT_PLAIN_FIRST:
        raise _Unsupported
    cut = text.find(" #")
    if cut >= 0:
        text = text[:cut]
    text = text.rstrip(" ")
    if ": " in text or text.endswith(":"):
        raise _Unsupported
    return _short(text)


class _Lines:
    """Block YAML in the plain style of the content format, read line by line.

    Reads block mappings and lists (a list also at its key's indentation), plain scalars (with a
    trailing comment), one-line single- and double-quoted scalars without escapes, one-line flow
    lists of simple words, and `|`, `|-`, `>`, `>-` block scalars whose lines are all indented
    alike. Raises _Unsupported on anything else, errors included, without trying to be clever: the
    caller then asks PyYAML, so this only has to be right on what it accepts.
    """

    __slots__ = ("i", "lines", "n")

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.n = len(self.lines)
        self.i = 0

    def document(self) -> dict[str, Any]:
        value = self.mapping(0)
        if self.next() < self.n:
            raise _Unsupported
        return value

    def items(self, indent: int) -> list[Any]:
        value = self.sequence(indent, False)
        if self.next() < self.n:
            raise _Unsupported
        return value

    def next(self) -> int:
        """Skip blank and comment lines; the index of the next line with content."""
        self.i = next_content(self.lines, self.i)
        return self.i

    def mapping(self, indent: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        lines = self.lines
        while True:
            i = self.next()
            if i >= self.n:
                return out
            line = lines[i]
            at = len(line) - len(line.lstrip(" "))
            if at < indent:
                return out
            if at > indent:
                raise _Unsupported
            match = _KEY.match(line, indent)
            if match is None:
                raise _Unsupported
            self.i = i + 1
            out[sys.intern(match.group(1))] = self.value(match.group(2), indent, True)

    def value(self, rest: str | None, indent: int, of_key: bool) -> Any:
        """The value after `key:` (or `-`) at `indent`: on the line, in the block below, or empty.

        Only a key's value may be a list at the key's own indentation.
        """
        if rest and rest[0] != "#":
            if rest[0] in "|>":
                match = _BLOCK.match(rest)
                if match is None:
                    raise _Unsupported
                return self.block(match.group(1) == ">", match.group(2) == "-", indent)
            return _scalar(rest)
        i = self.next()
        if i < self.n:
            line = self.lines[i]
            at = len(line) - len(line.lstrip(" "))
            dash = line.startswith("-", at) and (len(line) == at + 1 or line[at + 1] == " ")
            if at > indent:
                return self.sequence(at, False) if dash else self.mapping(at)
            if at == indent and dash and of_key:
                return self.sequence(at, True)
        return ""

    def sequence(self, indent: int, of_key: bool) -> list[Any]:
        out: list[Any] = []
        lines = self.lines
        while True:
            i = self.next()
            if i >= self.n:
                return out
            line = lines[i]
            at = len(line) - len(line.lstrip(" "))
            if at < indent:
                return out
            if at > indent:
                raise _Unsupported
            if not (line.startswith("-", at) and (len(line) == at + 1 or line[at + 1] == " ")):
                if of_key:
                    return out  # the next key of the mapping this list is a value in
                raise _Unsupported
            rest = line[at + 1 :].lstrip(" ")
            if rest[:1] == "-":
                raise _Unsupported  # a list in a list
            if rest and rest[0] != "#" and _KEY.match(rest):
                column = len(line) - len(rest)
                lines[i] = " " * column + rest  # a mapping that starts on the dash's line
                self.i = i
                out.append(self.mapping(column))
            else:
                self.i = i + 1
                out.append(self.value(rest, indent, False))

    def block(self, folded: bool, strip: bool, indent: int) -> str:
        text, self.i = block_scalar(self.lines, self.i, folded, strip, indent)
        return text
