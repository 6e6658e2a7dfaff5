"""Entry histories from Git: when each event was first published, every revision, and removals.

    history = read_history(Path("content"), cache_dir=Path(".cache"))

`read_history` returns None when `content` is not inside a Git work tree, when `git` is missing
or when the repository has no commit yet: the site then builds without history. Otherwise it
returns a `model.History` of the *committed* state, up to HEAD: uncommitted and unstaged edits in
the work tree are in no revision (build from a clean checkout to publish).

What counts. Files under `<content>/events/` ending in `.md`, in folders not starting with `.` (as
the loader reads them). An event's id is the stem of its file name at HEAD. Its revisions are the
commits that changed its file, oldest first, following renames and moves (Git's rename detection,
`-M`) back through its earlier paths; a revision's date is its commit's committer date, in UTC.
An id that was deleted and later added again, or that a file at HEAD lists in its `aliases`, keeps
the earlier file's revisions too, in commit order (a deletion and an addition in the same commit
become one revision). Files deleted by HEAD and taken over by no file at HEAD are listed in
`History.removed`.

Which commits. The first-parent history of HEAD (`git log --first-parent`, a merge commit diffed
against its first parent): the sequence of states the published branch went through, so that
each revision's `after` is the next one's `before`. A change made on a side branch appears as
the merge commit that brought it in, with the merge's subject ("Merge pull request #12 ...");
archives merged with "squash" or "rebase" keep one commit per change. (`--no-merges` would instead
list side-branch commits in an order that is not a history of the file, and miss changes made in
merge commits.) A shallow clone has only the history it fetched: its oldest commit seems to add
every file, so check out with `fetch-depth: 0` in CI; a partial ("blobless") clone would fetch
every old version of every file from its remote, one at a time. A rename is recognised when Git's rename
detection pairs the two paths (similar enough content; exact renames always). A file rewritten in
the commit that moved it appears as a deletion and an addition, which only `aliases` (or the same
id) joins up again.

Snapshots. `Revision.before`/`after` and `Removal.last` are the front matter as plain data
(site_builder.frontmatter: every scalar a string, as PyYAML's BaseLoader reads it). None when there
was no file on that side, it was not a regular file, or its front matter is missing or not a
mapping. Snapshots are shared between revisions: treat them as read-only.

How, and how fast. One `git log --raw -z` over the first-parent history, limited to the events
folder with `--relative` (a pathspec would cost Git a second tree diff per commit); the blob ids
it names go, as they arrive, to one `git cat-file --batch`, whose output is parsed while the log is
still being written. Each distinct blob is parsed once, by pieces (see frontmatter.py).

Cache. With `cache_dir`, the result is kept in `cache_dir/history-v1.pickle`: the History, then
what extending it takes. If HEAD has not moved, only the History is read. If the cached head is on
HEAD's first-parent chain, only the new commits are read (`git log <cached>..HEAD`). Otherwise
(rewritten history, HEAD moved back, another repository or content folder) everything is read
again. The file is written atomically (a temporary file, then `os.replace`); an unreadable,
corrupt or foreign file is ignored and replaced, and one that cannot be written is skipped. It
holds plain data and is unpickled by an unpickler that builds no class but `Removal`, so a file
planted there cannot run code. Keep `cache_dir` out of Git (e.g. in `.gitignore`).

The collector is paused while reading (a million small objects, none in a cycle).
"""

from __future__ import annotations

import contextlib
import gc
import io
import operator
import os
import pickle
import re
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from .frontmatter import _Parser
from .model import History, Removal, Revision, Snapshot

CACHE_FILE = "history-v1.pickle"
_MAGIC = b"site-builder history cache 1\n"  # change the number when what is cached changes
# A change to one entry file in one commit: (kind, old path, new path, old blob, new blob), kind one
# of "A" (added), "M" (modified), "D" (deleted), "R" (renamed or moved). Paths are relative to the
# events folder; a blob is None where there is no regular file on that side.
Change = tuple[str, str | None, str | None, str | None, str | None]
# One commit of the first-parent history: (id, date YYYY-MM-DD, subject, changes).
Commit = tuple[str, str, str, list[Change]]


def read_history(content: Path, cache_dir: Path | None = None) -> History | None:
    """The history of the event files under `content/events/`, or None without Git history.

    With `cache_dir`, the result is cached there and a later call reads only new commits.
    """
    located = _locate(content)
    if located is None:
        return None
    root, events, head = located
    collecting = gc.isenabled()
    gc.disable()  # a million small objects and no cycles: the collector would only slow this down
    try:
        return _history(root, events, head, cache_dir)
    finally:
        if collecting:
            gc.enable()


