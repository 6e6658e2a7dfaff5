"""`site-builder check`: the three output formats (golden files), --strict, file arguments, --changed-only.

Refresh the golden files after an intended change with: UPDATE_GOLDEN=1 pytest tests/test_checkcmd.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MINIMAL_SITE, event, write_tree

GOLDEN = Path(__file__).parent / "golden"

# A made-up broken entry (test data): errors and warnings of several kinds.
BROKEN = """---
title: Shelling of the market
date: 2025-02-30
regions: [hills, atlantis]
tallies:
  - measure: killed
    count: 1,200
    source: monitor
  - measure: injured
    count: 4
    source: nobody
sources:
  - id: monitor
    url: javascript:alert(1)
---
See [this](javascript:alert(2)).
"""


def tree(tmp_path: Path, **extra: str) -> Path:
    return write_tree(
        tmp_path / "content",
        {**MINIMAL_SITE, "events/2025/2025-03-07-market.md": event(title="Shelling of the market"), **extra},
    )


def check(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "site_builder", "check", *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("form", ["text", "github", "json"])
def test_output_formats_match_golden_files(tmp_path: Path, form: str) -> None:
    tree(tmp_path, **{"events/2025/2025-03-08-market.md": BROKEN})
    result = check(tmp_path, "--format", form)
    assert result.returncode == 1, result.stderr
    golden = GOLDEN / f"check.{form}"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")


def test_json_structure(tmp_path: Path) -> None:
    tree(tmp_path, **{"events/2025/2025-03-08-market.md": BROKEN})
    document = json.loads(check(tmp_path, "--format", "json").stdout)
    assert set(document) == {"version", "errors", "warnings", "problems"}
    assert document["version"] == 1
    assert document["errors"] == sum(p["severity"] == "error" for p in document["problems"])
    assert all(set(p) == {"path", "line", "column", "severity", "message"} for p in document["problems"])


def test_warnings_fail_only_with_strict(tmp_path: Path) -> None:
    tree(tmp_path)  # the minimal event's source has no url: one warning
    relaxed = check(tmp_path)
    assert relaxed.returncode == 0
    assert relaxed.stdout.splitlines()[-1] == "0 errors, 1 warning"
    assert check(tmp_path, "--strict").returncode == 1


def test_file_arguments_check_those_files_against_the_whole_archive(tmp_path: Path) -> None:
    content = tree(
        tmp_path,
        **{
            "events/2025/2025-03-08-market.md": BROKEN,  # broken, but not among the files checked
            "events/2024/2025-03-07-market.md": event(date="2025-03-07", title="Another"),  # same id as 2025/
            "events/2025/2025-03-07-port.md": event(title="Protest at the port", regions="[nowhere]"),
        },
    )
    result = check(
        tmp_path,
        "--format",
        "json",
        str(content / "events/2025/2025-03-07-port.md"),
        "content/events/2024/2025-03-07-market.md",
    )
    problems = [(p["path"], p["message"]) for p in json.loads(result.stdout)["problems"] if p["severity"] == "error"]
    assert problems == [
        (
            "content/events/2024/2025-03-07-market.md",
            "maps to the same URL 'events/2025-03-07-market/' as content/events/2025/2025-03-07-market.md; ids must be unique",
        ),
        ("content/events/2025/2025-03-07-port.md", "unknown region 'nowhere': add it to regions.yaml or fix the id"),
    ]
    # The duplicate-looking event is found among the unchanged ones in the same year folder.
    dup = check(tmp_path, "--format", "json", "content/events/2024/2025-03-07-market.md")
    assert result.returncode == 1 and dup.returncode == 1


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_changed_only_checks_what_a_branch_touches(tmp_path: Path) -> None:
    tree(tmp_path, **{"events/2025/2025-03-08-market.md": BROKEN})
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "--allow-empty", "-m", "base")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "archive")
    git(tmp_path, "checkout", "-q", "-b", "contribution")
    (tmp_path / "content/events/2025/2025-03-09-new.md").write_text(event(date="2025-03-09", title="A new event"))
    result = check(tmp_path, "--changed-only", "--base", "HEAD", "--format", "json")
    document = json.loads(result.stdout)
    assert {p["path"] for p in document["problems"]} == {"content/events/2025/2025-03-09-new.md"}
    assert result.returncode == 0  # the broken, unchanged entry is not this branch's business
    assert check(tmp_path, "--changed-only", "--base", "no-such-ref").returncode == 2


def test_file_arguments_that_are_not_content_files(tmp_path: Path) -> None:
    tree(tmp_path)
    (tmp_path / "notes.md").write_text("not content")
    result = check(tmp_path, "content/events/2025/missing.md", "notes.md")
    assert result.returncode == 1
    assert result.stdout.splitlines()[:2] == [
        "content/events/2025/missing.md: error: no such file",
        "notes.md: error: not inside the content folder content",
    ]
