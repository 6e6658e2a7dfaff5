"""The offline search index (site_builder/offline.py) and its engine (static/offline-search.js).

Python tests read the index files back; browser tests open the built search page from disk
(file://, no server) in Debian's Chromium, as a reader with the archive on a USB stick would.
"""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from conftest import MINIMAL_SITE, event, write_tree
from playwright.sync_api import Browser, Page

from site_builder import offline
from site_builder.build import build, check
from site_builder.errors import ContentError
from site_builder.render import THEMES

THEME = THEMES / "default"

# --- reading the index back ---------------------------------------------------------------------

read, decode = offline.read, offline.decode


class Index:
    """The offline index of an archive, read back from the files `offline.files` returns."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.meta = read(files["meta.js"])[2]
        self.docs = [
            row for n in range(len(files)) if f"docs/{n}.js" in files for row in read(files[f"docs/{n}.js"])[2]
        ]

    def postings(self, word: str) -> list[tuple[int, int]]:
        """The postings of an exact word, from the one shard that holds it."""
        found = []
        for n, prefix in enumerate(self.meta["shards"]):
            if word.startswith(prefix):
                shard = read(self.files[f"terms/{self.meta['files'][n]}.js"])[2]
                if word in shard:
                    found.append(decode(shard[word]))
        assert len(found) <= 1, f"{word} is in {len(found)} shards"
        return found[0] if found else []

    def ids(self, word: str) -> list[str]:
        return [self.docs[doc][0] for doc, _ in self.postings(word)]

    def filter(self, name: str, value: str) -> list[str]:
        values = read(self.files[f"filters/{name}.js"])[2]
        return [self.docs[doc][0] for doc, _ in decode(values.get(value, ""))]


def index_of(tmp_path: Path, files: dict[str, str]) -> Index:
    content = write_tree(tmp_path / "content", files)
    return Index(offline.files(check(content), THEME))


# --- words ----------------------------------------------------------------------------------------

# (text, words): the same table runs through the JavaScript in test_python_and_javascript_words_agree.
WORDS = [
    ("Killings on Syria's coast", ["killings", "on", "syria", "s", "coast"]),
    ("Élan, CAFÉ; naïve façade", ["elan", "cafe", "naive", "facade"]),
    ("e\u0301te\u0301 (decomposed)", ["ete", "decomposed"]),
    ("İstanbul ΟΔΟΣ Straße", ["istanbul", "οδοσ", "straße"]),
    ("1,225 civilians; 2025-03-07", ["1", "225", "civilians", "2025", "03", "07"]),
    ("snake_case and x²", ["snake", "case", "and", "x2"]),
    ("مُسْتَشْفَى المَدِينَةِ", ["مستشفي", "المدينه"]),  # tashkeel dropped, ى -> ي, ة -> ه
    ("أحمد إبراهيم آمنة ٱلله", ["احمد", "ابراهيم", "امنه", "الله"]),  # alef forms unified
    ("مستشفـــى", ["مستشفي"]),  # tatweel
    ("٢٠٢٥ و۱۲", ["2025", "و12"]),  # Arabic-Indic and extended digits
    ("ﻻ ﷲ", ["لا", "الله"]),  # presentation forms
    ("می\u200cخواهم", ["میخواهم"]),  # ZWNJ inside a word
    ("a\u200db\u200bc d", ["abc", "d"]),  # ZWJ, zero-width space
    ("𝐁𝐨𝐥𝐝 text", ["bold", "text"]),  # mathematical letters beyond U+FFFF
    ("</script><!-- \u2028 -->", ["script"]),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), WORDS, ids=[str(i) for i in range(len(WORDS))])
def test_words(text: str, expected: list[str]) -> None:
    assert offline.words(text) == expected
    assert sorted(offline.word_counts(text).elements()) == sorted(expected)


def test_markdown_words_drop_link_targets_and_entities() -> None:
    text = offline.markdown_words("See [the report](https://example.org/x) &amp; [more][r].\n\n[r]: https://e.org/y\n")
    assert offline.words(text) == ["see", "the", "report", "more"]


def test_postings_round_trip() -> None:
    ids, weights = [0, 1, 5, 40, 41, 1300], [1, 2, 1, 27, 300, 1]
    encoded = offline.postings(ids, weights)
    assert encoded == "0,0A,3,yZ,0Z,yy"  # gaps minus one: 0 0 3 34 0 1258
    assert decode(encoded) == [(0, 1), (1, 2), (5, 1), (40, 27), (41, 27), (1300, 1)]
    with pytest.raises(ValueError):
        offline.postings([3, 2], [1, 1])


def test_shards_hold_each_word_once_under_its_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offline, "SHARD_BYTES", 40)
    terms = {w: "0,1,2" for w in ["a", "ab", "abc", "abd", "abde", "b", "ba", "bb", "c", "syria", "syrian"]}
    groups = offline.shards(terms)
    placed = [w for _, group in groups for w in group]
    assert sorted(placed) == sorted(terms)
    for prefix, group in groups:
        assert all(w.startswith(prefix) for w in group)
    prefixes = [p for p, _ in groups]
    assert len(set(prefixes)) == len(prefixes)
    # A query word finds every word it begins in the shards whose prefix it begins or extends.
    for query in ["a", "ab", "abd", "s", "syrian", "x"]:
        wanted = {w for w in terms if w.startswith(query)}
        looked = {w for p, group in groups if p.startswith(query) or query.startswith(p) for w in group}
        assert wanted <= looked


def test_a_shard_split_by_an_edit_renames_no_other_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shard files are named by their prefix: when an edit makes one shard split, the other
    files keep their names and bytes (numbered files all moved, and a rebuild rewrote them all)."""
    monkeypatch.setattr(offline, "SHARD_BYTES", 60)
    words = ["apple", "apricot", "banana", "berry", "cherry", "citrus", "date", "dune", "نهر"]
    before = {w: "0" for w in words}
    after = before | {"banana": "0," * 30 + "0"}  # one entry more cites 'banana' many times

    def files(encoded: dict[str, str]) -> dict[str, bytes]:
        return offline.index_files(
            encoded, [{"region": [], "tag": [], "year": [], "measure": []}], [["x", "X", "", ""]]
        )

    old, new = files(before), files(after)
    changed = {name for name in old.keys() | new.keys() if old.get(name) != new.get(name)}
    assert changed and changed <= {"meta.js"} | {n for n in new.keys() ^ old.keys()} | {"terms/62.js"}
    assert all(re.fullmatch(r"terms/([0-9a-f]+|_)\.js", n) for n in new if n.startswith("terms/"))
    meta = offline.read(new["meta.js"])[2]
    assert [offline.shard_name(p) for p in meta["shards"]] == meta["files"]


