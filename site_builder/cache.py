"""The build cache: a few pickle files under the cache folder (`build --cache`, default .cache/).

    store = Store(Path(".cache"))
    state = store.load("state")      # None when missing, corrupt, foreign or from another version
    store.save("state", state)

Each file holds the magic line, the tool key (site-builder's version and a digest of its own
source, so a changed tool invalidates everything it wrote) and one pickle. The folder is
writable by whoever can write the project, so a file planted there must not run code: files are
unpickled by an unpickler that builds plain data and the archive's own records (model.py,
dates.py, errors.Problem; a date is read back by parsing its text), nothing else, like the
history cache. A missing, corrupt or foreign
file is ignored (the build then does the work again); one that cannot be written is skipped.
Files are replaced atomically (a temporary file, then `os.replace`).
"""

from __future__ import annotations

import dataclasses
import datetime
import gc
import hashlib
import hmac
import io
import os
import pickle
import secrets
import stat
import tempfile
import zlib
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from . import __version__, dates, errors, model

PREFIX = "build-"
SHARDS = 16  # files a large mapping is kept in (`save_shards`)
_MAGIC = b"site-builder build cache 1\n"  # change the number when what is cached changes layout
_ALLOWED: dict[tuple[str, str], Any] = {
    (record.__module__, record.__name__): record
    for module in (model, dates, errors)
    for record in vars(module).values()
    if isinstance(record, type) and dataclasses.is_dataclass(record) and record.__module__ == module.__name__
} | {("datetime", "date"): datetime.date, ("site_builder.dates", "parse_date"): dates.parse_date}  # a date by its text


@cache
def tool_key() -> str:
    """site-builder's version and a digest of its own modules: a development checkout changes code
    without changing the version, and cached output must follow the code that made it."""
    h = hashlib.blake2b(__version__.encode(), digest_size=12)
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{__version__}-{h.hexdigest()}"


def user_folder(name: str) -> str | None:
    """A folder of this user's own cache (`~/.cache/site-builder/<name>`, or under
    $XDG_CACHE_HOME), or None if it cannot be made so that only this user can write it: unlike
    the build's cache folder, which content could plant files in, what is there is trusted."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "site-builder", name)
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != _uid(st) or st.st_mode & 0o077:
        return None  # a link, someone else's, or open to others: what is in it could be anyone's
    return folder


def _uid(st: os.stat_result) -> int:
    return getattr(os, "getuid", lambda: st.st_uid)()


@cache
def user_key() -> bytes | None:
    """A secret of this user (made once, in `user_folder("secrets")`), which seals the cache
    files whose content goes into pages as it is (`Store.save(..., sealed=True)`); None if none
    can be kept."""
    folder = user_folder("secrets")
    if folder is None:
        return None
    path = os.path.join(folder, "cache.key")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(secrets.token_bytes(32))
    except FileExistsError:
        pass
    except OSError:
        return None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        with os.fdopen(fd, "rb") as file:
            st = os.fstat(file.fileno())
            key = file.read()
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_uid != _uid(st) or st.st_mode & 0o077 or len(key) != 32:
        return None
    return key


class _Unpickler(pickle.Unpickler):
    """Plain data and the archive's records only: a planted file cannot run code."""

    def __init__(self, data: io.BytesIO, allowed: dict[tuple[str, str], Any]) -> None:
        super().__init__(data)
        self.allowed = allowed

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[module, name]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the build cache") from None


# What this process last read or wrote, by file and tool, with the file's size, times and inode
# then: a build in the same process (`serve`) that finds the file unchanged takes the objects
# instead of reading them again. Callers never change what they load, or only by adding facts
# keyed by content digests, which stay true.
_MEMORY: dict[tuple[str, str], tuple[tuple[int, ...] | None, Any]] = {}

# What deferred stores saved and no file holds yet (see Store.flush): by the same key, with the
# stamp the file had when it was saved (None: no file), so that a file another process wrote
# since is seen, and wins, as a file written after ours would have.
_PENDING: dict[tuple[str, str], tuple[Store, str, bool]] = {}


def _stamp(st: os.stat_result) -> tuple[int, ...]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _stamp_of(path: Path) -> tuple[int, ...] | None:
    try:
        return _stamp(os.stat(path))
    except FileNotFoundError:
        return None


def shard(key: str) -> int:
    return zlib.crc32(key.encode("utf-8", "surrogatepass")) % SHARDS


def loads(data: bytes | memoryview, records: Iterable[type] = ()) -> Any:
    """Unpickle plain data, the archive's records and `records` (data classes: no code runs)."""
    allowed = _ALLOWED | {(r.__module__, r.__qualname__): r for r in records}
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of new objects, none in a cycle: collections would triple the time
    try:
        return _Unpickler(io.BytesIO(data), allowed).load()
    finally:
        if collecting:
            gc.enable()


def dumps(value: Any) -> bytes:
    return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)


