"""The example archive, built: assertions on parsed pages, links, search bundle and determinism."""

from __future__ import annotations

import filecmp
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from conftest import EXAMPLE, MINIMAL_SITE, event, write_tree

from site_builder.build import build
from site_builder.errors import ContentError
from site_builder.write import WriteError

Page = Callable[[str], BeautifulSoup]
KILLINGS = "events/2025-03-07-coastal-killings/index.html"


def rows(soup: BeautifulSoup, selector: str) -> list[list[str]]:
    return [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in soup.select(selector)]


def test_event_page_keeps_each_figure_with_its_source_and_date(page: Page) -> None:
    soup = page(KILLINGS)
    figures = rows(soup, "table.figures tbody tr")
    assert figures[0][:5] == ["killed", "civilians", "approximately 745", "approximately 745 civilians", "8 March 2025"]
    assert figures[1][2:5] == ["more than 1,000", "exceeded 1,000", "8 March 2025"]
    assert [figures[5][2], figures[5][4]] == ["658 (Latakia)", "11 March 2025"]
    assert figures[-2][2] == "1,426 (used in region totals)"
    assert soup.select_one("time[datetime='2025-03-07']").get_text() == "7–8 March 2025"
    # Every figure and statement links to a numbered source anchor on the same page.
    anchors = {li["id"] for li in soup.select("ol.sources > li")}
    cited = [a["href"] for a in soup.select("table.figures a, .statement a")]
    assert cited and all(href.startswith("#") and href[1:] in anchors for href in cited)


def test_quotes_and_paraphrases_are_distinct(page: Page) -> None:
    soup = page(KILLINGS)
    quotes = soup.select(".statement-quote blockquote")
    assert [q.get_text(strip=True) for q in quotes] == ["a state of horror"]
    paraphrases = soup.select(".statement-paraphrase .paraphrase")
    assert any("treacherous attacks" in p.get_text() for p in paraphrases)
    assert all(fig.select_one(".kind").get_text() in ("Quote", "Paraphrase") for fig in soup.select(".statement"))


def test_region_page_rolls_up_sub_regions_in_date_order(page: Page) -> None:
    soup = page("regions/syria/index.html")
    assert [a.get_text() for a in soup.select(".timeline h5 a")] == [
        "Assad government overthrown",
        "Displacement after the coastal violence",
        "Killings on Syria's coast",
        "Protests outside a Russian military base",
    ]
    assert [h.get_text() for h in soup.select(".timeline h4")] == ["December 2024", "March 2025"]
    totals = {(r[0], r[1]): r[2] for r in rows(soup, "table.totals tbody tr")}
    assert totals["killed", "all"] == "1,426"
    assert totals["killed", "civilians"] == "1,383"
    assert "latest “as of”" in soup.select_one(".rule").get_text()
    latakia = page("regions/latakia/index.html")
    assert [a.get_text() for a in latakia.select(".breadcrumb a")] == ["Regions", "Syria"]
    assert [a.get_text() for a in latakia.select(".timeline h5 a")] == ["Killings on Syria's coast"]


def test_every_page_has_language_title_description_and_canonical(example_site: Path) -> None:
    for path in sorted(example_site.rglob("*.html")):
        if "pagefind" in path.parts:
            continue
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        assert soup.html["lang"] == "en", path
        assert soup.title and soup.title.get_text(strip=True), path
        canonical = soup.select_one("link[rel=canonical]")["href"]
        assert canonical.startswith("https://example.org/coastal-syria-2025/"), path
        if soup.select_one("meta[http-equiv=refresh]") is None:
            assert soup.select_one("meta[name=description]")["content"], path


