"""The build, step by step: load, validate, history, render, releases, write, index, swap in."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from . import changelog, data, feeds, offline, sitemap, versions
from .bundle import add_to_build, bundle_name, commit_date
from .history import read_history
from .load import load_content
from .model import Archive, Edition, History
from .render import THEMES, Pages, assets, environment, render_site
from .search import index_site
from .validate import validate
from .write import Writer

Log = Callable[[str], None]


@dataclass
class Timings:
    steps: list[tuple[str, float]] = field(default_factory=list)

    def step(self, name: str, started: float) -> float:
        now = time.perf_counter()
        self.steps.append((name, now - started))
        return now


def check(content: Path) -> Archive:
    """Load and validate; raises ContentError listing every problem."""
    return validate(load_content(content))


def _write_edition(
    writer: Writer,
    archive: Archive,
    theme: Path,
    overrides: Path,
    history: History | None,
    edition: Edition,
    prefix: str,
) -> int:
    """One complete copy of the site (the current archive, or a release under `prefix`)."""
    pages = list(render_site(archive, theme, overrides, history, edition))
    for page in pages:
        writer.write(prefix + page.path, page.content, "render")
    for rel, source in assets(theme):
        writer.copy(prefix + rel, source)
    for rel, content in data.data_files(archive, history, edition).items():
        writer.write(prefix + rel, content, "data")
    if edition.release is None:  # a release is frozen: feeds and the sitemap follow the current archive
        env = environment(archive, theme, overrides, edition)
        for rel, content in feeds.archive_feeds(archive, history, env).items():
            writer.write(rel, content, "feeds")
        writer.write("sitemap.xml", sitemap.sitemap(archive, history, [p.path for p in pages]), "sitemap")
        writer.write("robots.txt", sitemap.robots(archive), "sitemap")
    if not prefix:  # search from disk, for the pages Pagefind indexes: the current archive's
        for rel, content in offline.files(archive, theme, overrides).items():
            writer.write(offline.FOLDER + rel, content, "offline search")
    return len(pages)


def build(
    content: Path,
    output: Path,
    theme: Path = THEMES / "default",
    log: Log = lambda _: None,
    *,
    releases: bool = False,
    cache_dir: Path | None = None,
    bundle: bool = False,
) -> tuple[Archive, int]:
    """Build the site into `output`; returns the archive and the number of pages written."""
    timings = Timings()
    now = time.perf_counter()
    archive = validate(load_content(content))
    now = timings.step("load and validate", now)
    history = read_history(content, cache_dir)
    now = timings.step("history", now)
    repo = versions.repository(content) if releases else None
    tags = versions.list_releases(repo, archive.site.release_tags) if repo else ()
    bundle_file = f"{bundle_name(archive.site.title, archive.site.base_url)}.zip" if bundle else ""
    edition = Edition(releases=tags, commit=history.head if history else "", bundle=bundle_file)
    writer = Writer(output)
    try:
        count = _write_edition(writer, archive, theme, content / "templates", history, edition, "")
        now = timings.step("render and write", now)
        if repo is not None:
            count += _write_releases(writer, repo, archive, theme, content, edition, output, log)
            now = timings.step("releases", now)
        # Search indexes the finished pages, so it runs after them, on the staged folder.
        index_site(writer.staging)
        now = timings.step("search index", now)
        if bundle_file:
            # The zip holds the finished site, search index included (download/ itself stays out).
            add_to_build(writer, bundle_file, commit_date(content, edition.commit))
            now = timings.step("bundle", now)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    timings.step("swap", now)
    log("  ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in timings.steps))
    return archive, count


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
