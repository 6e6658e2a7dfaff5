"""Render the archive into pages: one Jinja environment, built here, and the list of pages.

Templates are looked up in the site's own `templates/` folder first, then the theme's, so a site
overrides any single template without copying the theme. Templates from contributed content run
in Jinja's sandbox; autoescape is on everywhere and an undefined variable fails the build.

`site_pages` lists the pages without rendering them: each `PageSpec` names what of the archive
the page shows (`needs`), so that the build renders again only the pages whose inputs changed.
What a template reaches through the `tree` global (`tree.events(id)`) is recorded while it
renders (`Rendered.reads`), since a site's own template may use it anywhere.

The sandbox checks every attribute a template reads; for the archive's own records (frozen
dataclasses of data) the answer depends only on the name, so `_Sandbox` answers those at once:
the same rule, a third of the rendering time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    Undefined,
    pass_context,
)
from jinja2.bccache import Bucket, BytecodeCache, FileSystemBytecodeCache
from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from . import data, dates, display, entryviews, headers, model, timeline
from .cache import user_folder
from .dates import EdtfDate, format_date, parse_date
from .errors import ContentError, Problem
from .i18n import direction, load_table, translator
from .items import Items
from .markdown import render_page
from .model import Archive, Edition, Event, History, Site, Tally

CURRENT = Edition()  # a plain build: the current archive, no releases
THEMES = next(d / "themes" for d in Path(__file__).resolve().parents[:2] if (d / "themes").is_dir())


@dataclass(frozen=True)
class Rendered:
    path: str  # relative to the output folder, e.g. "events/x/index.html"
    content: bytes
    reads: frozenset[str] = frozenset()  # regions whose events the page asked `tree` for ("*": all)


@dataclass(frozen=True)
class PageSpec:
    """A page not rendered yet. `needs`: what of the archive it shows besides what every page
    sees (site, registries, free pages, strings, the edition with its commit, hence the history),
    as keys the build turns into digests: `event:<id>`, `region:<id>` (its events, sub-regions'
    included), `tag:<tag>`, `publisher:<id>`, `events` (all of them), `tags` (every tag's events),
    `cited` (every publisher's events), `tag-names`, `file:<theme file>`."""

    path: str
    template: str
    needs: tuple[str, ...]
    make: Callable[[], Rendered] = field(compare=False, repr=False)

    def render(self) -> Rendered:
        return self.make()


class Deferred(Exception):
    """A template asked `tree` for events before the build knew them all: render it later."""


class TrackedTree(timeline.RegionTree):
    """The `tree` global: records which regions' events a template asks for while it renders,
    and works each region's list out once (a list per call: a template may change its copy).
    `complete=False`: the events are not known yet, and asking for them raises Deferred."""

    SAFE = frozenset({"regions", "roots", "children", "ancestors", "subtree", "events"})

    def __init__(self, regions: Any, events: Any, complete: bool = True) -> None:
        super().__init__(regions, events)
        self.complete = complete
        self.reads: set[str] = set()
        self.known: dict[str, list[Event]] = {}

    def events(self, region_id: str) -> list[Event]:
        if not self.complete:
            raise Deferred(region_id)
        self.reads.add(region_id)
        return self.region_events(region_id)

    def region_events(self, region_id: str) -> list[Event]:
        """`events(region_id)`, not recorded: for what Python gives a page, not what it asks."""
        found = self.known.get(region_id)
        if found is None:
            found = self.known[region_id] = super().events(region_id)
        return list(found)


# The archive's records and the views computed for templates: plain data, frozen.
_RECORDS = set(
    kind
    for module in (model, dates, timeline, entryviews, data)
    for kind in vars(module).values()
    if isinstance(kind, type) and dataclasses.is_dataclass(kind) and kind.__module__ == module.__name__
)


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, answering at once for the archive's records: any attribute not starting
    with "_" is safe there, as the sandbox itself decides for such objects (their values are
    data, never `str.format`). The tree allows only what templates are documented to use."""

    def getattr(self, obj: Any, attribute: str) -> Any | Undefined:
        kind = type(obj)
        if kind in _RECORDS and not attribute.startswith("_"):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        elif kind is TrackedTree and attribute not in TrackedTree.SAFE:
            return self.unsafe_undefined(obj, attribute)
        return super().getattr(obj, attribute)


T = TypeVar("T")


def _memo(function: Callable[[Any], T]) -> Callable[[Any], T]:
    """`function` of a record, once per record (by identity: records are immutable, and each
    event is shown on many pages)."""
    seen: dict[int, tuple[Any, T]] = {}

    def memo(value: Any) -> T:
        found = seen.get(id(value))
        if found is None or found[0] is not value:
            found = seen[id(value)] = (value, function(value))
        return found[1]

    return memo


def _url(root: str, target: str) -> str:
    """Relative link to `target` (a site path like 'events/x/'), naming index.html so it works from disk."""
    if target.endswith("/") or target == "":
        target += "index.html"
    return root + target


class _Strings(Extension):
    """`t("key")` with a literal key and nothing more: the text, in the site's language, put into
    the template when it is compiled, not a call on every page (an event page makes about 40 of
    them, a fifth of its time). The text is escaped as the call's result was. A template that
    names `t` in any other way (a loop variable, an argument, a filter, `x.t`) keeps its calls,
    and so does a key the table lacks (the page then fails as before, at that line)."""

    key = ""  # the language and table the texts come from: compiled code is kept per key (_Compiled)

    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        tokens = list(stream)
        t = cast(Callable[[str], str] | None, self.environment.globals.get("t"))
        at = [n for n, token in enumerate(tokens) if token.type == "name" and token.value == "t"]
        if t is None or any(n + 1 == len(tokens) or tokens[n + 1].type != "lparen" for n in at):
            yield from tokens  # `t` is a variable here, or no global: nothing is the global's call
            return
        n = 0
        while n < len(tokens):
            token = tokens[n]
            if token.type == "name" and token.value == "t" and _plain_call(tokens, n):
                try:
                    text = t(tokens[n + 2].value)
                except KeyError:
                    text = None
                if isinstance(text, str):
                    yield Token(token.lineno, "string", text)
                    n += 4
                    continue
            yield token
            n += 1


def _plain_call(tokens: list[Token], n: int) -> bool:
    """tokens[n] (the name `t`) begins `t("...")`, and is the global's name, not an attribute's,
    a filter's, a test's or a call block's."""
    if n + 3 >= len(tokens) or [tok.type for tok in tokens[n + 1 : n + 4]] != ["lparen", "string", "rparen"]:
        return False
    before = tokens[n - 1] if n else None
    return before is None or not (
        before.type in ("dot", "pipe") or (before.type == "name" and before.value in ("is", "call", "filter"))
    )


class _Compiled(BytecodeCache):
    """Compiled templates, by name and source: kept for the next build in this process (`serve`),
    and on disk for the next process, in a folder only this user can write (`user_folder`;
    never the build's cache folder, which content could plant files in). A template's source is
    compiled once, whatever environment or process loads it; Jinja drops code from another
    version of itself or of Python, and code whose source differs."""

    def __init__(self) -> None:
        self.code: dict[tuple[bool, str, str | None], bytes] = {}
        self.disk: dict[bool, BytecodeCache | None] = {}

    def get_bucket(self, environment: Environment, name: str, filename: str | None, source: str) -> Bucket:
        """Jinja's bucket, keyed also by the texts `_Strings` put into the code."""
        strings = environment.extensions.get(_Strings.identifier)
        key = self.get_cache_key(f"{name}\0{strings.key if isinstance(strings, _Strings) else ''}", filename)
        bucket = Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket

    @staticmethod
    def _key(bucket: Bucket) -> tuple[bool, str, str | None]:
        # Sandboxed code differs (every call is checked): never given to the other environment.
        return (bucket.environment.sandboxed, bucket.key, bucket.checksum)

    def _disk(self, sandboxed: bool) -> BytecodeCache | None:
        if sandboxed not in self.disk:
            folder = user_folder("templates")
            pattern = f"{'sandboxed' if sandboxed else 'theme'}-%s.cache"
            self.disk[sandboxed] = FileSystemBytecodeCache(folder, pattern) if folder else None
        return self.disk[sandboxed]

    def load_bytecode(self, bucket: Bucket) -> None:
        key = self._key(bucket)
        found = self.code.get(key)
        if found is not None:
            bucket.bytecode_from_string(found)
            return
        disk = self._disk(key[0])
        if disk is not None:
            disk.load_bytecode(bucket)
            if bucket.code is not None:
                self.code[key] = bucket.bytecode_to_string()

    def dump_bytecode(self, bucket: Bucket) -> None:
        key = self._key(bucket)
        self.code[key] = bucket.bytecode_to_string()
        disk = self._disk(key[0])
        if disk is not None:
            disk.dump_bytecode(bucket)


_COMPILED = _Compiled()


@lru_cache(maxsize=4)
def _table(path: Path, stamp: tuple[int, int]) -> tuple[dict[str, dict[str, str]], str]:
    return load_table(path), hashlib.sha256(path.read_bytes()).hexdigest()


def _strings(path: Path) -> tuple[dict[str, dict[str, str]], str]:
    """The translation table, read once per process while the file stays as it is, and a digest of it."""
    st = path.stat()
    return _table(path, (st.st_mtime_ns, st.st_size))


def complete(env: Environment, archive: Archive) -> None:
    """Give an environment made with `complete=False` the archive's events (`tree`)."""
    env.globals["tree"] = TrackedTree(archive.regions, archive.events)


def environment(
    archive: Archive,
    theme: Path,
    overrides: Path | None,
    edition: Edition = CURRENT,
    *,
    complete: bool = True,
    items: Items | None = None,
) -> Environment:
    """The one environment: the site's templates (sandboxed) before the theme's. `complete=False`
    while the archive's events are not known yet (the build renders each entry's page as soon as
    it is parsed): a template asking `tree` for events then raises Deferred. `items`: where the
    `piece` global keeps what it renders (items.py); without it, nothing is kept."""
    own = overrides is not None and overrides.is_dir() and any(p.is_file() for p in overrides.rglob("*"))
    loaders = [FileSystemLoader(str(overrides))] if overrides and own else []
    loaders.append(FileSystemLoader(str(theme / "templates")))
    # The sandbox guards against templates from contributed content. The theme's are the
    # project's own code: without any of the site's, they run without it, a fifth faster.
    env = (_Sandbox if own else Environment)(
        loader=ChoiceLoader(loaders),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change during a build: no stat per page
        bytecode_cache=_COMPILED,
        extensions=[_Strings],
    )
    site = archive.site
    table, table_digest = _strings(theme / "strings.yaml")
    t = translator(table, site.language)
    cast(_Strings, env.extensions[_Strings.identifier]).key = f"{site.language}:{table_digest}"
    tree = TrackedTree(archive.regions, archive.events, complete)
    publishers = {p.id: p for p in archive.publishers}

    @_memo
    def date(value: EdtfDate | None) -> str:
        return format_date(value, t) if value else ""

    def label(prefix: str, name: str) -> str:
        """A measure or group in the reader's language; site-defined ones by their slug."""
        return t(prefix + name) if prefix + name in table else name.replace("-", " ")

    @_memo
    def headline(event: Event) -> str:
        tally = timeline.headline(event, site.measures)
        if tally is None:
            return ""
        text = f"{display.figure(tally, t)} {label('measure_', tally.measure)}"
        return text if tally.group == "all" else f"{text} ({label('group_', tally.group)})"

    @pass_context
    def url(context: Context, target: str) -> str:
        return _url(context["root"], target)

    kept = items if items is not None else Items()

    @pass_context
    def piece(context: Context, template: str, event: Event, **options: Any) -> Markup:
        """`template` rendered with only `event`, `options` and `root`: the same text on every
        page of that depth, kept by items.py (unless the template read `tree`)."""
        root = context["root"]

        def make() -> tuple[str, bool]:
            reads = cast(TrackedTree, env.globals["tree"]).reads  # the page's (see Pages.page)
            before = set(reads)
            reads.clear()
            try:
                text = env.get_template(template).render(event=event, root=root, **options)
                return text, not reads
            finally:
                reads |= before

        return Markup(kept.get(template, event.id, root, options, make))

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
        piece=piece,
        regions=tree.regions,
        tree=tree,
        measures=site.measures,
        edition=edition,
        csp=headers.policy,  # the page's Content-Security-Policy: csp(search=True, styles=[css])
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
        markdown=render_page,
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
    return (spec.render() for spec in site_pages(archive, env, theme, history, edition))


def site_pages(
    archive: Archive,
    env: Environment,
    theme: Path,
    history: History | None = None,
    edition: Edition = CURRENT,
    *,
    entries: bool = True,
) -> list[PageSpec]:
    """Every page of the site, in a stable order, ready to render (contexts are computed then);
    `entries=False`: all but the entries' own (see `entry_pages`)."""
    site = archive.site
    tree = cast(timeline.RegionTree, env.globals["tree"])
    t = cast(Callable[..., str], env.globals["t"])
    events = timeline.in_date_order(archive.events)

    pages = Pages(env, site, edition)

    def page(template: str, path: str, needs: tuple[str, ...], *args: Any, **context: Any) -> PageSpec:
        return PageSpec(path, template, needs, partial(pages.page, template, path, *args, **context))

    by_tag: dict[str, list[Event]] = {}
    by_publisher: dict[str, list[Event]] = {p.id: [] for p in archive.publishers}
    for event in events:
        for tag in event.tags:
            by_tag.setdefault(tag, []).append(event)
        for source in event.sources:
            if source.id in by_publisher:
                by_publisher[source.id].append(event)

    latest = events[::-1][:10]  # ids are unique: no two keys tie
    feeds = edition.release is None  # a release is frozen: feeds follow the current archive only
    specs = [
        page(
            "home.html",
            "index.html",
            ("events",),
            site.title,
            events=events,
            latest=latest,
            sources_count=len(archive.publishers),
            feed="feed.atom" if feeds else "",
        )
    ]
    if entries:
        for event in events:
            specs += entry_pages(env, site, event, history, edition)
    specs.append(page("regions.html", "regions/index.html", (), t("regions_title")))
    for region_id in tree.regions:
        specs.append(
            PageSpec(
                f"regions/{region_id}/index.html",
                "region.html",
                (f"region:{region_id}",),
                partial(_region_page, pages, tree, region_id, feeds),
            )
        )
    specs.append(page("tags.html", "tags/index.html", ("tags",), t("tags_title"), tags=sorted(by_tag.items())))
    for tag, tagged in sorted(by_tag.items()):
        feed = f"tags/{tag}/feed.atom" if feeds else ""
        specs.append(
            page("tag.html", f"tags/{tag}/index.html", (f"tag:{tag}",), tag, tag=tag, events=tagged, feed=feed)
        )
    specs.append(page("sources.html", "sources/index.html", ("cited",), t("sources_title"), cited=by_publisher))
    for publisher in archive.publishers:
        specs.append(
            page(
                "source.html",
                f"sources/{publisher.id}/index.html",
                (f"publisher:{publisher.id}",),
                publisher.name,
                publisher.description,
                publisher=publisher,
                events=by_publisher[publisher.id],
            )
        )
    for free in archive.pages:
        specs.append(page("page.html", f"{free.slug}/index.html", (), free.title, free.description, page=free))
    data_context = {"tags": sorted(by_tag), "feeds": feeds, **data.page_context()}
    specs.append(page("data.html", "data/index.html", ("tag-names",), t("data_title"), **data_context))
    specs.append(page("search.html", "search/index.html", (), t("nav_search")))
    removed = history.removed if history else ()
    specs.append(page("removed.html", "removed/index.html", (), t("removed_title"), removed=removed))
    # A host serves 404.html at any depth, so its links start from the site's own path.
    specs.append(
        PageSpec(
            "404.html",
            "404.html",
            ("file:static/style.css",),
            lambda: pages.page(
                "404.html",
                "404.html",
                t("notfound_title"),
                root=urlsplit(site.base_url).path,
                inline_css=_inline_css(theme),
            ),
        )
    )
    return specs


def entry_pages(
    env: Environment, site: Site, event: Event, history: History | None, edition: Edition = CURRENT
) -> list[PageSpec]:
    """An entry's page, and a redirect page at each of its former ids."""
    pages = Pages(env, site, edition)
    tree = cast(timeline.RegionTree, env.globals["tree"])
    t = cast(Callable[..., str], env.globals["t"])
    measure_label = env.filters["measure"]

    def make() -> Rendered:
        name = cast(Callable[[str, Event], str], env.filters["publisher_name"])
        # A release's page is cited at its own frozen address.
        release = f"versions/{edition.release.tag}/" if edition.release else ""
        permanent = f"{site.base_url}{release}events/{event.id}/"
        return pages.page(
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

    specs = [PageSpec(f"events/{event.id}/index.html", "event.html", (f"event:{event.id}",), make)]
    for alias in event.aliases:
        path = f"events/{alias}/index.html"
        redirect = partial(pages.page, "redirect.html", path, event.title, target=event)
        specs.append(PageSpec(path, "redirect.html", (f"event:{event.id}",), redirect))
    return specs


def _region_page(pages: Pages, tree: timeline.RegionTree, region_id: str, feeds: bool) -> Rendered:
    site = pages.site
    region = tree.regions[region_id]
    region_events = cast(TrackedTree, tree).region_events(region_id)
    return pages.page(
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


class Pages:
    """Renders one page: works out its relative root, canonical URL and the common context."""

    def __init__(self, env: Environment, site: Site, edition: Edition) -> None:
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
        tree = self.env.globals.get("tree")
        reads = tree.reads if isinstance(tree, TrackedTree) else set()
        reads.clear()
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
        return Rendered(path, html.encode("utf-8"), frozenset(reads))


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


_RECORDS.add(FigureRow)


def _figure_rows(event: Event) -> list[FigureRow]:
    chosen = {id(t) for t in timeline.chosen_figures(event).values()}
    return [FigureRow(t, id(t) in chosen) for t in event.tallies]


def assets(theme: Path) -> Iterator[tuple[str, Path]]:
    """Static files of the theme, as (output path, source file)."""
    static = theme / "static"
    for path in sorted(static.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield f"assets/{path.relative_to(static).as_posix()}", path