def test_every_internal_link_resolves_and_nothing_loads_from_elsewhere(example_site: Path) -> None:
    checked = 0
    for path in sorted(example_site.rglob("*.html")):
        if "pagefind" in path.parts or path.name == "404.html":
            continue
        soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for tag in soup.select("[src], link[href]"):
            assert not urlsplit(tag.get("src") or tag["href"]).scheme or (
                tag.name == "link" and tag["rel"] == ["canonical"]
            ), (path, tag)
        for a in soup.select("a[href]"):
            href = a["href"]
            parts = urlsplit(href)
            if parts.scheme or href.startswith("#"):
                continue
            target = (path.parent / parts.path).resolve()
            assert target.is_file(), f"{path.relative_to(example_site)}: {href}"
            assert example_site.resolve() in target.parents
            if parts.fragment and target.suffix == ".html":
                ids = {t["id"] for t in BeautifulSoup(target.read_text(encoding="utf-8"), "html.parser").select("[id]")}
                assert parts.fragment in ids, href
            checked += 1
    assert checked > 100


def test_pagefind_bundle_indexes_event_pages(example_site: Path, page: Page) -> None:
    bundle = example_site / "pagefind"
    assert (bundle / "pagefind.js").is_file() and (bundle / "pagefind-entry.json").is_file()
    assert '"page_count":4' in (bundle / "pagefind-entry.json").read_text()
    soup = page(KILLINGS)
    assert soup.select_one("[data-pagefind-body]") is not None
    filters = [f["data-pagefind-filter"] for f in soup.select("[data-pagefind-filter]")]
    assert len(filters) == len(set(filters))  # Pagefind counts elements: each value once per page
    regions = [f.split(":", 1)[1] for f in filters if f.startswith("region:")]
    assert regions == ["Hama", "Homs", "Latakia", "Syria", "Tartous"]  # with parent regions
    assert {f.split(":", 1)[0] for f in filters} == {"region", "tag", "year", "measure"}
    assert soup.select_one("[data-pagefind-sort]")["data-pagefind-sort"] == "date:2025-03-07"
    assert page("regions/syria/index.html").select_one("[data-pagefind-body]") is None


def test_two_builds_are_byte_identical(tmp_path: Path, example_site: Path) -> None:
    again = tmp_path / "again"
    build(EXAMPLE, again)
    comparison = filecmp.dircmp(example_site, again)

    def differences(cmp: filecmp.dircmp[str]) -> list[str]:
        _, mismatch, errors = filecmp.cmpfiles(cmp.left, cmp.right, cmp.common_files, shallow=False)
        found = mismatch + errors + cmp.left_only + cmp.right_only
        return found + [d for sub in cmp.subdirs.values() for d in differences(sub)]

    assert differences(comparison) == []


def test_failed_build_leaves_previous_output_untouched(tmp_path: Path) -> None:
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, "events/2025/2025-03-07-a.md": event()})
    output = tmp_path / "output"
    build(content, output)
    before = {p: p.read_bytes() for p in output.rglob("*") if p.is_file()}
    (content / "events/2025/2025-03-07-a.md").write_text(event(date="2025-02-30"))
    with pytest.raises(ContentError):
        build(content, output)
    assert {p: p.read_bytes() for p in output.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left behind


def test_refuses_to_replace_a_folder_it_did_not_build(tmp_path: Path) -> None:
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, "events/2025/2025-03-07-a.md": event()})
    precious = write_tree(tmp_path / "precious", {"notes.txt": "keep me"})
    with pytest.raises(WriteError, match="not made by site-builder"):
        build(content, precious)
    assert (precious / "notes.txt").read_text() == "keep me"


def test_raw_html_and_unsafe_fields_stay_text(tmp_path: Path) -> None:
    hostile = event(title='"<script>alert(1)</script>"', extra="summary: <img src=x onerror=alert(1)>\n").replace(
        "Narrative.", "<script>alert(2)</script>\n\n<iframe src='https://evil.example'></iframe>"
    )
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, "events/2025/2025-03-07-a.md": hostile})
    build(content, tmp_path / "out")
    html = (tmp_path / "out/events/2025-03-07-a/index.html").read_text()
    soup = BeautifulSoup(html, "html.parser")
    assert soup.select("script:not([src]), iframe, img") == []
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert soup.h1.get_text() == "<script>alert(1)</script>"


