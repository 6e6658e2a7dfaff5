"""The figure rule, region roll-ups and date order (test data below is made up for the tests)."""

from site_builder.display import figure, total
from site_builder.i18n import load_table, translator
from site_builder.model import MEASURES, Event, Region
from site_builder.parse import parse_entry
from site_builder.render import THEMES
from site_builder.timeline import RegionTree, by_year_and_month, chosen_figures, headline, in_date_order, totals

t = translator(load_table(THEMES / "default" / "strings.yaml"), "en")


def entry(name: str, date: str, regions: str, tallies: str = "", sources: str = "[a, b]") -> Event:
    source_list = "".join(f"  - id: {s}\n    name: Source {s}\n" for s in sources.strip("[]").split(", "))
    tally_list = f"tallies:\n{tallies}" if tallies else ""
    text = f"---\ntitle: {name}\ndate: {date}\nregions: {regions}\n{tally_list}sources:\n{source_list}---\n"
    event, problems = parse_entry(text, f"content/events/{name}.md")
    assert not problems, problems
    assert event is not None
    return event


def tally(measure: str, source: str, extra: str) -> str:
    return f"  - measure: {measure}\n    source: {source}\n" + "".join(f"    {line}\n" for line in extra.split("; "))


def test_latest_as_of_wins_and_figures_are_never_added() -> None:
    event = entry(
        "e",
        "2025-03-07",
        "[x]",
        tally("killed", "a", "count: 745; qualifier: approximately; as_of: 2025-03-08; group: civilians")
        + tally("killed", "b", "count: 1383; as_of: 2025-03-12; group: civilians")
        + tally("killed", "a", "count: 1225; qualifier: at-least; as_of: 2025-03-11; group: civilians"),
    )
    chosen = chosen_figures(event)
    assert list(chosen) == [("killed", "civilians")]
    assert chosen["killed", "civilians"].count == 1383


def test_month_as_of_compares_by_its_last_day() -> None:
    # "late March" (2025-03) was stated after 12 March: the month's last day decides.
    event = entry(
        "e",
        "2025-03",
        "[x]",
        tally("displaced", "a", "count: 8500; as_of: 2025-03-12")
        + tally("displaced", "b", "count: 21637; as_of: 2025-03"),
    )
    assert chosen_figures(event)["displaced", "all"].count == 21637


def test_tie_prefers_whole_event_then_first_listed_source() -> None:
    scoped = entry(
        "e",
        "2025-03-07",
        "[x]",
        tally("killed", "a", "count: 658; as_of: 2025-03-11; scope: Latakia")
        + tally("killed", "a", "count: 1225; as_of: 2025-03-11"),
    )
    assert chosen_figures(scoped)["killed", "all"].count == 1225
    by_order = entry(
        "e",
        "2025-03-07",
        "[x]",
        tally("killed", "b", "count: 20; as_of: 2025-03-11") + tally("killed", "a", "count: 10; as_of: 2025-03-11"),
    )
    assert chosen_figures(by_order)["killed", "all"].count == 10


def test_headline_takes_first_measure_and_group_all() -> None:
    event = entry(
        "e",
        "2025",
        "[x]",
        tally("displaced", "a", "count: 100")
        + tally("killed", "a", "count: 5; group: civilians")
        + tally("killed", "a", "count: 9"),
    )
    chosen = headline(event, MEASURES)
    assert chosen is not None and (chosen.measure, chosen.group, chosen.count) == ("killed", "all", 9)
    assert headline(entry("none", "2025", "[x]"), MEASURES) is None


def test_figures_keep_their_nuance() -> None:
    event = entry(
        "e",
        "2025",
        "[x]",
        tally("killed", "a", "count: 745; qualifier: approximately")
        + tally("injured", "a", "count: 1000; qualifier: more-than")
        + tally("missing", "a", "low: 1200; high: 1400")
        + tally("displaced", "a", "count: 8500; qualifier: at-least; scope: northern Lebanon"),
    )
    assert [figure(x, t) for x in event.tallies] == [
        "approximately 745",
        "more than 1,000",
        "1,200–1,400",
        "at least 8,500 (northern Lebanon)",
    ]


def test_totals_add_one_figure_per_event_and_become_ranges() -> None:
    one = entry("one", "2025-03-07", "[x]", tally("killed", "a", "count: 10") + tally("killed", "b", "count: 12"))
    two = entry("two", "2025-03-09", "[x]", tally("killed", "a", "low: 3; high: 5"))
    three = entry("three", "2025-03-10", "[x]", tally("killed", "a", "count: 100; qualifier: at-least"))
    [exact] = totals([one], MEASURES)  # same as_of: source a, listed first, speaks for the event
    assert (exact.low, exact.high, exact.exact, total(exact, t)) == (10, 10, True, "10")
    [ranged] = totals([one, two], MEASURES)
    assert total(ranged, t) == "13–15"
    [open_ended] = totals([one, two, three], MEASURES)
    assert (open_ended.high, open_ended.events, total(open_ended, t)) == (None, 3, "at least 113")


def test_region_rolls_up_sub_regions_once_per_event() -> None:
    regions = [
        Region("syria", {"en": "Syria"}, None),
        Region("latakia", {"en": "Latakia"}, "syria"),
        Region("tartous", {"en": "Tartous"}, "syria"),
        Region("lebanon", {"en": "Lebanon"}, None),
    ]
    both = entry("both", "2025-03-07/2025-03-08", "[latakia, tartous]", tally("killed", "a", "count: 7"))
    later = entry("later", "2025-07", "[tartous]")
    early = entry("early", "2024-12-08", "[syria]")
    tree = RegionTree(regions, [both, later, early])
    assert [e.id for e in tree.events("syria")] == ["early", "both", "later"]
    assert [e.id for e in tree.events("latakia")] == ["both"]
    assert tree.events("lebanon") == []
    assert tree.ancestors("tartous") == ["syria"]
    assert tree.roots == ["syria", "lebanon"]
    [killed] = totals(tree.events("syria"), MEASURES)
    assert killed.low == 7  # counted once although the event is in two sub-regions


def test_an_event_in_a_region_and_its_sub_region_is_rolled_up_once() -> None:
    regions = [Region("syria", {"en": "Syria"}, None), Region("latakia", {"en": "Latakia"}, "syria")]
    twice = entry("twice", "2025-03-07", "[latakia, syria]")
    tree = RegionTree(regions, (entry("after", "2025-04-01", "[latakia]"), twice))
    assert [e.id for e in tree.events("syria")] == ["twice", "after"]
    tree.events("syria").clear()  # a copy each time: a template may change its own
    assert len(tree.events("syria")) == 2


def test_date_order_and_grouping() -> None:
    events = [entry("c", "2025-03-08", "[x]"), entry("a", "2025", "[x]"), entry("b", "2024-12-08", "[x]")]
    ordered = in_date_order(events)
    assert [e.id for e in ordered] == ["b", "a", "c"]
    groups = by_year_and_month(ordered)
    assert {year: {m: [e.id for e in es] for m, es in months.items()} for year, months in groups.items()} == {
        2024: {12: ["b"]},
        2025: {None: ["a"], 3: ["c"]},
    }
