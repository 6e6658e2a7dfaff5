"""Every page in Chromium, as a reader at risk meets it: nothing runs that the site did not write,
and nothing is asked of anyone but the site.

Two archives: the example in content/, and a SYNTHETIC hostile one written below, with script,
event handlers, frames, remote resources and script links in every text field and in the
narrative. Each is read over HTTP under a subpath, from a host that sends the `_headers` the build
wrote (as Netlify or Cloudflare Pages do), and from disk (file://, where the <meta> policy is all).
On every page: no dialog (no injected script ran), no uncaught script error, no console error or
warning, no Content-Security-Policy violation, no request outside the site and no link to a
javascript:, data: or vbscript: URL. The search page is read with a query, results shown.

axe-core checks home, search, a region, an event and the data page, light and dark; the Nu HTML
checker checks every page of both archives, in one Java run. Both come from the npm registry into
tests/tools/ (`make browser-tools`). Without chromium, the tools or Java, the tests are skipped on
a workstation and fail under CI.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import require, write_tree
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page
from test_browser import HOST, TIMEOUT_MS, _QuietHandler, wait_for_search

from site_builder.build import build
from site_builder.errors import ContentError

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / "tests" / "tools" / "node_modules"
AXE = TOOLS / "axe-core" / "axe.min.js"
VNU = TOOLS / "vnu-jar" / "build" / "dist" / "vnu.jar"
EXAMPLE_QUERY = "Syria"
HOSTILE_QUERY = "alert"
SAFE_PROTOCOLS = {"http:", "https:", "mailto:", "file:"}
MISSING = "no/such/page/"  # a page that does not exist: the host answers with the site's 404.html


# --- the hostile archive (SYNTHETIC: test data, no real events) -----------------------------------

# Each payload would show a dialog, load something from elsewhere, or take the page elsewhere, if
# it ever became markup. Every text field carries them all; alert's argument says where it was.
PAYLOADS = (
    '<script>alert("script")</script>',
    '"><img src=x onerror=alert("img")>',
    "'><svg onload=alert('svg')>",
    "<iframe src=\"javascript:alert('iframe')\"></iframe>",
    '</title></textarea></script><script>alert("close")</script>',
    '<a href="JaVaScRiPt:alert(1)">mixed case</a> <a href="&#106;avascript:alert(2)">entity</a>',
    '<a href="data:text/html,<script>alert(3)</script>">data</a> <a href="vbscript:msgbox(4)">vb</a>',
    '<img src="https://tracker.invalid/pixel.png"> <link rel=stylesheet href=//tracker.invalid/x.css>',
    '<style>body{background:url(https://tracker.invalid/bg.png)}</style><base href="https://tracker.invalid/">',
    '<meta http-equiv="refresh" content="0;url=https://tracker.invalid/"> {{ 7*7 }} {% raw %}',
)
HOSTILE = " ".join(PAYLOADS)

# The narrative: the payloads as raw HTML (it stays text), and what Markdown could make of them.
# Markdown links to javascript:, data: or vbscript: fail the build (test_script_links_fail_the_build);
# these are the spellings that build, and browsers read them as relative paths.
NARRATIVE = "\n\n".join(
    [
        *PAYLOADS,
        "# <script>alert('heading')</script>",
        "![remote image](https://tracker.invalid/pixel.png) `<script>alert('code')</script>`",
        "```html\n<script>alert('fence')</script>\n```",
        "[tab](java&#x09;script:alert(5)) [percent](%6Aavascript:alert(6)) <https://example.org/autolink>",
        '[quoted title](https://example.org/ "a \\" onmouseover=alert(7) x=\\"") &lt;script&gt;alert(8)&lt;/script&gt;',
        "<div onclick=alert(9)>raw div</div> <!-- <script>alert(10)</script> -->",
    ]
)


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's)."""
    return json.dumps(text)


