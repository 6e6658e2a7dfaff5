"""Each warning: when it fires, and that an ordinary entry does not (test data is made up)."""

from datetime import date

import pytest

from site_builder.lint import warnings
from site_builder.model import Event
from site_builder.parse import parse_entry

TODAY = date(2026, 1, 1)
LINKED = "    url: https://example.org/report\n"


def entry(
    path: str = "content/events/2025/2025-03-07-a.md",
    title: str = "Shelling of the market",
    date: str = "2025-03-07",
    regions: str = "[north]",
    tallies: str = "",
    source: str = LINKED,
) -> Event:
    text = f"---\ntitle: {title}\ndate: {date}\nregions: {regions}\n{tallies}sources:\n  - id: monitor\n    name: M\n{source}---\n"
    event, problems = parse_entry(text, path)
    assert event is not None, problems
    return event


def messages(*events: Event) -> list[str]:
    return [f"{p.line}: {p.message}" for p in warnings(events, today=TODAY)]


def tally(group: str, extra: str, as_of: str = "2025-03-08") -> str:
    return f"  - measure: killed\n    group: {group}\n    {extra}\n    as_of: {as_of}\n    source: monitor\n"


def test_an_ordinary_entry_has_no_warnings() -> None:
    assert messages(entry(tallies="tallies:\n" + tally("all", "count: 10") + tally("civilians", "count: 8"))) == []


def test_subgroup_larger_than_all_from_the_same_source() -> None:
    event = entry(tallies="tallies:\n" + tally("all", "count: 10") + tally("civilians", "count: 12"))
    assert messages(event) == [
        "11: killed (civilians) from 'monitor' is larger than the same source's figure for all (line 6); check the groups"
    ]
    # A later revision of the sub-group is not compared with an earlier total.
    revised = entry(tallies="tallies:\n" + tally("all", "count: 10") + tally("civilians", "count: 12", "2025-03-12"))
    assert messages(revised) == []
    # An open-ended total ("more than 10") cannot be exceeded.
    open_ended = entry(
        tallies="tallies:\n" + tally("all", "count: 10\n    qualifier: more-than") + tally("civilians", "count: 12")
    )
    assert messages(open_ended) == []


def test_dates_in_the_future() -> None:
    assert messages(entry(path="content/events/2026/2026-02-01-a.md", date="2026-02-01")) == [
        "3: date 2026-02-01 is in the future"
    ]
    future_as_of = entry(tallies="tallies:\n" + tally("all", "count: 1", "2027"))
    assert messages(future_as_of) == ["6: as_of 2027 is in the future"]


def test_accessed_before_published() -> None:
    event = entry(source=LINKED + "    published: 2025-03-09\n    accessed: 2025-03-08\n")
    assert messages(event) == ["6: source 'monitor' was accessed (2025-03-08) before it was published (2025-03-09)"]


def test_source_without_any_link() -> None:
    assert messages(entry(source="")) == [
        "6: source 'monitor' has neither url nor archive_url: readers cannot check it"
    ]
    assert messages(entry(source="    archive_url: https://archive.example.org/x\n")) == []


def test_figure_without_as_of() -> None:
    event = entry(tallies="tallies:\n  - measure: killed\n    count: 3\n    source: monitor\n")
    assert messages(event) == ["6: killed figure from 'monitor' has no as_of: when was it stated?"]


def test_file_name_not_starting_with_its_date() -> None:
    assert messages(entry(path="content/events/2025/market-shelling.md")) == [
        "1: file name 'market-shelling' does not start with its date (2025-03-07)"
    ]
    assert messages(entry(path="content/events/2025/2025-03-market.md", date="2025-03")) == []


@pytest.mark.parametrize(
    ("title", "date", "regions", "duplicate"),
    [
        ("Shelling of the market.", "2025-03-07", "[north]", True),
        ("The shelling of the markets", "2025-03-06/2025-03-08", "[south, north]", True),
        ("Shelling of the market", "2025-03-09", "[north]", False),  # dates do not overlap
        ("Shelling of the market", "2025-03-07", "[south]", False),  # no shared region
        ("Protest at the port", "2025-03-07", "[north]", False),  # different title
    ],
)
def test_likely_duplicates(title: str, date: str, regions: str, duplicate: bool) -> None:
    first = entry()
    second = entry(path="content/events/2025/2025-03-07-b.md", title=title, date=date, regions=regions)
    expected = [
        "1: looks like a duplicate of content/events/2025/2025-03-07-a.md (overlapping dates, shared region, similar title)"
    ]
    found = [m for m in messages(first, second) if "duplicate" in m]
    assert found == (expected if duplicate else [])


def test_duplicates_against_the_rest_of_the_archive_are_reported_on_the_checked_file() -> None:
    checked = entry(path="content/events/2025/2025-03-07-b.md")
    existing = entry(path="content/events/2025/2025-03-07-a.md")
    found = warnings([checked], today=TODAY, others=[existing])
    assert [(p.path, p.message.split(" (")[0]) for p in found] == [
        ("content/events/2025/2025-03-07-b.md", "looks like a duplicate of content/events/2025/2025-03-07-a.md")
    ]
