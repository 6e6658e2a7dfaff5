"""`site-builder build | check`: exit 0 on success, 1 when the content has errors, 2 on wrong usage."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .build import build, check
from .errors import ContentError
from .search import SearchIndexError
from .write import WriteError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="site-builder", description="Build a crisis-timeline archive into a static website."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build_cmd = commands.add_parser("build", help="validate content/ and build the site into output/")
    build_cmd.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
    build_cmd.add_argument("--output", type=Path, default=Path("output"), help="output folder (default: output)")
    check_cmd = commands.add_parser("check", help="validate content/ without writing anything")
    check_cmd.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
    return parser


def _report(error: ContentError) -> int:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    count = len(error.problems)
    print(f"{count} error{'s' if count != 1 else ''} found; nothing was written.", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)  # exits 2 on wrong usage
    started = time.perf_counter()
    try:
        if args.command == "check":
            archive = check(args.content)
            print(
                f"{len(archive.events)} events, {len(archive.regions)} regions, {len(archive.pages)} pages: no errors."
            )
            return 0
        if args.output.resolve() == args.content.resolve() or args.content.resolve() in args.output.resolve().parents:
            print("site-builder: error: --output must not be inside --content", file=sys.stderr)
            return 2
        archive, pages = build(args.content, args.output, log=lambda line: print(line, file=sys.stderr))
    except ContentError as error:
        return _report(error)
    except (SearchIndexError, WriteError, OSError) as error:
        print(f"site-builder: error: {error}; the previous output was left as it was.", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    print(f"Built {pages} pages ({len(archive.events)} events) into {args.output} in {seconds:.2f} s.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