def hostile_tree() -> dict[str, str]:
    h = _q(HOSTILE)
    url = _q("https://example.org/?q='onmouseover='alert(1)'&next=javascript:alert(2)#'onfocus='alert(3)")
    event = f"""---
title: {_q("Hostile entry " + HOSTILE)}
summary: {h}
date: 2025-03-07
regions: [north]
tags: [hostile, xss]
confidence: {{grade: fair, note: {h}}}
aliases: [old-hostile-entry]
tallies:
  - {{measure: killed, group: civilians, count: 3, qualifier: at-least, verbatim: {h}, scope: {h},
      as_of: 2025-03-08, source: monitor}}
statements:
  - {{speaker: {h}, role: {h}, organization: {h}, kind: quote, text: {h}, date: 2025-03-08, source: monitor}}
  - {{speaker: {h}, kind: paraphrase, text: {h}}}
sources:
  - {{id: monitor, name: {h}, title: {h}, url: {url}, archive_url: {url}, published: 2025-03-08}}
  - {{id: unlisted, name: {h}, title: {h}}}
---
{NARRATIVE}
"""
    second = (
        f"---\ntitle: {_q('Second ' + PAYLOADS[0])}\ndate: 2025\nregions: [hills]\nsources: [{{id: monitor}}]\n---\n"
    )
    return {
        "site.yaml": (
            f"title: {_q('Hostile archive ' + PAYLOADS[4])}\ndescription: {h}\n"
            f"base_url: https://example.org/hostile/\nlanguage: en\nlicense: {h}\n"
        ),
        "regions.yaml": f"- id: north\n  name: {h}\n- id: hills\n  name: {{en: {h}, ar: {h}}}\n  parent: north\n",
        "sources.yaml": f"- id: monitor\n  name: {h}\n  type: {h}\n  url: {url}\n  description: {h}\n",
        "pages/notes.md": f"---\ntitle: {h}\ndescription: {h}\n---\n{NARRATIVE}\n",
        "events/2025/2025-03-07-hostile.md": event,
        "events/2025/2025-second.md": second + NARRATIVE + "\n",
    }


# --- serving: a host that reads _headers --------------------------------------------------------


def _site_headers(folder: Path) -> list[tuple[str, str]]:
    """The headers of the `/*` rule of the site's `_headers` (the only rule the build writes)."""
    found: list[tuple[str, str]] = []
    rule = ""
    for line in (folder / "_headers").read_text(encoding="utf-8").splitlines():
        if line.strip().startswith("#") or not line.strip():
            continue
        if not line[0].isspace():
            rule = line.strip()
        elif rule == "/*":
            name, _, value = line.strip().partition(":")
            found.append((name.strip(), value.strip()))
    return found


class _Host(_QuietHandler):
    """A static host as Netlify or Cloudflare Pages serve a site: the headers of its `_headers` on
    every response, and its 404.html for a page that does not exist."""

    def _site(self) -> Path:
        return Path(str(self.directory)) / urlsplit(self.path).path.lstrip("/").partition("/")[0]

    def end_headers(self) -> None:
        if (self._site() / "_headers").is_file():
            for name, value in _site_headers(self._site()):
                self.send_header(name, value)
        super().end_headers()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        page = self._site() / "404.html"
        if code != 404 or not page.is_file():
            super().send_error(code, message, explain)
            return
        body = page.read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@dataclass(frozen=True)