def test_index_files_reuse_only_what_did_not_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """A call like the last one in this process (a `serve` rebuild) writes again only the files
    whose part of the input changed, and gives the bytes a first call gives."""
    monkeypatch.setattr(offline, "SHARD_BYTES", 60)
    monkeypatch.setattr(offline, "_last", [])
    made: list[str] = []
    script = offline.script
    monkeypatch.setattr(
        offline, "script", lambda kind, key, data: made.append(f"{kind} {key}") or script(kind, key, data)
    )
    no = {"region": [], "tag": [], "year": [], "measure": []}
    encoded = {w: "0" for w in ["apple", "apricot", "banana", "berry", "cherry", "نهر"]}
    filters = [no | {"region": ["North"]}, dict(no)] * 15
    shown = [[f"e{n}", f"SYNTHETIC {n}", "", ""] for n in range(30)]

    def step(encoded: dict[str, str], filters: list[dict[str, list[str]]], shown: list[list[str]]) -> list[str]:
        made.clear()
        files = offline.index_files(encoded, filters, shown)
        again = list(made)
        memo = list(offline._last)
        offline._last.clear()  # from scratch: the same bytes
        assert offline.index_files(encoded, filters, shown) == files
        offline._last[:] = memo
        return sorted(again)

    step(encoded, filters, shown)
    assert step(encoded, filters, shown) == ["meta "]
    encoded = encoded | {"cherry": "0,3"}
    assert step(encoded, filters, shown) == ["meta ", "terms 63"]
    shown = [*shown[:25], [shown[25][0], "SYNTHETIC retitled", "", ""], *shown[26:]]
    assert step(encoded, filters, shown) == ["docs 1", "meta "]
    filters = [no | {"region": ["South"]}, *filters[1:]]
    assert step(encoded, filters, shown) == ["filter measure", "filter region", "filter tag", "filter year", "meta "]
    assert step(encoded | {"banana": "0," * 30 + "0"}, filters, shown[:20]) == ["meta ", "terms 6261", "terms 6265"]


