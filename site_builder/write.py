"""Write the site into a folder beside the output, then swap it in.

A failed build leaves the previous output exactly as it was; two pages aimed at one file fail
the build. Nothing is written outside the output folder and the folders beside it named after it
(`.output.build-*`).

Without a cache, every build writes a fresh folder, exchanges it with the output in one step and
deletes the previous output after the swap. With a cache (`Writer(output, trees)`), two folders
take turns: the output, and a spare beside it (`.output.build-spare`) holding the build before.
A build brings the spare up to date (writes the files that differ from what it holds, hard-links
from the output those it lacks that the output has, deletes what is no longer produced), then
exchanges the two folders in one atomic step (Linux `renameat2(RENAME_EXCHANGE)`; elsewhere
three renames). Writing 20,000 unchanged files again would cost seconds; this costs what changed.
Files are never written in place (always a new file), so a file the two folders share through a
hard link never changes under the output. Before anything reads the staging folder as the site
(Pagefind, the bundle), what this build does not produce is deleted from it (`discard`).

What a folder holds is known from the records of the build that wrote it (`Tree`: per file its
digest, size, mtime and inode; per folder its mtime), checked against the disk before they are
trusted: a file edited, replaced or removed by hand, or a build killed half-way, shows as a
changed size, mtime or inode and is written again; a folder whose mtime changed is listed, and
what no build put there is deleted. So the output never differs from what a build from scratch
writes.

A build killed half-way (SIGKILL, a power cut) can leave a fresh folder `.output.build-<hex>`
beside the output: the next build deletes it. A build holds a lock (flock) on the fresh folder it
writes, so that it is never taken for one left behind by a build that died.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, NamedTuple

MARKER = ".site-builder"  # marks a folder as a build, so only a build is ever replaced
MARKER_TEXT = b"built by site-builder; this folder is replaced on every build\n"
SPARE = "build-spare"
# What a tool that writes a folder of staging reads there (Writer.clear): Pagefind, the event pages.
READ_BY = {"pagefind": ("events",)}


PARTIAL = ".partial"  # a file being written in pieces (`put`), renamed once whole


class Span(NamedTuple):
    """Bytes of an open file to copy into a file written in pieces, as they are: [start, end)."""

    fd: int
    start: int
    end: int


class Pieced(NamedTuple):
    """A file's content in pieces (bytes, and spans of other files), with a digest that stands
    for it: the same digest only for the same bytes (the build's files made of pieces it keeps,
    named by what they are made of, not hashed byte by byte)."""

    digest: bytes
    pieces: Iterable[bytes | Span]


Content = bytes | Iterable[bytes] | Pieced


def _copy_span(span: Span, out: int, h: Any) -> None:
    """Append a span of another file to `out`: in the kernel where it can (copy_file_range),
    else read and written here; hashed into `h` unless it is None."""
    start, end = span.start, span.end
    if h is None and hasattr(os, "copy_file_range"):
        try:
            while start < end:
                copied = os.copy_file_range(span.fd, out, end - start, start)
                if copied == 0:
                    break
                start += copied
        except OSError:  # not between these files (another file system, an old kernel): by hand
            pass
    while start < end:
        data = os.pread(span.fd, min(4 << 20, end - start), start)
        if not data:
            raise OSError("a file copied from is shorter than it was")
        if h is not None:
            h.update(data)
        view = memoryview(data)
        while view:
            view = view[os.write(out, view) :]
        start += len(data)


class WriteError(Exception):
    pass


def digest(content: bytes) -> bytes:
    return hashlib.blake2b(content, digest_size=16).digest()


class FileRecord(NamedTuple):
    digest: bytes
    size: int
    mtime_ns: int
    ino: int


@dataclass
class Tree:
    """What a build left in a folder: files (relative path -> record) and folders (-> mtime)."""

    files: dict[str, FileRecord] = field(default_factory=dict)
    dirs: dict[str, int] = field(default_factory=dict)

    # Pickled as plain tuples: a named tuple pickles through a Python call each (tens of
    # thousands of records, saved after every build).
    def __getstate__(self) -> tuple[list[str], list[tuple[object, ...]], dict[str, int]]:
        return list(self.files), list(map(tuple, self.files.values())), self.dirs

    def __setstate__(self, state: tuple[list[str], list[tuple[object, ...]], dict[str, int]]) -> None:
        paths, records, self.dirs = state
        self.files = dict(zip(paths, map(FileRecord._make, records), strict=True))


@dataclass
class Trees:
    """The records of the output folder and of the spare, as the last build left them."""

    output: Tree | None = None
    spare: Tree | None = None


def _matches(record: FileRecord, st: os.stat_result) -> bool:
    return (st.st_size, st.st_mtime_ns, st.st_ino) == record[1:] and stat.S_ISREG(st.st_mode)


def verified(root: Path, tree: Tree | None) -> tuple[dict[str, FileRecord], set[str] | None]:
    """The records that still hold on disk, and the folders to list for files no build put there
    (None: list them all, nothing is known of this folder)."""
    if tree is None:
        return {}, None
    known, changed = {}, set()
    base = str(root) + "/"
    lstat = os.lstat
    for rel, record in tree.files.items():
        try:
            if _matches(record, lstat(base + rel)):
                known[rel] = record
        except OSError:
            pass
    for rel, mtime in tree.dirs.items():
        try:
            st = lstat(base + rel if rel else str(root))
        except OSError:
            continue
        if st.st_mtime_ns != mtime or not stat.S_ISDIR(st.st_mode):
            changed.add(rel)
    return known, changed


def check_rel(rel: str) -> list[str]:
    """The parts of a relative path in the output; anything else is refused."""
    parts = rel.split("/")
    if "" in parts or "." in parts or ".." in parts or "\0" in rel:
        raise WriteError(f"refusing to write outside the output folder: {rel}")
    return parts


class Writer:
    """Collects the files of one build in a folder beside the output; `commit()` swaps it in.

    `trees` (from the cache; `Trees()` when it has none) turns on the spare folder: see the module
    docstring. `produced` maps each path written or kept to its record and who made it.
    """

    def __init__(self, output: Path, trees: Trees | None = None, *, spare: bool = True) -> None:
        self.output = output.resolve()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.cached = trees is not None
        self.trees = trees or Trees()
        self.spare_path = self.output.with_name(f".{self.output.name}.{SPARE}")
        self.reused = self.cached and spare and self.spare_path.is_dir() and not self.spare_path.is_symlink()
        sweep(self.output)
        self.held: list[int] = []  # locked folders' descriptors (see `_hold`)
        if self.reused:
            self.staging = self.spare_path
            self.known, self.listed = verified(self.staging, self.trees.spare)
        else:
            self.staging = _new_folder(self.output.parent, f".{self.output.name}.build-")
            self._hold(self.staging)
            self.known, self.listed = {}, set()
        self.source: dict[str, FileRecord] = dict(self.trees.output.files) if self.trees.output else {}
        self.root = str(self.staging)
        self.produced: dict[str, tuple[FileRecord, str]] = {}
        self.folders: set[str] = {""}  # the folders of the files produced, and their parents
        self.dirs: set[str] = set()  # folders known to exist in staging
        self.written = 0  # files written or linked into staging (not those it already held)

    # --- what staging holds, or can get without rendering --------------------------------------

    def has(self, rel: str, file_digest: bytes) -> bool:
        """Whether `rel` with this digest is in staging, or can be linked from the output."""
        record = self.known.get(rel)
        if record is not None and record.digest == file_digest:
            return True
        record = self.source.get(rel)
        if record is None or record.digest != file_digest:
            return False
        try:
            ok = _matches(record, os.lstat(f"{self.output}/{rel}"))
        except OSError:
            ok = False
        if not ok:
            del self.source[rel]  # edited by hand in the output: never link it again
        return ok

    def find(self, rel: str, file_digest: bytes) -> str | None:
        """Where a file of this digest can be read (staging, else the output), or None."""
        record = self.known.get(rel)
        if record is not None and record.digest == file_digest:
            return f"{self.root}/{rel}"
        return f"{self.output}/{rel}" if self.has(rel, file_digest) else None

    def keep(self, rel: str, file_digest: bytes, origin: str) -> None:
        """Record `rel` as produced unchanged; link it from the output if staging lacks it.
        Call only after `has(rel, file_digest)` said yes."""
        record = self.known.get(rel)
        if record is None or record.digest != file_digest:
            record = self._link(rel, self.source[rel])
        self._produce(rel, record, origin)

    def _link(self, rel: str, record: FileRecord) -> FileRecord:
        target = self._prepare(rel)
        source = f"{self.output}/{rel}"
        self.written += 1
        try:
            try:
                os.link(source, target)
            except FileExistsError:
                os.unlink(target)
                os.link(source, target)
        except OSError:  # no hard links here (FAT, some network shares): copy the bytes
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)
            with open(source, "rb") as file:
                return self._write_file(target, file.read(), record.digest)
        return record

    # --- writing -------------------------------------------------------------------------------

    def write(self, rel: str, content: bytes, origin: str) -> None:
        if rel in self.produced:
            raise WriteError(f"{origin} and {self.produced[rel][1]} both write {rel}")
        record, wrote = self.put(rel, content)
        self.written += wrote
        self._produce(rel, record, origin)

    def put(self, rel: str, content: Content) -> tuple[FileRecord, bool]:
        """Write `rel` into staging unless it holds these bytes already; returns its record and
        whether it wrote. Records nothing: a worker process sends the record to `merge`.
        `content` may come in pieces (the data files of a large archive: hundreds of MB, never
        held whole): written as they come to a new file, which replaces the old one if it differs;
        as `Pieced`, with the digest that stands for them (then nothing is read if it is known)."""
        if isinstance(content, Pieced):
            record = self.known.get(rel)
            if record is not None and record.digest == content.digest:
                return record, False
            return self._put_pieces(rel, content.pieces, content.digest)
        if not isinstance(content, bytes):
            return self._put_pieces(rel, content)
        file_digest = digest(content)
        record = self.known.get(rel)
        if record is not None and record.digest == file_digest:
            return record, False
        return self._write_file(self._prepare(rel), content, file_digest), True

    def _put_pieces(
        self, rel: str, pieces: Iterable[bytes | Span], known_digest: bytes | None = None
    ) -> tuple[FileRecord, bool]:
        target = self._prepare(rel)
        temp = f"{target}.{secrets.token_hex(4)}{PARTIAL}"
        h = hashlib.blake2b(digest_size=16)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        try:
            with open(fd, "wb", buffering=0) as file:
                run: list[bytes] = []  # pieces are small (a line, a comma): hashed and written a MB at a time
                size = 0
                for piece in chain(pieces, (None,)):
                    if isinstance(piece, bytes):
                        run.append(piece)
                        size += len(piece)
                        if size < 1 << 20:
                            continue
                    if run:
                        block = b"".join(run)
                        if known_digest is None:
                            h.update(block)
                        view = memoryview(block)
                        while view:
                            view = view[file.write(view) :]
                        run, size = [], 0
                    if isinstance(piece, Span):
                        _copy_span(piece, fd, None if known_digest is not None else h)
                st = os.fstat(file.fileno())
            file_digest = known_digest if known_digest is not None else h.digest()
            record = self.known.get(rel)
            if record is not None and record.digest == file_digest:
                os.unlink(temp)
                return record, False
            if os.path.isdir(target) and not os.path.islink(target):  # a folder where a file goes now
                shutil.rmtree(target)
            os.replace(temp, target)  # a new file, never in place: the output may share the old one
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        return FileRecord(file_digest, st.st_size, st.st_mtime_ns, st.st_ino), True

    def copy(self, rel: str, source: Path) -> None:
        self.write(rel, source.read_bytes(), str(source))

    def _prepare(self, rel: str) -> str:
        """The file's path in staging, its folder made."""
        parts = check_rel(rel)
        folder = rel.rpartition("/")[0]
        if folder not in self.dirs:
            parent = folder.rpartition("/")[0]
            path = f"{self.root}/{folder}"
            try:
                if parent in self.dirs or not parent:
                    os.mkdir(path)
                else:
                    os.makedirs(path)
            except FileExistsError:
                if not os.path.isdir(path) or os.path.islink(path):  # a file where a folder goes now
                    os.unlink(path)
                    os.makedirs(path)
            self.dirs.update("/".join(parts[:n]) for n in range(len(parts)))
        return f"{self.root}/{rel}"

    def _write_file(self, target: str, content: bytes, file_digest: bytes) -> FileRecord:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        try:
            fd = os.open(target, flags, 0o666)
        except FileExistsError:  # a new file, never in place: the output may share this one
            if os.path.isdir(target) and not os.path.islink(target):
                shutil.rmtree(target)
            else:
                os.unlink(target)
            fd = os.open(target, flags, 0o666)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            st = os.fstat(fd)
        finally:
            os.close(fd)
        return FileRecord(file_digest, st.st_size, st.st_mtime_ns, st.st_ino)

    def _produce(self, rel: str, record: FileRecord, origin: str) -> None:
        if rel in self.produced:
            raise WriteError(f"{origin} and {self.produced[rel][1]} both write {rel}")
        self.produced[rel] = (record, origin)
        folder = rel.rpartition("/")[0]
        while folder not in self.folders:
            self.folders.add(folder)
            folder = folder.rpartition("/")[0]

    def merge(self, produced: Iterable[tuple[str, FileRecord, str]], written: int) -> None:
        """Files another process wrote into staging (a worker's share of the build)."""
        for rel, record, origin in produced:
            self._produce(rel, record, origin)
        self.written += written

    def adopt(self, folder: str, origin: str) -> None:
        """Record the files a tool wrote into staging/folder itself (Pagefind, releases)."""
        root = self.staging / folder
        for path in sorted(_files(root)):
            rel = f"{folder}/{path.relative_to(root).as_posix()}"
            if rel in self.produced:
                continue
            with path.open("rb") as file:
                content = file.read()
                st = os.fstat(file.fileno())
            self._produce(rel, FileRecord(digest(content), st.st_size, st.st_mtime_ns, st.st_ino), origin)
            self.written += 1

    def clear(self, folder: str) -> None:
        """Empty staging/folder before a tool writes into it (its old files would stay), and
        discard what the tool reads (READ_BY) of the files this build has not produced."""
        shutil.rmtree(self.staging / folder, ignore_errors=True)
        self.known = {rel: r for rel, r in self.known.items() if not rel.startswith(folder + "/")}
        for read in READ_BY.get(folder, ()):
            self.discard(read)

    def discard(self, folder: str = "") -> None:
        """Delete from staging/folder (all of staging: "") every file this build has not produced,
        before something reads staging as the site: the spare holds the build before last, with
        the pages of entries deleted since. Pagefind would index them, a bundle would hold them."""
        self._prune(folder)
        self.known = {rel: r for rel, r in self.known.items() if rel in self.produced or not _under(rel, folder)}

    # --- finishing -------------------------------------------------------------------------------

    def _prune(self, under: str = "") -> None:
        """Delete from staging/under (all of it: "") what this build did not produce."""
        produced, folders = self.produced, self.folders
        before = self.trees.spare if self.reused and self.trees.spare else Tree()
        for rel in before.files.keys() - produced.keys():
            if _under(rel, under):
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    (self.staging / rel).unlink()
        if self.listed is None:
            listed: Iterable[str] = _folders(self.staging / under, under) if (self.staging / under).is_dir() else ()
        else:
            listed = (folder for folder in self.listed if _under(folder, under))
        for folder in sorted(listed):
            try:
                entries = list(os.scandir(self.staging / folder))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                rel = f"{folder}/{entry.name}" if folder else entry.name
                if rel in produced or rel in folders:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                        os.unlink(entry.path)
        for folder in sorted(before.dirs.keys() - folders, key=len, reverse=True):
            if folder and _under(folder, under):
                with contextlib.suppress(FileNotFoundError, NotADirectoryError):
                    os.rmdir(self.staging / folder)

    def _tree(self) -> Tree:
        root = str(self.staging)
        dirs = {folder: os.lstat(f"{root}/{folder}" if folder else root).st_mtime_ns for folder in self.folders}
        return Tree({rel: record for rel, (record, _) in self.produced.items()}, dirs)

    def commit(self) -> Trees:
        """Swap the staged build in; returns the records of both folders for the next build."""
        if self.output.exists() and any(self.output.iterdir()) and not (self.output / MARKER).exists():
            self.abort()
            raise WriteError(f"{self.output} is not empty and was not made by site-builder; refusing to replace it")
        if MARKER not in self.produced:
            self.write(MARKER, MARKER_TEXT, "site-builder")
        if self.cached:
            self._prune()
        tree = self._tree()
        try:
            if not self.output.exists():
                os.replace(self.staging, self.output)
                return Trees(tree, None)
            # The output, about to be moved to the staging folder's name: not one left behind.
            self._hold(self.output)
            # One step, never a moment without an output: the old one then goes, or is the spare.
            exchange(self.staging, self.output)
            if not self.cached:
                shutil.rmtree(self.staging, ignore_errors=True)
                return Trees(tree, None)
            if self.staging != self.spare_path:
                if self.spare_path.exists():  # not reused (a build with releases): replaced
                    shutil.rmtree(self.spare_path)
                os.replace(self.staging, self.spare_path)
            return Trees(tree, self.trees.output)
        finally:
            self._release()

    def scratch(self) -> Path:
        """A new folder beside the output for a build's own temporary files, held like a fresh
        staging folder (a build killed half-way leaves it to the next build's `sweep`); the
        caller removes it."""
        folder = _new_folder(self.output.parent, f".{self.output.name}.build-")
        self._hold(folder)
        return folder

    def abort(self) -> None:
        """Leave the output as it was; a fresh staging folder goes, the spare stays (its records
        show what this build changed in it)."""
        if not self.reused:
            shutil.rmtree(self.staging, ignore_errors=True)
        self._release()

    def _hold(self, folder: Path) -> None:
        """Lock `folder` until the build ends, so that no other build sweeps it away meanwhile."""
        with contextlib.suppress(OSError):
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return
            self.held.append(fd)

    def _release(self) -> None:
        while self.held:
            os.close(self.held.pop())