class Site:
    name: str
    folder: Path  # the build output
    url: str  # where the host serves it: http://127.0.0.1:PORT/<name>/
    query: str  # a word the search page finds

    def pages(self) -> list[str]:
        """Every HTML page, relative to the site (Pagefind's own UI files left out: not used)."""
        found = self.folder.rglob("*.html")
        return sorted(p.relative_to(self.folder).as_posix() for p in found if "pagefind" not in p.parts)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory, example_site: Path) -> Iterator[dict[str, Site]]:
    """The example and the hostile archive, built, and served at /example/ and /hostile/."""
    hostile = tmp_path_factory.mktemp("hostile")
    build(write_tree(hostile / "content", hostile_tree()), hostile / "output")
    served = tmp_path_factory.mktemp("host")
    (served / "example").symlink_to(example_site, target_is_directory=True)
    (served / "hostile").symlink_to(hostile / "output", target_is_directory=True)
    server = http.server.ThreadingHTTPServer((HOST, 0), functools.partial(_Host, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://{HOST}:{server.server_address[1]}/"
    try:
        yield {
            "example": Site("example", example_site, base + "example/", EXAMPLE_QUERY),
            "hostile": Site("hostile", hostile / "output", base + "hostile/", HOSTILE_QUERY),
        }
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the pass -----------------------------------------------------------------------------------

# Runs before any script of each page: every CSP violation is reported to the test at once.
RECORD_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.sbViolation(`${document.URL}: ${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`);
});
"""

# What the page holds once its scripts have run: link schemes, and markup that could run code.
INSPECT = """() => ({
  protocols: [...document.querySelectorAll("a[href], area[href]")].map((a) => a.protocol),
  handlers: [...document.querySelectorAll("*")].flatMap((el) =>
    [...el.attributes].filter((a) => a.name.startsWith("on")).map((a) => `${el.localName}[${a.name}]`)),
  inline: document.querySelectorAll("script:not([src]), iframe, frame, object, embed, base").length,
  styled: document.styleSheets.length,
  results: document.querySelectorAll("#search-results > li").length,
})"""


@dataclass
class Seen:
    """Everything the pass recorded that should not have happened, and what it read."""

    pages: int = 0
    requested: int = 0  # requests made, all told
    requests: list[str] = field(default_factory=list)  # those outside the site
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    markup: list[str] = field(default_factory=list)

    def dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def message(self, message: ConsoleMessage) -> None:
        # The status of the browser's own /favicon.ico at the host's root, and of a missing page
        # (answered with the site's 404.html), are the host's, not the site's.
        if message.location.get("url", "").endswith(("/favicon.ico", MISSING)):
            return
        if message.type in ("error", "warning"):
            self.console.append(f"{message.type}: {message.text} ({message.location.get('url')})")


def _read_all(browser: Browser, site: Site, urls: dict[str, str], is_inside: Callable[[str], bool]) -> Seen:
    """Open every page of `urls` ({page: url}) in one page of one context, recording what happens."""
    seen = Seen()
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    context.expose_binding("sbViolation", lambda _source, text: seen.violations.append(text))
    context.add_init_script(RECORD_VIOLATIONS)
    context.on("request", lambda request: seen.requests.append(request.url))  # workers' requests too
    page = context.new_page()
    page.on("dialog", seen.dialog)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("console", seen.message)
    try:
        for rel, url in urls.items():
            _read_page(page, site, rel, url, seen)
    finally:
        context.close()
    seen.requested = len(seen.requests)
    seen.requests = [url for url in seen.requests if not is_inside(url)]
    return seen


def _read_page(page: Page, site: Site, rel: str, url: str, seen: Seen) -> None:
    source = site.folder / rel
    if source.is_file() and 'http-equiv="refresh"' in source.read_text(encoding="utf-8"):
        page.goto(url)
        page.wait_for_url(lambda now: now != url)  # a renamed entry's page sends the reader on
    else:
        page.goto(url)
    if rel == "search/index.html":
        wait_for_search(page, q=site.query)
    found = page.evaluate(INSPECT)
    seen.pages += 1
    seen.links += [f"{rel}: {p}" for p in found["protocols"] if p not in SAFE_PROTOCOLS]
    seen.markup += [f"{rel}: {h}" for h in found["handlers"]]
    if found["inline"]:
        seen.markup.append(f"{rel}: {found['inline']} inline script, frame, object or base elements")
    if found["styled"] < 1:
        seen.markup.append(f"{rel}: no stylesheet applied")
    if rel == "search/index.html" and found["results"] < 1:
        seen.markup.append(f"{rel}: the search for {site.query!r} found nothing")


def _assert_clean(seen: Seen, pages: int, label: str) -> None:
    print(
        f"{label}: {seen.pages} pages, {seen.requested} requests ({len(seen.requests)} outside the site), "
        f"{len(seen.dialogs)} dialogs, {len(seen.errors)} script errors, {len(seen.console)} console errors "
        f"or warnings, {len(seen.violations)} CSP violations, {len(seen.links)} script links"
    )
    assert seen.pages == pages
    assert seen.dialogs == [], "a script from the content ran"
    assert seen.errors == []
    assert seen.console == []
    assert seen.violations == []
    assert seen.requests == [], "requests outside the site"
    assert seen.links == [], "links to script URLs"
    assert seen.markup == []


@pytest.mark.parametrize("name", ["example", "hostile"])
def test_every_page_over_http_with_the_sites_headers(browser: Browser, sites: dict[str, Site], name: str) -> None:
    site = sites[name]
    pages = site.pages()
    urls = {rel: site.url + rel for rel in pages}
    urls["search/index.html"] += f"?q={site.query}"
    urls[MISSING] = site.url + MISSING
    seen = _read_all(browser, site, urls, lambda url: url.startswith(site.url))
    _assert_clean(seen, len(urls), f"{name} over HTTP")
    assert len(pages) >= 15  # every kind of page: home, events, a redirect, regions, tags, sources, ...


@pytest.mark.parametrize("name", ["example", "hostile"])
def test_every_page_from_disk(browser: Browser, sites: dict[str, Site], name: str) -> None:
    site = sites[name]
    urls = {rel: (site.folder / rel).as_uri() for rel in site.pages()}
    urls["search/index.html"] += f"?q={site.query}"
    inside = site.folder.resolve().as_uri() + "/"
    seen = _read_all(browser, site, urls, lambda url: url.startswith(inside))
    _assert_clean(seen, len(urls), f"{name} from disk")


def test_the_policy_blocks_what_the_content_might_smuggle_in(browser: Browser, sites: dict[str, Site]) -> None:
    """The pass would see a violation, and the policy stops inline script and style: checked here."""
    site = sites["example"]
    seen = Seen()
    context = browser.new_context()
    context.expose_binding("sbViolation", lambda _source, text: seen.violations.append(text))
    context.add_init_script(RECORD_VIOLATIONS)
    try:
        page = context.new_page()
        page.on("dialog", seen.dialog)
        page.goto(site.url + "index.html")
        page.evaluate("""() => {
            const script = document.createElement("script");
            script.textContent = "alert('inline')";
            document.head.append(script);
            document.body.setAttribute("style", "display: none");
            const img = document.createElement("img");
            img.src = "https://tracker.invalid/pixel.png";
            document.body.append(img);
        }""")
        page.wait_for_function("() => document.querySelector('img').complete")
        assert page.evaluate("getComputedStyle(document.body).display") != "none"
    finally:
        context.close()
    assert seen.dialogs == []
    assert {v.split(": ", 1)[1] for v in seen.violations} == {
        "script-src-elem blocked inline",
        "style-src-attr blocked inline",
        "img-src blocked https://tracker.invalid/pixel.png",
    }


def test_script_links_fail_the_build(tmp_path: Path) -> None:
    """The Markdown links the hostile archive cannot have: each is refused, by its line."""
    links = ["JaVaScRiPt:alert(1)", "&#106;avascript:alert(2)", "data:text/html,x", "vbscript:msgbox(4)"]
    body = "\n\n".join(f"[link]({link})" for link in links)
    tree = hostile_tree() | {
        "events/2025/2025-03-09-links.md": f"---\ntitle: T\ndate: 2025\nregions: [north]\n"
        f"sources: [{{id: monitor}}]\n---\n{body}\n"
    }
    with pytest.raises(ContentError) as raised:
        build(write_tree(tmp_path / "content", tree), tmp_path / "output")
    lines = [p.line for p in raised.value.problems]
    assert [p.message.split("'")[0] for p in raised.value.problems] == ["link "] * 4
    assert lines == [7, 9, 11, 13]


def test_hostile_pages_hold_no_markup_from_the_content(sites: dict[str, Site]) -> None:
    """Without a browser: no element, attribute or link of the payloads made it into any page."""
    site = sites["hostile"]
    for rel in site.pages():
        soup = BeautifulSoup((site.folder / rel).read_text(encoding="utf-8"), "html.parser")
        assert not soup.find_all(["iframe", "frame", "object", "embed", "base", "img", "svg"]), rel
        assert all(s.get("src") for s in soup.find_all("script")), rel
        assert not [a for tag in soup.find_all(True) for a in tag.attrs if a.startswith("on")], rel
        assert not soup.find_all(style=True), rel
        styles = soup.find_all("style")
        assert rel == "404.html" or not styles, rel
        for link in soup.find_all("link"):
            assert not urlsplit(str(link.get("href"))).netloc or link.get("rel") == ["canonical"], rel
        for meta in soup.find_all("meta", attrs={"http-equiv": "refresh"}):
            assert "tracker" not in str(meta.get("content")), rel


# --- accessibility (axe-core) and HTML (the Nu HTML checker) ------------------------------------

AXE_PAGES = (
    "index.html",
    f"search/index.html?q={EXAMPLE_QUERY}",
    "regions/syria/index.html",
    "events/2025-03-07-coastal-killings/index.html",
    "data/index.html",
)
RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")),
  }));
}"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_accessibility_violation(
    browser: Browser, sites: dict[str, Site], scheme: Literal["light", "dark"]
) -> None:
    require(AXE.is_file(), f"{AXE} is not installed")
    example, hostile = sites["example"], sites["hostile"]
    urls = [example.url + rel for rel in AXE_PAGES] + [hostile.url + "events/2025-03-07-hostile/index.html"]
    # add_script_tag puts axe's code inline, which the pages' policy refuses: this context alone
    # bypasses the policy (the pass above reads every page under it).
    context = browser.new_context(bypass_csp=True, color_scheme=scheme)
    context.set_default_timeout(TIMEOUT_MS)
    found: list[dict[str, Any]] = []
    try:
        page = context.new_page()
        for url in urls:
            page.goto(url)
            if "?q=" in url:
                wait_for_search(page, q=EXAMPLE_QUERY)
                assert page.locator("#search-results > li").count() > 0
            page.add_script_tag(path=str(AXE))
            found += [{**v, "page": url.removeprefix(example.url)} for v in page.evaluate(RUN_AXE)]
        axe_version = page.evaluate("axe.version")
    finally:
        context.close()
    impacts = {
        impact: sum(v["impact"] == impact for v in found) for impact in ("critical", "serious", "moderate", "minor")
    }
    print(f"axe {axe_version} ({scheme}): {len(urls)} pages, violations by impact: {impacts}")
    for v in found:  # the minor and moderate ones are shown (pytest -rP), not failed
        print(f"  {v['impact']} {v['id']} on {v['page']}: {v['help']} {v['nodes'][:3]}")
    assert [v for v in found if v["impact"] in ("serious", "critical")] == []


def test_nu_html_checker_finds_no_error(sites: dict[str, Site]) -> None:
    require(VNU.is_file(), f"{VNU} is not installed")
    java = shutil.which("java")
    require(java, "java is not installed")
    files = [str(site.folder / rel) for site in sites.values() for rel in site.pages()]
    result = subprocess.run(
        [str(java), "-jar", str(VNU), "--errors-only", "--format", "json", "--stdout", *files],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(result.stdout)["messages"]
    errors = [f"{m.get('url', '')}:{m.get('lastLine', '')}: {m.get('message', '')}" for m in messages]
    print(f"Nu HTML checker {json.loads(result.stdout).get('version')}: {len(files)} pages, {len(errors)} errors")
    assert errors == []
    assert result.returncode == 0, result.stderr
    assert len(files) >= 40
