"""Each event's pieces of the files made from all events, kept between builds.

events.json is a line per event, the two CSV tables a row (or a few) per event, and the offline
search index is made from a Document per event. Making them for 10,000 events takes seconds, and
needs each event's narrative, which only the process that parsed the entry holds (inputs.py). So
the pieces are made there, kept in the cache by the entry's digest, and the files are put together
from them: after an edit, only the changed entries' pieces are made again. A piece is made with
the same functions as the whole file (a table of one event, less its header), so the files are
the ones `data.data_files` and `offline.files` write, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import data, datacsv, offline, timeline
from .cache import Store
from .model import Archive, Event

KINDS = ("json", "events_csv", "tallies_csv", "offline")
Pieces = tuple[bytes, dict[str, Any]]  # an event's pieces by kind, made from this entry digest


class Fragments:
    def __init__(self, store: Store | None, key: bytes, front: Archive) -> None:
        """`key`: a digest of what pieces depend on besides their event (site, registries,
        strings, site-builder itself); `front`: the archive without its events."""
        self.store, self.key, self.front = store, key, front
        known = None
        if store is not None and store.load("fragments-key") == key:
            known = store.load_shards("fragments")
        self.known: dict[str, Pieces] = known or {}
        self.changed: set[str] = set() if known is not None else {"*"}
        self.entries: dict[str, bytes] = {}  # each event's digest, once the archive is complete
        self.replaced: dict[str, tuple[bytes, offline.Document]] = {}  # search pieces made again
        self.postings: tuple[bytes, list[str], list[bytes], dict[str, str]] | None = None
        empty = Archive(front.site, (), front.publishers, (), ())
        self.headers = {"events_csv": datacsv.events_csv(empty), "tallies_csv": datacsv.tallies_csv(empty)}

    def complete(self, event_id: str, entry: bytes) -> bool:
        """Whether the pieces of this version of the event are at hand."""
        found = self.known.get(event_id)
        return found is not None and found[0] == entry

    def make(self, event: Event, entry: bytes, document: Callable[[Event], offline.Document]) -> dict[str, Pieces]:
        """The pieces of an event (the whole event: narrative included), for `add`."""
        one = Archive(self.front.site, (), self.front.publishers, (event,), ())
        pieces = {
            "json": data.event_line(event, self.front.site.base_url),
            "events_csv": datacsv.events_csv(one)[len(self.headers["events_csv"]) :].decode("utf-8"),
            "tallies_csv": datacsv.tallies_csv(one)[len(self.headers["tallies_csv"]) :].decode("utf-8"),
            "offline": document(event),
        }
        return {event.id: (entry, pieces)}

    def add(self, made: dict[str, Pieces]) -> None:
        for event_id, (entry, _) in made.items():
            old = self.known.get(event_id)
            if old is not None and old[0] != entry:
                self.replaced[event_id] = (old[0], old[1]["offline"])
        self.known.update(made)
        self.changed.update(made)

    def _piece(self, kind: str, event: Event) -> Any:
        found = self.known.get(event.id)
        if found is None or found[0] != self.entries.get(event.id):
            raise KeyError(f"no {kind} piece of {event.id} made in this build")  # a bug: all are made
        return found[1][kind]

    def json_line(self, event: Event, base_url: str) -> data.Encoded:
        line: data.Encoded = self._piece("json", event)
        return line

    def table(self, kind: str, archive: Archive) -> bytes:
        """events.csv or tallies.csv, from the pieces."""
        rows = "".join(self._piece(kind, event) for event in timeline.in_date_order(archive.events))
        return self.headers[kind] + rows.encode("utf-8")

    def documents(self, archive: Archive) -> dict[str, bytes]:
        """The offline search index (newest event first), by path in the output.

        The postings of the last build are kept: when the events are the same, in the same order,
        only the changed events' words are updated (offline.update), not all two million."""
        events = list(reversed(timeline.in_date_order(archive.events)))
        ids = [event.id for event in events]
        entries = [self.entries[event_id] for event_id in ids]
        docs = [self._piece("offline", event) for event in events]
        encoded = self._postings(ids, entries, docs)
        self.postings = (self.key, ids, entries, encoded)  # for `save`, in the process that saves
        files = offline.index_files(encoded, [d.filters for d in docs], [d.shown for d in docs])
        return {offline.FOLDER + rel: content for rel, content in files.items()}

    def _postings(self, ids: list[str], entries: list[bytes], docs: list[offline.Document]) -> dict[str, str]:
        last = self.store.load("offline") if self.store is not None else None
        if isinstance(last, tuple) and len(last) == 4 and last[0] == self.key and last[1] == ids:
            encoded: dict[str, str] = dict(last[3])  # changed below: the loaded copy may be kept
            for doc, (before, now) in enumerate(zip(last[2], entries, strict=True)):
                if before == now:
                    continue
                old = self.replaced.get(ids[doc])
                if old is None or old[0] != before:
                    break  # not the version these postings hold: encode them all
                offline.update(encoded, doc, old[1], docs[doc])
            else:
                return encoded
        return offline.encode(docs)

    def index_cost(self, events: int) -> int:
        """What making the index costs, in the units of outputs.py: updating the last build's
        postings for a few changed entries is little work, encoding all of them is much."""
        few = "*" not in self.changed and len(self.replaced) < 100
        return 50 * len(self.replaced) + 500 if few else 5 * events

    def made_postings(self) -> dict[str, Any]:
        """What the job making the index sends back for `save`."""
        return {"postings": self.postings}

    def save(self, postings: list[Any]) -> None:
        """Keep the pieces of the archive's events (those of events gone are dropped), and the
        postings of the index if this build made it."""
        if self.store is None:
            return
        for made in postings:
            self.store.save("offline", made)
        gone = {k for k, (entry, _) in self.known.items() if self.entries.get(k) != entry}
        kept = {k: v for k, v in self.known.items() if k not in gone}
        everything = "*" in self.changed
        if everything:  # made under another key: no longer valid while shards are replaced
            self.store.save("fragments-key", b"")
        self.store.save_shards("fragments", kept, None if everything else self.changed | gone)
        if everything:
            self.store.save("fragments-key", self.key)
