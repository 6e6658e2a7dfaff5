"""Read content/ from disk into parsed records: the only stage that touches the content tree.

Symbolic links are reported, not followed, so nothing outside content/ is ever read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from .errors import Problem
from .fields import CONTROL
from .model import MEASURES, Event, Page, Publisher, Region, Site
from .parse import Registry, parse_entry, parse_page, parse_publishers, parse_regions, parse_site


@dataclass
class Loaded:
    root: str = "content"
    site: Site | None = None
    regions: list[Region] = field(default_factory=list)
    publishers: list[Publisher] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    pages: list[Page] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Files left unparsed by `only`: (id, file) pairs, still counted for unique ids and URLs.
    skipped: list[tuple[str, str]] = field(default_factory=list)


# The largest file read: an event or a page (a long narrative is a few tens of KiB), and a
# registry. Larger files are refused unread, so a stray dump cannot exhaust memory or time.
MAX_BYTES = 1 << 20
MAX_REGISTRY_BYTES = 8 << 20


def _line_of(text: str, at: int) -> int:
    """The line (1-based) of character `at`, with \\n, \\r\\n and \\r all ending lines."""
    before = text[:at]
    return before.count("\n") + before.count("\r") - before.count("\r\n") + 1


def _read(path: Path, label: str, problems: list[Problem], limit: int = MAX_BYTES) -> str | None:
    """The file's text, with line ends made \\n (as `read_text` does); None, with a problem, when
    it is a link, too large, not UTF-8 or holds control characters."""
    if path.is_symlink():
        problems.append(Problem(label, 1, "symbolic links are not followed: replace the link with the file"))
        return None
    try:
        with path.open("rb") as file:
            data = file.read(limit + 1)
    except OSError as exc:
        problems.append(Problem(label, 1, f"cannot read: {exc.strerror}"))
        return None
    if len(data) > limit:
        problems.append(Problem(label, 1, f"file too large: the limit is {limit >> 20} MiB; split it in several"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = data[: exc.start].decode("utf-8")
        line = _line_of(before, len(before))
        problems.append(
            Problem(label, line, f"not UTF-8 text: {exc.reason} at byte {exc.start}; save the file as UTF-8")
        )
        return None
    bad = CONTROL.search(text)
    if bad is not None:
        char = bad.group()
        name = "a NUL byte" if char == "\0" else f"control character U+{ord(char):04X}"
        problems.append(Problem(label, _line_of(text, bad.start()), f"{name} is not allowed in a text file: remove it"))
        return None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


T = TypeVar("T")


def _registry(
    path: Path, label: str, parse: Callable[[str, str], tuple[list[T], list[Problem]]], problems: list[Problem]
) -> list[T]:
    if not path.exists():
        problems.append(Problem(label, 0, "missing: this file is required"))
        return []
    text = _read(path, label, problems, MAX_REGISTRY_BYTES)
    if text is None:
        return []
    records, found = parse(text, label)
    problems += found
    return records


def markdown_files(folder: Path, problems: list[Problem], label: str) -> list[tuple[Path, str]]:
    """Every `*.md` under `folder`, sorted, without following symbolic links."""
    if folder.is_symlink():  # os.walk would follow it
        problems.append(Problem(label, 1, "symbolic links are not followed: replace the link with the folder"))
        return []
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        rel = here.relative_to(folder).as_posix()
        prefix = label if rel == "." else f"{label}/{rel}"  # the folder's label, worked out once
        for name in sorted(dirnames):
            if (here / name).is_symlink():
                problems.append(Problem(f"{prefix}/{name}", 1, "symbolic links are not followed"))
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and not (here / d).is_symlink())
        found += [(here / name, f"{prefix}/{name}") for name in sorted(filenames) if name.endswith(".md")]
    return found


def _refuse_links(folder: Path, label: str, problems: list[Problem]) -> None:
    """Site templates are read by Jinja, which follows links: refuse any link in that folder."""
    if folder.is_symlink():
        problems.append(Problem(label, 1, "symbolic links are not followed"))
        return
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            if path.is_symlink():
                problems.append(
                    Problem(f"{label}/{path.relative_to(folder).as_posix()}", 1, "symbolic links are not followed")
                )


def load_content(content: Path, only: set[str] | None = None) -> Loaded:
    """Parse site.yaml, the registries, pages and events; collect every problem on the way.

    With `only` (file labels such as 'content/events/2025/x.md'), other pages and events are not
    parsed: their ids are kept so that references and unique URLs are still checked.
    """
    root = content.as_posix().rstrip("/")
    out = Loaded(root=root)
    if not content.is_dir():
        out.problems.append(Problem(root, 0, "content folder not found"))
        return out

    site_text = (
        _read(content / "site.yaml", f"{root}/site.yaml", out.problems) if (content / "site.yaml").exists() else None
    )
    if site_text is None and not (content / "site.yaml").exists():
        out.problems.append(
            Problem(
                f"{root}/site.yaml", 0, "missing: every archive needs a site.yaml with title, description and base_url"
            )
        )
    if site_text is not None:
        out.site, problems = parse_site(site_text, f"{root}/site.yaml")
        out.problems += problems
    measures = out.site.measures if out.site else MEASURES

    out.regions = _registry(content / "regions.yaml", f"{root}/regions.yaml", parse_regions, out.problems)
    if (content / "sources.yaml").exists():
        out.publishers = _registry(content / "sources.yaml", f"{root}/sources.yaml", parse_publishers, out.problems)

    registry = Registry(frozenset(r.id for r in out.regions), frozenset(p.id for p in out.publishers))
    _refuse_links(content / "templates", f"{root}/templates", out.problems)
    for path, label in markdown_files(content / "pages", out.problems, f"{root}/pages"):
        if only is not None and label not in only:
            out.skipped.append((path.stem, label))
            continue
        text = _read(path, label, out.problems)
        if text is not None:
            page, problems = parse_page(text, label)
            out.problems += problems
            if page:
                out.pages.append(page)

    for path, label in markdown_files(content / "events", out.problems, f"{root}/events"):
        if only is not None and label not in only:
            out.skipped.append((path.stem, label))
            continue
        text = _read(path, label, out.problems)
        if text is not None:
            event, problems = parse_entry(text, label, measures, registry)
            out.problems += problems
            if event:
                out.events.append(event)
    return out
