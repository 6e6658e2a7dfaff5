"""parse.py: one content file's text in, records and problems (with file lines) out.

Entry cases live in tests/fixtures/entries/*.md, in markdown-it's fixture style: a title line,
`.`, the whole entry file, `.`, the expected result, `.`. The expected result is either

- `ok`, then optional `attribute = literal` lines checked against the parsed Event (dates compare
  as ISO text), or
- one problem per line, `LINE: message`; a message ending in `...` is matched as a prefix.

A title may end with `[path: content/events/...md]` (the file's path; default below) and
`[xfail: reason]` (a known bug: the case states the intended behaviour).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from site_builder.errors import Problem
from site_builder.markdown import render_markdown
from site_builder.model import MEASURES
from site_builder.parse import (
    parse_entry,
    parse_page,
    parse_publishers,
    parse_regions,
    parse_site,
    split_front_matter,
)

FIXTURES = Path(__file__).parent / "fixtures" / "entries"
DEFAULT_PATH = "content/events/2025/2025-03-08-example.md"
OPTION = re.compile(r"\s*\[(path|xfail): ([^\]]*)\]")


@dataclass
class Case:
    file: str
    line: int
    title: str
    text: str
    expected: list[str]
    path: str = DEFAULT_PATH
    xfail: str = ""


def read_fixture_file(path: Path) -> list[Case]:
    """Cases of one fixture file: the title is the line before a case's first `.`."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    cases: list[Case] = []
    section, last, title, start, text = 0, 0, "", 0, ""
    for number, line in enumerate(lines):
        if line.rstrip("\n") != ".":
            continue
        if section == 0:
            title, start = lines[number - 1].strip(), number
            assert title, f"{path.name}:{number + 1}: a case needs a title line before its first '.'"
        elif section == 1:
            text = "".join(lines[last + 1 : number])
        else:
            expected = [e.rstrip("\n") for e in lines[last + 1 : number]]
            case = Case(path.name, start, OPTION.sub("", title), text, expected)
            for key, value in OPTION.findall(title):
                setattr(case, key, value.strip())
            cases.append(case)
        section, last = (section + 1) % 3, number
    assert section == 0, f"{path.name}: the last case is not closed with '.'"
    return cases


def all_cases() -> list[Any]:
    params = []
    for file in sorted(FIXTURES.glob("*.md")):
        for case in read_fixture_file(file):
            marks = [pytest.mark.xfail(reason=case.xfail, strict=True)] if case.xfail else []
            params.append(pytest.param(case, id=f"{file.stem}:{case.line}:{case.title}", marks=marks))
    return params


def resolve(obj: Any, expression: str) -> Any:
    """`tallies[0].as_of.first` on an Event."""
    for name, index in re.findall(r"\.?(\w+)|\[(\d+)\]", expression):
        obj = getattr(obj, name) if name else obj[int(index)]
    return obj.isoformat() if isinstance(obj, date) else obj


def problem_matches(expected: str, problem: Problem) -> bool:
    line, _, message = expected.partition(": ")
    if int(line) != problem.line:
        return False
    if message.endswith("..."):
        return problem.message.startswith(message[:-3])
    return problem.message == message


@pytest.mark.parametrize("case", all_cases())
def test_entry_fixture(case: Case) -> None:
    event, problems = parse_entry(case.text, case.path)
    assert all(p.path == case.path for p in problems)
    if case.expected[:1] == ["ok"]:
        assert [str(p) for p in problems] == []
        assert event is not None
        for check in case.expected[1:]:
            expression, _, literal = check.partition(" = ")
            assert resolve(event, expression) == ast.literal_eval(literal), check
        return
    remaining = sorted(problems)
    for expected in case.expected:
        found = next((p for p in remaining if problem_matches(expected, p)), None)
        assert found is not None, f"expected {expected!r}, got {[f'{p.line}: {p.message}' for p in remaining]}"
        remaining.remove(found)
    assert [f"{p.line}: {p.message}" for p in remaining] == []


def test_fixture_files_are_found() -> None:
    cases = all_cases()
    assert len(cases) > 100
    assert len({c.id for c in cases}) == len(cases)


# --- entries: what the fixtures cannot say ---------------------------------------------------

ENTRY = "---\ntitle: Example event\ndate: 2025-03-08\nregions: [latakia]\n{extra}sources:\n  - id: sohr\n---\nText.\n"


def messages(problems: list[Problem]) -> list[str]:
    return [f"{p.line}: {p.message}" for p in sorted(problems)]


