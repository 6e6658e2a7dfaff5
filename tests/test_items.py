"""items.py: each event's list item, kept by the event's version, template, root and options."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from site_builder import cache
from site_builder.cache import Store
from site_builder.items import Items

OPTIONS = {"heading": "h5"}


@pytest.fixture
def made() -> list[str]:
    return []


def maker(made: list[str], text: str, keep: bool = True) -> Callable[[], tuple[str, bool]]:
    def make() -> tuple[str, bool]:
        made.append(text)
        return text, keep

    return make


def opened(folder: Path, common: bytes = b"common", entries: dict[str, bytes] | None = None) -> Items:
    items = Items()
    items.open(Store(folder), common, lambda name: name.encode())
    items.entries = entries if entries is not None else {"e": b"v1", "f": b"v1"}
    return items


def test_a_piece_is_made_once_per_template_root_and_options(tmp_path: Path, made: list[str]) -> None:
    items = opened(tmp_path)
    assert items.get("item.html", "e", "../../", OPTIONS, maker(made, "one")) == "one"
    assert items.get("item.html", "e", "../../", OPTIONS, maker(made, "again")) == "one"
    assert items.get("item.html", "e", "", OPTIONS, maker(made, "at the top")) == "at the top"
    assert items.get("item.html", "e", "../../", {"heading": "h2"}, maker(made, "h2")) == "h2"
    assert items.get("other.html", "e", "../../", OPTIONS, maker(made, "other")) == "other"
    assert made == ["one", "at the top", "h2", "other"]


def test_what_must_not_be_kept_is_made_every_time(tmp_path: Path, made: list[str]) -> None:
    items = opened(tmp_path)
    for _ in range(2):
        items.get("item.html", "e", "", OPTIONS, maker(made, "read tree", keep=False))
        items.get("item.html", "e", "", {"heading": ["not", "plain"]}, maker(made, "a list"))
        items.get("item.html", "unknown", "", OPTIONS, maker(made, "no digest"))  # e.g. a release's event
    assert made == ["read tree", "a list", "no digest"] * 2


def test_pieces_are_kept_in_the_cache_for_the_same_common_digest(tmp_path: Path, made: list[str]) -> None:
    items = opened(tmp_path)
    items.get("item.html", "e", "", OPTIONS, maker(made, "e1"))
    items.get("item.html", "f", "", OPTIONS, maker(made, "f1"))
    items.save()
    cache._MEMORY.clear()  # as a new process finds it
    later = opened(tmp_path, entries={"e": b"v2", "f": b"v1"})  # e edited
    assert later.get("item.html", "e", "", OPTIONS, maker(made, "e2")) == "e2"
    assert later.get("item.html", "f", "", OPTIONS, maker(made, "f again")) == "f1"
    later.save()
    cache._MEMORY.clear()
    assert opened(tmp_path, entries={"e": b"v2"}).get("item.html", "e", "", OPTIONS, maker(made, "e3")) == "e2"
    assert opened(tmp_path, b"site.yaml edited").get("item.html", "f", "", OPTIONS, maker(made, "f2")) == "f2"
    assert made == ["e1", "f1", "e2", "f2"]


def test_what_a_worker_made_reaches_the_cache_through_its_own_file(tmp_path: Path, made: list[str]) -> None:
    worker, parent = opened(tmp_path), opened(tmp_path)
    worker.pid = -1  # as in a forked process
    worker.get("item.html", "e", "", OPTIONS, maker(made, "from a worker"))
    first = worker.take()
    assert worker.take() is None  # nothing new
    worker.get("item.html", "f", "", OPTIONS, maker(made, "later"))
    assert worker.take() == first  # appended to the same file
    parent.sent([first, None])
    parent.get("item.html", "e", "", {"heading": "h2"}, maker(made, "in the parent"))
    parent.save()
    assert list(tmp_path.glob("build-items-*.bin")) == []
    cache._MEMORY.clear()
    later = opened(tmp_path)
    assert later.get("item.html", "e", "", OPTIONS, maker(made, "again")) == "from a worker"
    assert later.get("item.html", "f", "", OPTIONS, maker(made, "again")) == "later"
    assert later.get("item.html", "e", "", {"heading": "h2"}, maker(made, "again")) == "in the parent"
    assert made == ["from a worker", "later", "in the parent"]


def test_a_worker_file_cut_short_gives_what_it_holds_whole(tmp_path: Path, made: list[str]) -> None:
    worker, parent = opened(tmp_path), opened(tmp_path)
    worker.pid = -1
    worker.get("item.html", "e", "", OPTIONS, maker(made, "whole"))
    name = worker.take()
    worker.get("item.html", "f", "", OPTIONS, maker(made, "cut"))
    assert name is not None and worker.take() == name
    path = tmp_path / name
    path.write_bytes(path.read_bytes()[:-3])
    parent.sent([name])
    parent.save()
    cache._MEMORY.clear()
    later = opened(tmp_path)
    assert later.get("item.html", "e", "", OPTIONS, maker(made, "again")) == "whole"
    assert later.get("item.html", "f", "", OPTIONS, maker(made, "made again")) == "made again"


def test_pieces_are_read_only_from_files_sealed_with_this_users_key(tmp_path: Path, made: list[str]) -> None:
    """Pieces go into pages as HTML: a file planted in the cache folder (by content, which can
    put files there) must not give one."""
    items = opened(tmp_path)
    items.get("item.html", "e", "", OPTIONS, maker(made, "<p>ours</p>"))
    items.save()
    shard = max(tmp_path.glob("build-items-[0-9]*.pickle"), key=lambda p: p.stat().st_size)  # e's
    data = bytearray(shard.read_bytes())
    data[-20] ^= 1  # one bit of the pieces changed
    shard.write_bytes(bytes(data))
    cache._MEMORY.clear()
    assert opened(tmp_path).get("item.html", "e", "", OPTIONS, maker(made, "made again")) == "made again"


def test_without_a_private_key_folder_no_piece_is_kept(
    tmp_path: Path, made: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home-cache"))
    cache.user_key.cache_clear()
    try:
        key = cache.user_key()
        secrets = tmp_path / "home-cache/site-builder/secrets"
        assert key is not None and len(key) == 32 and oct((secrets / "cache.key").stat().st_mode & 0o777) == "0o600"
        cache.user_key.cache_clear()
        secrets.chmod(0o777)  # open to others: its key could be anyone's
        assert cache.user_key() is None
        items = opened(tmp_path / "cache")
        items.get("item.html", "e", "", OPTIONS, maker(made, "not kept"))
        items.save()
        cache._MEMORY.clear()
        assert opened(tmp_path / "cache").get("item.html", "e", "", OPTIONS, maker(made, "again")) == "again"
    finally:
        cache.user_key.cache_clear()
