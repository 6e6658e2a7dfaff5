"""Warnings: things that are allowed but usually a mistake. They fail `check` only with --strict.

Each rule is a small function over parsed events; `warnings()` runs them all.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import date
from difflib import SequenceMatcher

from .dates import EdtfDate
from .errors import Problem
from .model import Event, Publisher, Region


def _warn(event: Event, line: int, message: str) -> Problem:
    return Problem(event.path, line, message, severity="warning")


def subgroup_exceeds_all(event: Event) -> Iterator[Problem]:
    """A source's figure for a group cannot exceed its own figure for everyone (same measure, date, scope)."""
    alls = {(t.measure, t.source, t.as_of, t.scope): t for t in event.tallies if t.group == "all"}
    for tally in event.tallies:
        whole = alls.get((tally.measure, tally.source, tally.as_of, tally.scope))
        if tally.group != "all" and whole is not None and whole.upper is not None and tally.lower > whole.upper:
            yield _warn(
                event,
                tally.line,
                f"{tally.measure} ({tally.group}) from '{tally.source}' is larger than the same source's figure "
                f"for all (line {whole.line}); check the groups",
            )


def future_dates(event: Event, today: date) -> Iterator[Problem]:
    dated: list[tuple[str, int, EdtfDate | None]] = [("date", event.lines.get("date", 1), event.date)]
    dated += [("as_of", t.line, t.as_of) for t in event.tallies]
    dated += [("statement date", s.line, s.date) for s in event.statements]
    dated += [(f"source '{s.id}' {k}", s.line, getattr(s, k)) for s in event.sources for k in ("published", "accessed")]
    for what, line, value in dated:
        if value is not None and value.first > today:
            yield _warn(event, line, f"{what} {value.text} is in the future")


def accessed_before_published(event: Event) -> Iterator[Problem]:
    for s in event.sources:
        if s.accessed and s.published and s.accessed.last < s.published.first:
            yield _warn(
                event,
                s.line,
                f"source '{s.id}' was accessed ({s.accessed.text}) before it was published ({s.published.text})",
            )


def source_without_link(event: Event) -> Iterator[Problem]:
    for s in event.sources:
        if not s.url and not s.archive_url:
            yield _warn(event, s.line, f"source '{s.id}' has neither url nor archive_url: readers cannot check it")


def figure_without_as_of(event: Event) -> Iterator[Problem]:
    for t in event.tallies:
        if t.as_of is None:
            yield _warn(event, t.line, f"{t.measure} figure from '{t.source}' has no as_of: when was it stated?")


def file_name_without_date(event: Event) -> Iterator[Problem]:
    if not event.id.startswith(event.date.start.iso):
        yield _warn(event, 1, f"file name '{event.id}' does not start with its date ({event.date.start.iso})")


# Invisible characters that change how the text around them is shown: bidirectional embeddings,
# overrides and isolates (an override makes "exe.txt" read as "txt.exe"), and zero-width spaces
# and joiners. Ids refuse them (ids are [a-z0-9-]); in text they are warned about. ZWNJ and ZWJ
# (U+200C, U+200D), which Arabic and Persian text need, and the marks LRM, RLM and ALM are fine.
HIDDEN = re.compile("[\u202a-\u202e\u2066-\u2069\u200b\u2060-\u2064\ufeff\u180e]")


def _hidden(what: str, value: str) -> str | None:
    found = HIDDEN.search(value)
    if found is None:
        return None
    char = found.group()
    name = unicodedata.name(char, "")
    return (
        f"{what} holds U+{ord(char):04X} ({name.lower()}), an invisible character that changes how the "
        "text around it is shown: remove it"
    )