# --- the index of an archive ------------------------------------------------------------------------

SYNTHETIC = {  # a SYNTHETIC test archive: made-up places and events
    **MINIMAL_SITE,
    "events/2025/2025-03-07-market.md": event(
        "Shelling of the market",
        "2025-03-07",
        extra="summary: Residents reported shelling near the market.\ntags: [shelling]\n"
        "tallies:\n  - measure: killed\n    count: 3\n    source: monitor\naliases: [old-market]\n",
    ),
    "events/2025/2025-03-09-bridge.md": event("Bridge closed", "2025-03-09", "[north]", "tags: [roads]\n").replace(
        "Narrative.", "The bridge near the market was closed. Marketplaces moved."
    ),
    "events/2024/2024-05-01-draft.md": event("Draft entry", "2024-05-01", extra="status: draft\n"),
    "events/2024/2024-05-02-old.md": event("Old entry", "2024-05-02/2025-01-03"),
}


def test_index_words_filters_and_order(tmp_path: Path) -> None:
    index = index_of(tmp_path, SYNTHETIC)
    assert index.meta["count"] == 3  # the draft is not built; the alias is not an entry
    assert [row[0] for row in index.docs] == ["2025-03-09-bridge", "2025-03-07-market", "2024-05-02-old"]
    assert index.docs[1][1:] == [
        "Shelling of the market",
        "7 March 2025",
        "Residents reported shelling near the market.",
    ]

    assert index.ids("market") == ["2025-03-09-bridge", "2025-03-07-market"]
    assert index.ids("marketplaces") == ["2025-03-09-bridge"]
    assert index.ids("draft") == [] and index.ids("old") == ["2024-05-02-old"]
    # Title words weigh more than summary words, which weigh more than narrative words.
    weights = dict(index.postings("shelling"))
    assert weights[1] == 5 + 2 + 2  # title, summary, tag
    assert dict(index.postings("bridge"))[0] == 5 + 1
    # Region names, with the ancestors the page's filters show, are words too.
    assert index.ids("north") == ["2025-03-09-bridge", "2025-03-07-market", "2024-05-02-old"]
    assert index.ids("hills") == ["2025-03-07-market", "2024-05-02-old"]

    assert index.filter("region", "North") == ["2025-03-09-bridge", "2025-03-07-market", "2024-05-02-old"]
    assert index.filter("region", "Hills") == ["2025-03-07-market", "2024-05-02-old"]
    assert index.filter("tag", "shelling") == ["2025-03-07-market"]
    assert index.filter("year", "2024") == ["2024-05-02-old"]
    assert index.filter("year", "2025") == ["2025-03-09-bridge", "2025-03-07-market", "2024-05-02-old"]
    assert index.filter("measure", "killed") == ["2025-03-07-market"]
    assert index.meta["filters"]["region"] == {"North": 3, "Hills": 2}
    assert index.meta["filters"]["year"] == {"2024": 1, "2025": 3}


HOSTILE = "</script><script>alert(1)</script> <!-- line\u2028separator\u2029 & \"quotes\" 'x'"


