"""What a changed path means (pure, paths in), the batching of bursts, and the thin watcher around them."""

from __future__ import annotations

import threading
import time
from pathlib import Path, PurePosixPath

import pytest
from conftest import MINIMAL_SITE, event, write_tree
from watchdog.events import (
    DirCreatedEvent,
    DirModifiedEvent,
    FileClosedNoWriteEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
)

from site_builder.watch import Batcher, Change, Kind, Roots, Watcher, _event_changes, classify, is_temporary

SITE = PurePosixPath("/work/archive")
ROOTS = Roots(SITE / "content", SITE / "themes/default", (SITE / "output", SITE / ".cache"))


@pytest.mark.parametrize(
    ("path", "directory", "kind"),
    [
        ("content/events/2025/2025-03-07-a.md", False, Kind.ENTRY),
        ("content/events/2025", True, Kind.ENTRY),  # a folder of entries deleted or moved
        ("content/events/2025/notes.txt", False, Kind.IGNORED),
        ("content/pages/about.md", False, Kind.PAGE),
        ("content/pages/about.txt", False, Kind.IGNORED),
        ("content/regions.yaml", False, Kind.REGISTRY),
        ("content/sources.yaml", False, Kind.REGISTRY),
        ("content/site.yaml", False, Kind.CONFIG),
        ("content/templates/event.html", False, Kind.OVERRIDE),
        ("content/templates", True, Kind.OVERRIDE),
        ("content/README.md", False, Kind.IGNORED),  # the build reads no such file
        ("content/other.yaml", False, Kind.IGNORED),
        ("content", True, Kind.IGNORED),
        ("themes/default/templates/base.html", False, Kind.THEME_TEMPLATE),
        ("themes/default/static/style.css", False, Kind.THEME_STATIC),
        ("themes/default/strings.yaml", False, Kind.THEME_STRINGS),
        ("themes/default/README.md", False, Kind.IGNORED),
        ("output/events/a/index.html", False, Kind.IGNORED),
        ("output", True, Kind.IGNORED),
        (".cache/history-v1.pickle", False, Kind.IGNORED),
        ("content/.git/index", False, Kind.IGNORED),
        ("content/.git/refs/heads/main", False, Kind.IGNORED),
        ("content/events/.hidden/x.md", False, Kind.IGNORED),  # the loader skips hidden folders
        ("elsewhere/x.md", False, Kind.IGNORED),
        ("README.md", False, Kind.IGNORED),
    ],
)
def test_classify(path: str, directory: bool, kind: Kind) -> None:
    assert classify(SITE / path, ROOTS, directory=directory) == Change(kind, SITE / path)


EDITOR_FILES = [
    ".#2025-03-07-a.md",  # Emacs lock
    "#2025-03-07-a.md#",  # Emacs auto-save
    "2025-03-07-a.md~",  # Vim, Emacs backup
    ".2025-03-07-a.md.swp",  # Vim swap
    ".2025-03-07-a.md.swx",
    ".2025-03-07-a.md.swo",
    "4913",  # Vim's test of whether the folder is writable
    "2025-03-07-a.md.tmp",
    "2025-03-07-a.md___jb_tmp___",  # JetBrains safe write
    "2025-03-07-a.md.kate-swp",
    ".goutputstream-AB12CD",  # gedit
    ".DS_Store",
    "Thumbs.db",
]


@pytest.mark.parametrize("name", EDITOR_FILES)
@pytest.mark.parametrize("folder", ["content/events/2025", "content/templates", "themes/default/templates"])
def test_editor_and_system_files_are_ignored(folder: str, name: str) -> None:
    """Where every file counts (template folders), as well as among entries."""
    assert is_temporary(name)
    assert classify(SITE / folder / name, ROOTS).kind is Kind.IGNORED


@pytest.mark.parametrize("name", ["2025-03-07-a.md", "site.yaml", "event.html", "style.css", "#", "a#b.md"])
def test_ordinary_names_are_not_temporary(name: str) -> None:
    assert not is_temporary(name)


def test_output_and_cache_inside_a_watched_folder_are_ignored() -> None:
    roots = Roots(SITE / "content", SITE / "theme", (SITE / "content/templates/out", SITE / "theme/static/cache"))
    assert classify(SITE / "content/templates/out/a.html", roots).kind is Kind.IGNORED
    assert classify(SITE / "theme/static/cache/x.css", roots).kind is Kind.IGNORED
    assert classify(SITE / "content/templates/a.html", roots).kind is Kind.OVERRIDE


