"""The search page in a real browser: build the example archive, serve it under a subpath, search it.

Uses Playwright's sync API with Debian's chromium (never a downloaded browser). Without
/usr/bin/chromium the tests are skipped on a workstation, and fail under CI.
"""

from __future__ import annotations

import functools
import http.server
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request

REPO = Path(__file__).resolve().parent.parent
SUBPATH = "archive"  # the site is served at http://127.0.0.1:PORT/archive/, not at the root
HOST = "127.0.0.1"
TIMEOUT_MS = 15_000


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class Site:
    url: str  # http://127.0.0.1:PORT/archive/
    folder: Path  # the build output, <tmp>/archive


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Build the example archive into <tmp>/archive/ and serve <tmp>/ over HTTP."""
    served = tmp_path_factory.mktemp("served")
    output = served / SUBPATH
    subprocess.run(
        [sys.executable, "-m", "site_builder", "build", "--content", str(REPO / "content"), "--output", str(output)],
        check=True,
        cwd=REPO,
    )
    assert (output / "search" / "index.html").is_file()
    assert (output / "pagefind" / "pagefind.js").is_file()
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer((HOST, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://{HOST}:{server.server_address[1]}/{SUBPATH}/", output)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


class Visit:
    """A fresh page that records every request it makes and every uncaught script error."""

    def __init__(self, browser: Browser) -> None:
        self.context = browser.new_context()
        self.context.set_default_timeout(TIMEOUT_MS)
        self.requests: list[str] = []
        self.errors: list[str] = []
        # The context sees requests of the page and of its workers (Pagefind searches in a worker).
        self.context.on("request", self._record)
        self.page: Page = self.context.new_page()
        self.page.on("request", self._record)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def _record(self, request: Request) -> None:
        self.requests.append(request.url)

    def assert_local_only(self) -> None:
        assert self.requests, "no requests were recorded"
        outside = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob"):
                continue
            if parts.scheme != "http" or parts.hostname != HOST:
                outside.append(url)
        assert not outside, f"requests left {HOST}: {outside}"
        assert not self.errors, f"uncaught script errors: {self.errors}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Browser) -> Iterator[Visit]:
    visit = Visit(browser)
    try:
        yield visit
    finally:
        visit.close()


def open_search(visit: Visit, site: Site, query_string: str = "") -> Page:
    page = visit.page
    page.goto(site.url + "search/index.html" + query_string)
    # The filter selects appear once Pagefind has loaded and read its filter index.
    page.wait_for_selector("#search-filter-region")
    return page


def wait_for_search(page: Page, **params: str) -> None:
    """Wait until the search for these page-URL parameters has run and its results are on the page."""
    page.wait_for_function(
        """(params) => {
            const form = document.getElementById("search-form");
            const here = new URLSearchParams(window.location.search);
            const current = Object.entries(params).every(([k, v]) => (here.get(k) || "") === v);
            return current && !form.hasAttribute("aria-busy")
                && document.getElementById("search-status").textContent.trim() !== "";
        }""",
        arg=params,
    )


def result_links(page: Page) -> list[str]:
    return [link.get_attribute("href") or "" for link in page.locator("#search-results > li a").all()]


def test_search_finds_events_and_links_work_under_a_subpath(visit: Visit, site: Site) -> None:
    page = open_search(visit, site)
    page.locator("#search-input").press_sequentially("Observatory")
    wait_for_search(page, q="Observatory")

    links = result_links(page)
    assert links, page.text_content("#search-status")
    for href in links:
        assert re.fullmatch(r"\.\./events/[^/]+/index\.html", href), href
    first = page.locator("#search-results > li a").first
    title = (first.text_content() or "").strip()
    assert title
    assert page.locator("#search-results > li mark").count() > 0  # the excerpt highlights the match

    first.click()
    page.wait_for_url(re.compile(rf"^{re.escape(site.url)}events/[^/]+/index\.html$"))
    assert urlsplit(page.url).path.startswith(f"/{SUBPATH}/events/")
    heading = page.locator("main h1")
    assert heading.count() == 1
    assert (heading.text_content() or "").strip() == title
    visit.assert_local_only()


def test_region_filter_and_sort(visit: Visit, site: Site) -> None:
    page = open_search(visit, site)
    region = page.locator("#search-filter-region")
    values = region.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert values[0] == ""  # "all regions"
    assert "Lebanon" in values and "Syria" in values
    assert page.locator("label[for=search-filter-region]").text_content()

    page.locator("#search-input").fill("Syria")
    wait_for_search(page, q="Syria", region="")
    everything = result_links(page)
    assert len(everything) >= 2

    region.select_option("Lebanon")
    wait_for_search(page, q="Syria", region="Lebanon")
    in_lebanon = result_links(page)
    assert in_lebanon, page.text_content("#search-status")
    assert len(in_lebanon) < len(everything)
    assert set(in_lebanon) <= set(everything)

    # A filter without a query lists every event the filter matches.
    page.locator("#search-input").fill("")
    wait_for_search(page, q="", region="Lebanon")
    assert set(result_links(page)) >= set(in_lebanon)

    # Newest first is the default; oldest first reverses it.
    region.select_option("")
    page.locator("#search-input").fill("Syria")
    wait_for_search(page, q="Syria", region="")
    newest_first = result_links(page)
    page.locator("#search-sort").select_option("date:asc")
    wait_for_search(page, q="Syria", sort="date:asc")
    assert result_links(page) == list(reversed(newest_first))
    visit.assert_local_only()


def test_query_in_page_url_is_searched(visit: Visit, site: Site) -> None:
    page = open_search(visit, site, "?q=Lebanon&region=Lebanon")
    wait_for_search(page, q="Lebanon", region="Lebanon")
    assert page.locator("#search-input").input_value() == "Lebanon"
    assert page.locator("#search-filter-region").input_value() == "Lebanon"
    assert result_links(page)

    page.locator("#search-input").fill("nothingmatchesthisword")
    wait_for_search(page, q="nothingmatchesthisword")
    assert result_links(page) == []
    assert (page.text_content("#search-status") or "").strip()
    visit.assert_local_only()


# --- from disk: file:// URLs, no server --------------------------------------------------------


def _outside(requests: list[str], folder: Path) -> list[str]:
    """Requests for anything but a file inside `folder` (data: and blob: URLs are the page's own)."""
    inside = folder.resolve().as_uri() + "/"
    return [url for url in requests if urlsplit(url).scheme not in ("data", "blob") and not url.startswith(inside)]


def test_click_through_from_disk(visit: Visit, site: Site) -> None:
    """Home -> region -> event -> a cited source, by clicking links, on file:// with no server."""
    page = visit.page
    home = site.folder / "index.html"
    page.goto(home.as_uri())
    page.locator("section[aria-labelledby=home-regions] ul a", has_text="Syria").click()
    page.wait_for_url(re.compile(r"^file://.*/regions/[^/]+/index\.html$"))
    region_heading = (page.locator("main h1").text_content() or "").strip()
    assert region_heading

    page.locator("main a[href*='events/']", has_text="Killings on Syria's coast").first.click()
    page.wait_for_url(re.compile(r"^file://.*/events/2025-03-07-coastal-killings/index\.html$"))
    assert page.locator("main h1").count() == 1
    assert page.locator("li[id^=source-]").count() >= 1

    citation = page.locator("main a[href^='#source-']").first
    target = (citation.get_attribute("href") or "").removeprefix("#")
    citation.click()
    page.wait_for_url(re.compile(rf"#{re.escape(target)}$"))
    assert page.locator(f"[id='{target}']").is_visible()
    assert page.evaluate("document.styleSheets.length") >= 1  # the stylesheet loaded from disk
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != ""

    # Every internal link on the way names a file, so none lands on a folder listing.
    for href in page.locator("a[href]").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
        if not re.match(r"^[a-z]+:|^#", href):
            assert href.split("#")[0].endswith((".html", ".xml", ".atom", ".json", ".csv", ".zip", ".sha256")), href
    assert not _outside(visit.requests, site.folder)
    assert visit.errors == []


def _pages(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.html") if "pagefind" not in p.relative_to(folder).parts)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_no_page_asks_for_anything_outside_the_output_folder(browser: Browser, site: Site, javascript: bool) -> None:
    context = browser.new_context(java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    pages = _pages(site.folder)
    assert len(pages) > 20
    try:
        for path in pages:
            page.goto(path.as_uri(), wait_until="load")
    finally:
        context.close()
    assert len(requests) >= len(pages)
    assert _outside(requests, site.folder) == []
    assert errors == []


def test_pages_read_without_javascript(browser: Browser, site: Site) -> None:
    """Timeline, regions, events and sources are plain HTML; only search needs scripts, and says so."""
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto((site.folder / "regions" / "index.html").as_uri())
        page.locator("main a[href*='regions/']").first.click()
        page.wait_for_url(re.compile(r"/regions/[^/]+/index\.html$"))
        assert page.locator("main a[href*='events/']").count() >= 1
        page.goto((site.folder / "sources" / "index.html").as_uri())
        assert page.locator("main a[href*='sources/']").count() >= 1
        page.goto((site.folder / "search" / "index.html").as_uri())
        notice = page.locator("noscript").first.text_content() or ""
        assert "JavaScript" in notice
    finally:
        context.close()


@pytest.fixture(scope="module")
def versioned_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SYNTHETIC archive in Git with one release, built with --versions."""
    from test_versions import Repo, entry, killed

    from site_builder.build import build

    repo = Repo(tmp_path_factory.mktemp("versioned"))
    path = "events/2025/2025-03-07-a.md"
    repo.commit("Add entry A", {path: entry("Shelling of the market", killed("745", "approximately"))})
    repo.git("tag", "v1")
    repo.commit("Revise A", {path: entry("Shelling of the market", killed("1225", "at-least", "2025-03-11"))})
    output = repo.root / "output"
    build(repo.root / "content", output, releases=True, cache_dir=None)
    return output


def test_versions_and_history_from_disk(visit: Visit, versioned_site: Path) -> None:
    page = visit.page
    page.goto((versioned_site / "events" / "2025-03-07-a" / "index.html").as_uri())
    assert page.locator("ol.revisions > li").count() == 2  # added, then revised
    page.locator("footer nav.versions a", has_text="v1").click()
    page.wait_for_url(re.compile(r"/versions/v1/index\.html$"))
    assert page.locator(".notice-release").count() == 1
    page.locator("main a[href*='events/2025-03-07-a/']").first.click()
    page.wait_for_url(re.compile(r"/versions/v1/events/2025-03-07-a/index\.html$"))
    assert "745" in (page.locator("main").text_content() or "")
    page.locator(".notice-release a").click()  # to the same entry in the current archive
    page.wait_for_url(re.compile(r"/output/events/2025-03-07-a/index\.html$"))
    page.locator("footer nav.versions a", has_text="v1").click()
    page.wait_for_url(re.compile(r"/versions/v1/index\.html$"))
    assert not _outside(visit.requests, versioned_site)
    assert visit.errors == []
