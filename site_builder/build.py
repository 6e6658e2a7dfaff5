"""The build, step by step: load, validate, history, render, write, index, swap in.

    result = build(Path("content"), Path("output"), cache_dir=Path(".cache"))

With a cache folder the build is incremental. It first looks whether anything changed at all: every
input file's size, mtime and inode (stamps.py), the Git commit, the options, and the output as
the last build left it (write.py). If nothing did, it is done, having loaded neither the archive
nor Jinja, Markdown or YAML. Otherwise engine.py does the work: it parses only the entries whose
file changed (inputs.py), renders only the pages and makes only the files whose inputs changed
(fingerprint.py, outputs.py), and writes only the files that differ from what the folder it
writes into holds (write.py: the output and a spare take turns). Whatever it skips, the output is
the one a build from scratch writes, byte for byte. Large amounts of work run in several
processes (parallel.py), and Pagefind, which reads only the entries' pages, starts as soon as
those are written and runs while the rest is made.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .cache import Store
from .progress import Progress, Silent
from .stamps import Stat, snapshot
from .timings import Log, Timings
from .write import SPARE, FileRecord, Tree, verified

if TYPE_CHECKING:
    from .model import Archive

# render.THEMES, found here again: importing render loads Jinja, which a build with nothing to do never needs
THEMES = next(d / "themes" for d in Path(__file__).resolve().parents[:2] if (d / "themes").is_dir())


@dataclass(frozen=True)
class BuildResult:
    """What a build did. `archive` is None when nothing had changed (it was not even loaded)."""

    archive: Archive | None
    pages: int  # pages in the site
    rendered: frozenset[str]  # the pages rendered by this build (the others were kept)
    written: int  # files written or linked into the output (those that were not there already)
    events: int
    seconds: float

    def __iter__(self) -> Iterator[Any]:
        """(archive, pages), as `build` returned before it returned a BuildResult."""
        return iter((self.archive, self.pages))


@dataclass
class Quick:
    """What a build needs to see that nothing changed since the last one."""

    options: tuple[str, ...]
    stamps: dict[str, Stat | None]
    head: str | None
    output: Tree
    pages: int
    events: int

    def __getstate__(self) -> dict[str, Any]:  # the stamps as plain tuples (see write.Tree)
        stamps = {path: None if stat is None else tuple(stat) for path, stat in self.stamps.items()}
        return self.__dict__ | {"stamps": stamps}

    def __setstate__(self, state: dict[str, Any]) -> None:
        stamps = {path: None if stat is None else Stat._make(stat) for path, stat in state["stamps"].items()}
        self.__dict__.update(state | {"stamps": stamps})


def check(content: Path) -> Archive:
    """Load and validate; raises ContentError listing every problem."""
    from .load import load_content
    from .validate import validate

    return validate(load_content(content))


def build(
    content: Path,
    output: Path,
    theme: Path = THEMES / "default",
    log: Log = lambda _: None,
    *,
    releases: bool = False,
    cache_dir: Path | None = None,
    bundle: bool = False,
    search: bool = True,
    offline: bool = True,
    clean: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
    deferred_cache: bool = False,
) -> BuildResult:
    """Build the site into `output`. With `cache_dir`, only what changed since the last build is
    made again (`clean`: empty the cache first); `search=False` leaves out the Pagefind index,
    `offline=False` the offline one (search-offline/, what the search page reads from disk).
    `deferred_cache`: the cache stays in this process's memory until `flush_cache` (`serve`)."""
    started = time.perf_counter()
    timings = Timings()
    progress = progress or Silent()
    records = (Quick, Tree, FileRecord, Stat)
    store = Store(cache_dir, records, deferred=deferred_cache) if cache_dir is not None else None
    with _locked(cache_dir):
        if clean and store is not None:
            store.clear()
            shutil.rmtree(output.resolve().with_name(f".{output.resolve().name}.{SPARE}"), ignore_errors=True)
        progress.stage("scan")
        stamps = snapshot(content, theme)
        # SOURCE_DATE_EPOCH dates the bundle (bundle.py): another value is another build.
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
        flags = str((releases, bundle, search, offline, epoch))
        options = (str(content.resolve()), str(theme.resolve()), str(output.resolve()), flags)
        quick = store.load("quick") if store is not None else None
        head = _head(content)
        if isinstance(quick, Quick) and not releases and _unchanged(quick, options, stamps, head, output):
            progress.close()
            return BuildResult(None, quick.pages, frozenset(), 0, quick.events, time.perf_counter() - started)
        timings.step("scan")
        # Imported here: a build with nothing to do never loads Jinja, Markdown or YAML.
        from . import engine, parallel

        if store is not None:
            store.records = (*store.records, *engine.CACHED)
        try:
            made = engine.run(
                content,
                output,
                theme,
                log,
                store=store,
                stamps=stamps,
                releases=releases,
                bundle=bundle,
                search=search,
                offline=offline,
                workers=workers or parallel.cores(),
                progress=progress,
                timings=timings,
            )
        finally:
            gc.unfreeze()  # engine.run froze what it loaded; in `serve`, it may go once replaced
        if store is not None and made.trees is not None and made.trees.output is not None:
            events = len(made.archive.events)
            store.save("quick", Quick(options, stamps, head, made.trees.output, made.pages, events))
    progress.close()
    log(timings.line())
    return BuildResult(
        made.archive, made.pages, made.rendered, made.written, len(made.archive.events), time.perf_counter() - started
    )


def flush_cache(cache_dir: Path) -> None:
    """Write the cache files that builds with `deferred_cache` kept in memory."""
    with _locked(cache_dir):
        Store(cache_dir).flush()


@contextlib.contextmanager
def _locked(cache_dir: Path | None) -> Iterator[None]:
    """One build at a time per cache folder (`serve` and a `build` in another terminal)."""
    if cache_dir is None:
        yield
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    with (cache_dir / "build.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _head(content: Path) -> str | None:
    """The commit checked out (the history and the citations follow it), or None outside Git."""
    try:
        result = subprocess.run(
            ["git", "-C", str(content), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def _unchanged(
    quick: Quick, options: tuple[str, ...], stamps: dict[str, Stat | None], head: str | None, output: Path
) -> bool:
    """Nothing to do: the same inputs (by size, mtime and inode), commit and options, and the
    output as the last build left it."""
    if quick.options != options or quick.stamps != stamps or quick.head != head:
        return False
    known, changed = verified(output.resolve(), quick.output)
    return len(known) == len(quick.output.files) and not changed
