"""Render the archive into pages: one Jinja environment, built here, and the list of pages.

Templates are looked up in the site's own `templates/` folder first, then the theme's, so a site
overrides any single template without copying the theme. Templates from contributed content run
in Jinja's sandbox; autoescape is on everywhere and an undefined variable fails the build.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from . import data, display, entryviews, timeline
from .dates import EdtfDate, format_date, parse_date
from .errors import ContentError, Problem
from .i18n import direction, load_table, translator
from .markdown import render_markdown
from .model import Archive, Edition, Event, History, Site, Tally

CURRENT = Edition()  # a plain build: the current archive, no releases
THEMES = next(d / "themes" for d in Path(__file__).resolve().parents[:2] if (d / "themes").is_dir())


@dataclass(frozen=True)
class Rendered:
    path: str  # relative to the output folder, e.g. "events/x/index.html"
    content: bytes


def _url(root: str, target: str) -> str:
    """Relative link to `target` (a site path like 'events/x/'), naming index.html so it works from disk."""
    if target.endswith("/") or target == "":
        target += "index.html"
    return root + target


def environment(
    archive: Archive, theme: Path, overrides: Path | None, edition: Edition = CURRENT
) -> SandboxedEnvironment:
    loaders = [FileSystemLoader(str(overrides))] if overrides and overrides.is_dir() else []
    loaders.append(FileSystemLoader(str(theme / "templates")))
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    site = archive.site
    table = load_table(theme / "strings.yaml")
    t = translator(table, site.language)
    tree = timeline.RegionTree(archive.regions, archive.events)
    publishers = {p.id: p for p in archive.publishers}

    def date(value: EdtfDate | None) -> str:
        return format_date(value, t) if value else ""

    def label(prefix: str, name: str) -> str:
        """A measure or group in the reader's language; site-defined ones by their slug."""
        return t(prefix + name) if prefix + name in table else name.replace("-", " ")

    def headline(event: Event) -> str:
        tally = timeline.headline(event, site.measures)
        if tally is None:
            return ""
        text = f"{display.figure(tally, t)} {label('measure_', tally.measure)}"
        return text if tally.group == "all" else f"{text} ({label('group_', tally.group)})"

    @pass_context
    def url(context: Context, target: str) -> str:
        return _url(context["root"], target)

    def publisher_name(source_id: str, event: Event) -> str:
        source = event.source(source_id)
        publisher = publishers.get(source_id)
        return (source.name if source and source.name else "") or (publisher.name if publisher else source_id)

    env.globals.update(
        site=site,
        t=t,
        url=url,
        dir=direction(site.language),
        lang=site.language,
        nav_pages=archive.pages,
        publishers=publishers,
        regions=tree.regions,
        tree=tree,
        measures=site.measures,
        edition=edition,
    )
    env.filters.update(
        date=date,
        day=lambda iso: format_date(parse_date(iso), t) if iso else "",
        figure=lambda tally: display.figure(tally, t),
        total=lambda value: display.total(value, t),
        headline=headline,
        measure=lambda name: label("measure_", name),
        group=lambda name: label("group_", name),
        number=display.number,
        markdown=render_markdown,
        region_name=lambda region: region.name(site.language),
        publisher_name=publisher_name,
    )
    return env


def render_site(
    archive: Archive,
    theme: Path,
    overrides: Path | None = None,
    history: History | None = None,
    edition: Edition = CURRENT,
) -> Iterator[Rendered]:
    """Every page of the site, in a stable order."""
    env = environment(archive, theme, overrides, edition)
    site = archive.site
    tree = cast(timeline.RegionTree, env.globals["tree"])
    t = cast(Callable[..., str], env.globals["t"])
    measure_label = env.filters["measure"]
    events = timeline.in_date_order(archive.events)

    page = Pages(env, site, edition).page

    by_tag: dict[str, list[Event]] = {}
    by_publisher: dict[str, list[Event]] = {p.id: [] for p in archive.publishers}
    for event in events:
        for tag in event.tags:
            by_tag.setdefault(tag, []).append(event)
        for source in event.sources:
            if source.id in by_publisher:
                by_publisher[source.id].append(event)

    latest = sorted(events, key=lambda e: (e.date.sort_key, e.id), reverse=True)[:10]
    feeds = edition.release is None  # a release is frozen: feeds follow the current archive only
    yield page(
        "home.html",
        "index.html",
        site.title,
        events=events,
        latest=latest,
        sources_count=len(archive.publishers),
        feed="feed.atom" if feeds else "",
    )
    name = cast(Callable[[str, Event], str], env.filters["publisher_name"])
    for event in events:
        # A release's page is cited at its own frozen address.
        release = f"versions/{edition.release.tag}/" if edition.release else ""
        permanent = f"{site.base_url}{release}events/{event.id}/"
        yield page(
            "event.html",
            f"events/{event.id}/index.html",
            event.title,
            event.summary,
            event=event,
            current_target=f"events/{event.id}/index.html" if event.id in edition.current_ids else "",
            figures=_figure_rows(event),
            search_filters=search_filters(event, tree, site.language, measure_label),
            history=entryviews.entry_history(event, history, t, partial(_swap, name, event)),
            in_git=history is not None or edition.release is not None,
            series=entryviews.figure_series(event),
            citation=entryviews.citation(event, site.title, permanent, edition, t),
        )
        for alias in event.aliases:
            yield page("redirect.html", f"events/{alias}/index.html", event.title, target=event)
    yield page("regions.html", "regions/index.html", t("regions_title"))
    for region_id, region in tree.regions.items():
        region_events = tree.events(region_id)
        yield page(
            "region.html",
            f"regions/{region_id}/index.html",
            region.name(site.language),
            region=region,
            ancestors=[tree.regions[a] for a in tree.ancestors(region_id)],
            children=[tree.regions[c] for c in tree.children[region_id]],
            totals=timeline.totals(region_events, site.measures),
            groups=timeline.by_year_and_month(region_events),
            events=region_events,
            feed=f"regions/{region_id}/feed.atom" if feeds else "",
        )
    yield page("tags.html", "tags/index.html", t("tags_title"), tags=sorted(by_tag.items()))
    for tag, tagged in sorted(by_tag.items()):
        feed = f"tags/{tag}/feed.atom" if feeds else ""
        yield page("tag.html", f"tags/{tag}/index.html", tag, tag=tag, events=tagged, feed=feed)
    yield page("sources.html", "sources/index.html", t("sources_title"), cited=by_publisher)
    for publisher in archive.publishers:
        yield page(
            "source.html",
            f"sources/{publisher.id}/index.html",
            publisher.name,
            publisher.description,
            publisher=publisher,
            events=by_publisher[publisher.id],
        )
    for free in archive.pages:
        yield page("page.html", f"{free.slug}/index.html", free.title, free.description, page=free)
    yield page("data.html", "data/index.html", t("data_title"), tags=sorted(by_tag), feeds=feeds, **data.page_context())
    yield page("search.html", "search/index.html", t("nav_search"))
    yield page("removed.html", "removed/index.html", t("removed_title"), removed=history.removed if history else ())
    # A host serves 404.html at any depth, so its links start from the site's own path.
    yield page(
        "404.html", "404.html", t("notfound_title"), root=urlsplit(site.base_url).path, inline_css=_inline_css(theme)
    )


