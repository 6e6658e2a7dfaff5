"""What a build reads, and the parsed entries kept from the build before.

`scan` stats every input file (content, the site's templates, the theme) without reading the
entries. `front` parses site.yaml, the registries and the free pages. `entries` then parses only
the entries whose file changed since the cache was written (by size, mtime and inode, then by
content: a file saved unchanged is not parsed again) or whose pages the build must render again,
and takes the others from the cache; `loaded` puts it all together as `load_content` would,
problems included. Entries are parsed again when site.yaml, regions.yaml or sources.yaml changed
(the caller passes no cache then), since their checks depend on them.

Many entries are parsed in several processes (parallel.py), and each process does what the
build needs of an entry's whole text right there (its page, its pieces of the data files and of
the search index): what comes back, and what the cache keeps, is the event without its narrative
(`lighten`). The narrative is most of an archive's memory (three copies: Markdown, HTML, text).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from . import parallel
from .errors import Problem
from .load import Loaded, load_content, markdown_files
from .load import _read as read_entry  # how load_content reads a file: the same problems
from .model import MEASURES, Event
from .parse import Registry, parse_entry
from .stamps import Stat, stat_of

REGISTRIES = ("site.yaml", "regions.yaml", "sources.yaml")
LIGHT = ("body", "body_html", "body_text")  # what `lighten` leaves out of an event
R = TypeVar("R")
PARALLEL_PARSE = 400  # fewer entries than this to parse: one process does it


def file_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


@dataclass
class Scan:
    """Every input file by its label (`content/events/2025/x.md`, `theme/templates/base.html`)."""

    entries: list[tuple[str, str]]  # (path, label) of each event file, in the loader's order
    pages: list[tuple[str, str]]
    other: dict[str, Path]  # registries, the site's templates, the theme's files
    stats: dict[str, Stat | None] = field(default_factory=dict)


Listing = tuple[bytes, list[tuple[str, str]], list[tuple[str, str]]]  # (key, entries, pages)


def scan(content: Path, theme: Path, stamps: Mapping[str, Stat | None], known: Any = None) -> tuple[Scan, Listing]:
    """The files the build reads, as the loader finds them; `stamps` (stamps.snapshot) has them.

    Listing 10,000 entries as the loader does takes a tenth of a second: `known` (a listing
    returned before) is used instead when the same files are there."""
    root = content.as_posix().rstrip("/")
    names = sorted(label for label in stamps if label.startswith((f"{root}/events/", f"{root}/pages/")))
    key = hashlib.blake2b("\0".join(names).encode("utf-8", "surrogatepass"), digest_size=16).digest()
    if isinstance(known, tuple) and len(known) == 3 and known[0] == key:
        entries, pages = known[1], known[2]
    else:
        ignored: list[Problem] = []  # the loader reports them
        events, pages_folder = content / "events", content / "pages"
        entries = [(str(p), label) for p, label in markdown_files(events, ignored, f"{root}/events")]
        pages = [(str(p), label) for p, label in markdown_files(pages_folder, ignored, f"{root}/pages")]
    other = {f"{root}/{name}": content / name for name in REGISTRIES}
    other.update(_tree(content / "templates", f"{root}/templates"))
    other.update(_tree(theme, "theme"))
    found = Scan(entries, pages, other)
    for path, label in [*entries, *pages, *((str(path), label) for label, path in other.items())]:
        found.stats[label] = stamps[label] if label in stamps else stat_of(path)
    return found, (key, entries, pages)


def _tree(folder: Path, label: str) -> dict[str, Path]:
    files = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        here = Path(dirpath)
        for name in sorted(filenames):
            files[f"{label}/{(here / name).relative_to(folder).as_posix()}"] = here / name
    return files


@dataclass(frozen=True)
class Parsed:
    """One entry file as the cache keeps it."""

    stat: Stat | None
    digest: bytes
    event: Event | None
    problems: tuple[Problem, ...]


def digests(files: Mapping[str, Path], stats: Mapping[str, Stat | None]) -> dict[str, bytes]:
    """Content digests of small files (registries, templates, theme); b"" for a missing one."""
    out = {}
    for label, path in files.items():
        try:
            out[label] = file_digest(path.read_bytes()) if stats.get(label) else b""
        except OSError:
            out[label] = b""
    return out


def front(content: Path, found: Scan) -> Loaded:
    """site.yaml, the registries and the free pages, parsed; the entries are left to `entries`."""
    loaded = load_content(content, only={label for _, label in found.pages})
    loaded.skipped = []
    return loaded


def lighten(event: Event) -> Event:
    """The event without its narrative: what list pages, feeds and the cache keep of it."""
    emptied: dict[str, Any] = {name: "" for name in LIGHT if getattr(event, name, "")}
    return dataclasses.replace(event, **emptied)


Work = Callable[[str, Event, bytes], R]


def entries(
    front: Loaded,
    found: Scan,
    cached: Mapping[str, Parsed] | None,
    wanted: Callable[[str, Parsed], bool],
    work: Work[R],
    workers: int,
) -> tuple[dict[str, Parsed], list[R], int]:
    """Each entry file's record, what `work(label, event, digest)` made of each entry parsed, and
    how many were parsed.

    An entry is parsed when its file changed since `cached` was made (by size, mtime and inode,
    then by content), or when `wanted(label, record)` says its cached record is not enough (a
    page of it to render again). `work` gets the whole event, in the process that parsed it;
    records keep the event without its narrative (`lighten`), so the narrative never travels."""
    cached = cached or {}
    records: dict[str, Parsed] = {}
    to_parse: list[str] = []
    for path, label in found.entries:
        stat = found.stats[label]
        old = cached.get(label)
        if old is not None and stat is not None and old.stat == stat:
            records[label] = old
        else:
            try:
                data = Path(path).read_bytes() if stat is not None else b""
            except OSError:
                data = b""
            file_hash = file_digest(data)
            if old is not None and old.digest == file_hash and stat is not None:
                records[label] = Parsed(stat, file_hash, old.event, old.problems)
            else:
                records[label] = Parsed(stat, file_hash, None, ())
                to_parse.append(label)
                continue
        if wanted(label, records[label]):
            to_parse.append(label)
    digests = {label: records[label].digest for label in to_parse}
    paths = {label: path for path, label in found.entries}
    # As load_content reads an entry: the registries are front's.
    measures = front.site.measures if front.site else MEASURES
    registry = Registry(frozenset(r.id for r in front.regions), frozenset(p.id for p in front.publishers))

    def parse(chunk: list[str]) -> Iterator[tuple[str, Event | None, tuple[Problem, ...], R | None]]:
        for label in chunk:
            problems: list[Problem] = []
            text = read_entry(Path(paths[label]), label, problems)
            event, made = None, None
            if text is not None:
                event, found_problems = parse_entry(text, label, measures, registry)
                problems += found_problems
            if event is not None:
                if not problems:  # else the build stops once every problem is listed
                    made = work(label, event, digests[label])
                event = lighten(event)
            yield label, event, tuple(problems), made

    parts = parallel.split(to_parse, workers if len(to_parse) >= PARALLEL_PARSE else 1)
    made: list[R] = []
    for label, event, problems, own in parallel.stream_chunks(parse, parts) if to_parse else ():
        before = records[label]
        # An unchanged file parsed again for its pages or pieces keeps the record it had: one
        # copy of it in memory, not two (at 100,000 entries, hundreds of MB), and none to save.
        if before.event is None or before.event != event or before.problems != problems:
            records[label] = Parsed(before.stat, before.digest, event, problems)
        if own is not None:
            made.append(own)
    return records, made, len(to_parse)


def loaded(front: Loaded, found: Scan, records: Mapping[str, Parsed]) -> Loaded:
    """`front` with the entries, as `load_content` gives it (problems by file, in the same order)."""
    merged = Loaded(root=front.root, site=front.site, regions=front.regions, publishers=front.publishers)
    merged.pages = front.pages
    merged.problems = [p for p in front.problems if p.path not in records]
    for _, label in found.entries:
        record = records[label]
        merged.problems += record.problems
        if record.event is not None:
            merged.events.append(record.event)
    return merged
