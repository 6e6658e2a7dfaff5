"""What a changed file means for the site, and a thin watcher that hands over settled batches.

`classify` is pure: it looks only at the path, never at the disk, so every rule is tested by
passing paths in. The watcher (watchdog) classifies each event, drops what the build never reads
(editors' temporary files, .git, the output and cache folders) and calls back once a burst of
events has been quiet for a moment: one save in an editor is often four or five events.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path, PurePath

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer


class Kind(Enum):
    ENTRY = "entry"
    PAGE = "page"
    REGISTRY = "registry"
    CONFIG = "site config"
    OVERRIDE = "site template"
    THEME_TEMPLATE = "theme template"
    THEME_STATIC = "theme static"
    THEME_STRINGS = "theme strings"
    IGNORED = "ignored"


@dataclass(frozen=True)
class Roots:
    """Absolute folders: what is watched, and what never counts as a change wherever it lies."""

    content: PurePath
    theme: PurePath
    ignored: tuple[PurePath, ...] = ()  # the output and cache folders


@dataclass(frozen=True)
class Change:
    kind: Kind
    path: PurePath


# Names editors and file managers write beside the file being edited (Vim, Emacs, JetBrains,
# Kate, gedit, macOS, Windows). Hidden names (a leading dot) are covered by the rule for parts.
TEMPORARY_NAMES = frozenset({"4913", "Thumbs.db", "desktop.ini"})
TEMPORARY_SUFFIXES = (
    "~",
    ".swp",
    ".swx",
    ".swo",
    ".tmp",
    ".temp",
    ".bak",
    ".orig",
    ".part",
    ".crdownload",
    ".kate-swp",
    "___jb_tmp___",
    "___jb_old___",
)


def is_temporary(name: str) -> bool:
    """An editor's swap, backup or lock file, or a file manager's metadata: never content."""
    return (
        name in TEMPORARY_NAMES
        or name.startswith((".", "~$"))
        or name.endswith(TEMPORARY_SUFFIXES)
        or (len(name) > 1 and name.startswith("#") and name.endswith("#"))
    )


def _inside(path: PurePath, root: PurePath) -> tuple[str, ...] | None:
    return path.relative_to(root).parts if path.is_relative_to(root) else None


def classify(path: PurePath, roots: Roots, *, directory: bool = False) -> Change:
    """What kind of input `path` (absolute) is; `directory` for a folder created, moved or deleted."""
    ignored = Change(Kind.IGNORED, path)
    if any(path.is_relative_to(folder) for folder in roots.ignored):
        return ignored
    for root, kind_of in ((roots.content, _content_kind), (roots.theme, _theme_kind)):
        parts = _inside(path, root)
        if parts is None:
            continue
        # Hidden folders (.git, .cache) are skipped by the loader; temporary names are not content.
        if not parts or any(p.startswith(".") for p in parts) or is_temporary(parts[-1]):
            return ignored
        return Change(kind_of(parts, directory), path)
    return ignored


def _content_kind(parts: tuple[str, ...], directory: bool) -> Kind:
    top, name = parts[0], parts[-1]
    if len(parts) == 1 and not directory:
        return {"site.yaml": Kind.CONFIG, "regions.yaml": Kind.REGISTRY, "sources.yaml": Kind.REGISTRY}.get(
            name, Kind.IGNORED
        )
    if top == "templates":
        return Kind.OVERRIDE
    if top in ("events", "pages") and (directory or name.endswith(".md")):
        return Kind.ENTRY if top == "events" else Kind.PAGE
    return Kind.IGNORED


def _theme_kind(parts: tuple[str, ...], directory: bool) -> Kind:
    if parts == ("strings.yaml",) and not directory:
        return Kind.THEME_STRINGS
    return {"templates": Kind.THEME_TEMPLATE, "static": Kind.THEME_STATIC}.get(parts[0], Kind.IGNORED)


@dataclass
class Batcher:
    """Collects changes until none has come for `quiet` seconds, or `longest` after the first one.

    Time is passed in, so tests drive it with plain numbers.
    """

    quiet: float = 0.15
    longest: float = 2.0
    pending: set[Change] = field(default_factory=set)
    first: float = 0.0
    last: float = 0.0

    def add(self, changes: Iterable[Change], now: float) -> None:
        relevant = {c for c in changes if c.kind is not Kind.IGNORED}
        if not relevant:
            return
        if not self.pending:
            self.first = now
        self.pending |= relevant
        self.last = now

    def wait(self, now: float) -> float | None:
        """Seconds until the batch is due (0 when it is), or None when nothing is pending."""
        if not self.pending:
            return None
        due = min(self.last + self.quiet, self.first + self.longest)
        return max(0.0, due - now)

    def take(self) -> frozenset[Change]:
        batch, self.pending = frozenset(self.pending), set()
        return batch


def _event_changes(event: FileSystemEvent, roots: Roots) -> list[Change]:
    if event.event_type not in ("created", "modified", "deleted", "moved"):
        return []  # opened, closed, attrib: nothing the build reads changed
    if event.is_directory and event.event_type == "modified":
        return []  # a file inside changed; its own event says which
    paths = [event.src_path, event.dest_path] if event.event_type == "moved" else [event.src_path]
    return [classify(Path(os.fsdecode(p)), roots, directory=event.is_directory) for p in paths if p]


class Watcher(FileSystemEventHandler):
    """Watches the content and theme folders; calls `on_changes` with each settled batch, on its own thread.

    The callback runs on one thread, so batches never overlap: what changes during a rebuild is
    the next batch.
    """

    def __init__(self, roots: Roots, on_changes: Callable[[frozenset[Change]], None], quiet: float = 0.15) -> None:
        self.roots = roots
        self.on_changes = on_changes
        self.batcher = Batcher(quiet=quiet)
        self.condition = threading.Condition()
        self.stopped = False
        self.observer = Observer()
        self.thread = threading.Thread(target=self._deliver, name="site-builder-watch", daemon=True)

    def start(self) -> None:
        for folder in (self.roots.content, self.roots.theme):
            if Path(folder).is_dir():
                self.observer.schedule(self, str(folder), recursive=True)
        self.observer.start()
        self.thread.start()

    def stop(self) -> None:
        with self.condition:
            self.stopped = True
            self.condition.notify_all()
        if self.observer.is_alive():
            self.observer.stop()
            self.observer.join(timeout=5)
        if self.thread.is_alive():
            self.thread.join(timeout=60)  # lets a rebuild under way finish

    def on_any_event(self, event: FileSystemEvent) -> None:
        changes = _event_changes(event, self.roots)
        with self.condition:
            self.batcher.add(changes, time.monotonic())
            self.condition.notify_all()

    def _deliver(self) -> None:
        while True:
            with self.condition:
                while not self.stopped:
                    wait = self.batcher.wait(time.monotonic())
                    if wait == 0:
                        break
                    self.condition.wait(wait)
                if self.stopped:
                    return
                batch = self.batcher.take()
            try:
                self.on_changes(batch)
            except Exception:  # a bug in one rebuild must not end watching
                traceback.print_exc()
