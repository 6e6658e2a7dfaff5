"""`site-builder COMMAND`: exit 0 on success, 1 when the content has errors, 2 on wrong usage.

`build` and `check` live here; every other command is a module exposing
`add_arguments(parser)` and `run(args) -> int`, listed in COMMANDS.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from .build import build
from .bundle import BundleError
from .errors import ContentError
from .search import SearchIndexError
from .write import WriteError

# name -> (module, one-line help). Each module: add_arguments(parser) and run(args) -> int.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("site_builder.checkcmd", "validate the content without writing anything"),
    "new": ("site_builder.scaffold", "write a new event file with every field, ready to fill in"),
    "schema": ("site_builder.schema", "write the JSON Schema of front matter and registries"),
    "init": ("site_builder.newrepo", "create a new archive repository with CI, hooks and templates"),
    "bundle": ("site_builder.bundle", "write the built site as one zip with a SHA-256 manifest (BagIt)"),
    "verify": ("site_builder.verify", "check a bundle (zip or unzipped folder) against its manifest"),
}


def _content(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")


def _parser() -> argparse.ArgumentParser:
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
    build_cmd.add_argument("--bundle", action="store_true", help="also put the site as a zip into download/")
    for name, (module, help_text) in COMMANDS.items():
        sub = commands.add_parser(name, help=help_text)
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
    try:
        archive, pages = build(
            args.content,
            args.output,
            log=lambda line: print(line, file=sys.stderr),
            releases=args.versions,
            cache_dir=None if args.no_cache else args.cache,
            bundle=args.bundle,
        )
    except ContentError as error:
        return report_errors(error)
    except (SearchIndexError, WriteError, BundleError, OSError) as error:
        print(f"site-builder: error: {error}; the previous output was left as it was.", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    print(f"Built {pages} pages ({len(archive.events)} events) into {args.output} in {seconds:.2f} s.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)  # exits 2 on wrong usage
    if args.command == "build":
        return run_build(args)
    return int(importlib.import_module(COMMANDS[args.command][0]).run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
