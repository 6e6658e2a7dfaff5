"""`site-builder serve`: rebuild on save, live reload over Server-Sent Events, the error overlay.

The server runs in this process on 127.0.0.1, port 0, over a temporary content tree (test data,
not real events). The browser test drives Debian's chromium through Playwright, like test_browser.py.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import MINIMAL_SITE, event, write_tree
from playwright.sync_api import Browser

from site_builder import cache, serve
from site_builder.build import build
from site_builder.cli import main
from site_builder.serve import Session, describe
from site_builder.servehttp import inject, is_loopback
from site_builder.watch import Change, Kind

REPO = Path(__file__).resolve().parent.parent
ENTRY = "events/2025/2025-03-07-a.md"
PAGE = "events/2025-03-07-a/index.html"
SCRIPT = re.compile(r'<script src="/__serve/reload\.js" data-build="\d+" defer></script>')
# A date that does not exist: the validator reports it on the entry's line 3.
BROKEN = "---\ntitle: Broken\ndate: 2025-02-30\nregions: [hills]\nsources:\n  - id: monitor\n---\nNarrative.\n"


def wait_until(condition: Callable[[], object], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@dataclass
class Served:
    url: str
    content: Path
    output: Path
    session: Session
    lines: list[str]

    def edit(self, text: str) -> None:
        (self.content / ENTRY).write_text(text, encoding="utf-8")

    def get(self, path: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        conn.request("GET", path, headers={"Host": host} if host else {})
        response = conn.getresponse()
        body = response.read()
        conn.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, ENTRY: event("Alpha")})
    lines: list[str] = []
    session = Session(content, tmp_path / "output", tmp_path / ".cache", say=lines.append, search_quiet=0.3)
    url = session.start("127.0.0.1", 0)
    try:
        yield Served(url, content, tmp_path / "output", session, lines)
    finally:
        session.stop()


def test_inject_before_the_last_body_end() -> None:
    assert inject(b"<body><p>x</p></BODY>\n</html>", 3) == (
        b'<body><p>x</p><script src="/__serve/reload.js" data-build="3" defer></script></BODY>\n</html>'
    )
    assert inject(b"<p>no body</p>", 0).endswith(b'data-build="0" defer></script>')


def test_describe_names_a_few_changed_files() -> None:
    changes = [Change(Kind.ENTRY, Path.cwd() / f"content/events/{n}.md") for n in "dcba"]
    assert describe(changes[:1]) == "content/events/d.md"
    assert describe(changes) == "content/events/a.md, content/events/b.md, content/events/c.md and 1 more"


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                                ("127.0.0.2", True), ("0.0.0.0", False), ("192.168.1.5", False),
                                                ("example.org", False)])  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_html_gets_the_script_in_responses_only(served: Served) -> None:
    status, headers, body = served.get("/" + PAGE)
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert len(SCRIPT.findall(body.decode())) == 1
    assert headers["cache-control"] == "no-store"
    assert served.get("/")[2] == served.get("/index.html")[2]
    assert SCRIPT.search(served.get("/")[2].decode())
    # On disk the build is a normal build: nothing of serve in any file.
    for path in served.output.rglob("*"):
        assert not path.is_file() or b"__serve" not in path.read_bytes(), path
    status, headers, script = served.get("/__serve/reload.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert b"EventSource" in script
    status, _, css = served.get("/assets/style.css")
    assert status == 200 and css == (served.output / "assets/style.css").read_bytes()


def test_a_missing_page_is_a_404_that_still_reloads(served: Served) -> None:
    status, _, body = served.get("/events/no-such-entry/index.html")
    assert status == 404
    assert b"/events/no-such-entry/index.html" in body and SCRIPT.search(body.decode())
    status, _, body = served.get("/events/<script>/")
    assert status == 404 and b"<script>/" not in body


def test_requests_for_other_host_names_are_refused(served: Served) -> None:
    """DNS rebinding: a page on evil.example must not read the unpublished site through 127.0.0.1."""
    port = urlsplit(served.url).port
    assert served.get("/", host=f"evil.example:{port}")[0] == 403
    assert served.get("/__serve/events", host=f"evil.example:{port}")[0] == 403
    assert served.get("/", host=f"localhost:{port}")[0] == 200


class Stream:
    """A client of /__serve/events that reads one event at a time."""

    def __init__(self, served: Served, since: int) -> None:
        parts = urlsplit(served.url)
        self.conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=15)
        self.conn.request("GET", f"/__serve/events?since={since}")
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type") == "text/event-stream"

    def next(self) -> tuple[str, object]:
        name, data = "", ""
        while True:
            line = self.response.readline().decode()
            assert line, "the stream ended"
            if line.startswith("event: "):
                name = line.removeprefix("event: ").strip()
            elif line.startswith("data: "):
                data = line.removeprefix("data: ").strip()
            elif line == "\n" and name:
                return name, json.loads(data)

    def close(self) -> None:
        self.conn.close()


def test_events_reload_after_a_rebuild_and_list_errors_after_a_failed_one(served: Served) -> None:
    generation = served.session.hub.state.generation
    stream = Stream(served, generation)
    try:
        served.edit(event("Beta"))
        assert stream.next() == ("reload", generation + 1)
    finally:
        stream.close()
    assert b">Beta</h1>" in (served.output / PAGE).read_bytes()
    assert any(line.startswith("Rebuilt ") and ENTRY in line for line in served.lines), served.lines

    stream = Stream(served, generation + 1)
    try:
        served.edit(BROKEN)
        name, problems = stream.next()
        assert name == "errors"
        assert isinstance(problems, list) and len(problems) == 1
        assert problems[0]["line"] == 3 and problems[0]["path"].endswith(ENTRY)
        assert problems[0]["text"].startswith(f"{served.content.as_posix()}/{ENTRY}:3: error: ")
        assert b">Beta</h1>" in (served.output / PAGE).read_bytes()  # the last good build stays
        served.edit(event("Gamma"))
        assert stream.next() == ("reload", generation + 2)
    finally:
        stream.close()
    # A page of an older build (or of an earlier server) reloads as soon as it connects.
    stream = Stream(served, 0)
    try:
        assert stream.next() == ("reload", generation + 2)
    finally:
        stream.close()


def test_after_edits_settle_the_output_is_a_normal_build(served: Served, tmp_path: Path) -> None:
    """Rebuilds skip search; the background re-index then leaves exactly what `build` writes."""
    served.edit(event("Beta", extra="tags: [shelling]\n"))
    wait_until(lambda: any(line.startswith("Search index updated") for line in served.lines))
    build(served.content, tmp_path / "expected")

    def tree(root: Path) -> dict[str, bytes]:
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}

    assert tree(served.output) == tree(tmp_path / "expected")
    # Nothing of serve's left beside it (the build's own spare folder stays: that is the cache's).
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith((".output.index-", ".output.search-"))]
    # The rebuilds kept the cache in memory; it was written before the re-index: a new process
    # building the same output finds every page as it is.
    cache._MEMORY.clear()
    assert build(served.content, served.output, cache_dir=tmp_path / ".cache", search=False).rendered == frozenset()


def test_rebuilds_keep_the_previous_index_and_an_outdated_reindex_is_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, ENTRY: event("Alpha")})
    lines: list[str] = []
    session = Session(content, tmp_path / "output", None, say=lines.append, search_quiet=3600)
    try:
        session.build_once()
        index = tmp_path / "output/pagefind/pagefind.js"
        assert index.is_file()
        (content / ENTRY).write_text(event("Beta"), encoding="utf-8")
        session.rebuild(frozenset({Change(Kind.ENTRY, content / ENTRY)}))
        assert b">Beta</h1>" in (tmp_path / "output" / PAGE).read_bytes()
        assert index.is_file()  # the earlier index answers until the re-index

        # A rebuild while Pagefind runs: the new index describes pages already replaced, so it is dropped.
        real_index_site = serve.index_site

        def index_during_a_rebuild(site: Path) -> None:
            (content / ENTRY).write_text(event("Gamma"), encoding="utf-8")
            session.rebuild(frozenset({Change(Kind.ENTRY, content / ENTRY)}))
            real_index_site(site)

        monkeypatch.setattr(serve, "index_site", index_during_a_rebuild)
        before = index.stat().st_ino
        session.reindex()
        assert index.stat().st_ino == before
        assert not any(line.startswith("Search index") for line in lines), lines
        monkeypatch.setattr(serve, "index_site", real_index_site)
        session.reindex()
        assert index.stat().st_ino != before and lines[-1].startswith("Search index updated")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "output"]  # no links or index left beside
    finally:
        session.stop()


def test_a_failed_first_build_still_serves_and_shows_the_errors(tmp_path: Path) -> None:
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, ENTRY: BROKEN})
    session = Session(content, tmp_path / "output", None, say=lambda _: None)
    url = session.start("127.0.0.1", 0)
    try:
        served = Served(url, content, tmp_path / "output", session, [])
        assert served.get("/")[0] == 404  # nothing built yet: a page that carries the reload script
        stream = Stream(served, 0)
        try:
            assert stream.next()[0] == "errors"
            served.edit(event("Fixed"))
            assert stream.next() == ("reload", 1)
        finally:
            stream.close()
        assert served.get("/" + PAGE)[0] == 200
    finally:
        session.stop()


def test_a_busy_port_and_a_public_host_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, ENTRY: event("A")})
    common = ["serve", "--content", str(content), "--output", str(tmp_path / "output"), "--no-cache"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main([*common, "--port", str(taken.getsockname()[1])]) == 1
    assert "is in use" in capsys.readouterr().err
    assert main([*common, "--host", "0.0.0.0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err
    assert not (tmp_path / "output").exists()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "kill"])
def test_the_command_serves_until_stopped(tmp_path: Path, stop: signal.Signals) -> None:
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, ENTRY: event("A")})
    command = [sys.executable, "-m", "site_builder", "serve", "--content", str(content)]
    command += ["--output", str(tmp_path / "output"), "--cache", str(tmp_path / ".cache"), "--port", "0"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().startswith("Built ")
        serving = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", serving)
        assert found, serving
        conn = http.client.HTTPConnection("127.0.0.1", int(found.group(1)), timeout=10)
        conn.request("GET", "/")
        assert conn.getresponse().status == 200
        conn.close()
        os.kill(process.pid, stop)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0, err
    assert "Stopping." in out and "Traceback" not in err


# --- in a browser --------------------------------------------------------------------------------


def test_edit_reload_error_overlay_and_fix_in_a_browser(browser: Browser, served: Served) -> None:
    context = browser.new_context()
    context.set_default_timeout(15_000)
    requests: list[str] = []
    errors: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    heading = page.locator("main h1")
    overlay = page.locator("#site-builder-serve-errors")
    try:
        page.goto(served.url + PAGE)
        assert heading.text_content() == "Alpha"

        started = time.monotonic()
        served.edit(event("Alpha revised"))
        page.wait_for_function("() => document.querySelector('main h1').textContent === 'Alpha revised'")
        seconds = time.monotonic() - started
        assert seconds < 2.0, f"the page showed the new title after {seconds:.2f} s"

        served.edit(BROKEN)
        overlay.wait_for(state="visible")
        assert overlay.get_attribute("role") == "alert"
        assert "The build failed" in (overlay.locator("h2").text_content() or "")
        items = overlay.locator("li").all_text_contents()
        assert len(items) == 1 and f"{ENTRY}:3: error: " in items[0], items
        assert heading.text_content() == "Alpha revised"  # the last good page stays underneath

        served.edit(event("Alpha fixed"))
        page.wait_for_function("() => document.querySelector('main h1').textContent === 'Alpha fixed'")
        assert overlay.count() == 0
    finally:
        context.close()
    assert errors == []
    assert all(urlsplit(url).hostname == "127.0.0.1" for url in requests), requests
