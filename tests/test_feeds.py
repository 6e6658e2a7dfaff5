"""Atom feeds (RFC 4287), sitemap.xml and robots.txt, parsed with ElementTree."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import MINIMAL_SITE, event, write_tree

from site_builder import changelog, feeds
from site_builder.build import build
from site_builder.changelog import Change, Section
from site_builder.i18n import load_table, translator
from site_builder.model import Site
from site_builder.render import THEMES

Page = Callable[[str], BeautifulSoup]
A = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
BASE = "https://example.org/test/"
HOSTILE = "<script>alert('x')</script> & \"quoted\" ]]> \x01"  # SYNTHETIC; \x01 cannot be in XML at all


def absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def check_atom(data: bytes) -> ET.Element:
    """The RFC 4287 requirements this project relies on; returns the parsed feed."""
    feed = ET.fromstring(data)
    assert feed.tag == f"{A}feed"
    for name in ("id", "title", "updated"):
        assert len(feed.findall(f"{A}{name}")) == 1, name
    assert RFC3339.match(feed.findtext(f"{A}updated") or "")
    assert absolute(feed.findtext(f"{A}id") or "")
    links = {link.get("rel", "alternate"): link.get("href") or "" for link in feed.findall(f"{A}link")}
    assert set(links) == {"alternate", "self"} and all(absolute(href) for href in links.values())
    entries = feed.findall(f"{A}entry")
    # atom:author on the feed, or on every entry.
    assert feed.findtext(f"{A}author/{A}name") or all(e.find(f"{A}author") is not None for e in entries)
    ids = [e.findtext(f"{A}id") for e in entries]
    assert len(ids) == len(set(ids))
    for entry in entries:
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{A}{name}")) == 1, name
        assert absolute(entry.findtext(f"{A}id") or "")
        assert RFC3339.match(entry.findtext(f"{A}updated") or "")
        if entry.find(f"{A}published") is not None:
            assert RFC3339.match(entry.findtext(f"{A}published") or "")
            assert (entry.findtext(f"{A}published") or "") <= (entry.findtext(f"{A}updated") or "")
        alternate = [link for link in entry.findall(f"{A}link") if link.get("rel", "alternate") == "alternate"]
        assert len(alternate) == 1 and absolute(alternate[0].get("href") or "")
        assert entry.find(f"{A}summary") is not None or entry.find(f"{A}content") is not None
    return feed


def entry_ids(feed: ET.Element) -> list[str]:
    return [e.findtext(f"{A}id") or "" for e in feed.findall(f"{A}entry")]


# --- the example archive -------------------------------------------------------------------------


def test_every_feed_is_valid_atom(example_site: Path) -> None:
    paths = sorted(example_site.rglob("*.atom"))
    assert example_site / "feed.atom" in paths
    assert {p.parent.name for p in example_site.glob("regions/*/feed.atom")} == {
        p.name for p in (example_site / "regions").iterdir() if p.is_dir()
    }
    assert {p.parent.name for p in example_site.glob("tags/*/feed.atom")} == {
        p.name for p in (example_site / "tags").iterdir() if p.is_dir()
    }
    for path in paths:
        feed = check_atom(path.read_bytes())
        rel = path.relative_to(example_site).as_posix()
        self_link = next(link.get("href") for link in feed.findall(f"{A}link") if link.get("rel") == "self")
        assert self_link == "https://example.org/coastal-syria-2025/" + rel


def test_archive_feed_has_every_event_with_its_permanent_address(example_site: Path) -> None:
    feed = check_atom((example_site / "feed.atom").read_bytes())
    ids = entry_ids(feed)
    events = sorted(p.parent.name for p in example_site.glob("events/*/index.html"))
    assert sorted(ids) == [f"https://example.org/coastal-syria-2025/events/{e}/" for e in events]
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert "CC BY 4.0" in (feed.findtext(f"{A}rights") or "")
    killings = next(e for e in feed.findall(f"{A}entry") if "coastal-killings" in (e.findtext(f"{A}id") or ""))
    assert (killings.findtext(f"{A}summary") or "").startswith("7–8 March 2025 · Latakia, Tartous, Hama, Homs")
    assert {c.get("term") for c in killings.findall(f"{A}category")} >= {"killings"}


def test_region_feed_follows_the_region_page(example_site: Path, page: Page) -> None:
    feed = check_atom((example_site / "regions/syria/feed.atom").read_bytes())
    soup = page("regions/syria/index.html")
    on_page = {a["href"].split("/")[-2] for a in soup.select(".timeline h5 a")}
    assert {i.split("/")[-2] for i in entry_ids(feed)} == on_page
    assert feed.findtext(f"{A}title") == "Coastal Syria, March 2025: Syria"


def test_pages_link_their_feed(example_site: Path, page: Page) -> None:
    for path, feed in [
        ("index.html", "feed.atom"),
        ("regions/latakia/index.html", "regions/latakia/feed.atom"),
        ("tags/protest/index.html", "tags/protest/feed.atom"),
    ]:
        soup = page(path)
        link = soup.select_one("head link[rel=alternate][type='application/atom+xml']")
        assert link is not None, path
        target = urljoin(f"https://host/{path}", link["href"])
        assert target == f"https://host/{feed}", path
        assert (example_site / feed).is_file()
        if path != "index.html":  # region and tag pages show the link too
            visible = soup.select_one("main a[type='application/atom+xml']")
            assert visible is not None and visible["href"] == link["href"]
    assert page("events/2025-03-07-coastal-killings/index.html").select_one("link[type='application/atom+xml']") is None


# --- synthetic archives --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SYNTHETIC archive whose entry title and summary are hostile to XML; one entry has an alias."""
    root = tmp_path_factory.mktemp("feeds")
    title = '"<script>alert(1)</script> & \\"quoted\\" ]]>"'
    files = {
        **MINIMAL_SITE,
        "events/2025/2025-03-07-hostile.md": event(title, extra='summary: "a < b && c > d"\ntags: [x-tag]\n'),
        "events/2025/2025-03-08-renamed.md": event("Renamed", "2025-03-08", extra="aliases: [2025-03-08-old]\n"),
        "events/2025/2025-03-09-retracted.md": event("Withdrawn", "2025-03-09", extra="status: retracted\n"),
    }
    build(write_tree(root / "content", files), root / "output")
    return root / "output"