def sweep(output: Path) -> None:
    """Delete the folders beside `output` that builds killed half-way left: a fresh staging folder
    (`.output.build-<hex>`, or the previous output it was exchanged with) that no running build
    holds, and `.output.old-*` of earlier versions. The spare is not one of them."""
    pattern = re.compile(rf"\.{re.escape(output.name)}\.(build-[0-9a-f]{{8}}|old-[0-9]+)")
    try:
        entries = list(os.scandir(output.parent))
    except OSError:
        return
    for entry in entries:
        if not pattern.fullmatch(entry.name) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            fd = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by a build still running: kept
            shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            pass
        finally:
            os.close(fd)


def _new_folder(parent: Path, prefix: str) -> Path:
    """A new folder, readable as the umask says (mkdtemp's would be the owner's only, and become
    the output: a web server running as another user could not read the site)."""
    while True:
        path = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            path.mkdir(0o777)
            return path
        except FileExistsError:
            continue


def _files(root: Path) -> Iterator[Path]:
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            yield Path(dirpath, name)


def _folders(root: Path, prefix: str = "") -> Iterator[str]:
    """Every folder under `root`, as paths relative to the staging folder (`prefix`: root's)."""
    for dirpath, _, _ in os.walk(root):
        rel = Path(dirpath).relative_to(root).as_posix()
        rel = "" if rel == "." else rel
        yield f"{prefix}/{rel}".strip("/") if prefix else rel


def _under(rel: str, folder: str) -> bool:
    """Whether `rel` is `folder` or inside it; everything is under ""."""
    return not folder or rel == folder or rel.startswith(folder + "/")


# --- the atomic exchange of two folders ------------------------------------------------------------

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _renameat2() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def exchange(a: Path, b: Path) -> None:
    """Swap two folders: atomically where the system can (Linux 3.15+, most file systems), else
    with two renames (a moment without `b`, never a mixture of the two)."""
    function = _renameat2()
    if function is not None:
        if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM):
            raise OSError(code, os.strerror(code), str(b))
    aside = b.with_name(f"{b.name}.exchange-{os.getpid()}")
    os.replace(b, aside)
    os.replace(a, b)
    os.replace(aside, a)
