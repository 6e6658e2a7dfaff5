"""`site-builder COMMAND`: exit 0 on success, 1 when the content has errors, 2 on wrong usage.

`build` and `check` live here; every other command is a module exposing
`add_arguments(parser)` and `run(args) -> int`, listed in COMMANDS.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
import time
from pathlib import Path

from .build import build
from .errors import ContentError
from .progress import Progress
from .write import WriteError

# name -> (module, one-line help). Each module: add_arguments(parser) and run(args) -> int.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("site_builder.checkcmd", "validate the content without writing anything"),
    "new": ("site_builder.scaffold", "write a new event file with every field, ready to fill in"),
    "schema": ("site_builder.schema", "write the JSON Schema of front matter and registries"),
    "init": ("site_builder.newrepo", "create a new archive repository with CI, hooks and templates"),
    "bundle": ("site_builder.bundle", "write the built site as one zip with a SHA-256 manifest (BagIt)"),
    "verify": ("site_builder.verify", "check a bundle (zip or unzipped folder) against its manifest"),
    "serve": ("site_builder.serve", "build, serve on 127.0.0.1, rebuild on every save and reload the browser"),
}


def _content(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `command`, the other commands' modules are not imported (a quick start)."""
    parser = argparse.ArgumentParser(
        prog="site-builder", description="Build a crisis-timeline archive into a static website."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build_cmd = commands.add_parser("build", help="validate the content and build the site")
    _content(build_cmd)
    build_cmd.add_argument("--output", type=Path, default=Path("output"), help="output folder (default: output)")
    build_cmd.add_argument("--versions", action="store_true", help="also build each release (Git tag) into versions/")
    build_cmd.add_argument("--cache", type=Path, default=Path(".cache"), help="cache folder (default: .cache)")
    build_cmd.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    build_cmd.add_argument("--clean", action="store_true", help="empty the cache first: build everything again")
    build_cmd.add_argument(
        "--no-search", action="store_true", help="leave out both search indexes (Pagefind's and the offline one)"
    )
    build_cmd.add_argument(
        "--no-pagefind", action="store_true", help="leave out Pagefind's index: search uses the offline one"
    )
    build_cmd.add_argument("--quiet", action="store_true", help="print only errors and the closing line")
    build_cmd.add_argument("--bundle", action="store_true", help="also put the site as a zip into download/")
    for name, (module, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
        if command is None or command == name:
            importlib.import_module(module).add_arguments(sub)
    return parser


def report_errors(error: ContentError) -> int:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    count = len(error.problems)
    print(f"{count} error{'s' if count != 1 else ''} found; nothing was written.", file=sys.stderr)
    return 1


def run_build(args: argparse.Namespace) -> int:
    content, output = args.content.resolve(), args.output.resolve()
    if output == content or content in output.parents or output in content.parents:
        print("site-builder: error: --output must not contain or be inside --content", file=sys.stderr)
        return 2
    started = time.perf_counter()
    progress = Progress(quiet=args.quiet)
    try:
        result = build(
            args.content,
            args.output,
            log=(lambda _: None) if args.quiet else (lambda line: print(line, file=sys.stderr)),
            releases=args.versions,
            cache_dir=None if args.no_cache else args.cache,
            bundle=args.bundle,
            search=not (args.no_search or args.no_pagefind),
            offline=not args.no_search or args.bundle,  # a bundle is read from disk: it needs its index
            clean=args.clean,
            progress=progress,
        )
    except ContentError as error:
        progress.close()
        return report_errors(error)
    except Exception as error:
        from .bundle import BundleError  # imported when needed: they load what a quick build never does
        from .search import SearchIndexError

        if not isinstance(error, (SearchIndexError, WriteError, BundleError, OSError)):
            raise
        progress.close()
        print(f"site-builder: error: {error}; the previous output was left as it was.", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    site = f"{result.pages:,} pages ({result.events:,} events)"
    if result.archive is None:
        print(f"Built {site} into {args.output} in {seconds:.2f} s: nothing had changed.")
    else:
        done = f"{len(result.rendered):,} rendered, {result.written:,} files written"
        print(f"Built {site} into {args.output} in {seconds:.2f} s: {done}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    command = next((a for a in given if not a.startswith("-")), None)
    args = _parser(command if command == "build" or command in COMMANDS else None).parse_args(argv)  # 2 if wrong
    if args.command == "build":
        if argv is None:
            # The program itself: a build allocates millions of objects that live until it ends,
            # and the collector's default pace walks them again and again (a fifth of a rebuild
            # after one edit at 10,000 entries). Cycles are still collected, less often.
            gc.set_threshold(20_000, 50, 1_000)
        code = run_build(args)
        if argv is None:  # the program itself: end now, without freeing a large heap object by object
            sys.stdout.flush()  # (a second or more after a build of 10,000 entries)
            sys.stderr.flush()
            os._exit(code)
        return code
    return int(importlib.import_module(COMMANDS[args.command][0]).run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