class Pages:
    """Renders one page: works out its relative root, canonical URL and the common context."""

    def __init__(self, env: SandboxedEnvironment, site: Site, edition: Edition) -> None:
        self.env, self.site, self.edition = env, site, edition

    def page(
        self, template: str, path: str, title: str, description: str = "", root: str | None = None, **context: Any
    ) -> Rendered:
        site, edition = self.site, self.edition
        if root is None:
            folder = posixpath.dirname(path)
            root = "../" * (folder.count("/") + 1) if folder else ""
        prefix = f"versions/{edition.release.tag}/" if edition.release else ""
        canonical = site.base_url + prefix + (path[: -len("index.html")] if path.endswith("index.html") else path)
        # From this page to the top of the whole site: a release is built two folders down.
        top = root + ("../../" if edition.release else "")
        context.setdefault("current_target", path)  # the same page in the current archive
        context.setdefault("feed", "")  # the Atom feed following this page, if any
        try:
            html = self.env.get_template(template).render(
                root=root,
                top=top,
                path=path,
                canonical=canonical,
                title=title,
                description=description or site.description,
                **context,
            )
        except (TemplateError, KeyError) as exc:
            raise ContentError([_template_problem(exc, template, path)]) from None
        return Rendered(path, html.encode("utf-8"))


def _inline_css(theme: Path) -> Markup:
    """The theme's stylesheet for a <style> element (it is the theme's own file, not content)."""
    css = (theme / "static" / "style.css").read_text(encoding="utf-8")
    if "</" in css:
        raise ContentError([Problem(str(theme / "static" / "style.css"), 0, "the stylesheet must not contain '</'")])
    return Markup(css)


def _swap(name: Callable[[str, Event], str], event: Event, source_id: str) -> str:
    return name(source_id, event)


def _template_problem(exc: BaseException, template: str, page: str) -> Problem:
    """Point at the template line that failed (the innermost template frame), not a traceback."""
    filename, line = getattr(exc, "filename", None), getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(".html"):
            filename, line = tb.tb_frame.f_code.co_filename, tb.tb_lineno
        tb = tb.tb_next
    where = filename or template
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
    return Problem(where, line or 0, f"template error while rendering {page}: {message}")


def search_filters(
    event: Event, tree: timeline.RegionTree, language: str, measure: Callable[[str], str]
) -> dict[str, list[str]]:
    """Each search filter value once per page (Pagefind counts elements, not pages); the offline index reuses it."""
    regions = {r for region_id in event.regions for r in [*tree.ancestors(region_id), region_id]}
    return {
        "region": sorted(tree.regions[r].name(language) for r in regions),
        "tag": sorted(event.tags),
        "year": [str(y) for y in range(event.date.first.year, event.date.last.year + 1)],
        "measure": sorted({measure(t.measure) for t in event.tallies}),
    }


@dataclass(frozen=True)
class FigureRow:
    tally: Tally
    chosen: bool  # the figure that counts for this event in region totals


def _figure_rows(event: Event) -> list[FigureRow]:
    chosen = {id(t) for t in timeline.chosen_figures(event).values()}
    return [FigureRow(t, id(t) in chosen) for t in event.tallies]


def assets(theme: Path) -> Iterator[tuple[str, Path]]:
    """Static files of the theme, as (output path, source file)."""
    static = theme / "static"
    for path in sorted(static.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield f"assets/{path.relative_to(static).as_posix()}", path