def test_hostile_text_cannot_break_out_of_the_script(tmp_path: Path) -> None:
    files = {
        **MINIMAL_SITE,
        "events/2025/2025-03-07-x.md": event(json.dumps(HOSTILE), extra=f"summary: {json.dumps(HOSTILE)}\n"),
    }
    index = index_of(tmp_path, files)
    for data in index.files.values():
        assert data.isascii()
        assert b"<" not in data and b"\xe2\x80\xa8" not in data
        assert data.count(b"\n") == 1  # one statement, on one line
    assert index.docs[0][1] == HOSTILE
    assert index.docs[0][3] == " ".join(HOSTILE.split())  # U+2028 and U+2029 are white space


def test_the_same_archive_gives_the_same_bytes(tmp_path: Path) -> None:
    content = write_tree(tmp_path / "content", SYNTHETIC)
    first = offline.files(check(content), THEME)
    second = offline.files(check(content), THEME)
    assert first == second
    assert list(first) == sorted(first)


def test_a_page_cannot_take_the_index_folder_name(tmp_path: Path) -> None:
    files = {**MINIMAL_SITE, "pages/search-offline.md": "---\ntitle: Clash\n---\nText.\n"}
    with pytest.raises(ContentError, match="reserved"):
        check(write_tree(tmp_path / "content", files))


def test_the_build_writes_the_index_for_the_search_page(example_site: Path, page: Any) -> None:
    assert (example_site / "search-offline" / "meta.js").is_file()
    form = page("search/index.html").find("form", id="search-form")
    assert form["data-offline"] == "../search-offline/"
    scripts = [s["src"] for s in page("search/index.html").find_all("script")]
    assert scripts == ["../assets/offline-search.js", "../assets/search.js"]
    meta = read((example_site / "search-offline" / "meta.js").read_bytes())[2]
    assert meta["count"] == len(list((example_site / "events").glob("*/index.html")))


# --- in Chromium, from disk -------------------------------------------------------------------------

TIMEOUT_MS = 15_000


class Disk:
    """A page in a fresh context that records its requests and script errors."""

    def __init__(self, browser: Browser, folder: Path) -> None:
        self.folder = folder
        self.context = browser.new_context()
        self.context.set_default_timeout(TIMEOUT_MS)
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.page: Page = self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def search(self, query_string: str = "") -> Page:
        assert urlsplit(self.folder.as_uri()).scheme == "file"
        self.page.goto((self.folder / "search" / "index.html").as_uri() + query_string)
        self.page.wait_for_selector("#search-filter-region")  # the offline index's filters
        return self.page

    def assert_inside(self) -> None:
        inside = self.folder.resolve().as_uri() + "/"
        assert self.requests
        assert [url for url in self.requests if not url.startswith(inside)] == []
        assert self.errors == []


@pytest.fixture
def disk(browser: Browser, example_site: Path) -> Iterator[Disk]:
    visit = Disk(browser, example_site)
    try:
        yield visit
    finally:
        visit.context.close()


def wait_for_search(page: Page, **params: str) -> None:
    page.wait_for_function(
        """(params) => {
            const here = new URLSearchParams(window.location.search);
            return Object.entries(params).every(([k, v]) => (here.get(k) || "") === v)
                && !document.getElementById("search-form").hasAttribute("aria-busy")
                && document.getElementById("search-status").textContent.trim() !== "";
        }""",
        arg=params,
    )


def titles(page: Page) -> list[str]:
    return [(a.text_content() or "").strip() for a in page.locator("#search-results > li h2 a").all()]


def test_python_and_javascript_words_agree(disk: Disk) -> None:
    page = disk.search()
    texts = [text for text, _ in WORDS]
    got = page.evaluate("texts => texts.map(t => window.SiteBuilderOfflineSearch.words(t))", texts)
    assert got == [offline.words(text) for text in texts]


