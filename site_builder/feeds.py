"""Atom feeds (RFC 4287): the whole archive, each region and each tag; one writer, shared with the changelog.

Feeds follow the current archive only: a release is frozen, so its feed would never change. Each
holds the FEED_SIZE entries updated last (then newest by date): a feed reader fetches the whole
file on every poll and keeps what it has seen, so a bounded feed costs readers little, and the
whole archive is in data/events.json. Every date comes from Git history or from the content,
never from the clock: an entry's `updated` is the day of its last revision, else the last day of
the event's date.
"""

from __future__ import annotations

import heapq
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import cast

from jinja2 import Environment

from . import __version__, timeline
from .model import Archive, Event, History

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
FEED_SIZE = 50
EPOCH = "1970-01-01"  # `updated` of a feed with no entry in an archive with none
# Characters XML 1.0 cannot hold at all; content is untrusted, so they are dropped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    link: str  # absolute
    updated: str  # YYYY-MM-DD
    published: str = ""
    summary: str = ""
    content: str = ""
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feed:
    id: str  # the address of the page the feed follows: permanent, like the page
    title: str
    link: str  # that page, absolute
    self_link: str  # the feed's own absolute address
    author: str
    entries: tuple[Entry, ...]
    updated: str = ""  # YYYY-MM-DD; default: the newest entry's
    subtitle: str = ""
    rights: str = ""
    language: str = ""


def _clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {key: _clean(value) for key, value in attributes.items()})
    if text is not None:
        element.text = _clean(text)
    return element


def _stamp(day: str) -> str:
    return f"{day}T00:00:00Z"


def atom(feed: Feed) -> bytes:
    """The feed as Atom XML; ElementTree escapes every text and attribute."""
    root = ET.Element("feed", {"xmlns": ATOM})
    if feed.language:
        root.set(XML_LANG, feed.language)
    _add(root, "id", feed.id)
    _add(root, "title", feed.title)
    if feed.subtitle:
        _add(root, "subtitle", feed.subtitle)
    _add(root, "link", rel="alternate", type="text/html", href=feed.link)
    _add(root, "link", rel="self", type="application/atom+xml", href=feed.self_link)
    updated = feed.updated or max((e.updated for e in feed.entries), default=EPOCH)
    _add(root, "updated", _stamp(updated))
    _add(_add(root, "author"), "name", feed.author)
    if feed.rights:
        _add(root, "rights", feed.rights)
    _add(root, "generator", "site-builder", version=__version__)
    for entry in feed.entries:
        element = _add(root, "entry")
        _add(element, "id", entry.id)
        _add(element, "title", entry.title)
        _add(element, "link", rel="alternate", type="text/html", href=entry.link)
        if entry.published:
            _add(element, "published", _stamp(entry.published))
        _add(element, "updated", _stamp(entry.updated))
        for term in entry.categories:
            _add(element, "category", term=term)
        if entry.summary:
            _add(element, "summary", entry.summary, type="text")
        if entry.content:
            _add(element, "content", entry.content, type="text")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def revision_days(event: Event, history: History | None) -> tuple[str, str]:
    """(first published, last updated) from Git, ISO days; ("", "") when there is no history."""
    revisions = history.revisions.get(event.id, ()) if history else ()
    return (revisions[0].date, revisions[-1].date) if revisions else ("", "")


def archive_feeds(archive: Archive, history: History | None, env: Environment) -> dict[str, bytes]:
    """feed.atom, regions/<id>/feed.atom and tags/<tag>/feed.atom, by path."""
    return {path: make() for path, make in feed_makers(archive, history, env).items()}


def feed_makers(archive: Archive, history: History | None, env: Environment) -> dict[str, Callable[[], bytes]]:
    """Each feed by path, made when called (the build makes only those whose events changed);
    an entry is worked out for the events a feed shows, once."""
    site = archive.site
    t = cast(Callable[..., str], env.globals["t"])
    date, headline = env.filters["date"], env.filters["headline"]
    tree = timeline.RegionTree(archive.regions, archive.events)

    def entry(event: Event) -> Entry:
        published, updated = revision_days(event, history)
        title = event.title
        if event.status in ("disputed", "retracted"):
            title = t("feed_entry_status", title=title, status=t("badge_" + event.status))
        where = ", ".join(tree.regions[r].name(site.language) for r in event.regions)
        facts = " · ".join(part for part in (date(event.date), where, headline(event)) if part)
        return Entry(
            id=site.base_url + event.url,
            title=title,
            link=site.base_url + event.url,
            updated=updated or event.date.last.isoformat(),
            published=published,
            summary=f"{facts}\n{event.summary}" if event.summary else facts,
            categories=event.tags,
        )

    days: dict[str, str] = {}

    def updated(event: Event) -> str:  # asked for each event of every feed it may be in: once
        day = days.get(event.id)
        if day is None:
            day = days[event.id] = revision_days(event, history)[1] or event.date.last.isoformat()
        return day

    entries: dict[str, Entry] = {}
    newest = max(map(updated, archive.events), default=EPOCH)

    def feed(path: str, page: str, title: str, events: Callable[[], Sequence[Event]]) -> bytes:
        shown = events()
        # Last updated first; then the newest event (date order reversed), so ties are stable.
        chosen = heapq.nlargest(FEED_SIZE, reversed(timeline.in_date_order(shown)), key=updated)  # stable
        for event in chosen:
            if event.id not in entries:
                entries[event.id] = entry(event)
        return atom(
            Feed(
                id=site.base_url + page,
                title=title,
                link=site.base_url + page,
                self_link=site.base_url + path,
                author=site.title,
                entries=tuple(entries[e.id] for e in chosen),
                updated=max(map(updated, shown), default=newest),
                subtitle=site.description if not page else "",
                rights=site.license,
                language=site.language,
            )
        )

    files: dict[str, Callable[[], bytes]] = {
        "feed.atom": partial(feed, "feed.atom", "", site.title, lambda: archive.events)
    }
    for region_id, region in tree.regions.items():
        path, page = f"regions/{region_id}/feed.atom", f"regions/{region_id}/"
        name = t("feed_title", site=site.title, page=region.name(site.language))
        files[path] = partial(feed, path, page, name, partial(tree.events, region_id))
    for tag in sorted({tag for event in archive.events for tag in event.tags}):
        path, page = f"tags/{tag}/feed.atom", f"tags/{tag}/"
        name = t("feed_title", site=site.title, page=t("tag_title", tag=tag))
        files[path] = partial(feed, path, page, name, partial(_tagged, archive.events, tag))
    return files


def _tagged(events: tuple[Event, ...], tag: str) -> list[Event]:
    return [e for e in events if tag in e.tags]