class Store:
    """The cache files of one cache folder; `records`: the build's own data classes it may hold.

    A `deferred` store keeps what it saves in this process's memory only, until `flush()`
    writes it: a `serve` rebuild would spend a fifth of its time writing files that only a later
    process reads. Loads in this process see the saved values at once."""

    def __init__(self, folder: Path, records: Iterable[type] = (), deferred: bool = False) -> None:
        self.folder = folder
        self.records = tuple(records)
        self.deferred = deferred
        self._resolved = str(folder.resolve())  # the key of what this process holds (_MEMORY)

    def path(self, name: str) -> Path:
        return self.folder / f"{PREFIX}{name}.pickle"

    def _key(self, name: str) -> tuple[str, str]:
        return f"{self._resolved}/{self.path(name).name}", tool_key()

    def load(self, name: str, sealed: bool = False) -> Any:
        """What `save(name, ...)` stored with this tool, or None; `sealed`: only if this user's
        key sealed it (`user_key`), so that no one else's file is taken."""
        path = self.path(name)
        try:
            stamp = _stamp_of(path)
            key = self._key(name)
            kept = _MEMORY.get(key)
            if kept is not None and kept[0] == stamp:
                return kept[1]
            _PENDING.pop(key, None)  # another process wrote the file since: its version wins
            if stamp is None:
                return None
            header = _MAGIC + tool_key().encode() + b"\n"
            data = path.read_bytes()
            if not data.startswith(header):
                return None
            body = memoryview(data)[len(header) :]
            if sealed:
                secret = user_key()
                if secret is None or not hmac.compare_digest(body[:32], hmac.digest(secret, body[32:], "sha256")):
                    return None
                body = body[32:]
            value = loads(body, self.records)
        except Exception:  # missing, unreadable, corrupt, planted or from another version
            return None
        _MEMORY[key] = (stamp, value)
        return value

    def save(self, name: str, value: Any, sealed: bool = False) -> None:
        """Write atomically (or, deferred, keep for `flush`); a cache that cannot be written (or
        sealed) is no error."""
        if sealed and user_key() is None:
            return
        if self.deferred:
            try:
                stamp = _stamp_of(self.path(name))
            except OSError:
                return
            key = self._key(name)
            _MEMORY[key] = (stamp, value)
            _PENDING.pop(key, None)  # written in the order last saved, as they would have been
            _PENDING[key] = (self, name, sealed)
            return
        self._write(name, value, sealed)

    def _write(self, name: str, value: Any, sealed: bool) -> None:
        data = dumps(value)
        if sealed:
            secret = user_key()
            if secret is None:
                return
            data = hmac.digest(secret, data, "sha256") + data
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, temp = tempfile.mkstemp(prefix=f".{PREFIX}", suffix=".tmp", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as file:
                    file.write(_MAGIC + tool_key().encode() + b"\n")
                    file.write(data)
                os.replace(temp, self.path(name))
            except BaseException:
                os.unlink(temp)
                raise
            stamp = _stamp(os.stat(self.path(name)))  # after the rename, which changes ctime
        except OSError:
            return
        _MEMORY[self._key(name)] = (stamp, value)
        _PENDING.pop(self._key(name), None)  # this file holds it now

    def flush(self) -> None:
        """Write what deferred saves kept in memory for this folder, unless another process wrote
        that file since (then its version stays, and ours is forgotten)."""
        for key, (store, name, sealed) in list(_PENDING.items()):
            if store._resolved != self._resolved:
                continue
            del _PENDING[key]
            kept = _MEMORY.get(key)
            try:
                unchanged = kept is not None and _stamp_of(store.path(name)) == kept[0]
            except OSError:
                unchanged = False
            if kept is not None and unchanged:
                store._write(name, kept[1], sealed)
            else:
                _MEMORY.pop(key, None)

    def load_shards(self, name: str, sealed: bool = False) -> dict[str, Any] | None:
        """What `save_shards(name, ...)` stored, or None if a shard is missing or unreadable."""
        found: dict[str, Any] = {}
        for n in range(SHARDS):
            shard = self.load(f"{name}-{n}", sealed)
            if not isinstance(shard, dict):
                return None
            found.update(shard)
        return found

    def save_shards(
        self, name: str, values: Mapping[str, Any], changed: Iterable[str] | None = None, sealed: bool = False
    ) -> None:
        """Keep a large mapping in SHARDS files by key; rewrite only those holding a `changed`
        key (None: all): an edit rewrites a sixteenth of it."""
        dirty = set(range(SHARDS)) if changed is None else {shard(key) for key in changed}
        if not dirty:
            return
        shards: list[dict[str, Any]] = [{} for _ in range(SHARDS)]
        for key, value in values.items():
            n = shard(key)
            if n in dirty:
                shards[n][key] = value
        for n in sorted(dirty):
            self.save(f"{name}-{n}", shards[n], sealed)

    def clear(self) -> None:
        """Remove every file the build keeps here, the history's included (`build --clean`), and
        what this process holds of them."""
        from .history import CACHE_FILE  # here: history loads YAML, which most builds never need

        for held in (_PENDING, _MEMORY):
            for key in [k for k in held if k[0].startswith(f"{self._resolved}/")]:
                del held[key]

        if self.folder.is_dir():
            for pattern in (f"{PREFIX}*.pickle", f"{PREFIX}*.bin", f".{PREFIX}*.tmp", CACHE_FILE):
                for path in self.folder.glob(pattern):
                    path.unlink(missing_ok=True)
