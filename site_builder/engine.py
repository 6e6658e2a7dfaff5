"""The build's work, once something changed: entries first, then the rest, then search.

    made = run(content, output, theme, log, store=..., ...)

build.py calls this when the cache does not show that nothing changed. The steps, in order:
site.yaml, the registries and the free pages (`inputs.front`); every entry, each made where it is
parsed: its page and its pieces of the data files and of the search index (`Site.entries`,
inputs.py); the archive validated as a whole; Pagefind started on the entries' pages; everything
else rendered and written (`Site.make`); releases; Pagefind waited for; the bundle; the swap.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, cast

from . import changelog, data, feeds, fragments, headers, inputs, offline, render, sitemap, timeline, versions
from .bundle import add_to_build, bundle_name, commit_date
from .cache import Store, tool_key
from .errors import ContentError
from .fingerprint import NAMED, Needs, Templates, digest
from .fragments import Fragments
from .history import read_history
from .inputs import REGISTRIES, Parsed, Scan, digests
from .items import Items
from .load import Loaded, load_content
from .model import Archive, Edition, Event, History
from .outputs import Done, Outputs, Result, page_fingerprint_end, page_fingerprint_start
from .progress import Progress
from .render import Deferred, Pages, assets, entry_pages, environment, render_site, site_pages
from .search import Indexing, finish_index, start_index
from .stamps import Stat
from .timings import Log, Timings
from .validate import validate
from .write import Content, FileRecord, Tree, Trees, WriteError, Writer

# What the cache may hold besides plain data and the archive's records.
CACHED = (Trees, Tree, FileRecord, Done, Parsed, Stat, Loaded)


@dataclass
class Made:
    archive: Archive
    pages: int
    rendered: frozenset[str]
    written: int
    trees: Trees | None  # None without a cache


def run(
    content: Path,
    output: Path,
    theme: Path,
    log: Log,
    *,
    store: Store | None,
    stamps: dict[str, Stat | None],
    releases: bool,
    bundle: bool,
    search: bool,
    offline: bool,
    workers: int,
    progress: Progress,
    timings: Timings,
) -> Made:
    known = store.load("listing") if store is not None else None
    found, listing = inputs.scan(content, theme, stamps, known)
    if store is not None and (not isinstance(known, tuple) or known[0] != listing[0]):
        store.save("listing", listing)
    cache_dir = store.folder if store is not None else None
    state = store.load("state") if store is not None else None
    state = state if isinstance(state, tuple) and len(state) == 3 and state[0] == str(output.resolve()) else None
    trees, before = (state[1], _done(state[2])) if state is not None else (Trees(), {})

    progress.stage("load")
    history = read_history(content, cache_dir)
    files = _digests(found)
    registries = digest(*(files.get(f"{_root(content)}/{name}", b"") for name in REGISTRIES))
    cached = _load_entries(store, registries) if store is not None else None
    try:
        front_loaded = _front(store, content, found, files)
        front = validate(front_loaded)
    except ContentError:  # list every problem, the entries' with the rest
        validate(load_content(content))
        raise
    repo = versions.repository(content) if releases else None
    tags = versions.list_releases(repo, front.site.release_tags) if repo else ()
    bundle_file = f"{bundle_name(front.site.title, front.site.base_url)}.zip" if bundle else ""
    edition = Edition(releases=tags, commit=history.head if history else "", bundle=bundle_file)
    writer = Writer(output, trees, spare=not releases) if store else Writer(output)
    site = Site(front, content, theme, history, edition, files, before, writer, store, offline)
    gc.freeze()  # the caches just loaded (build() unfreezes): collections need not go through them again
    indexing: Indexing | None = None
    try:
        # Each entry's page and pieces are made where it is parsed (see inputs.py).
        progress.stage("entries", len(found.entries))
        try:
            records, parsed = site.entries(front_loaded, found, cached, workers)
        except WriteError:  # two entries make one page (an alias that is an id): name the files and lines
            validate(load_content(content))
            raise
        if store is not None:  # the parsed entries are kept whether the build succeeds or not
            save = partial(_save_entries, store, registries, records, cached)
            if cached is None:  # all of them: while the rest is made
                site.outputs.task(3 * parsed, save)
            else:  # here, so that a later build in this process finds them in memory
                save()
        archive = validate(inputs.loaded(front_loaded, found, records))
        timings.step(f"load and entries ({parsed} parsed)")
        site.complete(archive, records)
        # Pagefind reads only the entries' pages: it runs while the rest is made, unless some of
        # those pages wait for the rest (their template asks `tree` for events: site.deferred).
        early = search and bool(archive.events) and not site.deferred
        if early:
            indexing = site.start_search()
        count = site.make(workers, progress)
        if search and not early:
            indexing = site.start_search()
        timings.step("render and write")
        if repo is not None:
            count += _write_releases(writer, repo, archive, theme, content, edition, output, log)
            timings.step("releases")
        if indexing is not None:
            # Search indexes the finished event pages; it has run while the rest was made.
            progress.stage("search index (Pagefind)")
            site.finish_search(indexing)
            indexing = None
            timings.step("search index")
        if bundle_file:
            # The zip holds the finished site, search index included (download/ itself stays out).
            add_to_build(writer, bundle_file, commit_date(content, edition.commit))
            timings.step("bundle")
        progress.stage("swap")
        trees = writer.commit()
    except BaseException:
        if indexing is not None:
            indexing.process.kill()
            indexing.process.wait()
        writer.abort()
        site.fragments.close()
        raise
    timings.step("swap")
    site.fragments.save(site.outputs.extra.get("postings", []))  # and closes: without a cache, removes
    site.items.save()
    if store is not None:
        store.save("layouts", site.saved_layouts())
    if store is not None and len(NAMED) != site.named:
        store.save("templates", dict(NAMED))
    if store is not None:
        done = (list(site.outputs.done), list(map(tuple, site.outputs.done.values())))  # see write.Tree
        store.save("state", (str(output.resolve()), trees, done))
    return Made(archive, count, frozenset(site.outputs.rendered), writer.written, trees if store else None)


def _done(saved: object) -> dict[str, Done]:
    """The groups of the last build, as saved (plain tuples), or none if not as `run` saves them."""
    try:
        paths, groups = cast(tuple[list[str], list[tuple[Any, ...]]], saved)
        return dict(zip(paths, map(Done._make, groups), strict=True))
    except (TypeError, ValueError):
        return {}


def _load_entries(store: Store, registries: bytes) -> dict[str, Parsed] | None:
    """The entries parsed with these registries (an entry's checks depend on them)."""
    return store.load_shards("entries") if store.load("entries-key") == registries else None


def _save_entries(
    store: Store, registries: bytes, records: dict[str, Parsed], cached: dict[str, Parsed] | None
) -> None:
    """Rewrite the shards where an entry changed, appeared or went."""
    if cached is None:
        store.save("entries-key", b"")  # not valid while the shards are replaced
        store.save_shards("entries", records)
        store.save("entries-key", registries)
        return
    changed = {label for label, record in records.items() if cached.get(label) is not record}
    store.save_shards("entries", records, changed | (cached.keys() - records.keys()))


def _front(store: Store | None, content: Path, found: Scan, files: dict[str, bytes]) -> Loaded:
    """site.yaml, the registries and the free pages, parsed, or as parsed last time from the same
    files (loading them walks all the entries too: a tenth of a second at 10,000)."""
    root = _root(content)
    templates = sorted((k, v) for k, v in found.stats.items() if k.startswith(f"{root}/templates/"))
    read = sorted((k, d) for k, d in files.items() if not k.startswith(("theme/", f"{root}/templates/")))
    key = digest(root, read, templates)
    known = store.load("front") if store is not None else None
    if isinstance(known, tuple) and len(known) == 2 and known[0] == key and isinstance(known[1], Loaded):
        return known[1]
    loaded = inputs.front(content, found)
    if store is not None:
        store.save("front", (key, loaded))
    return loaded


def _root(content: Path) -> str:
    return content.as_posix().rstrip("/")


def _digests(found: Scan) -> dict[str, bytes]:
    """Digests of every input but the entries: registries, free pages, templates, theme files."""
    others = dict(found.other) | {label: Path(path) for path, label in found.pages}
    return digests(others, found.stats)


class Site:
    """The current archive's outputs: what to keep and what to make, then made.

    First the entries (`entries`: each entry's pages and pieces, made where it is parsed, with
    what is known before all are: `tree` has no events yet), then, once the archive is complete
    (`complete`), everything else (`make`)."""

    def __init__(
        self,
        front: Archive,
        content: Path,
        theme: Path,
        history: History | None,
        edition: Edition,
        files: dict[str, bytes],
        before: dict[str, Done],
        writer: Writer,
        store: Store | None,
        with_offline: bool = True,
    ) -> None:
        self.content, self.theme, self.history, self.edition = content, theme, history, edition
        self.writer, self.store, self.files = writer, store, files
        self.site = front.site
        known = store.load("templates") if store is not None else None
        if isinstance(known, dict):  # what each template's source names (NAMED)
            NAMED.update(known)
        self.named = len(NAMED)
        self.items = Items()  # events' list items (the `piece` global), kept across builds
        self.env = environment(front, theme, content / "templates", edition, complete=False, items=self.items)
        self.templates = Templates(self.env).closure
        templates = f"{_root(content)}/templates/"  # each page depends on its own: see Templates
        content_files = sorted((k, d) for k, d in files.items() if not k.startswith(("theme/", templates)))
        self.common = digest(
            tool_key(), content_files, files.get("theme/strings.yaml"), repr(edition), history is not None
        )
        self.items.open(store, self.common, self.templates)
        self.outputs = Outputs(writer, before, Needs(front, {}, files), self.items.take)
        # An entry's pieces depend on it, the registries and the strings (labels, dates).
        context = [d for k, d in sorted(files.items()) if k.endswith(REGISTRIES) or k == "theme/strings.yaml"]
        self.fragments = Fragments(store, digest(tool_key(), context), front, writer.scratch)
        # Each entry's search document (the offline index's piece): not made for a build without it.
        self.document = offline.documents(self.env, front.site.language) if with_offline else None
        self._starts: dict[str, Any] = {}  # see _fingerprint
        self.entry_digests: dict[str, bytes] = {}  # entry file -> digest(event id, file digest), see _kept
        self.layouts: dict[str, tuple[int, list[str], list[bytes]]] = {}  # see _data, saved by `saved_layouts`
        self.deferred: list[str] = []  # entries whose page asked `tree` for events
        self.pieces_only: set[str] = set()  # entries parsed for their pieces: their pages are kept

    # --- the entries --------------------------------------------------------------------------

    def _fingerprint(self, template: str, path: str, entry: bytes) -> bytes:
        """page_fingerprint(common, template, path, (entry,)), from a hash of the first two taken
        once per template: 10,000 entries' pages are checked on every build."""
        start = self._starts.get(template)
        if start is None:
            start = self._starts[template] = page_fingerprint_start(self.common, self.templates(template))
        return page_fingerprint_end(start, path, (entry,))

    def _kept(self, label: str, record: Parsed) -> bool:
        """Keep an entry's pages if none changed; whether its record is all the build needs (if
        only its pieces are missing, it is parsed for them: `pieces_only`)."""
        event = record.event
        if event is None or event.status == "draft":
            return True
        entry = self.entry_digests[label] = digest(event.id, record.digest)
        paths = [("event.html", f"events/{event.id}/index.html")]
        paths += [("redirect.html", f"events/{alias}/index.html") for alias in event.aliases]
        if not self.outputs.keep_all(
            [(path, self._fingerprint(template, path, entry)) for template, path in paths], "render"
        ):
            return False
        if self.fragments.complete(event.id, entry, search=self.document is not None):
            return True
        self.pieces_only.add(label)  # e.g. its search document, left out by a build without search
        return False

    def _entry(self, label: str, event: Event, file_digest: bytes) -> Result:
        """An entry's pages and pieces, in the process that parsed it (the whole event is here)."""
        result = Result()
        if event.status == "draft":
            return result
        entry = digest(event.id, file_digest)
        result.extra["fragments"] = self.fragments.make(event, entry, self.document)
        if label in self.pieces_only:
            return result
        specs = entry_pages(self.env, self.site, event, self.history, self.edition)
        try:
            for spec in specs:
                self.outputs.render(spec, self._fingerprint(spec.template, spec.path, entry), result)
        except Deferred:
            return Result(extra={"fragments": result.extra["fragments"], "deferred": label})
        return result

    def entries(
        self, front: Loaded, found: Scan, cached: dict[str, Parsed] | None, workers: int
    ) -> tuple[dict[str, Parsed], int]:
        """Each entry's record; its pages kept or made, its pieces made where missing."""

        def wanted(label: str, record: Parsed) -> bool:
            return not self._kept(label, record)

        records, results, parsed = inputs.entries(front, found, cached, wanted, self._entry, workers)
        for result in results:
            self.outputs.merge(result)
        for made in self.outputs.extra.pop("fragments", []):
            self.fragments.add(made)
        self.deferred = list(self.outputs.extra.pop("deferred", []))
        return records, parsed

    # --- the rest -------------------------------------------------------------------------------

    def complete(self, archive: Archive, records: dict[str, Parsed]) -> None:
        """The archive is known: everything from here sees all its events (without narratives)."""
        self.archive = archive
        render.complete(self.env, archive)
        known = self.entry_digests  # worked out by _kept for the entries not parsed again
        entries = {e.id: known.get(e.path) or digest(e.id, records[e.path].digest) for e in archive.events}
        self.needs = Needs(archive, entries, self.files)
        self.outputs.needs = self.needs
        self.fragments.entries = self.items.entries = entries

    def make(self, workers: int, progress: Progress) -> int:
        """Render and write all but the entries' pages; returns the number of pages."""
        outputs, archive = self.outputs, self.archive
        specs = site_pages(archive, self.env, self.theme, self.history, self.edition, entries=False)
        outputs.pages_to_render(specs, self.common, self.templates)
        if self.deferred:
            full = load_content(self.content, only=set(self.deferred))
            for event in full.events:
                outputs.pages_to_render(
                    entry_pages(self.env, self.site, event, self.history, self.edition), self.common, self.templates
                )
        self._data()
        self._feeds()
        paths = sorted({s.path for s in specs} | self._entry_paths())
        make_sitemap = partial(sitemap.sitemap, archive, self.history, paths)
        self._file("sitemap.xml", ("sitemap", digest(paths)), make_sitemap)
        self._file("robots.txt", ("robots",), lambda: sitemap.robots(archive))
        self._file("_headers", ("headers",), partial(headers.headers_file, self.theme), "file:static/style.css")
        if self.document is not None:
            fingerprint = digest(self.common, "offline", self.needs("events"))
            docs = self.fragments.documents
            make_index, sent = partial(docs, archive), self.fragments.made_postings
            cost = self.fragments.index_cost(len(archive.events))
            outputs.files(offline.FOLDER, fingerprint, make_index, "offline search", cost, sent)
        for rel, source in assets(self.theme):
            theme_file = f"theme/static/{rel.removeprefix('assets/')}"
            copy = partial(_copy, rel, source)
            outputs.files(rel, digest(self.files.get(theme_file)), copy, str(source))
        outputs.run(workers, progress, "render")
        self.items.sent(outputs.extra.pop("items", []))  # the files of what workers rendered
        return len(specs) + len(self._entry_paths())

    def _entry_paths(self) -> set[str]:
        return {f"events/{i}/index.html" for e in self.archive.events for i in (e.id, *e.aliases)}

    def _file(self, rel: str, parts: tuple[object, ...], make: Callable[[], bytes], need: str = "empty") -> None:
        fingerprint = digest(self.common, rel, parts, self.needs(need))
        self.outputs.files(rel, fingerprint, partial(_one, rel, make), rel.split("/")[0], cost=self.needs.size(need))

    def _data(self) -> None:
        pieces = self.fragments
        makers: dict[str, Callable[[], Content]] = {
            **data.file_makers(self.archive, self.history, self.edition, pieces.json_lines),
            # Put together from the entries' pieces and written as they come: never held whole.
            "data/events.json": partial(data.events_json_pieces, self.archive, self.edition, pieces.json_lines),
            "data/events.csv": partial(pieces.table, "events_csv", self.archive),
            "data/tallies.csv": partial(pieces.table, "tallies_csv", self.archive),
        }
        events = timeline.in_date_order(self.archive.events)
        if events:  # else the files' own form for no events ("events": [])
            # ... or from the last build's file, where only a few entries changed (Fragments.joined).
            loaded = self.store.load("layouts") if self.store is not None else None
            last = loaded if isinstance(loaded, dict) else {}
            frames = {
                "data/events.json": ("json", data.events_json_frame(self.archive, self.edition)),
                "data/events.csv": ("events_csv", (pieces.headers["events_csv"], b"", b"")),
                "data/tallies.csv": ("tallies_csv", (pieces.headers["tallies_csv"], b"", b"")),
            }
            ids = [event.id for event in events]
            entries = [pieces.entries[event_id] for event_id in ids]
            for rel, (kind, frame) in frames.items():
                layout = last.get(rel)
                layout = layout if isinstance(layout, tuple) and len(layout) == 4 else None
                makers[rel] = partial(pieces.joined, kind, events, frame, layout, partial(self.writer.find, rel))
                self.layouts[rel] = (len(frame[0]), ids, entries)
        for rel, make in makers.items():
            name = rel.removeprefix("data/")
            if name.startswith("regions/"):
                need = f"region:{name.removeprefix('regions/').removesuffix('.json')}"
            else:
                need = "empty" if name == "deleted.json" or name.endswith(".schema.json") else "events"
            fingerprint = digest(self.common, rel, self.needs(need))
            cost = self.needs.size(need) // (10 if need == "events" else 1)  # from pieces: little work
            self.outputs.files(rel, fingerprint, partial(_one, rel, make), "data", cost)

    def _feeds(self) -> None:
        if self.edition.release is not None:
            return  # a release is frozen: feeds follow the current archive
        for rel, make in feeds.feed_makers(self.archive, self.history, self.env).items():
            parts = rel.split("/")
            need = "events" if len(parts) == 1 else f"{'region' if parts[0] == 'regions' else 'tag'}:{parts[1]}"
            if self.needs.size(need) == 0:
                need = "events"  # an empty feed is dated by the newest entry of all
            fingerprint = digest(self.common, rel, self.needs(need))
            self.outputs.files(rel, fingerprint, partial(_one, rel, make), "feeds", 50)

    def saved_layouts(self) -> dict[str, fragments.Layout]:
        """How this build made each file of pieces (its digest, prefix length, ids and entries),
        for the next build to make it from this one."""
        out = {}
        for rel, (prefix, ids, entries) in self.layouts.items():
            done = self.outputs.done.get(rel)
            if done is not None and len(done.files) == 1:
                out[rel] = (done.files[0][1], prefix, ids, entries)
        return out

    def start_search(self) -> Indexing | None:
        """Keep the Pagefind bundle if the pages it indexes are the ones it indexed; else start it."""
        produced = self.writer.produced
        pages = sorted((rel, r.digest) for rel, (r, _) in produced.items() if rel.startswith("events/"))
        import importlib.metadata  # here: 25 ms of imports (email, zipfile) no build without Pagefind needs

        self.search_fingerprint = digest(self.common, "pagefind", importlib.metadata.version("pagefind_bin"), pages)
        if self.outputs.keep("pagefind/", self.search_fingerprint, "search"):
            return None
        self.writer.clear("pagefind")
        return start_index(self.writer.staging)

    def finish_search(self, indexing: Indexing) -> None:
        finish_index(self.writer.staging, indexing)
        self.writer.adopt("pagefind", "search")
        produced = self.writer.produced.items()
        files = tuple(sorted((rel, r.digest) for rel, (r, _) in produced if rel.startswith("pagefind/")))
        self.outputs.done["pagefind/"] = Done(self.search_fingerprint, files)


def _copy(rel: str, source: Path) -> dict[str, bytes]:
    return {rel: source.read_bytes()}


def _one(rel: str, make: Callable[[], Content]) -> dict[str, Content]:
    return {rel: make()}


def _write_edition(
    writer: Writer,
    archive: Archive,
    theme: Path,
    overrides: Path,
    history: History | None,
    edition: Edition,
    prefix: str,
) -> int:
    """One complete copy of a release under `prefix` (rendered every time: releases are frozen)."""
    pages = list(render_site(archive, theme, overrides, history, edition))
    for page in pages:
        writer.write(prefix + page.path, page.content, "render")
    for rel, source in assets(theme):
        writer.copy(prefix + rel, source)
    for rel, content in data.data_files(archive, history, edition).items():
        writer.write(prefix + rel, content, "data")
    return len(pages)


def _write_releases(
    writer: Writer,
    repo: versions.Repository,
    archive: Archive,
    theme: Path,
    content: Path,
    edition: Edition,
    output: Path,
    log: Log,
) -> int:
    """versions/<tag>/ for each release, latest/, versions.json, the versions and changelog pages."""
    # A renamed entry's old id is an alias with a redirect page: old releases' banners link to it.
    current_ids = frozenset(e.id for e in archive.events) | {a for e in archive.events for a in e.aliases}

    def render(release_archive: Archive, overrides: Path, release_edition: Edition, prefix: str) -> None:
        _write_edition(writer, release_archive, theme, overrides, None, release_edition, prefix)

    built = versions.build_releases(repo, edition.releases, current_ids, writer.staging, output, theme, render, log)
    writer.adopt("versions", "releases")  # what build_releases copied or stamped itself
    built_edition = Edition(releases=tuple(b.release for b in built), commit=edition.commit)
    env = environment(archive, theme, content / "templates", built_edition)
    t = cast(Callable[..., str], env.globals["t"])
    publishers = {p.id: p.name for p in archive.publishers}
    sections = changelog.sections(
        versions.snapshots(content),
        [(b.release.tag, b.release.date, b.snapshots) for b in built],
        t,
        lambda source_id: publishers.get(source_id, source_id),
    )
    pages = Pages(env, archive.site, built_edition)
    latest = built[0].release.tag if built else ""
    for page in (
        pages.page("versions.html", "versions/index.html", t("versions_title"), releases=[b.release for b in built]),
        pages.page(
            "changelog.html",
            "changelog/index.html",
            t("changelog_title"),
            sections=sections,
            latest=latest,
            current_ids=current_ids,
        ),
    ):
        writer.write(page.path, page.content, "render")
    writer.write("changelog/changelog.atom", changelog.atom(archive.site, sections, t), "changelog")
    writer.write("versions.json", versions.versions_json(built, edition.commit), "versions")
    if built:
        for path, html in versions.latest_redirects(writer.staging, built[0].release).items():
            writer.write(path, html, "latest")
    return 2