def _history(root: str, events: str, head: str, cache_dir: Path | None) -> History:
    cache = cache_dir / CACHE_FILE if cache_dir is not None else None
    state = None
    if cache is not None:
        cached = _load_cache(cache, root, events, head)
        if isinstance(cached, History):
            return cached
        state = cached
    if state is not None and _extends(root, state.head, head):
        known = {lineage.blob: lineage.revisions[-1].after for lineage in state.live.values() if lineage.blob}
        commits, snapshots = _read(root, events, f"{state.head}..{head}", known)
    else:
        state = _State(root, events)
        commits, snapshots = _read(root, events, head, {})
    state.apply(commits, snapshots)
    state.head = head
    state.history = state.finish()
    if cache is not None:
        _save_cache(cache, state)
    return state.history


# --- Git ---------------------------------------------------------------------------------------


def _git(cwd: str | Path, *args: str) -> str | None:
    """Stdout of a short git command, or None when git is missing or the command fails."""
    try:
        done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, check=False)
    except OSError:
        return None
    return done.stdout.decode("utf-8", "surrogateescape") if done.returncode == 0 else None


def _locate(content: Path) -> tuple[str, str, str] | None:
    """(repository root, events folder relative to it ending in '/', HEAD commit), or None."""
    out = _git(content, "rev-parse", "--show-toplevel", "--show-prefix", "HEAD")
    if out is None:
        return None  # not in a work tree, git missing, or no commit yet
    lines = out.split("\n")
    if len(lines) < 3 or not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", lines[2]):
        return None
    return lines[0], f"{lines[1]}events/", lines[2]


def _extends(root: str, old: str, head: str) -> bool:
    """Whether `old` is on HEAD's first-parent chain, so that old..HEAD continues its history."""
    out = _git(root, "rev-list", "--first-parent", "--parents", f"{old}..{head}", "--")
    if not out:
        return False  # an unknown commit (rewritten history), or HEAD moved back
    oldest = out.rstrip("\n").rsplit("\n", 1)[-1].split(" ")
    return len(oldest) > 1 and oldest[1] == old