def hidden_characters(event: Event) -> Iterator[Problem]:
    """Bidi controls and zero-width characters in the text fields and the narrative."""
    lines = event.lines
    texts: list[tuple[str, int, str]] = [
        ("title", lines.get("title", 1), event.title),
        ("summary", lines.get("summary", 1), event.summary),
    ]
    if event.confidence is not None:
        texts.append(("confidence note", lines.get("confidence", 1), event.confidence.note))
    texts += [
        (what, t.line, value) for t in event.tallies for what, value in (("verbatim", t.verbatim), ("scope", t.scope))
    ]
    texts += [
        (what, s.line, value)
        for s in event.statements
        for what, value in (
            ("speaker", s.speaker),
            ("role", s.role),
            ("organization", s.organization),
            ("text", s.text),
        )
    ]
    texts += [
        (f"source {what}", s.line, value)
        for s in event.sources
        for what, value in (("name", s.name), ("title", s.title))
    ]
    if HIDDEN.search(event.body):
        texts += [("the narrative", event.body_line + n, line) for n, line in enumerate(event.body.split("\n"))]
    for what, line, value in texts:
        message = _hidden(what, value) if value else None
        if message is not None:
            yield _warn(event, line, message)


def registry_warnings(regions: Iterable[Region], publishers: Iterable[Publisher], root: str) -> list[Problem]:
    """Invisible characters in the names and descriptions of regions.yaml and sources.yaml."""
    found = []
    for region in regions:
        for language, name in region.names.items():
            message = _hidden(f"name{f' ({language})' if language else ''}", name)
            if message is not None:
                found.append(Problem(f"{root}/regions.yaml", region.line, message, severity="warning"))
    for publisher in publishers:
        for what in ("name", "type", "description"):
            message = _hidden(what, getattr(publisher, what))
            if message is not None:
                found.append(Problem(f"{root}/sources.yaml", publisher.line, message, severity="warning"))
    return found


def _words(title: str) -> str:
    if title.isascii():  # the same words, without the per-character work
        return " ".join(_WORD.findall(title.lower()))
    text = unicodedata.normalize("NFKD", title.casefold())
    return " ".join(_WORD.findall("".join(c for c in text if not unicodedata.combining(c))))


_WORD = re.compile(r"\w+")


def _similar(a: str, b: str) -> bool:
    """SequenceMatcher's ratio is at least 0.8 (its quick upper bounds first: most pairs stop there)."""
    matcher = SequenceMatcher(None, a, b)
    return matcher.real_quick_ratio() >= 0.8 and matcher.quick_ratio() >= 0.8 and matcher.ratio() >= 0.8


def likely_duplicates(events: Iterable[Event], report_for: set[str] | None = None) -> Iterator[Problem]:
    """Events sharing a region, with overlapping dates and similar titles (checked per region, by date).

    The later file of a pair is warned; with `report_for`, a pair is reported when either file is in it,
    on that file.
    """
    by_region: dict[str, list[Event]] = defaultdict(list)
    words: dict[str, str] = {}  # path -> title words, each worked out once
    for event in events:
        words[event.path] = _words(event.title)
        for region in event.regions:
            by_region[region].append(event)
    reported: set[tuple[str, str]] = set()
    for region_events in by_region.values():
        region_events.sort(key=lambda e: (e.date.first, e.id))
        for i, a in enumerate(region_events):
            for b in region_events[i + 1 :]:
                if b.date.first > a.date.last:
                    break
                pair = (a.id, b.id) if a.path < b.path else (b.id, a.id)
                if pair in reported:
                    continue
                if _similar(words[a.path], words[b.path]):
                    reported.add(pair)
                    first, second = (a, b) if a.path < b.path else (b, a)
                    if report_for is not None and second.path not in report_for:
                        first, second = second, first
                    if report_for is None or second.path in report_for:
                        yield _warn(
                            second,
                            1,
                            f"looks like a duplicate of {first.path} (overlapping dates, shared region, similar title)",
                        )


def warnings(events: Iterable[Event], today: date | None = None, others: Iterable[Event] = ()) -> list[Problem]:
    """Every warning for `events`; duplicates are also looked for against `others` (the rest of the archive)."""
    today = today or date.today()
    events = list(events)
    found: list[Problem] = []
    for event in events:
        found += subgroup_exceeds_all(event)
        found += future_dates(event, today)
        found += accessed_before_published(event)
        found += source_without_link(event)
        found += figure_without_as_of(event)
        found += file_name_without_date(event)
        found += hidden_characters(event)
    found += likely_duplicates([*events, *others], report_for={e.path for e in events})
    return sorted(found)
