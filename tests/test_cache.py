"""The build cache's files (site_builder/cache.py): what a deferred store keeps in memory, and
when it writes it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from site_builder import cache


@pytest.fixture(autouse=True)
def fresh_memory() -> Iterator[None]:
    cache._MEMORY.clear()
    cache._PENDING.clear()
    yield
    cache._PENDING.clear()


def as_another_process(folder: Path, code: str) -> None:
    """Run `code` with `store`, a Store of `folder`, in a new Python process."""
    program = (
        f"from pathlib import Path\nfrom site_builder import cache\nstore = cache.Store(Path({str(folder)!r}))\n{code}"
    )
    subprocess.run([sys.executable, "-c", program], check=True)


def test_a_deferred_save_is_seen_at_once_and_written_by_flush(tmp_path: Path) -> None:
    store = cache.Store(tmp_path, deferred=True)
    store.save("state", {"a": 1})
    store.save("sealed", [1, 2], sealed=True)
    assert not store.path("state").exists()
    assert store.load("state") == {"a": 1} and store.load("sealed", sealed=True) == [1, 2]
    store.save("state", {"a": 2})  # saved again before the flush: the last value is written
    store.flush()
    assert cache._PENDING == {}
    cache._MEMORY.clear()  # as the next process finds the files
    assert store.load("state") == {"a": 2} and store.load("sealed", sealed=True) == [1, 2]


def test_flush_writes_in_the_order_of_the_last_saves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key saved, its shards, then the key again (engine._save_entries): the key is written last."""
    store = cache.Store(tmp_path, deferred=True)
    store.save("entries-key", b"")
    store.save_shards("entries", {"x": 1, "y": 2})
    store.save("entries-key", b"registries")
    written: list[str] = []
    real = cache.Store._write
    monkeypatch.setattr(cache.Store, "_write", lambda self, name, *a: written.append(name) or real(self, name, *a))
    store.flush()
    assert written[-1] == "entries-key" and len(written) == cache.SHARDS + 1


def test_a_file_another_process_wrote_since_wins(tmp_path: Path) -> None:
    store = cache.Store(tmp_path, deferred=True)
    store.save("state", "ours")
    as_another_process(tmp_path, "store.save('state', 'theirs')")
    assert store.load("state") == "theirs"  # as if theirs had been written after ours
    store.flush()
    cache._MEMORY.clear()
    assert store.load("state") == "theirs"

    store.save("state", "ours again")  # saved after theirs, read: ours is the newer
    as_another_process(tmp_path, "store.save('state', 'theirs again')")
    store.flush()  # theirs was written after our save: it stays
    cache._MEMORY.clear()
    assert store.load("state") == "theirs again"


def test_a_plain_store_writes_at_once_and_clear_forgets_what_is_pending(tmp_path: Path) -> None:
    cache.Store(tmp_path).save("state", 1)
    assert cache.Store(tmp_path).path("state").is_file()
    deferred = cache.Store(tmp_path, deferred=True)
    deferred.save("quick", 2)
    deferred.clear()
    assert deferred.load("quick") is None and deferred.load("state") is None
    deferred.flush()
    assert sorted(p.name for p in tmp_path.iterdir()) == []
