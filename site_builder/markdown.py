"""The one Markdown configuration: CommonMark with raw HTML off and a link allow-list.

Narratives come from strangers' pull requests: raw HTML stays text, images are off (they would
load from third parties), and only http, https, mailto and relative links become links.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

SAFE_SCHEMES = ("http", "https", "mailto")


def is_safe_link(url: str) -> bool:
    """http, https, mailto, or relative (no scheme); control characters never."""
    if any(ord(c) < 32 for c in url):
        return False
    scheme = urlsplit(url.strip()).scheme.lower()
    return scheme in SAFE_SCHEMES or scheme == ""


def _parser(validate: bool) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable("image")
    md.validateLink = is_safe_link if validate else (lambda url: True)  # type: ignore[method-assign]
    return md


_md = _parser(validate=True)
_all_links = _parser(validate=False)


def _heading_open(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    # The page title is the only h1; narrative headings start at h2.
    token = tokens[idx]
    token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
    return self.renderToken(tokens, idx, options, env)


def _heading_close(self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    token.tag = f"h{min(int(token.tag[1]) + 1, 6)}"
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


_md.add_render_rule("heading_open", _heading_open)
_md.add_render_rule("heading_close", _heading_close)
_md.add_render_rule("link_open", _link_open)


def render_markdown(text: str) -> str:
    """Narrative Markdown to safe HTML."""
    return _md.render(text)


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