def test_problem_prints_as_path_line_error_message() -> None:
    _, problems = parse_entry(ENTRY.format(extra="colour: red\n"), DEFAULT_PATH)
    assert [str(p) for p in problems] == [
        f"{DEFAULT_PATH}:5: error: unknown field 'colour' in event; valid fields: title, summary, date, regions, "
        "tags, status, confidence, tallies, statements, sources, aliases"
    ]


def test_problems_carry_the_column() -> None:
    _, problems = parse_entry(ENTRY.format(extra="status: live\n"), DEFAULT_PATH)
    assert [(p.line, p.col) for p in problems] == [(5, 9)]


def test_entry_with_problems_in_optional_fields_is_still_returned() -> None:
    event, problems = parse_entry(ENTRY.format(extra="tags: [Protest, protest]\nstatus: live\n"), DEFAULT_PATH)
    assert messages(problems) == [
        "5: 'Protest' is not a valid id: use lowercase letters, digits and '-'",
        "6: status: 'live' is not one of: published, disputed, retracted, draft",
    ]
    assert event is not None
    assert event.tags == ("protest",)
    assert event.status == "published"


def test_entry_with_a_broken_required_field_is_not_returned() -> None:
    event, problems = parse_entry(ENTRY.format(extra="").replace("2025-03-08", "2025-02-30"), DEFAULT_PATH)
    assert event is None
    assert messages(problems) == ["3: date: '2025-02-30' does not exist: February 2025 has 28 days"]


def test_extra_measures_from_site_yaml_are_accepted() -> None:
    tally = "tallies:\n  - measure: arrested\n    count: 4\n    source: sohr\n"
    event, problems = parse_entry(ENTRY.format(extra=tally), DEFAULT_PATH, (*MEASURES, "arrested"))
    assert problems == []
    assert event is not None
    assert event.tallies[0].measure == "arrested"


def test_lines_record_where_each_field_is() -> None:
    event, _ = parse_entry(ENTRY.format(extra="aliases: [old-id]\n"), DEFAULT_PATH)
    assert event is not None
    assert event.lines == {"title": 2, "date": 3, "regions": 4, "aliases": 5, "sources": 7}
    assert event.region_lines == (4,)


def test_region_lines_follow_each_item() -> None:
    text = "---\ntitle: T\ndate: 2025\nregions:\n  - latakia\n  - tartous\nsources: [{id: sohr}]\n---\n"
    event, _ = parse_entry(text, DEFAULT_PATH)
    assert event is not None
    assert event.region_lines == (5, 6)


def test_sources_are_numbered_in_listed_order() -> None:
    text = ENTRY.format(extra="").replace("  - id: sohr\n", "  - id: sohr\n  - id: reuters\n  - id: sana\n")
    event, _ = parse_entry(text, DEFAULT_PATH)
    assert event is not None
    assert [(s.id, s.number, s.line) for s in event.sources] == [("sohr", 1, 6), ("reuters", 2, 7), ("sana", 3, 8)]
    assert event.source("reuters") is event.sources[1]


def test_byte_order_mark_is_ignored() -> None:
    event, problems = parse_entry("\ufeff" + ENTRY.format(extra=""), DEFAULT_PATH)
    assert problems == []
    assert event is not None
    assert event.title == "Example event"


def test_windows_line_endings() -> None:
    event, problems = parse_entry(ENTRY.format(extra="").replace("\n", "\r\n"), DEFAULT_PATH)
    assert problems == []
    assert event is not None
    assert (event.title, event.body_line) == ("Example event", 8)


def test_bad_file_name_is_reported_even_when_the_front_matter_is_broken() -> None:
    _, problems = parse_entry("---\ntitle: [\n---\n", "content/events/2025/Bad_Name.md")
    assert [str(p) for p in sorted(problems)] == [
        "content/events/2025/Bad_Name.md:1: error: file name 'Bad_Name' is not a valid id: "
        "use lowercase letters, digits and '-'",
        "content/events/2025/Bad_Name.md:3: error: malformed YAML: did not find expected node content",
    ]


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("-5", "count: expected a non-negative whole number, found '-5' (counts cannot be negative)"),
        ("1,225", "count: expected a non-negative whole number, found '1,225' (write it without commas or spaces)"),
        ("1 225", "count: expected a non-negative whole number, found '1 225' (write it without commas or spaces)"),
        ('"745"', "count: expected a non-negative whole number, found '745'"),
        ("'745'", "count: expected a non-negative whole number, found '745'"),
        ("0x10", "count: expected a non-negative whole number, found '0x10'"),
        ("yes", "count: expected a non-negative whole number, found 'yes'"),
        ("[12]", "count: expected a whole number, found a list"),
    ],
)
def test_unreadable_count_is_reported_on_its_line(count: str, message: str) -> None:
    tally = f"tallies:\n  - measure: killed\n    count: {count}\n    source: sohr\n"
    event, problems = parse_entry(ENTRY.format(extra=tally), DEFAULT_PATH)
    assert event is not None
    assert any(p.line == 7 and p.message.startswith(message) for p in problems), messages(problems)
    assert all(p.message.startswith(message) for p in problems if p.line == 7)
    assert event.tallies == ()


