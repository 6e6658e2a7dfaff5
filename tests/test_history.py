"""history.py: entry histories read from real Git repositories that the tests build.

Each test makes a repository in tmp_path with `git init -b main`, fixed names and dates (so commit
ids and dates are the same on every run), and Git configuration isolated from the machine's.
The piecewise front matter reader is compared with PyYAML on the fixtures and on seeded random
variants of them.
"""

from __future__ import annotations

import os
import pickle
import random
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE, event

from site_builder import frontmatter, history
from site_builder.frontmatter import front_matter, load_front_matter
from site_builder.history import CACHE_FILE, read_history
from site_builder.model import History, Removal
from site_builder.parse import split_front_matter
from site_builder.scaffold import event_text

FIXTURES = Path(__file__).parent / "fixtures" / "entries"
START = datetime(2025, 3, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def git_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Git as on a fresh machine, for the tests' commands and for read_history's alike."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "test@example.org")


class Repo:
    """A Git repository with a content folder; each commit is one day after the previous one."""

    def __init__(self, root: Path, content: str = "content") -> None:
        self.root = root
        self.content = root / content if content else root
        self.content.mkdir(parents=True, exist_ok=True)
        self.when = START
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str, when: datetime | None = None) -> str:
        env = dict(os.environ)
        if when is not None:
            env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = when.isoformat()
        done = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True, text=True, check=True, env=env)
        return done.stdout.strip()

    def write(self, files: dict[str, str | None]) -> None:
        for rel, text in files.items():
            path = self.content / rel
            if text is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")

    def commit(self, subject: str, files: dict[str, str | None] | None = None, when: datetime | None = None) -> str:
        """Write `files` (None deletes), commit everything; the new commit's id."""
        self.write(files or {})
        self.git("add", "-A")
        self.when = when or self.when + timedelta(days=1)
        self.git("commit", "-q", "--allow-empty", "-m", subject, when=self.when)
        return self.git("rev-parse", "HEAD")

    def move(self, old: str, new: str) -> None:
        (self.content / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", str(self.content / old), str(self.content / new))

    def day(self) -> str:
        return self.when.strftime("%Y-%m-%d")


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "archive")


def entry(title: str, extra: str = "") -> str:
    return event(title=title, extra=extra)


def read(repo: Repo, cache: Path | None = None) -> History:
    result = read_history(repo.content, cache)
    assert result is not None
    return result


# --- revisions ------------------------------------------------------------------------------------


def test_revisions_of_an_entry_oldest_first(repo: Repo) -> None:
    first = repo.commit("Add the event", {"events/2025/a.md": entry("First title")})
    day1 = repo.day()
    second = repo.commit("Fix the title", {"events/2025/a.md": entry("Second title")})
    day2 = repo.day()
    tally = "tallies:\n  - measure: killed\n    count: 12\n    source: monitor\n"
    third = repo.commit("Add a figure", {"events/2025/a.md": entry("Second title", tally)})

    result = read(repo)
    assert result.head == third
    revisions = result.revisions["a"]
    assert [(r.commit, r.date, r.subject) for r in revisions] == [
        (first, day1, "Add the event"),
        (second, day2, "Fix the title"),
        (third, repo.day(), "Add a figure"),
    ]
    assert revisions[0].before is None
    assert revisions[0].after == {
        "title": "First title",
        "date": "2025-03-07",
        "regions": ["hills"],
        "sources": [{"id": "monitor"}],
    }
    assert revisions[1].before is revisions[0].after  # same blob, same snapshot
    assert revisions[2].before is revisions[1].after
    after = revisions[2].after
    assert after is not None
    assert after["tallies"] == [{"measure": "killed", "count": "12", "source": "monitor"}]  # strings, untyped
    assert result.removed == ()


def test_commit_date_is_the_committer_date_in_utc(repo: Repo) -> None:
    repo.commit("Add", {"events/2025/a.md": entry("A")}, when=datetime.fromisoformat("2025-03-07T23:30:00-05:00"))
    assert read(repo).revisions["a"][0].date == "2025-03-08"


