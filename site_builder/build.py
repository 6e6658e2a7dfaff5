"""The build, step by step: load, validate, render, write, index, swap in."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .load import load_content
from .model import Archive
from .render import THEMES, assets, render_site
from .search import index_site
from .validate import validate
from .write import Writer


@dataclass
class Timings:
    steps: list[tuple[str, float]] = field(default_factory=list)

    def step(self, name: str, started: float) -> float:
        now = time.perf_counter()
        self.steps.append((name, now - started))
        return now


def check(content: Path) -> Archive:
    """Load and validate; raises ContentError listing every problem."""
    return validate(load_content(content))


def build(
    content: Path,
    output: Path,
    theme: Path = THEMES / "default",
    log: Callable[[str], None] = lambda _: None,
) -> tuple[Archive, int]:
    """Build the site into `output`; returns the archive and the number of pages written."""
    timings = Timings()
    now = time.perf_counter()
    loaded = load_content(content)
    now = timings.step("load", now)
    archive = validate(loaded)
    now = timings.step("validate", now)
    pages = list(render_site(archive, theme, content / "templates"))
    now = timings.step("render", now)
    writer = Writer(output)
    try:
        writer.write_all((p.path, p.content, "render") for p in pages)
        for rel, source in assets(theme):
            writer.copy(rel, source)
        now = timings.step("write", now)
        # Search indexes the finished pages, so it runs last, on the staged folder.
        index_site(writer.staging)
        now = timings.step("search index", now)
        writer.commit()
    except BaseException:
        writer.abort()
        raise
    timings.step("swap", now)
    log("  ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in timings.steps))
    return archive, len(pages)