def test_unreadable_count_is_reported_once() -> None:
    tally = "tallies:\n  - measure: killed\n    count: -5\n    source: sohr\n"
    _, problems = parse_entry(ENTRY.format(extra=tally), DEFAULT_PATH)
    assert messages(problems) == [
        "7: count: expected a non-negative whole number, found '-5' (counts cannot be negative)"
    ]


def test_quoted_count_hint_does_not_mention_commas() -> None:
    tally = 'tallies:\n  - measure: killed\n    count: "745"\n    source: sohr\n'
    _, problems = parse_entry(ENTRY.format(extra=tally), DEFAULT_PATH)
    count_problems = [p.message for p in problems if p.line == 7]
    assert count_problems
    assert all("commas" not in m for m in count_problems), count_problems


def test_count_with_leading_zeros_is_a_number() -> None:
    tally = "tallies:\n  - measure: killed\n    count: 0012\n    source: sohr\n"
    event, problems = parse_entry(ENTRY.format(extra=tally), DEFAULT_PATH)
    assert problems == []
    assert event is not None
    assert event.tallies[0].count == 12


def test_non_ascii_digits_are_not_a_count() -> None:
    tally = "tallies:\n  - measure: killed\n    count: ١٢\n    source: sohr\n"
    event, problems = parse_entry(ENTRY.format(extra=tally), DEFAULT_PATH)
    assert event is not None
    assert event.tallies == ()
    assert any(p.line == 7 and p.message.startswith("count: expected a non-negative whole number") for p in problems)


# --- split_front_matter ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "result"),
    [
        ("---\na: 1\n---\nbody\n", ("a: 1", "body\n", 4)),
        ("---\na: 1\n...\nbody\n", ("a: 1", "body\n", 4)),
        ("---\n---\n", ("", "", 3)),
        ("---  \na: 1\n---  \n", ("a: 1", "", 4)),
        ("\ufeff---\na: 1\n---\n", ("a: 1", "", 4)),
        ("---\na: 1\n", None),
        ("a: 1\n---\n", None),
        ("", None),
        ("---", None),
        ("---\n---", ("", "", 3)),
        ("---\na: 1\n----\n--- x\n ---\n...\t\nbody\n\nend", ("a: 1\n----\n--- x\n ---", "body\n\nend", 7)),
        ("---\na: '...'\n...x\n---\r\nbody", ("a: '...'\n...x", "body", 5)),
        ("---\r\na: 1\n---\n", ("a: 1", "", 4)),
    ],
)
def test_split_front_matter(text: str, result: tuple[str, str, int] | None) -> None:
    assert split_front_matter(text) == result


def test_event_carries_its_narrative_as_html_and_text() -> None:
    event, problems = parse_entry(
        ENTRY.format(extra="").replace("Text.", "See [the report](https://e.org/r).\n\nSecond *part*."), DEFAULT_PATH
    )
    assert problems == []
    assert event is not None
    assert event.body_html == render_markdown(event.body)
    assert event.body_text == "See the report.\n\nSecond part."


# --- pages -----------------------------------------------------------------------------------

PAGE = "content/pages/about.md"


def test_page() -> None:
    page, problems = parse_page("---\ntitle: About\ndescription: Who we are.\norder: 2\n---\n# About\n", PAGE)
    assert problems == []
    assert page is not None
    assert (page.slug, page.title, page.description, page.order) == ("about", "About", "Who we are.", 2)
    assert (page.body, page.body_line, page.url) == ("# About\n", 6, "about/")


def test_page_defaults() -> None:
    page, _ = parse_page("---\ntitle: About\n---\n", PAGE)
    assert page is not None
    assert (page.description, page.order) == ("", 100)


