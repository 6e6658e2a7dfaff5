"""The one Markdown configuration: CommonMark with raw HTML off and a link allow-list.

Narratives come from strangers' pull requests: raw HTML stays text, images are off (they would
load from third parties), and only http, https, mailto and relative links become links.

An event's narrative is read once, with the entry (`render_body`): its HTML, its plain text and
the links refused come from that one reading; the page template shows the stored HTML.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Iterator, Sequence
from typing import NamedTuple
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

SAFE_SCHEMES = ("http", "https", "mailto")


def is_safe_link(url: str) -> bool:
    """http, https, mailto, or relative (no scheme); control characters never."""
    if any(ord(c) < 32 for c in url):
        return False
    scheme = urlsplit(url.strip()).scheme.lower()
    return scheme in SAFE_SCHEMES or scheme == ""


class _Refused(threading.local):
    """Whether the safe parser refused a link since it last started (per thread)."""

    seen = False


_refused = _Refused()


def _validate(url: str) -> bool:
    if is_safe_link(url):
        return True
    _refused.seen = True
    return False


class TooSlow(Exception):
    """Reading the Markdown took longer than the limit `time_limit` set."""


class TooDeep(Exception):
    """Quotes or lists nested so deep that the parser would drop the rest of the text."""


# markdown-it stops reading, silently, at 20 levels of nested blocks (its maxNesting): a list
# item is two levels, so the last level a rule sees before that may be 18.
DEEPEST = 18


class _Limit(threading.local):
    """The time limit of the Markdown being read in this thread: a wall-clock deadline, checked
    cheaply at every block and inline position, then confirmed by this thread's CPU time (so a
    busy machine does not make a text too slow)."""

    seconds = 0.0
    cpu = 0.0  # the thread's CPU time when the limit was set
    wall = float("inf")


_limit = _Limit()


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Within it, reading Markdown raises TooSlow once it has taken `seconds` of CPU time."""
    _limit.seconds, _limit.cpu, _limit.wall = seconds, time.thread_time(), time.perf_counter() + seconds
    try:
        yield
    finally:
        _limit.wall = float("inf")


def _on_time(*_: object) -> bool:
    """A parser rule that matches nothing and raises TooSlow when time is up (rules run everywhere)."""
    if time.perf_counter() > _limit.wall:
        used = time.thread_time() - _limit.cpu
        if used > _limit.seconds:
            raise TooSlow
        _limit.wall = time.perf_counter() + _limit.seconds - used
    return False


def _block_guard(state: StateBlock, *_: object) -> bool:
    """The time limit, and a block nested deeper than the parser reads: an error, not lost text."""
    if state.level >= DEEPEST:
        raise TooDeep
    return _on_time()


