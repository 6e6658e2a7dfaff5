"""The changelog: per release, the entries added, updated (with their changes) and removed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from . import feeds
from .changes import describe
from .model import Site, Snapshot

Translate = Callable[..., str]


@dataclass(frozen=True)
class Change:
    id: str
    title: str
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    tag: str  # "" for the changes since the newest release
    date: str
    added: tuple[Change, ...]
    updated: tuple[Change, ...]
    removed: tuple[Change, ...]
    first: bool = False  # the oldest release: everything in it is new


def _title(snapshot: Snapshot, fallback: str) -> str:
    title = snapshot.get("title") if snapshot else None
    return title if isinstance(title, str) else fallback


def compare(
    old: Mapping[str, Snapshot], new: Mapping[str, Snapshot], t: Translate, name: Callable[[str], str]
) -> tuple[tuple[Change, ...], tuple[Change, ...], tuple[Change, ...]]:
    """Entries added, updated and removed from `old` to `new`; a renamed entry (its old id in
    `aliases`) counts as updated, not as one added and one removed."""
    renamed: dict[str, str] = {}  # new id -> old id
    for i, snapshot in new.items():
        aliases = snapshot.get("aliases") if snapshot else None
        for alias in aliases if isinstance(aliases, list) else ():
            if alias in old and alias not in new and i not in old:
                renamed[i] = alias
    before = {renamed.get(i, i): i for i in new}  # the id each new entry had in `old`
    added = tuple(Change(i, _title(new[i], i)) for i in sorted(new) if i not in old and i not in renamed)
    removed = tuple(Change(i, _title(old[i], i)) for i in sorted(old) if i not in new and i not in before)
    updated = tuple(
        Change(i, _title(new[i], i), tuple(describe(old[was], new[i], t, name)))
        for i in sorted(new)
        if (was := renamed.get(i, i)) in old and old[was] != new[i]
    )
    return added, updated, removed


def sections(
    current: Mapping[str, Snapshot],
    releases: list[tuple[str, str, Mapping[str, Snapshot]]],  # (tag, date, snapshots), newest first
    t: Translate,
    name: Callable[[str], str],
) -> list[Section]:
    """Newest first: what changed since the newest release, then each release against the one before."""
    out = []
    if releases:
        added, updated, removed = compare(releases[0][2], current, t, name)
        if added or updated or removed:
            out.append(Section("", "", added, updated, removed))
    for i, (tag, date, snaps) in enumerate(releases):
        older = releases[i + 1][2] if i + 1 < len(releases) else {}
        added, updated, removed = compare(older, snaps, t, name)
        out.append(Section(tag, date, added, updated, removed, first=i + 1 == len(releases)))
    return out


def atom(site: Site, entries: list[Section], t: Translate) -> bytes:
    """The changelog as an Atom feed: one entry per release (deterministic: dates come from Git)."""
    url = f"{site.base_url}changelog/"
    released = []
    for s in (s for s in entries if s.tag):
        parts = [f"{t('changelog_added')}: {c.title}" for c in s.added]
        parts += [f"{t('changelog_updated')}: {c.title}" + "".join(f"; {x}" for x in c.changes) for c in s.updated]
        parts += [f"{t('changelog_removed')}: {c.title}" for c in s.removed]
        released.append(
            feeds.Entry(
                id=f"{url}#{s.tag}",
                title=s.tag,
                link=f"{site.base_url}versions/{s.tag}/",
                updated=s.date,
                content="\n".join(parts) or t("changelog_none"),
            )
        )
    feed = feeds.Feed(
        id=url,
        title=t("feed_title", site=site.title, page=t("changelog_title")),
        link=url,
        self_link=f"{url}changelog.atom",
        author=site.title,
        entries=tuple(released),
        rights=site.license,
        language=site.language,
    )
    return feeds.atom(feed)