@pytest.mark.parametrize(
    ("text", "path", "expected"),
    [
        ("no front matter\n", PAGE, ["1: missing front matter: a..."]),
        ("---\ndescription: d\n---\n", PAGE, ["2: missing required field 'title' in page"]),
        (
            "---\ntitle: About\nslug: about-us\n---\n",
            PAGE,
            ["3: unknown field 'slug' in page; valid fields: title, description, order"],
        ),
        (
            "---\ntitle: About\norder: first\n---\n",
            PAGE,
            ["3: order: expected a non-negative whole number, found 'first'"],
        ),
        (
            "---\ntitle: About\n---\n",
            "content/pages/About Us.md",
            ["1: file name 'About Us' is not a valid id: use lowercase letters, digits and '-'"],
        ),
        ("---\ntitle: a\ntitle: b\n---\n", PAGE, ["3: duplicate key 'title'..."]),
    ],
)
def test_page_problems(text: str, path: str, expected: list[str]) -> None:
    _, problems = parse_page(text, path)
    assert len(problems) == len(expected), messages(problems)
    for want, problem in zip(expected, sorted(problems), strict=True):
        assert problem_matches(want, problem), (want, str(problem))


# --- site.yaml -------------------------------------------------------------------------------

SITE_PATH = "content/site.yaml"
SITE = "title: Archive\ndescription: An archive.\nbase_url: https://example.org/archive/\n"


def test_site() -> None:
    site, problems = parse_site(SITE + "language: ar\nlicense: CC BY 4.0\n", SITE_PATH)
    assert problems == []
    assert site is not None
    assert (site.title, site.description, site.base_url) == ("Archive", "An archive.", "https://example.org/archive/")
    assert (site.language, site.license, site.measures) == ("ar", "CC BY 4.0", MEASURES)


def test_site_base_url_gets_a_trailing_slash() -> None:
    site, _ = parse_site(SITE.replace("archive/", "archive"), SITE_PATH)
    assert site is not None
    assert site.base_url == "https://example.org/archive/"


def test_site_extra_measures_come_after_the_built_in_ones() -> None:
    site, problems = parse_site(SITE + "measures: [arrested, killed, evicted]\n", SITE_PATH)
    assert problems == []
    assert site is not None
    assert site.measures == (*MEASURES, "arrested", "evicted")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ["1: site.yaml is empty: it needs at least title, description and base_url"]),
        ("- title: Archive\n", ["1: site.yaml must be a mapping of fields, found a list"]),
        (
            "title: Archive\n",
            [
                "1: missing required field 'base_url' in site.yaml",
                "1: missing required field 'description' in site.yaml",
            ],
        ),
        (
            SITE + "theme: dark\n",
            [
                "4: unknown field 'theme' in site.yaml; "
                "valid fields: title, description, base_url, language, measures, license, release_tags"
            ],
        ),
        (
            SITE.replace("https://example.org/archive/", "example.org"),
            ["3: base_url: 'example.org' is not an http or https URL"],
        ),
        (SITE + "language: English\n", ["4: language: 'English' is not a BCP 47 language tag (e.g. en, ar, fr-CA)"]),
        (SITE + "measures: [Arrested]\n", ["4: 'Arrested' is not a valid id: use lowercase letters, digits and '-'"]),
        (SITE + "title: Again\n", ["4: duplicate key 'title' (first on line 1)"]),
        ("title: [\n", ["2: malformed YAML: did not find expected node content"]),
    ],
)
def test_site_problems(text: str, expected: list[str]) -> None:
    _, problems = parse_site(text, SITE_PATH)
    assert messages(problems) == expected


# --- regions.yaml ----------------------------------------------------------------------------

REGIONS_PATH = "content/regions.yaml"


def test_regions() -> None:
    regions, problems = parse_regions(
        "- id: syria\n  name: {en: Syria, ar: سوريا}\n- id: latakia\n  name: Latakia\n  parent: syria\n",
        REGIONS_PATH,
    )
    assert problems == []
    assert [(r.id, dict(r.names), r.parent, r.line) for r in regions] == [
        ("syria", {"en": "Syria", "ar": "سوريا"}, None, 1),
        ("latakia", {"": "Latakia"}, "syria", 3),
    ]
    assert regions[0].name("ar") == "سوريا"
    assert regions[0].name("fr") == "Syria"
    assert regions[1].name("ar") == "Latakia"