def test_a_site_overrides_one_template(tmp_path: Path) -> None:
    override = '{% extends "base.html" %}{% block main %}<h1 class="custom">{{ page.title }}</h1>{% endblock %}'
    files = {**MINIMAL_SITE, "events/2025/2025-03-07-a.md": event(), "templates/page.html": override}
    files["pages/about.md"] = "---\ntitle: About\n---\nText.\n"
    build(write_tree(tmp_path / "content", files), tmp_path / "out")
    about = BeautifulSoup((tmp_path / "out/about/index.html").read_text(), "html.parser")
    assert about.select_one("h1.custom").get_text() == "About"
    assert about.select_one("link[rel=stylesheet]")["href"] == "../assets/style.css"  # rest of theme kept


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "site_builder", *args], cwd=cwd, capture_output=True, text=True)


def test_cli_exit_codes_and_error_list(tmp_path: Path) -> None:
    write_tree(tmp_path / "content", {**MINIMAL_SITE, "events/2025/2025-03-07-a.md": event()})
    ok = run_cli("check", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    built = run_cli("build", cwd=tmp_path)
    assert built.returncode == 0 and (tmp_path / "output/index.html").is_file(), built.stderr
    (tmp_path / "content/events/2025/2025-03-07-a.md").write_text(event(date="2025-02-30"))
    (tmp_path / "content/events/2025/2025-03-07-b.md").write_text(event(regions="[hills, nowhere]"))
    (tmp_path / "content/events/2025/Bad.md").write_text(event())
    bad = run_cli("build", cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.splitlines() == [
        "content/events/2025/2025-03-07-a.md:3: error: date: '2025-02-30' does not exist: February 2025 has 28 days",
        "content/events/2025/2025-03-07-b.md:4: error: unknown region 'nowhere': add it to regions.yaml or fix the id",
        "content/events/2025/Bad.md:1: error: file name 'Bad' is not a valid id: use lowercase letters, digits and '-'",
        "3 errors found; nothing was written.",
    ]
    assert "Traceback" not in bad.stderr
    assert run_cli("frobnicate", cwd=tmp_path).returncode == 2
    assert run_cli("build", "--nope", cwd=tmp_path).returncode == 2


def test_template_links_out_of_content_are_refused(tmp_path: Path) -> None:
    secret = write_tree(tmp_path / "outside", {"secret.txt": "do not publish"}) / "secret.txt"
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, "events/2025/2025-03-07-a.md": event()})
    (content / "templates").mkdir()
    (content / "templates/page.html").symlink_to(secret)
    with pytest.raises(ContentError) as caught:
        build(content, tmp_path / "out")
    assert [str(p) for p in caught.value.problems] == [
        f"{content.as_posix()}/templates/page.html:1: error: symbolic links are not followed"
    ]
    assert not (tmp_path / "out").exists()


def test_figures_as_a_series_and_a_citation(page: Page) -> None:
    soup = page(KILLINGS)
    titles = [h.get_text() for h in soup.select(".series-title")]
    assert titles == ["killed, civilians", "killed, all", "killed, security forces"]
    civilians = [li.get_text(" ", strip=True) for li in soup.select("ol.series")[0].select("li")]
    assert civilians[0].startswith("8 March 2025 approximately 745")
    assert civilians[-1].startswith("12 March 2025 1,383")
    citation = soup.select_one(".citation").get_text(" ", strip=True)
    assert citation.startswith("Coastal Syria, March 2025. “Killings on Syria's coast”. ")
    assert "https://example.org/coastal-syria-2025/events/2025-03-07-coastal-killings/" in citation
    assert citation.endswith("Accessed [date you accessed it] .")  # the browser puts today's date there