def _parser(validate: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    md.block.ruler.before("code", "time_limit", _block_guard)
    md.inline.ruler.before("text", "time_limit", _on_time)
    md.validateLink = _validate if validate else (lambda url: True)  # type: ignore[method-assign]
    return md


_md = _parser(validate=True)
_all_links = _parser(validate=False)


def _heading(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    # The page title is the only h1: a narrative's headings go one level down (`#` is h2), a free
    # page's so that its highest becomes h2 (`render_page` sets the shift).
    token = tokens[idx]
    token.tag = f"h{max(2, min(int(token.tag[1]) + env.get('heading_shift', 1), 6))}"
    return self.renderToken(tokens, idx, options, env)


def _link_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    parts = urlsplit(str(token.attrGet("href") or ""))
    if parts.scheme in ("http", "https") or parts.netloc:  # netloc alone: protocol-relative //host/
        token.attrSet("rel", "external noopener noreferrer")
    elif not parts.scheme and parts.path.endswith("/"):
        # A folder link opens a listing, not the page, when the site is read from disk.
        token.attrSet("href", parts._replace(path=parts.path + "index.html").geturl())
    return self.renderToken(tokens, idx, options, env)


_md.add_render_rule("heading_open", _heading)
_md.add_render_rule("heading_close", _heading)
_md.add_render_rule("link_open", _link_open)


def render_markdown(text: str) -> str:
    """Narrative Markdown to safe HTML."""
    return render_body(text).html


def render_page(text: str) -> str:
    """A free page's Markdown to safe HTML, its highest headings as h2 (under the page's h1), so
    a page whose sections are `##` skips no level."""
    env: EnvType = {}
    tokens = _md.parse(text, env)
    levels = [int(t.tag[1]) for t in tokens if t.type == "heading_open"]
    env["heading_shift"] = 2 - min(levels, default=1)
    return _md.renderer.render(tokens, _md.options, env)


class Rendered(NamedTuple):
    html: str  # safe HTML
    text: str  # the words a reader sees, blocks separated by a blank line (for search indexes)
    unsafe: tuple[tuple[int, str], ...]  # (0-based line, url) of each link refused, as unsafe_links


def render_body(text: str) -> Rendered:
    """Narrative Markdown read once: its HTML, its plain text and the links it refuses.

    Most paragraphs of a narrative are plain text (`_plain_paragraph`), shown as they are; the
    parser, ten times slower, reads only the other blocks (tests compare with a whole parse).
    """
    html: list[str] = []
    words: list[str] = []
    refused = False
    for plain, part in _runs(text):
        if plain:
            html.append(f"<p>{part}</p>\n".replace('"', "&quot;"))
            words.append(part)
            continue
        _refused.seen = False
        env: EnvType = {}
        tokens = _md.parse(part, env)
        refused = refused or _refused.seen
        html.append(_md.renderer.render(tokens, _md.options, env))
        words.append(_plain_text(tokens))
    # A refused link leaves no trace in the tokens: only then is it worth a second parse to say
    # which links and where (the safe parser makes the same tokens as the other until it refuses).
    unsafe = tuple(unsafe_links(text)) if refused else ()
    return Rendered("".join(html), "\n\n".join(w for w in words if w), unsafe)


# What makes a line more than plain text in a paragraph: inline syntax and entities, characters
# the parser rewrites (controls); and, at its start, what may start a block (list, heading,
# quote, fence, setext underline; indented code starts with white space, which is trimmed).
_SYNTAX = re.compile(r"[\\`*_\[\]<>&\x00-\x09\x0b-\x1f\x7f]")
_BLOCK_START = re.compile(r"[-+#=~]|\d+[.)]")
# Blocks that may run on past a blank line, which the parser must then read whole.
_SPANNING = ("```", "~~~", "]:")  # fenced code, link reference definitions
_CHUNK = re.compile(r"[^\n]+(?:\n[^\n]+)*")  # lines between blank lines


def _runs(text: str) -> list[tuple[bool, str]]:
    """The text in order as (plain, part): each plain paragraph alone, other blocks in runs.

    After a blank line, a line that starts with neither white space nor a marker ends whatever
    block was open, so a run of other blocks reads alike alone or within the whole.
    """
    if any(mark in text for mark in _SPANNING):
        return [(False, text)]
    runs: list[tuple[bool, str]] = []
    start = end = -1  # the run of other blocks so far
    for chunk in _CHUNK.finditer(text):
        if _plain_paragraph(chunk.group()):
            if start >= 0:
                runs.append((False, text[start:end]))
                start = -1
            runs.append((True, chunk.group()))
        else:
            start = chunk.start() if start < 0 else start
            end = chunk.end()
    if start >= 0:
        runs.append((False, text[start:end]))
    return runs


def _plain_paragraph(chunk: str) -> bool:
    """Whether lines without a blank one are a paragraph of plain text, to be shown as they are."""
    if _SYNTAX.search(chunk):
        return False
    lines = chunk.split("\n")
    return not any(line[0].isspace() or line[-1].isspace() or _BLOCK_START.match(line) for line in lines)


def _plain_text(tokens: Sequence[Token]) -> str:
    """The text of each block with text (link targets left out), separated by a blank line."""
    blocks = []
    for token in tokens:
        if token.type == "inline":
            parts = []
            for child in token.children or ():
                if child.type in ("text", "code_inline"):
                    parts.append(child.content)
                elif child.type in ("softbreak", "hardbreak"):
                    parts.append("\n")
            blocks.append("".join(parts))
        elif token.type in ("code_block", "fence"):
            blocks.append(token.content.rstrip("\n"))
    return "\n\n".join(block for block in blocks if block)


def unsafe_links(text: str) -> list[tuple[int, str]]:
    """(0-based line, url) of each link the renderer would refuse, so `check` can point at it."""
    found = []
    for block in _all_links.parse(text):
        if not block.map:
            continue
        line = block.map[0]
        for token in block.children or ():
            if token.type in ("softbreak", "hardbreak"):
                line += 1
            href = token.attrGet("href") if token.type == "link_open" else None
            if href is not None and not is_safe_link(str(href)):
                found.append((line, str(href)))
    return found