def test_edits_to_the_narrative_only_are_revisions_with_equal_snapshots(repo: Repo) -> None:
    repo.commit("Add", {"events/2025/a.md": entry("A")})
    repo.commit("Reword", {"events/2025/a.md": entry("A").replace("Narrative.", "Better narrative.")})
    first, second = read(repo).revisions["a"]
    assert second.subject == "Reword"
    assert second.before == second.after == first.after


def test_a_rename_keeps_the_history_under_the_new_id(repo: Repo) -> None:
    repo.commit("Add", {"events/2025/2025-03-07-old.md": entry("A")})
    repo.commit("Edit", {"events/2025/2025-03-07-old.md": entry("A, edited")})
    repo.move("events/2025/2025-03-07-old.md", "events/2025/2025-03-07-new.md")
    repo.commit("Rename", {"events/2025/2025-03-07-new.md": entry("A, edited", "aliases: [2025-03-07-old]\n")})

    result = read(repo)
    assert list(result.revisions) == ["2025-03-07-new"]
    revisions = result.revisions["2025-03-07-new"]
    assert [r.subject for r in revisions] == ["Add", "Edit", "Rename"]
    assert revisions[2].before == revisions[1].after
    assert revisions[2].after is not None and revisions[2].after["aliases"] == ["2025-03-07-old"]
    assert result.removed == ()


def test_a_move_between_year_folders_keeps_the_history(repo: Repo) -> None:
    repo.commit("Add", {"events/2024/x.md": entry("X")})
    repo.move("events/2024/x.md", "events/2025/x.md")
    repo.commit("Move to 2025")
    repo.commit("Edit", {"events/2025/x.md": entry("X, edited")})
    assert [r.subject for r in read(repo).revisions["x"]] == ["Add", "Move to 2025", "Edit"]


def test_a_deleted_entry_is_listed_as_removed(repo: Repo) -> None:
    repo.commit("Add", {"events/2025/c.md": entry("C"), "events/2025/keep.md": entry("Keep")})
    repo.commit("Edit", {"events/2025/c.md": entry("C, last")})
    deleted = repo.commit("Remove c", {"events/2025/c.md": None})

    result = read(repo)
    assert list(result.revisions) == ["keep"]
    (removal,) = result.removed
    assert removal == Removal(
        id="c",
        path="content/events/2025/c.md",
        commit=deleted,
        date=repo.day(),
        subject="Remove c",
        last=result.removed[0].last,
    )
    assert removal.last is not None and removal.last["title"] == "C, last"


def test_removals_are_sorted_by_date_then_id(repo: Repo) -> None:
    repo.commit("Add", {f"events/2025/{name}.md": entry(name) for name in ("b", "a", "z")})
    repo.commit("Remove z", {"events/2025/z.md": None})
    repo.commit("Remove b and a", {"events/2025/b.md": None, "events/2025/a.md": None})
    assert [r.id for r in read(repo).removed] == ["z", "a", "b"]


def test_an_entry_deleted_and_added_again_is_not_removed(repo: Repo) -> None:
    repo.commit("Add", {"events/2025/d.md": entry("D")})
    repo.commit("Remove", {"events/2025/d.md": None})
    repo.commit("Restore", {"events/2025/d.md": entry("D, restored")})

    result = read(repo)
    assert result.removed == ()
    revisions = result.revisions["d"]
    assert [r.subject for r in revisions] == ["Add", "Remove", "Restore"]
    assert revisions[1].after is None and revisions[2].before is None


