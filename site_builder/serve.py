"""`site-builder serve`: build, serve on loopback, rebuild on every save, reload the open page.

It builds into the output folder, like `build` (default output/): that is the folder the README
tells editors to open, a build there is replaced on every build anyway, and the files written are
a normal build's (the live-reload script is added to HTML responses in memory, never on disk), so
after the edits settle output/ is what `build` would have written. `--output` picks another folder.

Rebuilds skip the search index, so a page reloads as soon as it is rendered; the previous index
is moved into each new build until a re-index, once edits have been quiet for SEARCH_QUIET
seconds, has run in the background. Pagefind reads the output through a folder of links (no copy:
linking 30,000 files takes seconds) while rebuilds go on; one lock orders rebuilds and the
install of a new index, which is dropped if a rebuild came while it was being made.
The HTTP side (responses, the reload script, Server-Sent Events) is in servehttp.py.
"""

from __future__ import annotations

import argparse
import errno
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from http.server import ThreadingHTTPServer
from pathlib import Path

from .build import BuildResult, build, flush_cache
from .errors import ContentError, Problem
from .render import THEMES
from .search import SearchIndexError, index_site
from .servehttp import Hub, State, is_loopback, make_server
from .watch import Change, Roots, Watcher
from .write import WriteError

Say = Callable[[str], None]
SEARCH_QUIET = 2.0  # seconds without a rebuild before the search index is brought up to date


def _print(line: str) -> None:
    print(line, flush=True)


def _shown(path: os.PathLike[str]) -> str:
    try:
        return Path(path).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def describe(changes: Iterable[Change], most: int = 3) -> str:
    """'content/events/a.md, content/site.yaml and 2 more' for the rebuild line."""
    names = sorted({_shown(change.path) for change in changes})
    shown = ", ".join(names[:most])
    return f"{shown} and {len(names) - most} more" if len(names) > most else shown