def _read(root: str, events: str, revisions: str, known: dict[str, Snapshot]) -> tuple[list[Commit], dict[Any, Any]]:
    """The commits of `revisions` (oldest first) and the snapshot of every blob they name.

    `git log` writes the commits while a thread parses them and sends each new blob id to
    `git cat-file --batch`, whose output this thread reads and parses meanwhile: the work of the
    three overlaps, and no pipe waits for a reader that is busy writing.
    """
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a warning may come with each commit
        log = subprocess.Popen(
            [
                *("git", "-C", root, "-c", "log.diffMerges=first-parent", "log", "--first-parent", "-m", "--root"),
                *("-M", "--raw", "--no-abbrev", "-z", "--no-color", "--no-show-signature", "--encoding=UTF-8"),
                *("--format=%x1e%H%x1f%ct%x1f%s", f"--relative={events}", revisions, "--"),
            ],
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        cat = subprocess.Popen(
            ["git", "-C", root, "cat-file", "--batch", "--buffer"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            bufsize=1 << 20,
        )
        assert log.stdout is not None and cat.stdin is not None and cat.stdout is not None
        log_out, cat_in, cat_out = log.stdout, cat.stdin, cat.stdout
        for pipe in (log_out, cat_in, cat_out):
            _widen(pipe)
        commits: list[Commit] = []
        failures: list[BaseException] = []

        def send(ids: list[str]) -> None:
            cat_in.write("".join(f"{blob}\n" for blob in ids).encode("ascii"))
            cat_in.flush()

        def produce() -> None:
            try:
                _parse_log(log_out, commits, set(known), send)
            except BaseException as exc:
                failures.append(exc)
            finally:
                with contextlib.suppress(OSError):
                    cat_in.close()

        snapshots: dict[Any, Any] = {None: None, **known}
        thread = threading.Thread(target=produce, name="git-log-reader", daemon=True)
        thread.start()
        try:
            _read_blobs(cat_out, snapshots, _Parser())
        except BaseException:
            cat.kill()
            log.kill()
            raise
        finally:
            thread.join()
            cat_out.close()
            cat.wait()
            log_out.close()
            log.wait()
        if failures:
            raise failures[0]
        if log.returncode or cat.returncode:
            errors.seek(0)
            message = errors.read().decode("utf-8", "replace").strip() or "git cat-file failed"
            raise RuntimeError(f"reading the Git history of {root} failed: {message}")
    commits.reverse()
    return commits, snapshots


def _widen(pipe: IO[bytes]) -> None:
    """Let a pipe hold 1 MiB (Linux): a quarter of the process switches of the default 64 KiB."""
    with contextlib.suppress(ImportError, AttributeError, OSError):
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, 1 << 20)


def _wanted(path: str) -> bool:
    """An event file: `.md`, in no folder whose name starts with '.' (as load.markdown_files)."""
    if not path.endswith(".md"):
        return False
    folder = path.rpartition("/")[0]
    return not folder.startswith(".") and "/." not in folder


def _parse_log(
    stream: IO[bytes], commits: list[Commit], requested: set[Any], send: Callable[[list[str]], None]
) -> None:
    """Read `git log --raw -z` output into `commits`, newest first; send each new blob id once.

    Records are NUL-terminated: a commit is `\\x1e<id>\\x1f<time>\\x1f<subject>`, then each change
    `:<mode> <mode> <blob> <blob> <status>` followed by its path, or two paths for a rename or a
    copy (the first change after a commit starts with a newline). A path may hold any byte but
    NUL, so paths are taken by their position, never by their look.
    """
    days: dict[str, str] = {}
    changes: list[Change] = []
    rest = b""
    pending: list[str] = []
    read = getattr(stream, "read1", stream.read)
    while chunk := read(1 << 18):
        data = rest + chunk
        cut = data.rfind(b"\0")
        if cut < 0:
            rest = data
            continue
        rest = data[cut + 1 :]
        tokens = data[:cut].decode("utf-8", "surrogateescape").split("\0")
        if pending:
            tokens = pending + tokens
        new: list[str] = []
        i, n = 0, len(tokens)
        while i < n:
            token = tokens[i]
            if token[:1] == "\n":
                token = token[1:]
            if token[:1] == ":":
                fields = token.split(" ")
                if len(fields) != 5:
                    raise RuntimeError(f"unexpected git log output: {token!r}")
                status = fields[4][:1]
                paths = 2 if status in "RC" else 1
                if i + paths >= n:
                    break  # its paths come with the next chunk
                old, path = tokens[i + 1], tokens[i + paths]
                i += paths + 1
                # A blob of a regular file (mode 100644 or 100755), not a link, a submodule, or none.
                old_blob = fields[2] if fields[0].startswith(":100") and fields[2].strip("0") else None
                new_blob = fields[3] if fields[1].startswith("100") and fields[3].strip("0") else None
                change = _change(status, old, path, old_blob, new_blob)
                if change is None:
                    continue
                changes.append(change)
                for blob in (change[3], change[4]):
                    if blob is not None and blob not in requested:
                        requested.add(blob)
                        new.append(blob)
            elif token[:1] == "\x1e":
                sha, stamp, subject = token[1:].split("\x1f", 2)
                if not subject.isascii():
                    subject = subject.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                day = days.get(stamp)
                if day is None:
                    day = days[stamp] = time.strftime("%Y-%m-%d", time.gmtime(int(stamp)))
                changes = []
                commits.append((sys.intern(sha), day, subject, changes))
                i += 1
            elif token == "":
                i += 1
            else:
                raise RuntimeError(f"unexpected git log output: {token!r}")
        pending = tokens[i:]
        if new:
            send(new)
    if rest or pending:
        raise RuntimeError("git log output ended in the middle of a record")


def _change(status: str, old: str, path: str, old_blob: str | None, new_blob: str | None) -> Change | None:
    """One raw change as a Change of entry files, or None when it touches none."""
    old_wanted, new_wanted = _wanted(old), _wanted(path)
    if status == "R":
        if old_wanted and new_wanted:
            return ("R", old, path, old_blob, new_blob)
        if old_wanted:
            return ("D", old, None, old_blob, None)  # renamed to a file that is not an entry
        status = "A"
    elif status == "C":
        status = "A"  # a copy is a new entry; the original keeps its history
    if not new_wanted:
        return None
    if status == "A":
        return ("A", None, path, None, new_blob)
    if status == "D":
        return ("D", path, None, old_blob, None)
    return ("M", path, path, old_blob, new_blob)  # M, or T (type change)


def _read_blobs(stream: IO[bytes], snapshots: dict[Any, Any], parser: _Parser) -> None:
    """Parse `git cat-file --batch` output: `<id> blob <size>\\n<content>\\n` per object."""
    readline, read = stream.readline, stream.read
    while header := readline():
        fields = header.split()
        if len(fields) == 3:
            data = read(int(fields[2]) + 1)
            snapshot = parser.blob(data[:-1]) if fields[1] == b"blob" else None
        else:
            snapshot = None  # "<id> missing"
        snapshots[fields[0].decode("ascii")] = snapshot


# --- lineages: one file's life through renames -------------------------------------------------


class _Lineage:
    """One file from its addition (or the start of history) through renames to HEAD or deletion."""

    def __init__(self, path: str) -> None:
        self.path = path  # relative to the events folder: where it is, or was when deleted
        self.blob: str | None = None  # its content while alive
        self.revisions: list[Revision] = []


class _State:
    """The processed history up to `head`: what the cache holds."""

    def __init__(self, root: str, events: str) -> None:
        self.root = root
        self.events = events
        self.head = ""
        self.order: dict[str, int] = {}  # commit id -> its place in the history
        self.live: dict[str, _Lineage] = {}  # path -> the file there at head
        self.dead: list[_Lineage] = []  # deleted files, oldest deletion first
        self.history = History(head="", revisions={})

    def apply(self, commits: list[Commit], snapshots: dict[Any, Any]) -> None:
        """Extend the lineages with `commits`, oldest first."""
        live, dead, order = self.live, self.dead, self.order
        for sha, day, subject, changes in commits:
            order[sha] = len(order)
            # Every file that leaves its path is taken first, so that a commit swapping two paths,
            # or moving a file onto another's old path, finds each lineage where it was.
            leaving = {old: live.pop(old, None) for kind, old, _, _, _ in changes if kind in "RD" and old}
            for kind, old, path, old_blob, new_blob in changes:
                revision = Revision(sha, day, subject, snapshots[old_blob], snapshots[new_blob])
                if kind == "D" and old is not None:
                    lineage = leaving[old] or _Lineage(old)
                    lineage.revisions.append(revision)
                    lineage.blob = None
                    dead.append(lineage)
                    continue
                if path is None:
                    continue
                if kind == "R" and old is not None:
                    lineage = leaving[old] or _Lineage(path)
                    lineage.path = path
                else:
                    lineage = live.get(path) or _Lineage(path)
                live[path] = lineage
                lineage.blob = new_blob
                lineage.revisions.append(revision)

    def finish(self) -> History:
        """The History at head: lineages grouped by event id."""
        groups: dict[str, list[_Lineage]] = {}
        for path, lineage in self.live.items():
            groups.setdefault(_stem(path), []).append(lineage)
        aliases: dict[str, str] = {}
        for event_id, lineages in groups.items():
            for lineage in lineages:
                for alias in _aliases(lineage.revisions[-1].after):
                    aliases.setdefault(alias, event_id)
        removed: dict[str, _Lineage] = {}
        for lineage in self.dead:
            event_id = _stem(lineage.path)
            owner = event_id if event_id in groups else aliases.get(event_id)
            if owner is not None:
                groups[owner].append(lineage)
            else:
                removed[event_id] = lineage  # the latest deletion of an id wins
        revisions = {
            event_id: tuple(lineages[0].revisions) if len(lineages) == 1 else self._merge(lineages)
            for event_id, lineages in sorted(groups.items())
        }
        removals = []
        for event_id, lineage in removed.items():
            last = lineage.revisions[-1]
            path = self.events + lineage.path
            removals.append(Removal(event_id, path, last.commit, last.date, last.subject, last.before))
        removals.sort(key=lambda r: (r.date, r.id))
        return History(head=self.head, revisions=revisions, removed=tuple(removals))

    def _merge(self, lineages: list[_Lineage]) -> tuple[Revision, ...]:
        """Several files' revisions in commit order; a deletion and an addition in one commit joined."""
        order = self.order
        merged = sorted((r for lineage in lineages for r in lineage.revisions), key=lambda r: order[r.commit])
        out: list[Revision] = []
        for revision in merged:
            previous = out[-1] if out else None
            if previous is not None and previous.commit == revision.commit:
                if previous.after is None and revision.before is None:
                    out[-1] = Revision(*_commit_of(revision), previous.before, revision.after)
                    continue
                if previous.before is None and revision.after is None:
                    out[-1] = Revision(*_commit_of(revision), revision.before, previous.after)
                    continue
            out.append(revision)
        return tuple(out)


def _commit_of(revision: Revision) -> tuple[str, str, str]:
    return revision.commit, revision.date, revision.subject


def _stem(path: str) -> str:
    return path.rpartition("/")[2][:-3]


def _aliases(snapshot: Snapshot) -> Iterable[str]:
    values = snapshot.get("aliases") if snapshot is not None else None
    return [v for v in values if isinstance(v, str)] if isinstance(values, list) else ()


# --- cache ---------------------------------------------------------------------------------------
#
# The file: _MAGIC, the length of part 1 (8 bytes), part 1, part 2; each part a pickle of plain
# data (tuples, lists, dicts, strings) but for Removal records. Part 1 is the History: (root,
# events, head, {event id: revision rows}, removals), a row being a Revision's fields; part 2 is
# what extending it takes: (commit ids in order, live lineages, dead lineages), a lineage being
# (path, blob, revisions): the id of the event whose revisions in part 1 are exactly its own (the
# usual case), or else its own rows. Part 2 is read only when there are new commits.

Row = tuple[str, str, str, Snapshot, Snapshot]
_NEW = object.__new__


class _Unpickler(pickle.Unpickler):
    """Builds plain data and Removal records, nothing else: a planted file cannot run code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) != ("site_builder.model", "Removal"):
            raise pickle.UnpicklingError(f"{module}.{name} is not allowed in the history cache")
        return Removal


def _unpickle(data: bytes) -> Any:
    return _Unpickler(io.BytesIO(data)).load()


def _row(revision: Revision) -> Row:
    return revision.commit, revision.date, revision.subject, revision.before, revision.after


def _revision(row: Row) -> Revision:
    """Revision(*row), at half the cost: filled in as pickle fills in a dataclass it loads."""
    revision = _NEW(Revision)
    fields = revision.__dict__
    fields["commit"], fields["date"], fields["subject"], fields["before"], fields["after"] = row
    return revision


def _load_cache(path: Path, root: str, events: str, head: str) -> History | _State | None:
    """The cached History if it is at `head`, else the cached state to extend, or None."""
    try:
        with path.open("rb") as file:
            if file.read(len(_MAGIC)) != _MAGIC:
                return None
            (size,) = struct.unpack("<Q", file.read(8))
            cached_root, cached_events, cached_head, rows, removed = _unpickle(file.read(size))
            if (cached_root, cached_events) != (root, events):
                return None
            revisions = {event_id: tuple(map(_revision, event_rows)) for event_id, event_rows in rows.items()}
            history = History(head=cached_head, revisions=revisions, removed=tuple(removed))
            if cached_head == head:
                return history
            commits, live, dead = _unpickle(file.read())
            state = _State(root, events)
            state.head, state.history = cached_head, history
            state.order = {commit: place for place, commit in enumerate(commits)}
            for lineage_path, blob, own in live:
                state.live[lineage_path] = _lineage(lineage_path, blob, own, revisions)
            state.dead = [_lineage(lineage_path, None, own, revisions) for lineage_path, own in dead]
            return state
    except Exception:  # missing, unreadable, corrupt, or not what this version writes: read again
        return None


def _lineage(path: str, blob: str | None, own: Any, revisions: dict[str, tuple[Revision, ...]]) -> _Lineage:
    lineage = _Lineage(path)
    lineage.blob = blob
    lineage.revisions = list(revisions[own]) if isinstance(own, str) else [_revision(row) for row in own]
    return lineage


def _save_cache(path: Path, state: _State) -> None:
    """Write the cache atomically; a cache that cannot be written is no error."""
    history = state.history
    rows = {event_id: tuple(map(_row, revisions)) for event_id, revisions in history.revisions.items()}
    first = pickle.dumps((state.root, state.events, state.head, rows, history.removed), pickle.HIGHEST_PROTOCOL)

    def own(lineage: _Lineage) -> Any:
        shared = history.revisions.get(_stem(lineage.path), ())
        if len(shared) == len(lineage.revisions) and all(map(operator.is_, shared, lineage.revisions)):
            return _stem(lineage.path)
        return tuple(map(_row, lineage.revisions))

    live = [(lineage_path, lineage.blob, own(lineage)) for lineage_path, lineage in state.live.items()]
    dead = [(lineage.path, tuple(map(_row, lineage.revisions))) for lineage in state.dead]
    second = pickle.dumps((list(state.order), live, dead), pickle.HIGHEST_PROTOCOL)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".history-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(_MAGIC + struct.pack("<Q", len(first)))
                file.write(first)
                file.write(second)
            os.replace(temp, path)
        except BaseException:
            os.unlink(temp)
            raise
    except OSError:
        pass