def test_a_file_taking_over_an_id_in_its_aliases_keeps_its_history(repo: Repo) -> None:
    """Rewritten while renamed, the file is no rename to Git; `aliases` joins the two."""
    repo.commit("Add", {"events/2025/a.md": entry("Short")})
    rewritten = entry("A completely different and much longer title", "aliases: [a]\ntags: [one, two, three]\n")
    rewritten = rewritten.replace("Narrative.", "A new narrative, written from scratch, sharing nothing.\n" * 5)
    repo.commit("Replace", {"events/2025/a.md": None, "events/2025/b.md": rewritten})

    result = read(repo)
    assert result.removed == ()
    revisions = result.revisions["b"]
    assert [r.subject for r in revisions] == ["Add", "Replace"]
    assert revisions[1].before == revisions[0].after  # the deletion and the addition, joined
    assert revisions[1].after is not None and revisions[1].after["aliases"] == ["a"]


def test_broken_revisions_have_no_snapshot(repo: Repo) -> None:
    repo.commit("Add", {"events/2025/a.md": entry("A")})
    repo.commit("Break the YAML", {"events/2025/a.md": "---\ntitle: [unclosed\n---\nText.\n"})
    repo.commit("Drop the front matter", {"events/2025/a.md": "Just text.\n"})
    repo.commit("A list, not a mapping", {"events/2025/a.md": "---\n- a\n- b\n---\n"})
    repo.commit("Repair", {"events/2025/a.md": entry("A")})

    revisions = read(repo).revisions["a"]
    assert [r.after is None for r in revisions] == [False, True, True, True, False]
    assert [r.before is None for r in revisions] == [True, False, True, True, True]


def test_files_outside_events_are_ignored(repo: Repo) -> None:
    repo.commit(
        "Add",
        {
            "events/2025/a.md": entry("A"),
            "events/2025/notes.txt": "not an entry",
            "events/.drafts/hidden.md": entry("Hidden"),
            "pages/about.md": "---\ntitle: About\n---\n",
            "site.yaml": "title: Test\n",
        },
    )
    (repo.root / "README.md").write_text("# Archive\n", encoding="utf-8")
    repo.commit("Readme")
    result = read(repo)
    assert list(result.revisions) == ["a"]
    assert len(result.revisions["a"]) == 1


def test_odd_file_names_and_subjects(repo: Repo) -> None:
    subject = 'Añadir: حدث جديد — "quoted"\ttab'
    repo.commit(subject, {'events/2025/un évènement \' "x".md': entry("A")})
    ((event_id, revisions),) = read(repo).revisions.items()
    assert event_id == 'un évènement \' "x"'
    assert revisions[0].subject == subject


def test_paths_that_look_like_log_records(repo: Repo) -> None:
    """Paths are read by position in `git log -z` output, so none can pass for a record."""
    names = [":100644 100644 x y M.md", "\x1eabc\x1f1\x1fs.md", "a\nb.md"]
    repo.commit("Add", {f"events/2025/{name}": entry(name) for name in names})
    repo.move(f"events/2025/{names[0]}", "events/2024/moved.md")
    repo.commit("Move")
    assert sorted(read(repo).revisions) == sorted(["\x1eabc\x1f1\x1fs", "a\nb", "moved"])


def test_a_content_folder_at_the_repository_root(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "archive", content="")
    repo.commit("Add", {"events/2025/a.md": entry("A")})
    assert list(read(repo).revisions) == ["a"]


def test_uncommitted_edits_are_not_in_the_history(repo: Repo) -> None:
    repo.commit("Add", {"events/2025/a.md": entry("A")})
    repo.write({"events/2025/a.md": entry("A, not committed"), "events/2025/new.md": entry("New")})
    result = read(repo)
    assert list(result.revisions) == ["a"]
    assert result.revisions["a"][-1].after == load_front_matter(front_matter(entry("A")) or "")


