"""Entry history on event pages, removed entries, releases, latest/, versions.json, the changelog.

Every test builds a real temporary Git repository (made-up test entries, not real events).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import MINIMAL_SITE, write_tree

from site_builder.build import build

ENV = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.org",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.org",
}


def entry(title: str, tallies: str = "", status: str = "", date: str = "2025-03-07", extra: str = "") -> str:
    return (
        f"---\ntitle: {title}\ndate: {date}\nregions: [hills]\n{status}{extra}"
        f"{tallies}sources:\n  - id: monitor\n---\nNarrative.\n"
    )


def killed(count: str, qualifier: str = "exact", as_of: str = "2025-03-08") -> str:
    return (
        "tallies:\n  - measure: killed\n    group: civilians\n"
        f"    count: {count}\n    qualifier: {qualifier}\n    as_of: {as_of}\n    source: monitor\n"
    )


class Repo:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.day = 0
        self.git("init", "-q", "-b", "main")
        write_tree(root / "content", MINIMAL_SITE)

    def git(self, *args: str) -> str:
        env = {**os.environ, **ENV, "GIT_AUTHOR_DATE": self.date, "GIT_COMMITTER_DATE": self.date}
        return subprocess.run(["git", *args], cwd=self.root, env=env, check=True, capture_output=True, text=True).stdout

    @property
    def date(self) -> str:
        return f"2025-04-{self.day + 1:02d}T12:00:00+00:00"

    def commit(self, message: str, files: dict[str, str] | None = None, remove: tuple[str, ...] = ()) -> str:
        self.day += 1
        write_tree(self.root / "content", files or {})
        for rel in remove:
            self.git("rm", "-q", f"content/{rel}")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = Repo(tmp_path_factory.mktemp("repo"))
    a = "events/2025/2025-03-07-a.md"
    repo.commit("Add entry A", {a: entry("Shelling of the market", killed("745", "approximately"))})
    repo.commit("Add entry B", {"events/2025/2025-03-07-b.md": entry("Second entry")})
    repo.git("tag", "v1")
    repo.commit("Revise A's figure", {a: entry("Shelling of the market", killed("1225", "at-least", "2025-03-11"))})
    repo.git("mv", "content/events/2025/2025-03-07-a.md", "content/events/2025/2025-03-07-market.md")
    repo.commit(
        "Rename A",
        {
            "events/2025/2025-03-07-market.md": entry(
                "Shelling of the market", killed("1225", "at-least", "2025-03-11"), extra="aliases: [2025-03-07-a]\n"
            )
        },
    )
    repo.commit("Remove B", remove=("events/2025/2025-03-07-b.md",))
    repo.commit(
        "Add and retract C", {"events/2025/2025-03-07-c.md": entry("Third entry", status="status: retracted\n")}
    )
    repo.git("tag", "-a", "v2", "-m", "Second release")
    repo.commit(
        "Edit C", {"events/2025/2025-03-07-c.md": entry("Third entry, corrected", status="status: retracted\n")}
    )
    output = repo.root / "output"
    build(repo.root / "content", output, releases=True, cache_dir=repo.root / ".cache")
    return output


def soup(site: Path, rel: str) -> BeautifulSoup:
    return BeautifulSoup((site / rel).read_text(encoding="utf-8"), "html.parser")


def test_revision_list_in_words_following_the_rename(site: Path) -> None:
    page = soup(site, "events/2025-03-07-market/index.html")
    rows = page.select("ol.revisions > li")
    assert [li.select_one(".subject").get_text() for li in rows] == ["Rename A", "Revise A's figure", "Add entry A"]
    changes = [[c.get_text() for c in li.select("ul li")] for li in rows]
    assert changes[1] == ["killed, civilians (Test Monitor): approximately 745 → at least 1,225"]
    assert changes[2] == ["entry created"]
    facts = [dd.get_text() for dd in page.select(".history dd")]
    assert facts == ["2 April 2025", "5 April 2025"]


def test_retraction_is_worded(site: Path) -> None:
    page = soup(site, "events/2025-03-07-c/index.html")
    changes = [c.get_text() for c in page.select("ol.revisions ul li")]
    assert "title changed: Third entry → Third entry, corrected" in changes
    assert page.select_one(".notice-retracted") is not None


def test_alias_redirects_and_removed_entries(site: Path) -> None:
    redirect = soup(site, "events/2025-03-07-a/index.html")
    assert (
        redirect.select_one("meta[http-equiv=refresh]")["content"] == "0; url=../../events/2025-03-07-market/index.html"
    )
    removed = json.loads((site / "data/deleted.json").read_text())["removed"]
    assert [(r["id"], r["subject"], r["date"], r["title"]) for r in removed] == [
        ("2025-03-07-b", "Remove B", "2025-04-06", "Second entry")
    ]
    rows = soup(site, "removed/index.html").select("table.removed tbody tr")
    assert [r["id"] for r in rows] == ["removed-2025-03-07-b"]


def test_release_folders_banners_and_switcher(site: Path) -> None:
    versions = json.loads((site / "versions.json").read_text())
    assert [r["tag"] for r in versions["releases"]] == ["v2", "v1"]
    assert versions["latest"] == "v2"
    assert (site / "versions/v1/data/events.json").is_file()
    v1_events = json.loads((site / "versions/v1/data/events.json").read_text())["events"]
    assert [e["id"] for e in v1_events] == ["2025-03-07-a", "2025-03-07-b"]
    # Entry B was removed after v1: its page in v1 says so instead of linking to the current archive.
    old_b = soup(site, "versions/v1/events/2025-03-07-b/index.html")
    banner = old_b.select_one(".notice-release")
    assert "release v1" in banner.get_text() and "no longer in the current archive" in banner.get_text()
    assert old_b.select_one(".history") is None  # a release is built without history of its own
    assert (
        "https://example.org/test/versions/v1/events/2025-03-07-b/. Release v1."
        in old_b.select_one(".citation").get_text()
    )
    v2_c = soup(site, "versions/v2/events/2025-03-07-c/index.html")
    link = v2_c.select_one(".notice-release a")
    assert link["href"] == "../../../../events/2025-03-07-c/index.html"
    assert (site / "versions/v2/events/2025-03-07-c/" / link["href"]).resolve() == (
        site / "events/2025-03-07-c/index.html"
    ).resolve()
    renamed = soup(site, "versions/v1/events/2025-03-07-a/index.html").select_one(".notice-release a")
    assert renamed["href"] == "../../../../events/2025-03-07-a/index.html"  # the alias redirects to the new id
    switcher = [a.get_text() for a in soup(site, "index.html").select("nav.versions a")]
    assert switcher == ["v2", "v1", "All versions", "Changelog"]
    latest = soup(site, "latest/events/2025-03-07-c/index.html")
    target = latest.select_one("meta[http-equiv=refresh]")["content"].split("url=")[1]
    assert (site / "latest/events/2025-03-07-c" / target).resolve() == (
        site / "versions/v2/events/2025-03-07-c/index.html"
    ).resolve()


def test_changelog_lists_added_updated_removed(site: Path) -> None:
    page = soup(site, "changelog/index.html")
    sections = {s.h2.get_text(" ", strip=True): s.get_text(" ", strip=True) for s in page.select("main section")}
    v2 = next(text for title, text in sections.items() if title.startswith("v2"))
    assert "Added Third entry Updated Shelling of the market" in v2  # A was renamed, with its old id in aliases
    assert "killed, civilians (Test Monitor): approximately 745 → at least 1,225" in v2
    assert "Removed Second entry" in v2
    unreleased = next(text for title, text in sections.items() if title.startswith("Since v2"))
    assert "title changed: Third entry → Third entry, corrected" in unreleased
    atom = (site / "changelog/changelog.atom").read_text()
    assert atom.count("<entry>") == 2 and "<title>v2</title>" in atom


def test_unchanged_release_is_reused(site: Path, tmp_path: Path) -> None:
    stamp = site / "versions/v1/.release.json"
    marker = site / "versions/v1/reuse-marker.txt"
    marker.write_text("left by the test")
    repo_root = site.parent
    logs: list[str] = []
    build(repo_root / "content", site, releases=True, cache_dir=repo_root / ".cache", log=logs.append)
    assert "release v1: reused" in logs and "release v2: reused" in logs
    assert (site / "versions/v1/reuse-marker.txt").read_text() == "left by the test"  # copied, not rebuilt
    assert stamp.is_file()


def test_content_outside_git_builds_without_history(tmp_path: Path) -> None:
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, "events/2025/2025-03-07-a.md": entry("A")})
    build(content, tmp_path / "out", releases=True)
    page = soup(tmp_path / "out", "events/2025-03-07-a/index.html")
    assert "not kept in Git" in page.select_one(".history").get_text()
    assert not (tmp_path / "out/versions.json").exists()
