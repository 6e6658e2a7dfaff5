"""An event's HTML in lists, rendered once per version of the event and kept between builds.

Region, tag, source and home pages list the events between them many times over: each event is
on its region's page, its ancestors', its tags' and its sources'. Rendering it afresh on each is
most of their time, and after an edit every page listing the entry renders all its other items
again. The `piece(template, event, **options)` global (render.py) renders `template` with only
`event`, the options and `root` besides the globals, so its text depends on nothing else; it is
kept here by the template's digest (with every template it pulls in), the event's entry digest,
`root` and the options, and every page asking again gets the same text.

    items = Items()                                # what `environment(..., items=)` is given
    items.open(store, common, templates.closure)   # the cache, and what every page sees
    items.entries = {event_id: entry_digest, ...}  # once the archive is complete
    items.add(made)                                # what worker processes rendered
    items.save()

Pieces are plain text keyed by digests: a cache file holds nothing else. A piece whose template
read `tree` is never kept (it shows more than its event), nor one with options that are not
plain values; an event the build has no digest for (a release's) is rendered every time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .cache import Store

Piece = tuple[bytes, str, tuple[tuple[str, Any], ...]]  # the template's digest, root, options
Held = tuple[bytes, dict[Piece, str]]  # an event's entry digest, and its pieces of that version
PLAIN = (str, int, float, bool, type(None))


class Items:
    def __init__(self) -> None:
        self.store: Store | None = None
        self.common = b""
        self.templates: Callable[[str], bytes] | None = None
        self.known: dict[str, Held] = {}  # by event id: from the cache, and added by this build
        self.made: dict[str, Held] = {}  # made in this process since `take`
        self.entries: Mapping[str, bytes] = {}
        self.used: set[bytes] = set()  # templates asked for by this build
        self.changed: set[str] = set()  # events this build made pieces of (here or in a worker)
        self.whole = True  # whether the cache must be written whole (nothing of it was taken)

    def open(self, store: Store | None, common: bytes, templates: Callable[[str], bytes]) -> None:
        """Take what the cache holds for the same `common` (what every page sees)."""
        self.store, self.common, self.templates = store, common, templates
        if store is not None and store.load("items-key") == common:
            found = store.load_shards("items")
            if found is not None:
                self.known, self.whole = found, False

    def get(
        self, template: str, event_id: str, root: str, options: Mapping[str, Any], make: Callable[[], tuple[str, bool]]
    ) -> str:
        """The piece, kept or made now; `make` says whether what it made may be kept."""
        entry = self.entries.get(event_id)
        if entry is None or self.templates is None or not all(type(v) in PLAIN for v in options.values()):
            return make()[0]
        name = self.templates(template)
        self.used.add(name)
        piece = (name, root, tuple(sorted(options.items())))
        held = self.known.get(event_id)
        if held is None or held[0] != entry:
            held = self.known[event_id] = (entry, {})
        found = held[1].get(piece)
        if found is None:
            found, keep = make()
            if keep:
                held[1][piece] = found
                self.made.setdefault(event_id, (entry, {}))[1][piece] = found
                self.changed.add(event_id)
        return found

    def take(self) -> dict[str, Held]:
        """What this process made since the last call (for the parent, from a worker's job)."""
        made, self.made = self.made, {}
        return made

    def add(self, made: Mapping[str, Held]) -> None:
        for event_id, (entry, pieces) in made.items():
            held = self.known.get(event_id)
            if held is None or held[0] != entry:
                held = self.known[event_id] = (entry, {})
            held[1].update(pieces)
            self.changed.add(event_id)

    def save(self) -> None:
        """Keep the pieces of the archive's events as they are now, if this build made any, of
        the templates it used: the cache files holding an event made again are written again."""
        if self.store is None or not self.changed:
            return
        entries, used = self.entries, self.used
        gone = {event_id for event_id, (entry, _) in self.known.items() if entries.get(event_id) != entry}
        for event_id in gone:
            del self.known[event_id]
        for event_id in self.changed - gone:
            entry, pieces = self.known[event_id]
            self.known[event_id] = (entry, {p: text for p, text in pieces.items() if p[0] in used})
        if self.whole:
            self.store.save("items-key", b"")  # not valid while the shards are replaced
            self.store.save_shards("items", self.known)
            self.store.save("items-key", self.common)
        else:
            self.store.save_shards("items", self.known, self.changed | gone)