def _path(rel: str) -> str:
    return str(SITE / rel)


def test_watchdog_events_to_changes() -> None:
    entry = Change(Kind.ENTRY, SITE / "content/events/a.md")
    assert _event_changes(FileModifiedEvent(_path("content/events/a.md")), ROOTS) == [entry]
    # An editor's safe save: write a temporary file, then rename it over the entry.
    moved = _event_changes(FileMovedEvent(_path("content/events/.a.md.tmp"), _path("content/events/a.md")), ROOTS)
    assert [c.kind for c in moved] == [Kind.IGNORED, Kind.ENTRY]
    assert _event_changes(DirCreatedEvent(_path("content/events/2026")), ROOTS) == [
        Change(Kind.ENTRY, SITE / "content/events/2026")
    ]
    # Reading a file, or a folder's listing changing, is no change of its own.
    assert _event_changes(FileOpenedEvent(_path("content/events/a.md")), ROOTS) == []
    assert _event_changes(FileClosedNoWriteEvent(_path("content/events/a.md")), ROOTS) == []
    assert _event_changes(DirModifiedEvent(_path("content/events")), ROOTS) == []


def _change(rel: str, kind: Kind = Kind.ENTRY) -> Change:
    return Change(kind, SITE / rel)


def test_a_burst_is_one_batch_once_quiet() -> None:
    batcher = Batcher(quiet=0.15, longest=2.0)
    assert batcher.wait(0.0) is None
    batcher.add([_change("content/events/a.md")], now=10.0)
    assert batcher.wait(10.0) == pytest.approx(0.15)
    batcher.add([_change("content/events/a.md"), _change("content/site.yaml", Kind.CONFIG)], now=10.1)
    assert batcher.wait(10.2) == pytest.approx(0.05)  # quiet counts from the last event
    assert batcher.wait(10.25) == 0
    assert batcher.take() == {_change("content/events/a.md"), _change("content/site.yaml", Kind.CONFIG)}
    assert batcher.wait(10.3) is None
    assert batcher.take() == frozenset()


def test_ignored_changes_start_no_batch() -> None:
    batcher = Batcher()
    batcher.add([_change("content/events/.a.md.swp", Kind.IGNORED)], now=1.0)
    assert batcher.wait(5.0) is None
    batcher.add([_change("content/events/a.md"), _change("output/x", Kind.IGNORED)], now=2.0)
    assert batcher.take() == {_change("content/events/a.md")}


def test_a_steady_stream_is_still_delivered_after_the_longest_wait() -> None:
    batcher = Batcher(quiet=0.15, longest=1.0)
    now = 0.0
    while now < 0.95:
        batcher.add([_change(f"content/events/{now:.1f}.md")], now=now)
        assert batcher.wait(now) is not None and batcher.wait(now) > 0
        now += 0.1
    assert batcher.wait(1.0) == 0  # events never paused for 0.15 s, but a second has passed
    assert len(batcher.take()) == 10


def test_the_watcher_delivers_a_burst_once_and_ignores_editor_files(tmp_path: Path) -> None:
    """The thin layer with real file-system events: a few writes are one call; a swap file is none."""
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, "events/2025/2025-03-07-a.md": event("A")})
    theme = tmp_path / "theme"
    theme.mkdir()
    batches: list[frozenset[Change]] = []
    arrived = threading.Event()

    def on_changes(batch: frozenset[Change]) -> None:
        batches.append(batch)
        arrived.set()

    watcher = Watcher(Roots(content, theme, (tmp_path / "output",)), on_changes, quiet=0.3)
    watcher.start()
    try:
        (content / "events/2025/.2025-03-07-a.md.swp").write_text("swap")
        (content / "events/2025/4913").write_text("")
        (content / "events/2025/4913").unlink()
        (tmp_path / "output").mkdir()
        (tmp_path / "output/index.html").write_text("built")
        time.sleep(0.6)
        assert batches == []
        entry = content / "events/2025/2025-03-07-a.md"
        for title in ("B", "C", "D"):
            entry.write_text(event(title), encoding="utf-8")
        (content / "site.yaml").write_text(MINIMAL_SITE["site.yaml"], encoding="utf-8")
        assert arrived.wait(10), "no batch arrived"
        time.sleep(0.6)
    finally:
        watcher.stop()
    assert batches == [frozenset({Change(Kind.ENTRY, entry), Change(Kind.CONFIG, content / "site.yaml")})]