def test_hostile_titles_are_escaped(hostile: Path) -> None:
    raw = (hostile / "feed.atom").read_bytes()
    assert b"<script>" not in raw
    feed = check_atom(raw)
    titles = [e.findtext(f"{A}title") for e in feed.findall(f"{A}entry")]
    assert '<script>alert(1)</script> & "quoted" ]]>' in titles
    assert "Withdrawn (Retracted)" in titles
    summaries = [e.findtext(f"{A}summary") or "" for e in feed.findall(f"{A}entry")]
    assert any(s.endswith("a < b && c > d") for s in summaries)
    check_atom((hostile / "tags/x-tag/feed.atom").read_bytes())


def test_without_git_an_entry_is_dated_by_its_event(hostile: Path) -> None:
    feed = check_atom((hostile / "feed.atom").read_bytes())
    updated = {e.findtext(f"{A}id"): e.findtext(f"{A}updated") for e in feed.findall(f"{A}entry")}
    assert updated[f"{BASE}events/2025-03-08-renamed/"] == "2025-03-08T00:00:00Z"
    assert all(e.find(f"{A}published") is None for e in feed.findall(f"{A}entry"))
    assert feed.findtext(f"{A}updated") == "2025-03-09T00:00:00Z"
    # Newest first.
    assert entry_ids(feed)[0] == f"{BASE}events/2025-03-09-retracted/"


def test_updated_comes_from_the_last_revision_in_git(tmp_path: Path) -> None:
    from test_versions import Repo, entry

    repo = Repo(tmp_path)
    repo.commit("Add A", {"events/2025/2025-03-07-a.md": entry("A")})  # 2025-04-02
    repo.commit("Add B", {"events/2025/2025-03-08-b.md": entry("B", date="2025-03-08")})  # 2025-04-03
    repo.commit("Edit A", {"events/2025/2025-03-07-a.md": entry("A, edited")})  # 2025-04-04
    build(repo.root / "content", tmp_path / "output")
    feed = check_atom((tmp_path / "output/feed.atom").read_bytes())
    entries = {e.findtext(f"{A}id"): e for e in feed.findall(f"{A}entry")}
    a = entries[f"{BASE}events/2025-03-07-a/"]
    assert (a.findtext(f"{A}published"), a.findtext(f"{A}updated")) == ("2025-04-02T00:00:00Z", "2025-04-04T00:00:00Z")
    assert entry_ids(feed)[0] == f"{BASE}events/2025-03-07-a/"  # updated last, so first
    assert feed.findtext(f"{A}updated") == "2025-04-04T00:00:00Z"
    lastmod = {
        u.findtext(f"{SM}loc"): u.findtext(f"{SM}lastmod")
        for u in ET.fromstring((tmp_path / "output/sitemap.xml").read_bytes())
    }
    assert lastmod[f"{BASE}events/2025-03-08-b/"] == "2025-04-03"