def test_search_from_disk_finds_the_event_and_opens_it(disk: Disk) -> None:
    page = disk.search()
    page.locator("#search-input").press_sequentially("moscow")
    wait_for_search(page, q="moscow")
    assert titles(page) == ["Protests outside a Russian military base"]
    assert page.locator("#search-results mark").first.text_content() == "Moscow"
    page.locator("#search-results > li h2 a").first.click()
    page.wait_for_url(re.compile(r"^file://.*/events/2025-03-08-russian-base-protests/index\.html$"))
    assert (page.locator("main h1").text_content() or "").strip() == "Protests outside a Russian military base"
    disk.assert_inside()


def test_filters_and_sort_from_disk(disk: Disk) -> None:
    page = disk.search("?q=syria")
    wait_for_search(page, q="syria")
    everything = titles(page)
    assert len(everything) == 4
    options = page.locator("#search-filter-region option").evaluate_all("os => os.map(o => o.textContent)")
    assert "Lebanon (1)" in options and "Syria (4)" in options

    page.locator("#search-filter-region").select_option("Lebanon")
    wait_for_search(page, q="syria", region="Lebanon")
    assert titles(page) == ["Displacement after the coastal violence"]

    page.locator("#search-filter-region").select_option("")
    page.locator("#search-sort").select_option("date:asc")
    wait_for_search(page, q="syria", region="", sort="date:asc")
    assert titles(page) == list(reversed(everything))
    assert everything[-1] == "Assad government overthrown"  # newest first by default

    page.locator("#search-input").fill("syria nothingmatchesthis")
    wait_for_search(page, q="syria nothingmatchesthis")
    assert titles(page) == []
    assert page.text_content("#search-status") == "No events match."
    disk.assert_inside()


ARABIC = {  # a SYNTHETIC archive in Arabic: made-up text with diacritics, tatweel and alef forms
    **MINIMAL_SITE,
    "site.yaml": "title: أرشيف تجريبي\ndescription: أرشيف للاختبار.\nbase_url: https://example.org/t/\nlanguage: ar\n",
    "regions.yaml": "- id: north\n  name: {en: North, ar: الشمال}\n- id: hills\n  name: {en: Hills, ar: التلال}\n"
    "  parent: north\n",
    "events/2025/2025-03-07-a.md": event("قَصْفُ المُسْتَشْفَى", "2025-03-07").replace(
        "Narrative.", "أَفَادَ شُهُودٌ بِقَصْفِ مَدْرَسَةٍ قُرْبَ المـــستشفى في ٢٠٢٥."
    ),
    "events/2025/2025-03-08-b.md": event("إغلاق الطريق", "2025-03-08", "[north]"),
}


def test_arabic_search_from_disk(browser: Browser, tmp_path: Path) -> None:
    output = tmp_path / "output"
    build(write_tree(tmp_path / "content", ARABIC), output)
    visit = Disk(browser, output)
    try:
        for query, expected in [
            ("المستشفى", ["قَصْفُ المُسْتَشْفَى"]),  # the text has diacritics and tatweel
            ("مدرسة", ["قَصْفُ المُسْتَشْفَى"]),  # ة ~ ه, diacritics in the text
            ("اغلاق", ["إغلاق الطريق"]),  # إ ~ ا
            ("2025 شهود", ["قَصْفُ المُسْتَشْفَى"]),  # Arabic-Indic digits in the text
            ("الشمال", ["إغلاق الطريق", "قَصْفُ المُسْتَشْفَى"]),  # a region, and its sub-region's entries
        ]:
            page = visit.search("?q=" + quote(query))
            wait_for_search(page, q=query)
            assert titles(page) == expected, query
        visit.assert_inside()
    finally:
        visit.context.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_served_without_pagefind_the_offline_index_answers(
    browser: Browser, example_site: Path, tmp_path: Path
) -> None:
    """If Pagefind cannot load on a host (here its folder is missing), the offline index answers."""
    folder = tmp_path / "site"
    shutil.copytree(example_site, folder, ignore=shutil.ignore_patterns("pagefind"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context()
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/search/index.html?q=moscow")
        wait_for_search(page, q="moscow")
        assert titles(page) == ["Protests outside a Russian military base"]
        assert errors == []
    finally:
        context.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
