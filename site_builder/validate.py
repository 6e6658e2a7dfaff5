"""Checks across files: references, hierarchy, unique ids and URLs. Parsing has checked each file."""

from __future__ import annotations

from collections import defaultdict

from .errors import ContentError, Problem
from .load import Loaded
from .model import Archive, Region

# Top-level folders the site itself writes; a free page cannot take their names.
RESERVED = (
    "events",
    "regions",
    "tags",
    "sources",
    "search",
    "pagefind",
    "search-offline",
    "assets",
    "404",
    "removed",
    "data",
    "versions",
    "latest",
    "changelog",
    "download",
)


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


def _url_problems(loaded: Loaded) -> list[Problem]:
    """Two files that would write the same page fail the build, naming both."""
    owners: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for event in loaded.events:
        owners[f"events/{event.id}/"].append((event.path, 1))
        for alias in event.aliases:
            owners[f"events/{alias}/"].append((event.path, event.lines.get("aliases", 1)))
    for page in loaded.pages:
        owners[f"{page.slug}/"].append((page.path, 1))
    for stem, label in loaded.skipped:  # not parsed (check of chosen files), still owning their URL
        owners[f"{'events/' if '/events/' in label else ''}{stem}/"].append((label, 1))
    problems = []
    parsed = {e.path for e in loaded.events} | {p.path for p in loaded.pages}
    for url, files in owners.items():
        for path, line in files[1:]:
            first = files[0][0]
            where, other = (path, first) if path in parsed or first not in parsed else (first, path)
            problems.append(Problem(where, line, f"maps to the same URL '{url}' as {other}; ids must be unique"))
    for page in loaded.pages:
        if page.slug in RESERVED or page.slug == "index":
            problems.append(Problem(page.path, 1, f"page name '{page.slug}' is reserved; rename the file"))
    return problems


def validate(loaded: Loaded) -> Archive:
    """Return the archive to build (drafts left out), or raise ContentError listing every problem."""
    problems = list(loaded.problems)
    problems += _region_problems(loaded.regions, f"{loaded.root}/regions.yaml")
    problems += _url_problems(loaded)
    if problems or loaded.site is None:
        raise ContentError(problems)
    return Archive(
        site=loaded.site,
        regions=tuple(loaded.regions),
        publishers=tuple(loaded.publishers),
        events=tuple(e for e in loaded.events if e.status != "draft"),
        pages=tuple(sorted(loaded.pages, key=lambda p: (p.order, p.title))),
    )