def test_feeds_are_bounded(tmp_path: Path) -> None:
    files = {**MINIMAL_SITE}
    for day in range(1, 61):  # SYNTHETIC entries, one a day
        date = f"2025-{1 + (day - 1) // 28:02d}-{1 + (day - 1) % 28:02d}"
        files[f"events/2025/{date}-e.md"] = event(f"Entry {day}", date)
    build(write_tree(tmp_path / "content", files), tmp_path / "output")
    feed = check_atom((tmp_path / "output/feed.atom").read_bytes())
    ids = entry_ids(feed)
    assert len(ids) == feeds.FEED_SIZE
    assert ids[0] == f"{BASE}events/2025-03-04-e/" and ids[-1] == f"{BASE}events/2025-01-11-e/"


def test_the_writer_escapes_and_drops_what_xml_cannot_hold() -> None:
    entry = feeds.Entry(f"{BASE}events/x/", HOSTILE, f"{BASE}events/x/?a=1&b=2", "2025-03-07", summary=HOSTILE)
    feed = feeds.Feed(id=BASE, title=HOSTILE, link=BASE, self_link=f"{BASE}feed.atom", author=HOSTILE, entries=(entry,))
    parsed = check_atom(feeds.atom(feed))
    assert parsed.findtext(f"{A}title") == HOSTILE.replace("\x01", "")
    assert parsed.findtext(f"{A}entry/{A}title") == HOSTILE.replace("\x01", "")
    assert parsed.find(f"{A}entry/{A}link").get("href") == f"{BASE}events/x/?a=1&b=2"
    empty = feeds.Feed(id=BASE, title="t", link=BASE, self_link=f"{BASE}feed.atom", author="a", entries=())
    assert check_atom(feeds.atom(empty)).findtext(f"{A}updated") == "1970-01-01T00:00:00Z"


def test_changelog_feed_is_valid_atom() -> None:
    site = Site(title="Test & archive", description="d", base_url=BASE)
    t = translator(load_table(THEMES / "default/strings.yaml"), "en")
    sections = [
        Section("", "", (Change("c", "C"),), (), ()),
        Section("v2", "2025-04-05", (Change("b", "<B>"),), (Change("a", "A", ("x → y",)),), ()),
        Section("v1", "2025-04-01", (Change("a", "A"),), (), (), first=True),
    ]
    feed = check_atom(changelog.atom(site, sections, t))
    assert entry_ids(feed) == [f"{BASE}changelog/#v2", f"{BASE}changelog/#v1"]
    assert feed.findtext(f"{A}updated") == "2025-04-05T00:00:00Z"
    assert feed.findtext(f"{A}title") == "Test & archive: Changelog"
    content = feed.find(f"{A}entry/{A}content")
    assert content is not None and content.text == "Added: <B>\nUpdated: A; x → y"


# --- sitemap.xml and robots.txt ------------------------------------------------------------------


def test_sitemap_lists_every_current_page_and_no_redirect(hostile: Path) -> None:
    urls = [u.findtext(f"{SM}loc") or "" for u in ET.fromstring((hostile / "sitemap.xml").read_bytes())]
    assert len(urls) == len(set(urls))
    assert all(url.startswith(BASE) for url in urls)
    for event_id in ("2025-03-07-hostile", "2025-03-08-renamed", "2025-03-09-retracted"):
        assert f"{BASE}events/{event_id}/" in urls
    assert (hostile / "events/2025-03-08-old/index.html").is_file()  # the redirect exists ...
    assert f"{BASE}events/2025-03-08-old/" not in urls  # ... but is not listed
    for skipped in ("404.html", "search/", "removed/"):
        assert BASE + skipped not in urls
    assert {BASE, f"{BASE}regions/hills/", f"{BASE}tags/x-tag/", f"{BASE}data/"} <= set(urls)
    pages = {
        p.relative_to(hostile).as_posix().removesuffix("index.html")
        for p in hostile.rglob("index.html")
        if "pagefind" not in p.parts
    }
    assert {u.removeprefix(BASE) for u in urls} == pages - {"events/2025-03-08-old/", "search/", "removed/"}


def test_sitemap_of_the_example(example_site: Path) -> None:
    urls = [u.findtext(f"{SM}loc") or "" for u in ET.fromstring((example_site / "sitemap.xml").read_bytes())]
    events = [p.parent.name for p in example_site.glob("events/*/index.html")]
    assert {f"https://example.org/coastal-syria-2025/events/{e}/" for e in events} <= set(urls)


def test_robots_txt_names_the_sitemap(example_site: Path) -> None:
    assert (example_site / "robots.txt").read_text() == (
        "User-agent: *\nAllow: /\nSitemap: https://example.org/coastal-syria-2025/sitemap.xml\n"
    )