class Session:
    """One `serve` run: the output folder, the state the browser sees, rebuilds and re-indexing."""

    def __init__(
        self,
        content: Path,
        output: Path,
        cache_dir: Path | None = None,
        theme: Path = THEMES / "default",
        say: Say = _print,
        search_quiet: float = SEARCH_QUIET,
    ) -> None:
        self.content, self.output, self.cache_dir, self.theme = content, output.resolve(), cache_dir, theme
        self.say = say
        self.search_quiet = search_quiet
        self.hub = Hub()
        self.lock = threading.Lock()  # a rebuild, or a re-index's snapshot or install step
        self.closing = False
        self.timer: threading.Timer | None = None
        self.server: ThreadingHTTPServer | None = None
        self.serving: threading.Thread | None = None
        ignored = [self.output] + ([cache_dir.resolve()] if cache_dir else [])
        self.roots = Roots(content.resolve(), theme.resolve(), tuple(ignored))
        self.watcher = Watcher(self.roots, self.rebuild)

    def _build(self, search: bool) -> BuildResult | tuple[Problem, ...]:
        """One build, under the lock: its result, or the problems that stopped it. A rebuild keeps
        the cache in memory (the first build writes it): `_flush` writes it once edits are quiet."""
        try:
            cache, deferred = self.cache_dir, not search  # not search: a rebuild
            return build(self.content, self.output, self.theme, cache_dir=cache, search=search, deferred_cache=deferred)
        except ContentError as error:
            return tuple(error.problems)
        except (SearchIndexError, WriteError, OSError) as error:
            return (Problem("site-builder", 0, f"{error}; the previous output was left as it was"),)
        except Exception as error:  # a bug in one build must not stop the server
            traceback.print_exc()
            return (Problem("site-builder", 0, f"internal error: {type(error).__name__}: {error}"),)

    def _publish(self, outcome: BuildResult | tuple[Problem, ...], started: float, changes: str = "") -> bool:
        """Tell the browser (reload, or the problems) and the terminal; True when the build succeeded."""
        seconds = time.perf_counter() - started
        generation = self.hub.state.generation
        if isinstance(outcome, tuple):
            self.hub.publish(State(generation, outcome))
            count = len(outcome)
            self.say(f"Build failed: {count} error{'s' if count != 1 else ''}, shown in the browser until fixed:")
            for problem in outcome:
                print(f"  {problem}", file=sys.stderr, flush=True)
            return False
        self.hub.publish(State(generation + 1))
        if changes:
            rendered = f"{len(outcome.rendered)} of {outcome.pages} pages rendered"
            self.say(f"Rebuilt in {seconds:.2f} s, {rendered}: {changes}")
        else:
            self.say(f"Built {outcome.pages} pages in {seconds:.2f} s.")
        return True

    def build_once(self) -> bool:
        """The first build, search index included, as `build` makes it."""
        started = time.perf_counter()
        with self.lock:
            return self._publish(self._build(search=True), started)

    def rebuild(self, changes: frozenset[Change]) -> None:
        """After a batch of changes: build without search, keep the previous index, reload the browser."""
        started = time.perf_counter()
        with self.lock:
            if self.closing:
                return
            index = self.output / "pagefind"
            kept = self.output.with_name(f".{self.output.name}.search-{os.getpid()}")
            shutil.rmtree(kept, ignore_errors=True)
            if index.is_dir():
                os.replace(index, kept)  # the build replaces the folder: the index moves to the new one
            outcome = self._build(search=False)
            if kept.is_dir() and self.output.is_dir() and not index.exists():
                os.replace(kept, index)
            shutil.rmtree(kept, ignore_errors=True)
            built = self._publish(outcome, started, describe(changes))
        if built:
            self._schedule_reindex()

    def _schedule_reindex(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer = threading.Timer(self.search_quiet, self.reindex)
        self.timer.daemon = True
        self.timer.start()

    def _flush(self) -> None:
        """Write the cache the rebuilds kept in memory, under the lock (a later `build` reads it)."""
        if self.cache_dir is not None:
            with self.lock:
                flush_cache(self.cache_dir)

    def reindex(self) -> None:
        """Write the cache; index the output through a folder of links to it, without the lock;
        install unless outdated.

        Pagefind reads through the links while a rebuild may swap the output underneath: such an
        index is dropped (the generation changed), and that rebuild has scheduled the next one.
        """
        self._flush()
        started = time.perf_counter()
        generation = self.hub.state.generation
        if self.closing or not self.output.is_dir():
            return
        view = Path(tempfile.mkdtemp(prefix=f".{self.output.name}.index-", dir=self.output.parent))
        try:
            for child in sorted(self.output.iterdir()):
                if child.name != "pagefind":
                    (view / child.name).symlink_to(child, target_is_directory=child.is_dir())
            index_site(view)
            with self.lock:
                if self.closing or self.hub.state.generation != generation:
                    return
                index = self.output / "pagefind"
                if index.exists():
                    os.replace(index, view / "previous")
                os.replace(view / "pagefind", index)
            self.say(f"Search index updated in {time.perf_counter() - started:.2f} s.")
        except (SearchIndexError, OSError) as error:
            if self.hub.state.generation == generation and not self.closing:
                self.say(f"Search index not updated: {error}")
        finally:
            shutil.rmtree(view, ignore_errors=True)  # removes the links, never what they point to

    def start(self, host: str, port: int) -> str:
        """Bind, build once, then serve and watch; returns the site's URL. OSError if the port is taken."""
        self.server = server = make_server(host, port, self.output, self.hub)
        self.watcher.start()  # before the first build, so an edit made during it is not missed
        self.build_once()
        self.serving = threading.Thread(target=server.serve_forever, name="site-builder-serve", daemon=True)
        self.serving.start()
        bound = server.server_port
        return f"http://{f'[{host}]' if ':' in host else host}:{bound}/"

    def stop(self) -> None:
        with self.lock:
            self.closing = True
        if self.timer is not None:
            self.timer.cancel()
        self.watcher.stop()
        self.hub.close()
        if self.server is not None:
            if self.serving is not None:
                self.server.shutdown()  # waits for serve_forever: only once it has started
            self.server.server_close()
        if self.timer is not None:
            self.timer.join(timeout=60)  # a re-index under way removes its snapshot
        self._flush()


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
    parser.add_argument("--output", type=Path, default=Path("output"), help="output folder (default: output)")
    parser.add_argument("--cache", type=Path, default=Path(".cache"), help="cache folder (default: .cache)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default: 8000; 0 picks a free one)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other machines can reach: anyone on that network can read the unpublished site",
    )


def run(args: argparse.Namespace) -> int:
    content, output = args.content.resolve(), args.output.resolve()
    if output == content or content in output.parents or output in content.parents:
        print("site-builder: error: --output must not contain or be inside --content", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print(f"site-builder: error: --port {args.port} is not a port (0 to 65535)", file=sys.stderr)
        return 2
    if not is_loopback(args.host) and not args.allow_remote:
        print(
            f"site-builder: error: --host {args.host} is reachable from other machines, which could then read "
            "the site before it is published; add --allow-remote if that is what you want",
            file=sys.stderr,
        )
        return 2
    session = Session(args.content, args.output, None if args.no_cache else args.cache)
    try:
        url = session.start(args.host, args.port)
    except OSError as error:
        session.stop()
        busy = error.errno == errno.EADDRINUSE
        reason = "is in use: stop the other server or pick another --port (0: any free one)" if busy else str(error)
        print(f"site-builder: error: {args.host}:{args.port} {reason}", file=sys.stderr)
        return 1
    print(f"Serving {_shown(args.content)} at {url} (Ctrl-C to stop)", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops it as cleanly as Ctrl-C
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("Stopping.", flush=True)
    finally:
        session.stop()
    return 0
