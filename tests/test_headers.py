"""What pages may load: the <meta> Content-Security-Policy of every page, and `_headers`.

In a browser, over HTTP with `_headers` and from disk: tests/test_browser_pass.py.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag
from conftest import MINIMAL_SITE, write_tree

from site_builder.build import build
from site_builder.errors import ContentError
from site_builder.headers import headers_file, policy, style_hash
from site_builder.render import THEMES


def _directives(csp: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in csp.split(";"))}


def _pages(site: Path) -> list[str]:
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html") if "pagefind" not in p.parts)


def _meta_policy(soup: BeautifulSoup) -> str:
    meta = soup.find("meta", attrs={"http-equiv": "Content-Security-Policy"})
    assert isinstance(meta, Tag)
    return str(meta["content"])


def test_the_policy_allows_the_site_itself_and_nothing_inline() -> None:
    general = _directives(policy())
    assert general == {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
    }
    search = _directives(policy(search=True))
    assert search["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert search["worker-src"] == ["'self'"]
    assert _directives(policy(styles=["p{}"]))["style-src"] == ["'self'", style_hash("p{}")]


def test_style_hash_is_the_sha256_of_the_text_the_parser_sees() -> None:
    css = "body { color: red; }\n"
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert style_hash(css) == f"'sha256-{digest}'"
    assert style_hash("a{}\r\nb{}\r") == style_hash("a{}\nb{}\n")  # HTML turns CR LF and CR into LF


def test_every_page_carries_its_policy_first(example_site: Path, page: Callable[[str], BeautifulSoup]) -> None:
    pages = _pages(example_site)
    assert len(pages) > 20
    for rel in pages:
        soup = page(rel)
        head = [tag for tag in soup.head.children if isinstance(tag, Tag)] if soup.head else []
        assert head[0].get("charset") == "utf-8", rel
        assert head[1].get("http-equiv") == "Content-Security-Policy", rel
        assert head[2].get("name") == "referrer" and head[2].get("content") == "no-referrer", rel
        csp = _meta_policy(soup)
        assert "unsafe-inline" not in csp and "'unsafe-eval'" not in csp, rel
        assert ("wasm-unsafe-eval" in csp) == (rel == "search/index.html"), rel
        assert "frame-ancestors" not in csp, rel  # ignored, with a console error, in a <meta> policy
        assert not soup.find_all("script", src=False), rel
        assert not soup.find_all(style=True), rel
        assert not [(tag.name, a) for tag in soup.find_all(True) for a in tag.attrs if a.startswith("on")], rel
        assert (soup.find("style") is not None) == (rel == "404.html"), rel


def test_the_404_page_allows_exactly_its_own_stylesheet(page: Callable[[str], BeautifulSoup]) -> None:
    soup = page("404.html")
    style = soup.find("style")
    assert isinstance(style, Tag) and style.string
    assert _directives(_meta_policy(soup))["style-src"] == ["'self'", style_hash(style.string)]


def test_headers_file(example_site: Path, page: Callable[[str], BeautifulSoup]) -> None:
    text = (example_site / "_headers").read_text(encoding="utf-8")
    assert text.encode() == headers_file(THEMES / "default")
    rules = [line for line in text.splitlines() if line and not line.startswith(("#", " "))]
    assert rules == ["/*"]  # one rule: a host joins the policies of several into one, more strict
    headers = dict(line.strip().split(": ", 1) for line in text.splitlines() if line.startswith("  "))
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "browsing-topics=()" in headers["Permissions-Policy"]
    csp = _directives(headers["Content-Security-Policy"])
    assert csp["frame-ancestors"] == ["'none'"]
    # Every page's own policy allows nothing the header's does not (browsers enforce both).
    for rel in ("index.html", "search/index.html", "404.html"):
        for name, values in _directives(_meta_policy(page(rel))).items():
            assert set(values) <= set(csp[name]), (rel, name)


def test_headers_is_no_page_name(tmp_path: Path) -> None:
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, "pages/_headers.md": "---\ntitle: Headers\n---\n"})
    with pytest.raises(ContentError) as raised:
        build(content, tmp_path / "output")
    assert [p.message for p in raised.value.problems] == [
        "file name '_headers' is not a valid id: use lowercase letters, digits and '-'"
    ]
