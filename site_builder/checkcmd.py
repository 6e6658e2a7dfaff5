"""`site-builder check`: validate for CI and editors, in text, GitHub or JSON form.

Errors fail the check; warnings (site_builder.lint) fail it only with --strict. With file
arguments or --changed-only, just those files and the registries are validated, while ids and
URLs are still checked against the whole archive.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from .errors import ContentError, Problem
from .lint import registry_warnings, warnings
from .load import Loaded, load_content, markdown_files
from .model import Event
from .parse import parse_entry
from .validate import validate

JSON_VERSION = 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="*", type=Path, help="check only these content files (plus the registries)")
    parser.add_argument("--content", type=Path, default=Path("content"), help="content folder (default: content)")
    parser.add_argument("--format", choices=("text", "github", "json"), default="text", help="output form")
    parser.add_argument("--strict", action="store_true", help="warnings fail the check too")
    parser.add_argument("--changed-only", action="store_true", help="check only files changed against --base")
    parser.add_argument("--base", default="origin/main", help="git ref --changed-only compares with")


def changed_files(content: Path, base: str) -> list[Path]:
    """Content files changed against `base` (committed since the merge base, staged, unstaged, untracked)."""

    def git(*args: str) -> list[str]:
        result = subprocess.run(["git", "-C", str(content), *args], capture_output=True, text=True, check=True)
        return [line for line in result.stdout.splitlines() if line]

    top = Path(git("rev-parse", "--show-toplevel")[0])
    names = git("diff", "--name-only", "--diff-filter=ACMR", f"{base}...HEAD")
    names += git("diff", "--name-only", "--diff-filter=ACMR", "HEAD")
    names += git("ls-files", "--others", "--exclude-standard", "--full-name")
    inside = content.resolve()
    return sorted({top / n for n in names if (top / n).resolve().is_relative_to(inside) and n.endswith(".md")})


def _label(content: Path, path: Path) -> str | None:
    """The label load_content gives a file (content/events/...), or None if it is not under content/."""
    try:
        rel = path.resolve().relative_to(content.resolve())
    except ValueError:
        return None
    return f"{content.as_posix().rstrip('/')}/{rel.as_posix()}"


def _neighbours(content: Path, loaded: Loaded) -> list[Event]:
    """Unchanged events in the year folders of the checked ones: where a duplicate would be."""
    folders = {Path(e.path).parent for e in loaded.events}
    checked = {e.path for e in loaded.events}
    found = []
    for folder in sorted(folders):
        label = folder.as_posix()
        real = content / Path(label).relative_to(content.as_posix().rstrip("/"))
        for path, file_label in markdown_files(real, [], label):
            if file_label not in checked and path.parent == real:
                event, _ = parse_entry(path.read_text(encoding="utf-8", errors="replace"), file_label)
                if event:
                    found.append(event)
    return found


def collect(content: Path, files: Iterable[Path] | None = None) -> list[Problem]:
    """Every error and warning, sorted; with `files`, only for those files and the registries."""
    only = None
    problems: list[Problem] = []
    if files is not None:
        only = set()
        for file in files:
            label = _label(content, file)
            if label is None:
                problems.append(Problem(file.as_posix(), 0, f"not inside the content folder {content.as_posix()}"))
            elif not file.is_file():
                problems.append(Problem(file.as_posix(), 0, "no such file"))
            else:
                only.add(label)
    loaded = load_content(content, only)
    try:
        validate(loaded)
    except ContentError as error:
        problems += error.problems
    others = _neighbours(content, loaded) if only is not None else []
    found = warnings(loaded.events, others=others)
    found += registry_warnings(loaded.regions, loaded.publishers, loaded.root)
    return sorted(problems + found)


def _source_line(path: str, line: int) -> str | None:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    return lines[line - 1] if 0 < line <= len(lines) else None


def format_text(problems: list[Problem]) -> str:
    """Compiler-style: `path:line:col: error: message`, the source line, a caret, then a count."""
    out = []
    for p in problems:
        where = ":".join(str(x) for x in (p.path, p.line, p.col) if x != 0)
        out.append(f"{where}: {p.severity}: {p.message}")
        source = _source_line(p.path, p.line) if p.line else None
        if source is not None:
            out.append(f"    {source}")
            indent = p.col - 1 if p.col else len(source) - len(source.lstrip())
            out.append("    " + "".join(c if c == "\t" else " " for c in source[:indent]) + "^")
    out.append(_count(problems))
    return "\n".join(out)


def _count(problems: list[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warned = len(problems) - errors
    return f"{errors} error{'s' * (errors != 1)}, {warned} warning{'s' * (warned != 1)}"


def _escape(text: str, properties: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if properties else text


def format_github(problems: list[Problem]) -> str:
    """GitHub Actions workflow commands: each problem annotates its line in the pull request."""
    out = []
    for p in problems:
        props = [f"file={_escape(p.path, True)}"]
        if p.line:
            props.append(f"line={p.line}")
        if p.col:
            props.append(f"col={p.col}")
        props.append("title=site-builder check")
        out.append(f"::{p.severity} {','.join(props)}::{_escape(p.message)}")
    out.append(_count(problems))
    return "\n".join(out)


def format_json(problems: list[Problem]) -> str:
    """The structure documented in docs/check.md; `version` changes only when it does."""
    errors = sum(p.severity == "error" for p in problems)
    document = {
        "version": JSON_VERSION,
        "errors": errors,
        "warnings": len(problems) - errors,
        "problems": [
            {"path": p.path, "line": p.line, "column": p.col, "severity": p.severity, "message": p.message}
            for p in problems
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


FORMATS = {"text": format_text, "github": format_github, "json": format_json}


def run(args: argparse.Namespace) -> int:
    files: list[Path] | None = list(args.files) if args.files else None
    if args.changed_only:
        try:
            files = (files or []) + changed_files(args.content, args.base)
        except (subprocess.CalledProcessError, FileNotFoundError, IndexError) as exc:
            detail = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else str(exc)
            print(
                f"site-builder: error: --changed-only needs a git checkout with {args.base}: {detail}", file=sys.stderr
            )
            return 2
    problems = collect(args.content, files)
    print(FORMATS[args.format](problems))
    failed = any(p.severity == "error" or args.strict for p in problems)
    return 1 if failed else 0