def test_empty_regions_file_has_no_regions() -> None:
    assert parse_regions("", REGIONS_PATH) == ([], [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("syria: Syria\n", ["1: regions.yaml must be a list of regions"]),
        ("- id: syria\n", ["1: missing required field 'name' in region"]),
        ("- name: Syria\n", ["1: missing required field 'id' in region"]),
        ("- id: Syria\n  name: Syria\n", ["1: id: 'Syria' is not a valid id: use lowercase letters, digits and '-'"]),
        (
            "- id: syria\n  name: Syria\n  capital: Damascus\n",
            ["3: unknown field 'capital' in region; valid fields: id, name, parent"],
        ),
        ("- id: syria\n  name: []\n", ["2: name: expected a name, or a mapping of language to name"]),
        (
            "- id: syria\n  name: {english: Syria}\n",
            ["2: name: 'english' is not a BCP 47 language tag (e.g. en, ar, fr-CA)"],
        ),
        (
            "- id: syria\n  name: Syria\n- id: syria\n  name: Syria again\n",
            ["3: region id 'syria' is defined twice (first on line 1)"],
        ),
        ("- id: a\n  name: A\n  parent: [b]\n", ["3: parent: expected text, found a list"]),
    ],
)
def test_region_problems(text: str, expected: list[str]) -> None:
    _, problems = parse_regions(text, REGIONS_PATH)
    assert messages(problems) == expected
    assert all(p.path == REGIONS_PATH for p in problems)


# --- sources.yaml ----------------------------------------------------------------------------

PUBLISHERS_PATH = "content/sources.yaml"


def test_publishers() -> None:
    publishers, problems = parse_publishers(
        "- id: sohr\n  name: SOHR\n  type: monitor\n  url: https://www.syriahr.com/en/\n  description: A monitor.\n"
        "- id: news-report\n  name: A news report\n",
        PUBLISHERS_PATH,
    )
    assert problems == []
    assert [(p.id, p.name, p.type, p.url, p.description, p.line) for p in publishers] == [
        ("sohr", "SOHR", "monitor", "https://www.syriahr.com/en/", "A monitor.", 1),
        ("news-report", "A news report", "", "", "", 6),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sohr: SOHR\n", ["1: sources.yaml must be a list of sources"]),
        ("- id: sohr\n", ["1: missing required field 'name' in source"]),
        (
            "- id: sohr\n  name: SOHR\n  url: javascript:alert(1)\n",
            ["3: url: 'javascript:alert(1)' is not an http or https URL"],
        ),
        (
            "- id: sohr\n  name: SOHR\n  founded: 2006\n",
            ["3: unknown field 'founded' in source; valid fields: id, name, type, url, description"],
        ),
        (
            "- id: sohr\n  name: SOHR\n- id: sohr\n  name: SOHR\n",
            ["3: source id 'sohr' is defined twice (first on line 1)"],
        ),
        ("- id: sohr\n  name: &n SOHR\n", ["2: YAML anchors (&n) are not allowed"]),
    ],
)
def test_publisher_problems(text: str, expected: list[str]) -> None:
    _, problems = parse_publishers(text, PUBLISHERS_PATH)
    assert messages(problems) == expected


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        # Found by the schema agreement work: each once passed silently or crashed.
        (
            "tallies:\n  - measure: killed\n    count: ~\n    source: s\n",
            "6: a tally needs 'count', or both 'low' and 'high'",
        ),
        ("aliases: [null]\n", "5: must not be empty"),
    ],
)
def test_empty_values_are_not_silently_dropped(front: str, expected: str) -> None:
    text = f"---\ntitle: A\ndate: 2025-03-08\nregions: [x]\n{front}sources: [{{id: s, name: S}}]\n---\n"
    _, problems = parse_entry(text, "content/events/2025/2025-03-08-a.md")
    assert [f"{p.line}: {p.message}" for p in problems] == [expected]


def test_non_ascii_digits_are_not_a_date() -> None:
    text = "---\ntitle: A\ndate: ٢٠٢٥-٠٣-٠٨\nregions: [x]\nsources: [{id: s, name: S}]\n---\n"
    _, problems = parse_entry(text, "content/events/2025/2025-03-08-a.md")
    assert [p.message for p in problems] == ["date: '٢٠٢٥-٠٣-٠٨' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)"]


def test_a_malformed_url_is_an_error_not_a_crash() -> None:
    text = '---\ntitle: A\ndate: 2025\nregions: [x]\nsources: [{id: s, name: S, url: "https://[bad"}]\n---\n'
    _, problems = parse_entry(text, "content/events/2025/2025-a.md")
    assert [p.message for p in problems] == ["url: 'https://[bad' is not a valid URL"]
