"""The timeline model: which figure speaks for an event, region roll-ups, date order.

The rule (also stated on region pages and in the methodology): for each event and
(measure, group), the figure with the latest `as_of` is chosen; on a tie, a figure without a
`scope` wins over a partial one, then the source listed first in the entry. Figures from
different sources for one event are never added. A region's total adds the chosen figure of each
event in the region or its sub-regions, once per event; it is a range when any figure is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from .model import Event, Region, Tally


def _rank(event: Event, tally: Tally) -> tuple[date, int, int]:
    source = event.source(tally.source)
    as_of = tally.as_of.last if tally.as_of else date.min
    return (as_of, 0 if tally.scope else 1, -(source.number if source else 0))


def chosen_figures(event: Event) -> dict[tuple[str, str], Tally]:
    """One figure per (measure, group), in the order the entry first lists each pair."""
    chosen: dict[tuple[str, str], Tally] = {}
    for tally in event.tallies:
        key = (tally.measure, tally.group)
        if key not in chosen or _rank(event, tally) > _rank(event, chosen[key]):
            chosen[key] = tally
    return chosen


def headline(event: Event, measures: tuple[str, ...]) -> Tally | None:
    """The figure shown beside the event on timelines: first measure in site order, group `all` first."""
    chosen = chosen_figures(event)
    for measure in measures:
        for (m, group), tally in chosen.items():
            if m == measure and group == "all":
                return tally
        for (m, _), tally in chosen.items():
            if m == measure:
                return tally
    return None


@dataclass(frozen=True)
class Total:
    measure: str
    group: str
    low: int
    high: int | None  # None: open-ended ("at least")
    exact: bool
    events: int


def totals(events: Iterable[Event], measures: tuple[str, ...]) -> list[Total]:
    """Sum of each event's chosen figure per (measure, group), in site measure order."""
    sums: dict[tuple[str, str], list[Tally]] = {}
    for event in events:
        for key, tally in chosen_figures(event).items():
            sums.setdefault(key, []).append(tally)
    order = {m: i for i, m in enumerate(measures)}
    out = []
    for (measure, group), tallies in sorted(
        sums.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1] != "all", kv[0][1])
    ):
        uppers = [t.upper for t in tallies]
        high = None if None in uppers else sum(u for u in uppers if u is not None)
        out.append(
            Total(measure, group, sum(t.lower for t in tallies), high, all(t.exact for t in tallies), len(tallies))
        )
    return out


def _date_key(event: Event) -> tuple[tuple[date, date], str]:
    return (event.date.sort_key, event.id)


# The archive's events in date order, for the last tuple of them sorted: a build sorts all of
# them for every data file, feed and index (records are immutable, so identity is enough).
_sorted: tuple[tuple[Event, ...], list[Event]] = ((), [])


def in_date_order(events: Iterable[Event]) -> list[Event]:
    global _sorted
    if not isinstance(events, tuple):
        return sorted(events, key=_date_key)
    if _sorted[0] is not events:
        _sorted = (events, sorted(events, key=_date_key))
    return list(_sorted[1])


# The last roll-up, for the same events and regions (the pages', the data files' and the feeds'
# trees of one build): (events, regions, each region's events).
_rolled: tuple[tuple[Event, ...], tuple[Region, ...], dict[str, list[Event]]] = ((), (), {})


class RegionTree:
    """The region hierarchy: parents, children and the events each region rolls up."""

    def __init__(self, regions: Iterable[Region], events: Iterable[Event]) -> None:
        self.regions: dict[str, Region] = {r.id: r for r in regions}
        self.children: dict[str, list[str]] = {r: [] for r in self.regions}
        for region in self.regions.values():
            if region.parent:
                self.children[region.parent].append(region.id)
        self.all = events if isinstance(events, tuple) else tuple(events)
        self._rolled: dict[str, list[Event]] | None = None

    @property
    def roots(self) -> list[str]:
        return [r for r, region in self.regions.items() if region.parent is None]

    def ancestors(self, region_id: str) -> list[str]:
        """From the top of the hierarchy down to the region's parent."""
        chain = []
        parent = self.regions[region_id].parent
        while parent:
            chain.append(parent)
            parent = self.regions[parent].parent
        return chain[::-1]

    def subtree(self, region_id: str) -> list[str]:
        out = [region_id]
        for child in self.children[region_id]:
            out += self.subtree(child)
        return out

    def events(self, region_id: str) -> list[Event]:
        """Events of the region and its sub-regions, each once, in date order."""
        global _rolled
        if self._rolled is None:
            regions = tuple(self.regions.values())
            if _rolled[0] is not self.all or _rolled[1] != regions:
                _rolled = (self.all, regions, self._roll_up())
            self._rolled = _rolled[2]
        return list(self._rolled[region_id])

    def _roll_up(self) -> dict[str, list[Event]]:
        """Every region's events, sub-regions' included: the events taken once in date order
        (sorted once for the build), each added to its regions and their ancestors."""
        lineage = {r: (r, *self.ancestors(r)) for r in self.regions}
        rolled: dict[str, list[Event]] = {r: [] for r in self.regions}
        for event in in_date_order(self.all):
            own = event.regions
            shown = lineage[own[0]] if len(own) == 1 else dict.fromkeys(r for o in own for r in lineage[o])
            for region_id in shown:
                rolled[region_id].append(event)
        return rolled


def by_year_and_month(events: Iterable[Event]) -> Mapping[int, Mapping[int | None, list[Event]]]:
    """Group date-ordered events by the year and month they start; month None = only the year is known."""
    groups: dict[int, dict[int | None, list[Event]]] = {}
    for event in events:
        start = event.date.start
        month = None if start.precision == "year" else start.first.month
        groups.setdefault(start.first.year, {}).setdefault(month, []).append(event)
    return groups
