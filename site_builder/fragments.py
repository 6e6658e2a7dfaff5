"""Each event's pieces of the files made from all events, kept on disk between builds.

events.json is a line per event, the two CSV tables a row (or a few) per event, and the offline
search index is made from a Document per event. Making them for 10,000 events takes seconds, and
needs each event's narrative, which only the process that parsed the entry holds (inputs.py). So
the pieces are made there, and the files are put together from them: after an edit, only the
changed entries' pieces are made again. A piece is made with the same functions as the whole file
(a table of one event, less its header), so the files are the ones `data.data_files` and
`offline.files` write, byte for byte.

The pieces are bytes on disk, never objects in memory: each process appends the pieces it makes
to a file of its own (`build-pieces-<build>-<pid>.bin` in the cache folder; without a cache, in
a scratch folder beside the output) and sends back where they are; the jobs that put a file
together read them from there. Holding them would take 160 MB at 10,000 events, in the parent
and again in each process forked from it. The index (event id -> entry digest, file, offset, lengths) is kept
in the cache with each file's size, mtime and inode, and dropped if a file is not as it was left.
Pieces are UTF-8 text (a Document as JSON): nothing in them is unpickled.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from . import data, datacsv, offline, timeline
from .cache import Store
from .model import Archive, Event
from .write import Pieced, Span

KINDS = ("json", "events_csv", "tallies_csv", "offline")
PREFIX = "build-pieces-"
Where = tuple[str, int, tuple[int, ...]]  # file name, offset, the length of each kind's piece
Made = dict[str, tuple[bytes, Where]]  # event id -> (entry digest, where its pieces are)
FileStamp = tuple[int, int, int]  # size, mtime, inode
Index = tuple[dict[str, str], list[dict[str, list[str]]], list[list[str]]]  # postings, filters, rows
Frame = tuple[bytes, bytes, bytes]  # what a file made of pieces has before, between and after them
Layout = tuple[bytes, int, list[str], list[bytes]]  # a file's digest, prefix length, event ids, entries
Finder = Callable[[bytes], "str | None"]  # where a file of this digest can be read, if anywhere
GAP, RUN = 64 * 1024, 4 * 1024 * 1024  # pieces this close are read together, in runs of this much at most


def _stamp(path: Path) -> FileStamp:
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ino)


class Fragments:
    def __init__(self, store: Store | None, key: bytes, front: Archive, scratch: Callable[[], Path]) -> None:
        """`key`: a digest of what pieces depend on besides their event (site, registries,
        strings, site-builder itself); `front`: the archive without its events; `scratch`: a new
        folder for the pieces when there is no cache folder to write (removed by `close`)."""
        self.store, self.key, self.front = store, key, front
        self.folder = self._folder(scratch)
        self.token = secrets.token_hex(4)  # this build's files: a later build never appends to them
        self.known: Made = self._load_index()
        self.loaded = bool(self.known)  # pieces of the last build: an edit makes few again
        self.entries: dict[str, bytes] = {}  # each event's digest, once the archive is complete
        self.replaced: dict[str, tuple[bytes, Where]] = {}  # old pieces of events made again
        self.made_any = False
        self.postings: tuple[Any, ...] | None = None
        self._out: tuple[int, int, str] | None = None  # (pid, fd, name) of this process's file
        self._size = 0
        self._readers: dict[str, tuple[int, int]] = {}  # by file name: (pid, descriptor)
        self._order: tuple[Sequence[Event] | None, bytes, bytes] = (None, b"", b"")  # see `joined`
        empty = Archive(front.site, (), front.publishers, (), ())
        self.headers = {"events_csv": datacsv.events_csv(empty), "tallies_csv": datacsv.tallies_csv(empty)}

    def _folder(self, scratch: Callable[[], Path]) -> Path:
        """The cache folder if it can be written, else a scratch folder."""
        if self.store is not None:
            try:
                self.store.folder.mkdir(parents=True, exist_ok=True)
                if os.access(self.store.folder, os.W_OK):
                    return self.store.folder
            except OSError:
                pass
        self.store = None
        return scratch()

    def _load_index(self) -> Made:
        if self.store is None:
            return {}
        found = self.store.load("pieces")
        if not (isinstance(found, tuple) and len(found) == 3 and found[0] == self.key):
            return {}
        _, files, index = found
        try:
            if any(_stamp(self.folder / name) != stamp for name, stamp in files.items()):
                return {}  # changed since: trust none of it
        except OSError:
            return {}
        return dict(index)

    # --- making pieces (in the process that parsed the entry) ----------------------------------

    def complete(self, event_id: str, entry: bytes, search: bool = True) -> bool:
        """Whether the pieces of this version of the event are at hand (`search`: its search
        document too, which a build without the offline index does not make)."""
        found = self.known.get(event_id)
        return found is not None and found[0] == entry and (not search or found[1][2][-1] > 0)

    def make(self, event: Event, entry: bytes, document: Callable[[Event], offline.Document] | None) -> Made:
        """Write the pieces of an event (the whole event: narrative included); where they are, for
        `add`. Without `document`, its search document is left out (an empty piece)."""
        one = Archive(self.front.site, (), self.front.publishers, (event,), ())
        doc = document(event) if document is not None else None
        pieces = (
            data.event_line(event, self.front.site.base_url).encode("utf-8"),
            datacsv.events_csv(one)[len(self.headers["events_csv"]) :],
            datacsv.tallies_csv(one)[len(self.headers["tallies_csv"]) :],
            json.dumps([doc.filters, doc.words, doc.weights, doc.shown], ensure_ascii=False).encode("utf-8")
            if doc is not None
            else b"",
        )
        name, offset = self._append(b"".join(pieces))
        return {event.id: (entry, (name, offset, tuple(len(p) for p in pieces)))}

    def _append(self, blob: bytes) -> tuple[str, int]:
        pid = os.getpid()
        if self._out is None or self._out[0] != pid:  # a forked process writes a file of its own
            name = f"{PREFIX}{self.token}-{pid}.bin"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            self._out, self._size = (pid, os.open(self.folder / name, flags, 0o644), name), 0
        _, fd, name = self._out
        offset, view = self._size, memoryview(blob)
        while view:  # unbuffered: a forked process ends with os._exit, which flushes nothing
            view = view[os.write(fd, view) :]
        self._size += len(blob)
        return name, offset

    def add(self, made: Made) -> None:
        for event_id, (entry, _) in made.items():
            old = self.known.get(event_id)
            if old is not None and old[0] != entry:
                self.replaced[event_id] = old
        self.known.update(made)
        self.made_any = self.made_any or bool(made)

    # --- reading them (in whichever process puts a file together) ------------------------------

    def _descriptor(self, name: str) -> int:
        pid = os.getpid()
        found = self._readers.get(name)
        if found is None or found[0] != pid:  # each process opens its own
            found = self._readers[name] = (pid, os.open(self.folder / name, os.O_RDONLY | getattr(os, "O_BINARY", 0)))
        return found[1]

    def _read(self, wheres: Sequence[Where], kind: int) -> Iterator[bytes]:
        """The `kind` piece at each place, in order, read in runs of pieces that follow each other
        in a file (the entries' order, mostly: by date) with one pread a run (not mmap: a mapped
        file's pages count in the process's resident memory). Only a run is held at a time."""
        spans = []
        for name, offset, lengths in wheres:
            start = offset + sum(lengths[:kind])
            spans.append((name, start, start + lengths[kind]))
        i = 0
        while i < len(spans):
            name, first, end = spans[i]
            j = i + 1
            while j < len(spans):
                other, start, stop = spans[j]
                if other != name or not 0 <= start - end < GAP or stop - first > RUN:
                    break
                end, j = stop, j + 1
            data = os.pread(self._descriptor(name), end - first, first)
            if len(data) != end - first:
                raise OSError(f"{self.folder / name}: shorter than the build left it")
            for _, start, stop in spans[i:j]:
                yield data[start - first : stop - first]
            i = j

    def _where(self, kind: str, event: Event) -> Where:
        found = self.known.get(event.id)
        if found is None or found[0] != self.entries.get(event.id):
            raise KeyError(f"no {kind} piece of {event.id} made in this build")  # a bug: all are made
        return found[1]

    def _pieces(self, kind: str, events: Iterable[Event]) -> Iterator[bytes]:
        return self._read([self._where(kind, event) for event in events], KINDS.index(kind))

    def _documents(self, wheres: list[Where]) -> list[offline.Document]:
        return [offline.Document(*json.loads(piece)) for piece in self._read(wheres, KINDS.index("offline"))]

    def json_lines(self, events: Sequence[Event], base_url: str) -> Iterator[bytes]:
        return self._pieces("json", events)

    def table(self, kind: str, archive: Archive) -> Iterator[bytes]:
        """events.csv or tallies.csv, from the pieces, as they are read (Writer.put writes them
        as they come: the tables of a large archive are tens of MB)."""
        yield self.headers[kind]
        yield from self._pieces(kind, timeline.in_date_order(archive.events))

    def joined(self, kind: str, events: Sequence[Event], frame: Frame, last: Layout | None, at: Finder) -> Pieced:
        """prefix + sep.join(each event's `kind` piece) + suffix, in pieces for Writer.put, with a
        digest of what it is made of (the pieces' own key, kind, entries and frame).

        When the last build made this file of the same events in the same order (`last`), and
        it is at hand (`at(digest)`: its path, or None), it is made from that file: each run of
        unchanged pieces is copied as it lies there (in the kernel, not a Python step per event),
        and only the changed events' pieces are read from the pieces. Else from the pieces, one
        by one. The bytes are the same either way."""
        if self._order[0] is not events:  # the three files of a build list the same events
            ids = "\0".join(event.id for event in events).encode("utf-8", "surrogatepass")
            self._order = (events, ids, b"".join(self.entries[event.id] for event in events))
        _, ids, entries = self._order
        h = hashlib.blake2b(b"pieced 1", digest_size=16)
        for part in (self.key, kind.encode(), *frame, ids, entries):
            h.update(len(part).to_bytes(8, "little") + part)
        return Pieced(h.digest(), self._joined(kind, events, frame, last, at))

    def _joined(
        self, kind: str, events: Sequence[Event], frame: Frame, last: Layout | None, at: Finder
    ) -> Iterator[bytes | Span]:
        plan = self._splice(kind, events, frame, last, at)
        if plan is None:
            prefix, sep, suffix = frame
            yield prefix
            for n, piece in enumerate(self._pieces(kind, events)):
                yield sep + piece if n else piece
            yield suffix
            return
        fd, spans = plan
        try:
            for span in spans:
                yield span if isinstance(span, bytes) else Span(fd, *span)
        finally:
            os.close(fd)

    def _splice(
        self, kind: str, events: Sequence[Event], frame: Frame, last: Layout | None, at: Finder
    ) -> tuple[int, list[bytes | tuple[int, int]]] | None:
        """What `joined` reads, in order (bytes to write, or a span of the last build's file),
        with that file open; None if the file cannot be made from it."""
        if last is None or not events or len(last[2]) != len(events):
            return None
        digest, prefix_length, ids, entries = last
        if [event.id for event in events] != ids:
            return None  # not the same events, or not in the same order
        prefix, sep, suffix = frame
        index, gap = KINDS.index(kind), len(sep)
        now = [self.entries[event_id] for event_id in ids]
        changed = [n for n, (before, entry) in enumerate(zip(entries, now, strict=True)) if before != entry]
        try:  # the length of each piece that file holds: the same as now but where an entry changed
            lengths = [self.known[event_id][1][2][index] for event_id in ids]
        except KeyError:
            return None
        for n in changed:
            old = self.replaced.get(ids[n])
            if old is None or old[0] != entries[n]:
                return None  # the piece that file holds is not known: its length neither
            lengths[n] = old[1][2][index]
        path = at(digest)
        if path is None:
            return None
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError:
            return None
        if os.fstat(fd).st_size != prefix_length + sum(lengths) + gap * (len(ids) - 1) + len(suffix):
            os.close(fd)
            return None
        fresh = self._read([self._where(kind, events[n]) for n in changed], index)
        spans: list[bytes | tuple[int, int]] = [prefix]
        # In the last build's file, piece n (but the first) follows a separator: it and its
        # separator start at prefix + the n pieces before + n - 1 separators.
        kept, before, done = prefix_length, 0, 0  # where the run of kept pieces starts; the length of pieces 0..done-1
        for n, piece in zip(changed, fresh, strict=True):
            before += sum(lengths[done:n])
            start = prefix_length + before + gap * max(n - 1, 0)
            if kept < start:
                spans.append((kept, start))
            spans.append(sep + piece if n else piece)
            before += lengths[n]
            kept, done = prefix_length + before + gap * n, n + 1
        end = prefix_length + before + sum(lengths[done:]) + gap * (len(ids) - 1)
        if kept < end:
            spans.append((kept, end))
        spans.append(suffix)
        return fd, spans

    def documents(self, archive: Archive) -> dict[str, bytes]:
        """The offline search index (newest event first), by path in the output.

        What the last build's index was made of is kept (each word's postings, each event's
        filter values and row): when the events are the same, in the same order, only the
        changed events' documents are read, and their words updated (offline.update), not all
        two million."""
        events = list(reversed(timeline.in_date_order(archive.events)))
        ids = [event.id for event in events]
        entries = [self.entries[event_id] for event_id in ids]
        wheres = [self._where("offline", event) for event in events]
        made = self._updated(ids, entries, wheres)
        if made is None:  # each document read, counted and dropped: their words are most of the index's memory
            filters: list[dict[str, list[str]]] = []
            shown: list[list[str]] = []

            def documents() -> Iterator[offline.Document]:
                for piece in self._read(wheres, KINDS.index("offline")):
                    document = offline.Document(*json.loads(piece))
                    filters.append(document.filters)
                    shown.append(document.shown)
                    yield document

            made = (offline.encode(documents()), filters, shown)
        encoded, filters, shown = made
        self.postings = (self.key, ids, entries, encoded, filters, shown)  # for `save`, in the process that saves
        files = offline.index_files(encoded, filters, shown)
        return {offline.FOLDER + rel: content for rel, content in files.items()}

    def _updated(self, ids: list[str], entries: list[bytes], wheres: list[Where]) -> Index | None:
        """The last build's index with the changed events' documents in it, or None."""
        last = self.store.load("offline") if self.store is not None else None
        if not (isinstance(last, tuple) and len(last) == 6 and last[0] == self.key and last[1] == ids):
            return None
        changed = [doc for doc, (before, now) in enumerate(zip(last[2], entries, strict=True)) if before != now]
        old = [self.replaced.get(ids[doc]) for doc in changed]
        if any(o is None or o[0] != last[2][doc] or not o[1][2][-1] for o, doc in zip(old, changed, strict=True)):
            return None  # not the versions this index holds, or made without their documents
        olds = self._documents([o[1] for o in old if o is not None])
        news = self._documents([wheres[doc] for doc in changed])
        # Changed below: the loaded copies may be kept (a later build in this process finds them).
        encoded, filters, shown = dict(last[3]), list(last[4]), list(last[5])
        for doc, before, now in zip(changed, olds, news, strict=True):
            offline.update(encoded, doc, before, now)
            filters[doc], shown[doc] = now.filters, now.shown
        return encoded, filters, shown

    def index_cost(self, events: int) -> int:
        """What making the index costs, in the units of outputs.py: updating the last build's
        postings for a few changed entries is little work, encoding all of them is much."""
        few = self.loaded and len(self.replaced) < 100
        return 50 * len(self.replaced) + 500 if few else 5 * events

    def made_postings(self) -> dict[str, Any]:
        """What the job making the index sends back for `save`."""
        return {"postings": self.postings}

    # --- keeping them --------------------------------------------------------------------------

    def save(self, postings: list[Any]) -> None:
        """Keep the index of the archive's events' pieces (those of events gone are dropped), the
        postings of the offline index if this build made them, and no file no piece is in."""
        if self.store is None:
            self.close()
            return
        for made in postings:
            self.store.save("offline", made)
        kept = {k: v for k, v in self.known.items() if self.entries.get(k) == v[0]}
        kept = self._compact(kept)
        self.close()
        live = {where[0] for _, where in kept.values()}
        try:
            files = {name: _stamp(self.folder / name) for name in live}
        except OSError:
            return
        if self.made_any or kept != self.known:
            self.store.save("pieces", (self.key, files, kept))
        for path in self.folder.glob(f"{PREFIX}*.bin"):
            if path.name not in live:
                path.unlink(missing_ok=True)

    def _compact(self, kept: Made) -> Made:
        """Copy the live pieces of small or mostly dead files into one: every edit writes a file
        of its own, and an edited entry leaves its old pieces where they were."""
        live: dict[str, int] = {}
        for _, (name, _, lengths) in kept.values():
            live[name] = live.get(name, 0) + sum(lengths)
        sizes = {name: os.stat(self.folder / name).st_size for name in live}
        total = sum(sizes.values())
        small = {name for name in live if sizes[name] < total / 8 or 2 * live[name] < sizes[name]}
        if len(small) < 4 and sum(sizes[n] - live[n] for n in small) < total / 4:
            return kept
        self.token = secrets.token_hex(4)  # the copies go to a new file
        self._out = None
        out = dict(kept)
        for event_id, (entry, where) in sorted(kept.items(), key=lambda item: item[1][1][:2]):
            if where[0] in small:
                blob = b"".join(next(self._read([where], kind)) for kind in range(len(KINDS)))
                name, offset = self._append(blob)
                out[event_id] = (entry, (name, offset, where[2]))
        return out

    def close(self) -> None:
        """Close this process's files; without a cache, remove the folder."""
        for pid, fd in self._readers.values():
            if pid == os.getpid():
                os.close(fd)
        self._readers.clear()
        if self._out is not None and self._out[0] == os.getpid():
            os.close(self._out[1])
        self._out = None
        if self.store is None:
            shutil.rmtree(self.folder, ignore_errors=True)
