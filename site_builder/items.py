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
    items.sent(items.take())                       # after each job: in a worker, to its file
    items.save()                                   # in the parent, at the end

Pieces are plain text keyed by digests: a cache file holds nothing else. As they go into pages as
they are (HTML), the files are sealed with this user's key (cache.user_key), with which content
cannot plant one: a piece from anyone else's file would be HTML of their choosing. A piece whose
template read `tree` is never kept (it shows more than its event), nor one with options that are
not plain values; an event the build has no digest for (a release's) is rendered every time.
A worker process appends what it made to a file of its own in the cache folder, which the
parent reads once the workers are gone: the pieces never travel back with the jobs' results,
and neither process holds the other's while both run (13 MB of text at 10,000 entries).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from .cache import Store, dumps, loads

Piece = tuple[bytes, str, tuple[tuple[str, Any], ...]]  # the template's digest, root, options
Held = tuple[bytes, dict[Piece, str]]  # an event's entry digest, and its pieces of that version
PLAIN = (str, int, float, bool, type(None))
PREFIX = "build-items-"  # workers' files: build-items-<build>-<pid>.bin


class Items:
    def __init__(self) -> None:
        self.store: Store | None = None
        self.common = b""
        self.templates: Callable[[str], bytes] | None = None
        self.known: dict[str, Held] = {}  # by event id: from the cache, and made by this process
        self.made: dict[str, Held] = {}  # made in a worker since `take`
        self.entries: Mapping[str, bytes] = {}
        self.used: set[bytes] = set()  # templates asked for by this build
        self.changed: set[str] = set()  # events this process made pieces of
        self.files: set[str] = set()  # the workers' files (`sent`)
        self.whole = True  # whether the cache must be written whole (nothing of it was taken)
        self.pending = False  # whether the cache is still to be read (`open`)
        self.pid = os.getpid()
        self.token = secrets.token_hex(4)
        self._pieces: dict[Piece, Piece] = {}  # one tuple per kind of piece, shared by every event
        self._kinds: dict[tuple[Any, ...], Piece] = {}  # (template, root, *options) -> its kind

    def open(self, store: Store | None, common: bytes, templates: Callable[[str], bytes]) -> None:
        """Take what the cache holds for the same `common` (what every page sees), once a piece
        is first asked for: not before the entries are parsed, in processes that fork from this
        one, each of which would count what it holds again."""
        self.store, self.common, self.templates = store, common, templates
        self.pending = store is not None

    def _load(self) -> None:
        self.pending = False
        if self.store is not None and self.store.load("items-key") == self.common:
            found = self.store.load_shards("items", sealed=True)
            if found is not None:
                self.known, self.whole = found, False

    def get(
        self, template: str, event_id: str, root: str, options: Mapping[str, Any], make: Callable[[], tuple[str, bool]]
    ) -> str:
        """The piece, kept or made now; `make` says whether what it made may be kept."""
        entry = self.entries.get(event_id)
        if entry is None or self.templates is None:
            return make()[0]
        if self.pending:
            self._load()
        try:  # the kind of piece, worked out once per template, root and options
            piece = self._kinds.get((template, root, *options.items()))
        except TypeError:  # an option that is not a plain value: never kept
            return make()[0]
        if piece is None:
            if not all(type(v) in PLAIN for v in options.values()):
                return make()[0]
            piece = (self.templates(template), root, tuple(sorted(options.items())))
            piece = self._kinds[(template, root, *options.items())] = self._pieces.setdefault(piece, piece)
            self.used.add(piece[0])
        held = self.known.get(event_id)
        if held is None or held[0] != entry:
            held = self.known[event_id] = (entry, {})
        found = held[1].get(piece)
        if found is None:
            found, keep = make()
            if keep:
                held[1][piece] = found
                self.changed.add(event_id)
                if os.getpid() != self.pid and self.store is not None:  # a worker: for `take`
                    self.made.setdefault(event_id, (entry, {}))[1][piece] = found
        return found

    def take(self) -> str | None:
        """In a worker, what it made since the last call, appended to its own file in the cache
        folder; the file's name, for the parent (`sent`)."""
        if not self.made or self.store is None:
            return None
        blob, self.made = dumps(self.made), {}
        name = f"{PREFIX}{self.token}-{os.getpid()}.bin"
        try:
            with open(self.store.folder / name, "ab") as file:
                file.write(len(blob).to_bytes(8, "little") + blob)
        except OSError:
            return None  # not kept: the next build makes them again
        return name

    def sent(self, names: list[str | None]) -> None:
        """The files the workers' jobs wrote (`take`), read by `save`."""
        self.files.update(name for name in names if name)

    def _read(self) -> None:
        """Merge what the workers made (each file a run of length-prefixed pickles)."""
        assert self.store is not None
        for name in sorted(self.files):
            try:
                data = (self.store.folder / name).read_bytes()
            except OSError:
                continue
            at = 0
            while at + 8 <= len(data):
                size = int.from_bytes(data[at : at + 8], "little")
                try:
                    made = loads(data[at + 8 : at + 8 + size])
                except Exception:  # cut short or corrupt: the rest is made again next time
                    break
                at += 8 + size
                for event_id, (entry, pieces) in made.items():
                    held = self.known.get(event_id)
                    if held is None or held[0] != entry:
                        held = self.known[event_id] = (entry, {})
                    held[1].update(pieces)
                    self.changed.add(event_id)
                    self.used.update(piece[0] for piece in pieces)

    def save(self) -> None:
        """Keep the pieces of the archive's events as they are now, if this build made any, of
        the templates it used: the cache files holding an event made again are written again.
        The workers' files are removed (and any a failed build left)."""
        if self.store is None:
            return
        if self.pending and self.files:  # workers made pieces, this process none: merged with the cache
            self._load()
        self._read()
        for path in self.store.folder.glob(f"{PREFIX}*.bin"):
            path.unlink(missing_ok=True)
        if not self.changed:
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
            self.store.save_shards("items", self.known, sealed=True)
            self.store.save("items-key", self.common)
        else:
            self.store.save_shards("items", self.known, self.changed | gone, sealed=True)