def test_merge_commits_count_on_the_first_parent(repo: Repo) -> None:
    repo.commit("Add", {"events/2025/a.md": entry("A"), "events/2025/b.md": entry("B")})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("Edit on the side", {"events/2025/a.md": entry("A, from the side")})
    repo.git("checkout", "-q", "main")
    repo.commit("Edit b", {"events/2025/b.md": entry("B, edited")})
    repo.when += timedelta(days=1)
    repo.git("merge", "-q", "--no-ff", "side", "-m", "Merge the side branch", when=repo.when)

    result = read(repo)
    a = result.revisions["a"]
    assert [r.subject for r in a] == ["Add", "Merge the side branch"]
    assert a[1].before == a[0].after and a[1].after is not None and a[1].after["title"] == "A, from the side"
    assert [r.subject for r in result.revisions["b"]] == ["Add", "Edit b"]


# --- no Git ---------------------------------------------------------------------------------------


def test_a_folder_outside_git_has_no_history(tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "events").mkdir(parents=True)
    assert read_history(content) is None
    assert read_history(content, tmp_path / "cache") is None
    assert not (tmp_path / "cache").exists()


def test_a_repository_without_commits_has_no_history(tmp_path: Path) -> None:
    repo = Repo(tmp_path / "archive")
    repo.write({"events/2025/a.md": entry("A")})
    assert read_history(repo.content) is None


