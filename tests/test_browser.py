"""The search page in a real browser: build the example archive, serve it under a subpath, search it.

Uses Playwright's sync API with Debian's chromium (never a downloaded browser). Without
/usr/bin/chromium the tests are skipped on a workstation, and fail under CI.
"""

from __future__ import annotations

import functools
import http.server
import os
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
from playwright.sync_api import Browser, Page, Request, sync_playwright

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SUBPATH = "archive"  # the site is served at http://127.0.0.1:PORT/archive/, not at the root
HOST = "127.0.0.1"
TIMEOUT_MS = 15_000


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.is_file():
        message = f"{CHROMIUM} is not installed"
        if _in_ci():
            pytest.fail(message + " (required under CI)")
        pytest.skip(message)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


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


def test_search_from_disk_says_it_is_unavailable(visit: Visit, site: Site) -> None:
    """Browsers refuse Pagefind's module over file://: the page must say so, in the template's words."""
    page = visit.page
    page.goto((site.folder / "search" / "index.html").as_uri())
    message = page.locator("#search-form").get_attribute("data-msg-error")
    assert message
    page.wait_for_function("(message) => document.getElementById('search-status').textContent === message", arg=message)
    assert visit.errors == []
