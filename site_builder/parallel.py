"""Work across the machine's cores: forked processes that share the build's state for free.

The build forks (Linux, macOS): each child starts with everything the parent has loaded (the
archive, the templates compiled), does its share and sends back only small results (paths,
digests) through a pipe, never the pages: it writes them into the staging folder itself. The
parent works too, so `workers` processes run in all. Jobs are handed out one at a time from a
shared counter, biggest first, so no process sits idle while another has a queue.

A child exits with `os._exit` (no cleanup of the parent's state runs twice); an exception in it is
raised again in the parent. Without fork (Windows), or with one worker, everything runs here.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import IO, Any, TypeVar

from .errors import ContentError

T = TypeVar("T")
R = TypeVar("R")
BATCH = 256  # items a child of `stream_chunks` sends in one pickle


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def resident() -> int:
    """This process's resident memory, in bytes (0 where /proc does not say)."""
    try:
        with open("/proc/self/statm") as file:
            return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def can_fork() -> bool:
    return hasattr(os, "fork") and sys.platform != "win32"


def split(items: Sequence[T], parts: int) -> list[list[T]]:
    """`items` in `parts` contiguous runs of nearly equal length (fewer when there are few items)."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for n in range(parts):
        end = start + size + (1 if n < extra else 0)
        out.append(list(items[start:end]))
        start = end
    return out


def stream_chunks(function: Callable[[list[T]], Iterator[R]], chunks: list[list[T]]) -> Iterator[R]:
    """What `function` yields for each chunk, in order: the first chunk here, each other one in a
    forked child that writes what it yields to a temporary file as it goes (so neither process
    holds all of it at once), read back here after."""
    if len(chunks) <= 1 or not can_fork():
        for chunk in chunks:
            yield from function(chunk)
        return
    spools = [tempfile.TemporaryFile() for _ in chunks[1:]]  # noqa: SIM115 (closed as read)

    def spool(chunk: list[T], file: IO[bytes]) -> None:
        # A few hundred to a pickle: what they share (ids, dates, field names: one object here)
        # stays one object there, instead of one per item.
        batch: list[R] = []
        for item in function(chunk):
            batch.append(item)
            if len(batch) == BATCH:
                pickle.dump(batch, file, pickle.HIGHEST_PROTOCOL)
                batch = []
        pickle.dump(batch, file, pickle.HIGHEST_PROTOCOL)
        file.flush()

    children = [_fork(partial(spool, chunk, file)) for chunk, file in zip(chunks[1:], spools, strict=True)]
    try:
        yield from function(chunks[0])
    finally:
        for child in children:
            _collect(child)
    for file in spools:
        with file:
            file.seek(0)
            while True:
                try:
                    batch = pickle.load(file)
                except EOFError:
                    break
                yield from batch


def run_jobs(
    jobs: Sequence[Callable[[], R]],
    workers: int,
    done: Callable[[int, R], None],
    tick: Callable[[int], None] = lambda _: None,
) -> None:
    """Run every job once, in `workers` processes, taking them in order from a shared counter.

    `done(index, result)` is called here, in the parent, for every job: at once for the parent's
    own, at the end for the children's. `tick(finished)` reports progress between the parent's jobs.
    """
    if workers <= 1 or len(jobs) <= 1 or not can_fork():
        for index, job in enumerate(jobs):
            done(index, job())
            tick(index + 1)
        return
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("l", 0)
    finished = ctx.Value("l", 0)

    def take() -> int:
        with counter.get_lock():
            index = int(counter.value)
            counter.value = index + 1
        return index

    def work(own: Callable[[int, R], None]) -> None:
        while (index := take()) < len(jobs):
            own(index, jobs[index]())
            with finished.get_lock():
                finished.value += 1

    def child() -> list[tuple[int, R]]:
        results: list[tuple[int, R]] = []
        work(lambda index, result: results.append((index, result)))
        return results

    children = [_fork(child) for _ in range(workers - 1)]

    def own(index: int, result: R) -> None:
        done(index, result)
        tick(int(finished.value) + 1)

    error: BaseException | None = None
    try:
        work(own)
    except BaseException as exc:
        with counter.get_lock():
            counter.value = len(jobs)  # the children take no new job
        error = exc
    outcomes = []
    for c in children:
        try:
            outcomes.append(_collect(c))
        except BaseException as exc:
            error = error or exc
    if error is not None:
        raise error
    for results in outcomes:
        for index, result in results:
            done(index, result)


class ChildError(Exception):
    """A worker failed in a way that cannot be raised again here (its traceback is the message)."""


def _fork(function: Callable[[], Any]) -> tuple[int, int]:
    read, write = os.pipe()
    # What the parent holds is shared with the child until either writes to it; a collection
    # in the child would write to every object (and copy the archive): keep them out of it.
    gc.freeze()
    with warnings.catch_warnings():
        # Python 3.12 warns when a process with threads forks (`serve` has some): the child runs
        # only the build's own code and leaves with os._exit, touching no lock of theirs.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid != 0:
        gc.unfreeze()
    if pid == 0:  # pragma: no cover (runs in the child; coverage does not follow)
        os.close(read)
        try:
            try:
                data = pickle.dumps((True, function()), pickle.HIGHEST_PROTOCOL)
            except ContentError as error:  # its problems, not its message, make it again
                data = pickle.dumps((False, ("problems", error.problems)), pickle.HIGHEST_PROTOCOL)
            except BaseException as error:  # sent to the parent, raised there
                try:
                    data = pickle.dumps((False, ("error", error)), pickle.HIGHEST_PROTOCOL)
                except Exception:
                    failure = ChildError(traceback.format_exc())
                    data = pickle.dumps((False, ("error", failure)), pickle.HIGHEST_PROTOCOL)
            with os.fdopen(write, "wb") as pipe:
                pipe.write(data)
        finally:
            os._exit(0)
    os.close(write)
    return pid, read


def _collect(child: tuple[int, int]) -> Any:
    pid, read = child
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not data:
        raise ChildError(f"a build worker ended without a result (status {status})")
    ok, value = pickle.loads(data)
    if not ok:
        kind, error = value
        raise ContentError(error) if kind == "problems" else error
    return value
