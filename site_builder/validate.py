"""Checks across files: references, hierarchy, unique ids and URLs. Parsing has checked each file."""

from __future__ import annotations

from collections import defaultdict

from .errors import ContentError, Problem
from .load import Loaded
from .markdown import unsafe_links
from .model import Archive, Event, Region

# Top-level folders the site itself writes; a free page cannot take their names.
RESERVED = ("events", "regions", "tags", "sources", "search", "pagefind", "assets", "404")


def _region_problems(regions: list[Region], path: str) -> list[Problem]:
    problems = []
    by_id = {r.id: r for r in regions}
    for region in regions:
        if region.parent is not None and region.parent not in by_id:
            problems.append(Problem(path, region.line, f"region '{region.id}' has unknown parent '{region.parent}'"))
    reported: set[str] = set()
    for region in regions:
        chain = [region.id]
        parent = region.parent
        while parent in by_id and parent not in reported:
            if parent in chain:
                cycle = [*chain[chain.index(parent) :], parent]
                problems.append(Problem(path, by_id[parent].line, f"regions form a cycle: {' > '.join(cycle)}"))
                reported.update(cycle)
                break
            chain.append(parent)
            parent = by_id[parent].parent
    return problems


def _event_problems(event: Event, regions: set[str], publishers: set[str]) -> list[Problem]:
    problems = []
    for region, line in zip(event.regions, event.region_lines, strict=True):
        if region not in regions:
            problems.append(
                Problem(event.path, line, f"unknown region '{region}': add it to regions.yaml or fix the id")
            )
    for source in event.sources:
        if not source.name and source.id not in publishers:
            problems.append(
                Problem(event.path, source.line, f"source '{source.id}' needs a 'name' (it is not in sources.yaml)")
            )
    for line, url in unsafe_links(event.body):
        problems.append(Problem(event.path, event.body_line + line, _unsafe_link(url)))
    return problems


def _unsafe_link(url: str) -> str:
    return f"link '{url}' is not allowed: use http, https, mailto or a relative link"


def _url_problems(loaded: Loaded) -> list[Problem]:
    """Two files that would write the same page fail the build, naming both."""
    owners: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for event in loaded.events:
        owners[f"events/{event.id}/"].append((event.path, 1))
        for alias in event.aliases:
            owners[f"events/{alias}/"].append((event.path, event.lines.get("aliases", 1)))
    for page in loaded.pages:
        owners[f"{page.slug}/"].append((page.path, 1))
    problems = []
    for url, files in owners.items():
        for path, line in files[1:]:
            first = files[0][0]
            problems.append(Problem(path, line, f"maps to the same URL '{url}' as {first}; ids must be unique"))
    for page in loaded.pages:
        if page.slug in RESERVED or page.slug == "index":
            problems.append(Problem(page.path, 1, f"page name '{page.slug}' is reserved; rename the file"))
    return problems


def validate(loaded: Loaded) -> Archive:
    """Return the archive to build (drafts left out), or raise ContentError listing every problem."""
    problems = list(loaded.problems)
    problems += _region_problems(loaded.regions, f"{loaded.root}/regions.yaml")
    region_ids = {r.id for r in loaded.regions}
    publisher_ids = {p.id for p in loaded.publishers}
    for event in loaded.events:
        problems += _event_problems(event, region_ids, publisher_ids)
    problems += _url_problems(loaded)
    for page in loaded.pages:
        for line, url in unsafe_links(page.body):
            problems.append(Problem(page.path, page.body_line + line, _unsafe_link(url)))
    if problems or loaded.site is None:
        raise ContentError(problems)
    return Archive(
        site=loaded.site,
        regions=tuple(loaded.regions),
        publishers=tuple(loaded.publishers),
        events=tuple(e for e in loaded.events if e.status != "draft"),
        pages=tuple(sorted(loaded.pages, key=lambda p: (p.order, p.title))),
    )
