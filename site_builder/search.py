"""Index the finished site with Pagefind's bundled binary (pagefind_bin: nothing is downloaded)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pagefind_bin import get_executable


class SearchIndexError(Exception):
    pass


def index_site(site: Path) -> str:
    """Write the Pagefind bundle into `site/pagefind/`; returns Pagefind's summary line."""
    command = [str(get_executable()), "--site", str(site), "--keep-index-url", "--silent"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SearchIndexError(f"Pagefind failed ({result.returncode}): {result.stderr.strip() or result.stdout.strip()}")
    if not (site / "pagefind" / "pagefind.js").is_file():
        raise SearchIndexError("Pagefind ran but wrote no pagefind/pagefind.js")
    return result.stdout.strip()