def test_without_git_there_is_no_history(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.commit("Add", {"events/2025/a.md": entry("A")})
    monkeypatch.setenv("PATH", str(repo.root / "no-such-folder"))
    assert read_history(repo.content) is None


# --- cache ------------------------------------------------------------------------------------------


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The arguments of every `git log` that read_history starts."""
    calls: list[list[str]] = []
    popen = subprocess.Popen

    def spy(args: Any, *rest: Any, **options: Any) -> Any:
        if "log" in args:
            calls.append(list(args))
        return popen(args, *rest, **options)

    monkeypatch.setattr(history.subprocess, "Popen", spy)
    return calls


def _history_with_cache(repo: Repo, tmp_path: Path) -> tuple[Path, History]:
    repo.commit("Add", {"events/2025/a.md": entry("A"), "events/2025/b.md": entry("B")})
    repo.commit("Edit", {"events/2025/a.md": entry("A, edited")})
    cache = tmp_path / "cache"
    return cache, read(repo, cache)


def test_the_cache_answers_when_nothing_was_committed(repo: Repo, tmp_path: Path, logs: list[list[str]]) -> None:
    cache, first = _history_with_cache(repo, tmp_path)
    assert len(logs) == 1
    assert (cache / CACHE_FILE).is_file()
    assert read(repo, cache) == first
    assert len(logs) == 1  # no git log: the cache alone
    assert first == read(repo)


def test_new_commits_are_read_alone_and_added(repo: Repo, tmp_path: Path, logs: list[list[str]]) -> None:
    cache, first = _history_with_cache(repo, tmp_path)
    repo.move("events/2025/b.md", "events/2024/b.md")
    repo.commit("Move b")
    repo.commit("Add c", {"events/2025/c.md": entry("C")})
    repo.commit("Remove a", {"events/2025/a.md": None})
    head = repo.git("rev-parse", "HEAD")

    updated = read(repo, cache)
    assert f"{first.head}..{head}" in logs[-1]  # only the new commits
    assert updated == read(repo)
    assert [r.subject for r in updated.revisions["b"]] == ["Add", "Move b"]
    assert [r.id for r in updated.removed] == ["a"]
    assert read(repo, cache) == updated
    assert len(logs) == 3  # the first read, the update, one from scratch; not the last


def test_commits_outside_the_events_move_the_head(repo: Repo, tmp_path: Path, logs: list[list[str]]) -> None:
    cache, first = _history_with_cache(repo, tmp_path)
    head = repo.commit("Site settings", {"site.yaml": "title: Test\n"})
    updated = read(repo, cache)
    assert f"{first.head}..{head}" in logs[-1]
    assert updated.head == head
    assert updated.revisions == first.revisions
    assert updated == read(repo)


def test_a_rewritten_history_is_read_again(repo: Repo, tmp_path: Path, logs: list[list[str]]) -> None:
    cache, _ = _history_with_cache(repo, tmp_path)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.commit("Edit differently", {"events/2025/a.md": entry("A, edited differently")})

    rewritten = read(repo, cache)
    assert not any(".." in arg for arg in logs[-1])  # from scratch
    assert rewritten == read(repo)
    assert [r.subject for r in rewritten.revisions["a"]] == ["Add", "Edit differently"]


def test_a_head_moved_back_is_read_again(repo: Repo, tmp_path: Path) -> None:
    cache, _ = _history_with_cache(repo, tmp_path)
    repo.git("reset", "-q", "--hard", "HEAD~1")
    assert [r.subject for r in read(repo, cache).revisions["a"]] == ["Add"]


def test_a_cache_of_a_side_branch_is_not_extended_along_a_merge(repo: Repo, tmp_path: Path) -> None:
    """The cached head is an ancestor of HEAD, but not on its first-parent chain."""
    repo.commit("Add", {"events/2025/a.md": entry("A")})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("Side edit", {"events/2025/a.md": entry("A, side")})
    cache = tmp_path / "cache"
    read(repo, cache)
    repo.git("checkout", "-q", "main")
    repo.commit("Main edit", {"events/2025/b.md": entry("B")})
    repo.when += timedelta(days=1)
    repo.git("merge", "-q", "--no-ff", "side", "-m", "Merge side", when=repo.when)
    assert read(repo, cache) == read(repo)


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage", b"site-builder history cache 1\n\xff\xff", b"site-builder history cache 1\n" + b"\0" * 8],
)
def test_a_corrupt_cache_is_ignored_and_replaced(
    repo: Repo, tmp_path: Path, logs: list[list[str]], content: bytes
) -> None:
    cache, first = _history_with_cache(repo, tmp_path)
    (cache / CACHE_FILE).write_bytes(content)
    assert read(repo, cache) == first
    assert len(logs) == 2
    assert read(repo, cache) == first
    assert len(logs) == 2  # the cache was written again


class _Planted:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))


def test_a_planted_cache_file_cannot_run_code(repo: Repo, tmp_path: Path) -> None:
    cache, first = _history_with_cache(repo, tmp_path)
    marker = tmp_path / "planted"
    payload = pickle.dumps((1, 2, 3, _Planted(marker)))
    (cache / CACHE_FILE).write_bytes(b"site-builder history cache 1\n" + len(payload).to_bytes(8, "little") + payload)
    assert read(repo, cache) == first
    assert not marker.exists()


def test_a_cache_of_another_repository_is_not_used(repo: Repo, tmp_path: Path) -> None:
    cache, _ = _history_with_cache(repo, tmp_path)
    other = Repo(tmp_path / "other")
    other.commit("Add", {"events/2025/z.md": entry("Z")})
    assert list(read(other, cache).revisions) == ["z"]
    assert list(read(repo, cache).revisions) == ["a", "b"]


def test_a_cache_that_cannot_be_written_is_no_error(repo: Repo, tmp_path: Path) -> None:
    repo.commit("Add", {"events/2025/a.md": entry("A")})
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    assert list(read(repo, blocked / "cache").revisions) == ["a"]


# --- front matter: the piecewise reader against PyYAML -----------------------------------------------

BASE = """\
# A comment before the first key
title: Killings near the coast
summary: >-
  According to SOHR, about 745 civilians were killed on 7 and 8 March
  2025 in around 30 “massacres”.

  A second paragraph.
date: 2025-03-07/2025-03-08   # an interval
regions: [latakia, tartous, hama]
tags: []
status: published
confidence:
  grade: fair
  note: >
    The figures come from one monitor.
tallies:
  - measure: killed
    group: civilians
    count: 745
    qualifier: approximately
    verbatim: "approximately 745 civilians"
    as_of: 2025-03-08
    source: sohr
  - measure: displaced
    count: 100  # at least
    verbatim: 'hundreds of residents, it''s said'
    source: news-report-2025-03
statements:
  - speaker: Activists on the ground
    kind: quote
    text: |
      a state of horror
      and fear
  -   speaker: Someone
      text: |-
        Literal.
sources:
- id: sohr
  url: https://example.org/a#b?c=d:e
- id: news-report-2025-03
aliases:
  - old-id
empty:
"""

SNIPPETS = [
    *(": ", " #", "#", "- ", "-", "'", '"', "[", "]", "{", "}", ",", "&a ", "*a", "!t ", "|", ">", ">-", "|+"),
    *("|2", "? ", "%", "@", "`", "\t", "\xa0", " ", "  ", "\n", "\n  ", "\n- ", "\n#c", "\\", "''", "~", "---"),
    *(":", "\r", "\n\n", "x: y", "\ufeff", "\x07", "\u2028", "a:b", "{a: b}", "[a, b]", "  - k: v\n"),
]


def _fixture_front_matters() -> list[str]:
    out = []
    for path in sorted(FIXTURES.glob("*.md")):
        for block in re.findall(r"^\.\n(---\n.*?)\n\.$", path.read_text(encoding="utf-8"), re.M | re.S):
            text = front_matter(block + "\n")
            if text is not None:
                out.append(text)
    for path in sorted(EXAMPLE.glob("events/**/*.md")):
        text = front_matter(path.read_text(encoding="utf-8"))
        assert text is not None
        out.append(text)
    scaffold = front_matter(event_text("Killings on the coast", "2025-03-07", ["latakia"], ["killings"]))
    assert scaffold is not None
    return [*out, scaffold, BASE]


def _variants(bases: list[str], count: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    for _ in range(count):
        lines = rng.choice(bases).split("\n")
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(lines))
            move = rng.randrange(5)
            if move == 0:
                at = rng.randint(0, len(lines[i]))
                lines[i] = lines[i][:at] + rng.choice(SNIPPETS) + lines[i][at:]
            elif move == 1:
                at = rng.randint(0, len(lines[i]))
                lines[i] = lines[i][:at] + lines[i][at + rng.randint(1, 4) :]
            elif move == 2:
                lines.insert(i, lines[rng.randrange(len(lines))])
            elif move == 3:
                lines[i] = " " * rng.randint(1, 3) + lines[i] if rng.random() < 0.6 else lines[i][1:]
            else:
                j = rng.randrange(len(lines))
                lines[i], lines[j] = lines[j], lines[i]
        yield "\n".join(lines)


def test_the_piecewise_reader_reads_like_pyyaml() -> None:
    bases = _fixture_front_matters()
    parser = frontmatter._Parser()  # one parser throughout: its caches are shared, as in a real read
    cases = [*bases, *_variants(bases, 4000, seed=1)]
    differences = [text for text in cases if parser.snapshot(text) != load_front_matter(text)]
    assert differences == []


TRICKY = [
    *("a", "a b", "a:b", "a#b", "1.0", "~", "x  ", "“q”", "a\xa0b", "é", "http://x/y?z=1#f", "'s'", '"d"'),
    *("'it''s'", "''", '""', "[a, b]", "[ ]", "[a b, c]", "a  # c", '"a"  # c', "[a]  # c", "a,b", "# c", ""),
]
WEIRD = [
    *("-a", '"a\\nb"', '"a: b"', "[a,b,]", "[a: b]", "{a: b}", "a: b", "&x a", "*x", "!t a", "%a", "@a", "`a"),
    *("? a", ": a", "[a]x", "a ]", "- a", "a\tb", "a:", "a :"),
]
HEADERS = ["|", ">", "|-", ">-", "|+", ">+", "|2", ">-  # c", "|#c"]


class _Document:
    """Random block YAML: mappings and lists nested at various indentations, block scalars, comments."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def scalar(self) -> str:
        return self.rng.choice(TRICKY if self.rng.random() < 0.93 else WEIRD)

    def value(self, indent: int, depth: int) -> tuple[str, list[str]]:
        roll = self.rng.random()
        if depth > 2 or roll < 0.45:
            return " " + self.scalar(), []
        if roll < 0.6:
            lines = []
            for _ in range(self.rng.randint(0, 4)):
                kind = self.rng.random()
                if kind < 0.2:
                    lines.append("")
                elif kind < 0.25:
                    lines.append(" " * (indent + 2 + self.rng.randint(0, 2)) + ("more" if kind < 0.23 else ""))
                elif kind < 0.3:
                    lines.append("# a comment, or text" if kind < 0.27 else " " * (indent + 2) + "# text")
                else:
                    lines.append(" " * (indent + 2) + self.rng.choice(["line", "two words", "trailing  ", "x: y"]))
            return " " + self.rng.choice(HEADERS), lines
        if roll < 0.8:
            return "", self.mapping(indent + self.rng.choice([1, 2, 2, 3]), depth + 1)
        return "", self.sequence(indent + self.rng.choice([0, 1, 2, 2]), depth + 1)

    def mapping(self, indent: int, depth: int) -> list[str]:
        out = []
        for _ in range(self.rng.randint(1, 4)):
            if self.rng.random() < 0.1:
                out.append(" " * self.rng.randint(0, indent + 2) + "# comment")
            if self.rng.random() < 0.05:
                out.append("")
            inline, lines = self.value(indent, depth)
            out += [" " * indent + self.rng.choice(["a", "b", "title", "x_y", "k-1", "1"]) + ":" + inline, *lines]
        return out

    def sequence(self, indent: int, depth: int) -> list[str]:
        out = []
        for _ in range(self.rng.randint(1, 3)):
            roll, space = self.rng.random(), self.rng.choice([" ", " ", "   "])
            if roll < 0.4:
                out.append(" " * indent + "-" + space + self.scalar())
            elif roll < 0.8:
                lines = self.mapping(indent + 1 + len(space), depth + 1)
                out += [" " * indent + "-" + space + lines[0].lstrip(" "), *lines[1:]]
            else:
                inline, lines = self.value(indent, depth)
                out += [" " * indent + "-" + inline, *lines]
        return out

    def __iter__(self) -> Iterator[str]:
        while True:
            yield "\n".join(self.mapping(0, 0)) + self.rng.choice(["", "\n", "\n\n"])


def test_the_piecewise_reader_reads_random_documents_like_pyyaml() -> None:
    parser = frontmatter._Parser()
    documents = iter(_Document(seed=3))
    cases = [next(documents) for _ in range(3000)]
    differences = [text for text in cases if parser.snapshot(text) != load_front_matter(text)]
    assert differences == []


def test_the_piecewise_reader_needs_no_pyyaml_for_the_content_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """The speed comes from reading plain front matter without PyYAML: check that it does."""
    texts = [front_matter(path.read_text(encoding="utf-8")) or "" for path in sorted(EXAMPLE.glob("events/**/*.md"))]
    texts += [BASE, front_matter(event_text("Title", "2025-03-07", ["latakia"], ["killings"])) or ""]
    expected = [load_front_matter(text) for text in texts]

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("PyYAML was asked")

    monkeypatch.setattr(frontmatter.yaml, "load", refuse)
    assert [frontmatter._Parser().snapshot(text) for text in texts] == expected


def test_snapshots_of_broken_front_matter_are_none() -> None:
    parser = frontmatter._Parser()
    for text in ["", "# only a comment", "- a list", "just text", "a: [unclosed", "a: *nothing", "a: 1\n b: 2"]:
        assert parser.snapshot(text) is None, text


def test_front_matter_is_found_as_the_parser_finds_it() -> None:
    rng = random.Random(2)
    parts = ["---", "...", "--- ", "---\t", "----", " ---", "\ufeff", "a: b", "", "\r", "text", "-- -", "\x0b"]
    for _ in range(3000):
        text = "\n".join(rng.choice(parts) for _ in range(rng.randint(0, 7)))
        expected = split_front_matter(text)
        assert front_matter(text) == (expected[0] if expected else None), repr(text)