def test_example_entry_history_comes_from_this_repository(page: Page) -> None:
    revisions = page(KILLINGS).select("ol.revisions > li")
    assert revisions, "the example archive is committed, so its entries have history"
    assert [li.get_text() for li in revisions[-1].select("ul li")] == ["entry created"]


def test_compiled_templates_are_kept_for_this_user_and_apart_from_the_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jinja2 import DictLoader, Environment
    from jinja2.sandbox import SandboxedEnvironment

    from site_builder.render import _Compiled

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    templates = DictLoader({"page.html": "<p>{{ x }}</p>"})
    compiled: list[str] = []

    def environment(kind: type[Environment]) -> Environment:
        """An environment of a new process: its own _Compiled, compiling only when it must."""
        env = kind(loader=templates, bytecode_cache=_Compiled(), autoescape=True)
        compile = env.compile

        def counted(source: str, *args: object, **kwargs: object) -> object:
            compiled.append(kind.__name__)
            return compile(source, *args, **kwargs)  # type: ignore[arg-type]

        env.compile = counted  # type: ignore[method-assign]
        return env

    assert environment(Environment).get_template("page.html").render(x="<a>") == "<p>&lt;a&gt;</p>"
    folder = tmp_path / "site-builder/templates"
    assert oct(folder.stat().st_mode & 0o777) == "0o700" and len(list(folder.iterdir())) == 1
    assert environment(Environment).get_template("page.html").render(x="b") == "<p>b</p>"
    assert compiled == ["Environment"]  # the second process read the code from the folder
    environment(SandboxedEnvironment).get_template("page.html")
    environment(SandboxedEnvironment).get_template("page.html")
    assert compiled == ["Environment", "SandboxedEnvironment"]  # its code differs: kept apart
    folder.chmod(0o777)  # writable by others: code found there could be anyone's
    environment(Environment).get_template("page.html")
    assert compiled == ["Environment", "SandboxedEnvironment", "Environment"]


def test_ui_strings_are_put_into_the_compiled_templates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`t("key")` becomes its text when the template is compiled, escaped as before; a template
    where `t` is something else keeps its calls, and each language has its own compiled code."""
    from jinja2 import DictLoader, Environment

    from site_builder.render import _Compiled, _Strings

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    templates = DictLoader(
        {
            "page.html": '{{ t("k") }}|{{ t("amp") }}|{{ t("k")|upper }}|{{ x.t("k") }}|{{ t("k", n=1) }}',
            "loop.html": '{% for t in [other] %}{{ t("k") }}{% endfor %}',
            "missing.html": '{{ t("missing") }}',
        }
    )
    texts = {"en": {"k": "Date", "amp": "A & <B>"}, "ar": {"k": "التاريخ", "amp": "أ & ب"}}
    called: list[str] = []
    compiled = _Compiled()

    def environment(language: str) -> Environment:
        def t(key: str, **values: object) -> str:
            called.append(key)
            return texts[language][key] + "".join(f" {name}={value}" for name, value in values.items())

        env = Environment(loader=templates, bytecode_cache=compiled, autoescape=True, extensions=[_Strings])
        env.globals.update(t=t, x={"t": lambda key: "an attribute"}, other=lambda key: "a loop variable")
        env.extensions[_Strings.identifier].key = language  # type: ignore[attr-defined]
        return env

    english = environment("en").get_template("page.html")
    called.clear()
    assert english.render() == "Date|A &amp; &lt;B&gt;|DATE|an attribute|Date n=1"
    assert called == ["k"]  # only the call with values was made on rendering
    assert environment("ar").get_template("page.html").render().startswith("التاريخ|أ &amp; ب|")
    assert environment("en").get_template("loop.html").render() == "a loop variable"
    with pytest.raises(KeyError):  # as before: when the page is rendered
        environment("en").get_template("missing.html").render()
