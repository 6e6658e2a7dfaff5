"""Shared fixtures: the example archive built once, and parsed pages of it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from hypothesis import settings
from playwright.sync_api import Browser, sync_playwright

from site_builder.build import build

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "content"
# Debian's Chromium, driven by Playwright (never `playwright install`), with the flags that keep it
# from calling home.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Property tests (test_properties.py): CI runs the same examples every time and prints a blob to
# reproduce a failure; local runs keep failing examples in .hypothesis/ (git-ignored) and retry them.
# No deadline: the machine is shared with benchmarks. HYPOTHESIS_PROFILE=ci picks CI's locally.
settings.register_profile("ci", derandomize=True, print_blob=True, database=None, deadline=None)
settings.register_profile("dev", print_blob=True, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def require(ok: object, message: str) -> None:
    """Skip a test whose tool is missing, except under CI, where that is a failure."""
    if not ok:
        if in_ci():
            pytest.fail(message + " (required under CI)")
        pytest.skip(message + ": `make test` installs it")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One Chromium for every browser test of the run."""
    require(CHROMIUM.is_file(), f"{CHROMIUM} is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example archive in content/, built once per test run."""
    output = tmp_path_factory.mktemp("example") / "output"
    build(EXAMPLE, output)
    return output


@pytest.fixture(scope="session")
def page(example_site: Path) -> Callable[[str], BeautifulSoup]:
    """Parse a built page by its path in the output, e.g. page('events/x/index.html')."""

    def parse(path: str) -> BeautifulSoup:
        return BeautifulSoup((example_site / path).read_text(encoding="utf-8"), "html.parser")

    return parse


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write a content tree from {relative path: text}; returns root."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


MINIMAL_SITE = {
    "site.yaml": "title: Test archive\ndescription: A test archive.\nbase_url: https://example.org/test/\n",
    "regions.yaml": "- id: north\n  name: North\n- id: hills\n  name: Hills\n  parent: north\n",
    "sources.yaml": "- id: monitor\n  name: Test Monitor\n",
}


def event(title: str = "Event", date: str = "2025-03-07", regions: str = "[hills]", extra: str = "") -> str:
    """A small valid event file (test data, not real events)."""
    return f"---\ntitle: {title}\ndate: {date}\nregions: {regions}\n{extra}sources:\n  - id: monitor\n---\nNarrative.\n"
