"""The incremental build: what an edit renders again, and that the cache never changes the output.

Every test builds small SYNTHETIC archives (test data, not real events) with a cache, edits them,
and compares with a build from scratch into another folder, file by file.
"""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from conftest import write_tree
from jinja2 import Environment

from site_builder import cache, data, fingerprint, fragments, inputs, offline, outputs, write
from site_builder.build import BuildResult, build, check, flush_cache
from site_builder.engine import CACHED
from site_builder.errors import ContentError
from site_builder.model import Edition
from site_builder.progress import Progress
from site_builder.render import THEMES

SITE = {
    "site.yaml": "title: Test archive\ndescription: A test archive.\nbase_url: https://example.org/test/\n",
    "regions.yaml": (
        "- id: north\n  name: North\n- id: hills\n  name: Hills\n  parent: north\n"
        "- id: coast\n  name: Coast\n  parent: north\n- id: south\n  name: South\n"
    ),
    "sources.yaml": "- id: monitor\n  name: Test Monitor\n- id: agency\n  name: Test Agency\n",
    "pages/about.md": "---\ntitle: About\n---\nA test page.\n",
}


def entry(title: str, date: str, regions: str, tags: str = "[]", sources: tuple[str, ...] = ("monitor",)) -> str:
    cited = "".join(f"  - id: {s}\n" for s in sources)
    return (
        f"---\ntitle: {title}\ndate: {date}\nregions: {regions}\ntags: {tags}\n"
        f"tallies:\n  - measure: killed\n    count: 3\n    source: {sources[0]}\n"
        f"sources:\n{cited}---\nNarrative of {title}.\n"
    )


EVENTS = {
    "events/2025/2025-01-10-a.md": entry("Alpha", "2025-01-10", "[hills]", "[floods]"),
    "events/2025/2025-02-11-b.md": entry("Bravo", "2025-02-11", "[coast]", "[fires]", ("agency",)),
    "events/2025/2025-03-12-c.md": entry("Charlie", "2025-03-12", "[south]", "[fires, floods]", ("monitor", "agency")),
    "events/2024/2024-12-01-d.md": entry("Delta", "2024-12-01", "[hills]", sources=("agency",)),
}
A = "events/2025/2025-01-10-a.md"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "content", {**SITE, **EVENTS})


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def cached(content: Path, **options: object) -> BuildResult:
    root = content.parent
    return build(content, root / "output", cache_dir=root / "cache", search=False, **options)  # type: ignore[arg-type]


def same_as_cold(content: Path, name: str = "cold") -> None:
    """The cached output equals a build from scratch of the same content, byte for byte."""
    cold = content.parent / name
    shutil.rmtree(cold, ignore_errors=True)
    build(content, cold, search=False)
    assert files(content.parent / "output") == files(cold)


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


# --- what an edit renders again ----------------------------------------------------------------


def test_a_second_build_with_nothing_changed_does_nothing(site: Path) -> None:
    first = cached(site)
    assert first.archive is not None and len(first.rendered) == first.pages == 21
    again = cached(site)
    assert again.archive is None  # not even loaded
    assert (again.rendered, again.written, again.pages, again.events) == (frozenset(), 0, 21, 4)


def test_editing_an_entry_renders_its_page_and_the_pages_listing_it(site: Path) -> None:
    cached(site)
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, corrected.")
    result = cached(site)
    assert result.rendered == {
        "events/2025-01-10-a/index.html",
        "index.html",
        "regions/index.html",
        "regions/hills/index.html",
        "regions/north/index.html",  # hills is in north
        "tags/index.html",
        "tags/floods/index.html",
        "sources/index.html",
        "sources/monitor/index.html",
    }
    same_as_cold(site)


def test_moving_an_entry_renders_the_pages_it_left_and_joined(site: Path) -> None:
    cached(site)
    edit(site / A, "regions: [hills]\ntags: [floods]", "regions: [south]\ntags: [fires]")
    assert cached(site).rendered == {
        "events/2025-01-10-a/index.html",
        "index.html",
        "regions/index.html",
        "regions/hills/index.html",
        "regions/north/index.html",
        "regions/south/index.html",
        "tags/index.html",
        "tags/floods/index.html",
        "tags/fires/index.html",
        "sources/index.html",
        "sources/monitor/index.html",
    }
    same_as_cold(site)


def test_a_template_edit_renders_only_the_pages_using_it(site: Path) -> None:
    cached(site)
    write_tree(
        site, {"templates/tag.html": '{% extends "base.html" %}{% block main %}<h1>{{ tag }}</h1>{% endblock %}'}
    )
    assert cached(site).rendered == {"tags/floods/index.html", "tags/fires/index.html"}
    same_as_cold(site)
    # A template others extend: every page but those with their own page-wide template (404).
    edit(site / "templates/tag.html", "<h1>", "<h1 class='tag'>")
    assert cached(site).rendered == {"tags/floods/index.html", "tags/fires/index.html"}
    write_tree(
        site,
        {
            "templates/macros.html": (Path(__file__).parent.parent / "themes/default/templates/macros.html")
            .read_text()
            .replace('class="meta"', 'class="meta2"')
        },
    )
    rendered = cached(site).rendered
    assert "index.html" in rendered and "regions/hills/index.html" in rendered
    assert "tags/floods/index.html" not in rendered  # the site's own tag.html imports no macro
    assert "search/index.html" not in rendered and "about/index.html" not in rendered
    same_as_cold(site)


def test_entries_parsed_again_for_their_pages_keep_their_records(site: Path) -> None:
    """Editing event.html parses every entry again (their narratives are not cached); an entry
    whose file did not change keeps the record it had, so the cache has none to write again."""
    cached(site)
    shards = sorted((site.parent / "cache").glob("build-entries-*.pickle"))
    before = {path.name: path.stat().st_ino for path in shards}
    theme = (Path(__file__).parent.parent / "themes/default/templates/event.html").read_text()
    write_tree(site, {"templates/event.html": theme.replace('class="event"', 'class="event edited"')})
    assert len([p for p in cached(site).rendered if p.startswith("events/")]) == len(EVENTS)
    assert {path.name: path.stat().st_ino for path in shards} == before  # none replaced
    same_as_cold(site)
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, changed.")
    cached(site)
    assert {path.name: path.stat().st_ino for path in shards} != before  # the changed entry's shard
    same_as_cold(site)


def test_a_template_reading_regions_through_tree_follows_them(site: Path) -> None:
    """A site's template may ask `tree` for any region's events: the page then depends on them."""
    page = '{% extends "base.html" %}{% block main %}{{ page.title }}: {{ tree.events("south")|length }}{% endblock %}'
    write_tree(site, {"templates/page.html": page})
    cached(site)
    edit(site / A, "regions: [hills]", "regions: [hills, south]")
    assert "about/index.html" in cached(site).rendered
    same_as_cold(site)
    edit(site / "events/2024/2024-12-01-d.md", "Narrative of Delta.", "Narrative of Delta, again.")
    assert "about/index.html" not in cached(site).rendered  # Delta is not in the south


def test_the_event_item_template_renders_the_pages_importing_the_macros_again(site: Path) -> None:
    """Lists show each event through event-item.html (the `piece` global in macros.html), kept
    between builds: a page depends on it as on a template it includes."""
    cached(site)
    item = (THEMES / "default/templates/event-item.html").read_text(encoding="utf-8")
    write_tree(site, {"templates/event-item.html": item.replace('class="meta"', 'class="meta item"')})
    rendered = cached(site).rendered
    assert rendered >= {
        "index.html",
        *(f"regions/{region}/index.html" for region in ("north", "hills", "coast", "south")),
        "tags/floods/index.html",
        "tags/fires/index.html",
        "sources/monitor/index.html",
        "sources/agency/index.html",
    }
    assert "search/index.html" not in rendered and "about/index.html" not in rendered  # no macros.html
    assert b'<p class="meta item">' in (site.parent / "output/regions/coast/index.html").read_bytes()
    same_as_cold(site)


def test_an_event_item_reading_tree_is_rendered_on_each_page_that_shows_it(site: Path) -> None:
    item = '<p>{{ event.title }}: {{ tree.events("south")|length }} in the south</p>\n'
    write_tree(site, {"templates/event-item.html": item})
    cached(site)
    coast = site.parent / "output/regions/coast/index.html"
    assert b"Bravo: 1 in the south" in coast.read_bytes()
    edit(site / "events/2024/2024-12-01-d.md", "regions: [hills]", "regions: [hills, south]")
    assert "regions/coast/index.html" in cached(site).rendered  # Bravo's item read the south
    assert b"Bravo: 2 in the south" in coast.read_bytes()
    same_as_cold(site)


def test_a_registry_or_site_edit_renders_everything(site: Path) -> None:
    cached(site)
    edit(site / "regions.yaml", "name: Coast", "name: Coastline")
    assert len(cached(site).rendered) == 21
    same_as_cold(site)
    edit(site / "site.yaml", "A test archive.", "A test archive, renamed.")
    assert len(cached(site).rendered) == 21
    same_as_cold(site)


# --- the output is always the one a cold build writes ------------------------------------------


def test_a_series_of_edits_gives_the_output_of_a_cold_build(site: Path) -> None:
    theme_base = (Path(__file__).parent.parent / "themes/default/templates/base.html").read_text()
    new_region = "- id: south\n  name: South\n- id: west\n  name: West\n"
    steps = [
        lambda: edit(site / A, "Narrative of Alpha.", "Narrative of *Alpha*, edited."),
        lambda: edit(site / A, "date: 2025-01-10", "date: 2023-05-01"),  # reorders every list
        lambda: write_tree(site, {"events/2025/2025-04-01-e.md": entry("Echo", "2025-04-01", "[coast]", "[storms]")}),
        lambda: (site / "events/2025/2025-02-11-b.md").unlink(),  # its tag and source pages change or go
        lambda: os.replace(site / "events/2024/2024-12-01-d.md", site / "events/2024/2024-12-01-delta.md"),
        lambda: edit(site / "events/2024/2024-12-01-delta.md", "tags: []", "tags: []\naliases: [2024-12-01-d]"),
        lambda: write_tree(site, {"templates/base.html": theme_base.replace("<main", "<main class='x'")}),
        lambda: edit(site / "regions.yaml", "- id: south\n  name: South\n", new_region),
        lambda: edit(site / "sources.yaml", "name: Test Agency", "name: Test Agency (renamed)"),
        lambda: (site / "pages/about.md").unlink(),
        lambda: (site / "templates/base.html").unlink(),
    ]
    cached(site)
    for n, step in enumerate(steps):
        step()
        cached(site)
        same_as_cold(site, f"cold-{n}")


def test_a_file_touched_but_unchanged_is_not_parsed_or_rendered_again(site: Path) -> None:
    cached(site)
    os.utime(site / A, (1, 1))
    result = cached(site)
    assert result.archive is not None and result.rendered == frozenset()


def test_the_output_edited_by_hand_is_written_again(site: Path) -> None:
    cached(site)
    output = site.parent / "output"
    (output / "index.html").write_text("edited by hand")
    (output / "tags/floods/index.html").unlink()
    (output / "stray.html").write_text("not from the build")
    assert cached(site).archive is not None  # noticed: not "nothing changed"
    same_as_cold(site)
    # The folder the next build writes into (the previous output) is checked as well.
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, again.")
    cached(site)
    same_as_cold(site)


def test_the_spare_folder_edited_by_hand_is_corrected(site: Path) -> None:
    cached(site)
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, 2.")
    cached(site)
    spare = site.parent / ".output.build-spare"
    assert spare.is_dir()
    (spare / "regions/south/index.html").write_text("tampered")
    (spare / "extra").mkdir()
    (spare / "extra/file.txt").write_text("stray")
    edit(site / A, "Narrative of Alpha, 2.", "Narrative of Alpha, 3.")
    cached(site)
    same_as_cold(site)


def test_a_failed_build_leaves_the_output_and_a_usable_cache(site: Path) -> None:
    cached(site)
    before = files(site.parent / "output")
    edit(site / A, "date: 2025-01-10", "date: 2025-02-30")
    with pytest.raises(ContentError):
        cached(site)
    assert files(site.parent / "output") == before
    edit(site / A, "date: 2025-02-30", "date: 2025-02-03")
    cached(site)
    same_as_cold(site)


def test_a_template_error_half_way_leaves_the_output_and_a_usable_spare(site: Path) -> None:
    cached(site)
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, 2.")
    cached(site)  # the spare exists now, and this build will write into it
    before = files(site.parent / "output")
    write_tree(site, {"templates/region.html": "{{ no_such_variable }}"})
    with pytest.raises(ContentError):
        cached(site)
    assert files(site.parent / "output") == before
    (site / "templates/region.html").unlink()
    cached(site)
    same_as_cold(site)


# --- the cache itself ---------------------------------------------------------------------------


def test_a_new_tool_version_renders_everything(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached(site)
    monkeypatch.setattr(cache, "tool_key", lambda: "another version")
    result = cached(site)
    assert len(result.rendered) == result.pages == 21
    same_as_cold(site)


def test_clean_empties_the_cache_first(site: Path) -> None:
    cached(site)
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, 2.")
    cached(site)
    result = cached(site, clean=True)
    assert len(result.rendered) == 21
    same_as_cold(site)


def test_a_corrupt_or_planted_cache_is_ignored(site: Path) -> None:
    cached(site)
    folder = site.parent / "cache"
    (folder / "build-quick.pickle").write_bytes(b"garbage")
    planted = pickle.dumps(os.system)  # a pickle that would run code if loaded with pickle.load
    header = b"site-builder build cache 1\n" + cache.tool_key().encode() + b"\n"
    (folder / "build-state.pickle").write_bytes(header + planted)
    for shard in folder.glob("build-entries-*.pickle"):
        shard.write_bytes(header + planted)
    pieces = list(folder.glob("build-pieces-*.bin"))
    assert pieces
    for piece_file in pieces:  # the index is as it was: a file changed since is noticed by its size
        piece_file.write_bytes(piece_file.read_bytes()[:-7])
    result = cached(site)
    assert len(result.rendered) == 21
    same_as_cold(site)
    assert cache.Store(folder, CACHED).load("entries-0") is not None  # written again, readable


def test_without_a_cache_nothing_is_kept_or_left_beside_the_output(
    tmp_path: Path, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    build(site, tmp_path / "output", search=False)
    build(site, tmp_path / "output", search=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "output", "tmp"]
    assert list(temporary.iterdir()) == []  # the entries' pieces went with the build
    write_tree(site, {"templates/region.html": "{{ no_such_variable }}"})
    with pytest.raises(ContentError):
        build(site, tmp_path / "output", search=False)
    assert list(temporary.iterdir()) == []


def test_an_edit_updates_the_offline_index_without_encoding_it_all(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cached(site)
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, with zebras.")

    def encode_all(docs: object) -> None:
        raise AssertionError("the whole index was encoded again")

    monkeypatch.setattr(offline, "encode", encode_all)
    cached(site)
    monkeypatch.undo()
    same_as_cold(site)
    assert b"zebras" in b"".join(p.read_bytes() for p in (site.parent / "output/search-offline").rglob("*.js"))


def test_a_build_without_the_offline_index_and_then_one_with_it(site: Path) -> None:
    result = cached(site, offline=False)
    assert len(result.rendered) == 21 and not (site.parent / "output/search-offline").exists()
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, edited.")
    cached(site, offline=False)
    result = cached(site)  # the entries are parsed again for their search documents, not rendered
    assert (site.parent / "output/search-offline/meta.js").is_file()
    assert not {path for path in result.rendered if path.startswith("events/")}
    same_as_cold(site)


def test_pieces_read_one_by_one_or_in_runs_make_the_same_files(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(site, tmp_path / "runs", search=False)
    monkeypatch.setattr(fragments, "GAP", 0)
    monkeypatch.setattr(fragments, "RUN", 1)
    build(site, tmp_path / "one-by-one", search=False)
    assert files(tmp_path / "runs") == files(tmp_path / "one-by-one")


def test_the_pieces_kept_on_disk_stay_few_and_follow_the_entries(site: Path) -> None:
    folder = site.parent / "cache"
    cached(site)
    assert len(list(folder.glob("build-pieces-*.bin"))) == 1
    for n in range(12):  # each edit writes its pieces to a file of its own; the old ones are dead
        edit(site / A, f"Narrative of Alpha{'' if n == 0 else f' {n - 1}'}.", f"Narrative of Alpha {n}.")
        cached(site)
        assert len(list(folder.glob("build-pieces-*.bin"))) <= 4
    same_as_cold(site)
    (site / A).unlink()
    cached(site)
    same_as_cold(site, "cold-2")
    assert 1 <= len(list(folder.glob("build-pieces-*.bin"))) <= 4


def test_the_cli_flags(site: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "site_builder", "build", "--content", "content", *args]
        return subprocess.run(command, cwd=site.parent, capture_output=True, text=True, check=False)

    first = run("--no-search", "--quiet")
    assert first.returncode == 0, first.stderr
    assert first.stderr == "" and first.stdout.startswith("Built 21 pages (4 events) into output in ")
    assert not (site.parent / "output/pagefind").exists() and (site.parent / ".cache").is_dir()
    assert not (site.parent / "output/search-offline").exists()  # neither search index
    second = run("--no-search", "--quiet")
    assert second.stdout.endswith(": nothing had changed.\n")
    assert ": 21 rendered, " in run("--no-search", "--clean", "--quiet").stdout
    assert run("--no-pagefind", "--quiet").returncode == 0  # the offline index, without Pagefind's
    assert (site.parent / "output/search-offline/meta.js").is_file()
    assert not (site.parent / "output/pagefind").exists()
    shutil.rmtree(site.parent / ".cache")
    assert run("--no-cache", "--no-search").returncode == 0
    assert not (site.parent / ".cache").exists()


def test_work_split_across_processes_gives_the_same_output(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outputs, "PARALLEL", 0)
    monkeypatch.setattr(inputs, "PARALLEL_PARSE", 1)
    build(site, tmp_path / "parallel", search=False, workers=3)
    build(site, tmp_path / "serial", search=False, workers=1)
    assert files(tmp_path / "parallel") == files(tmp_path / "serial")
    monkeypatch.setattr(cache, "tool_key", lambda: "another version")  # so every page renders again
    write_tree(site, {"templates/region.html": "{{ no_such_variable }}"})
    with pytest.raises(ContentError, match="no_such_variable"):
        build(site, tmp_path / "parallel", search=False, workers=3)


def test_rebuilds_with_the_cache_in_memory_write_it_only_when_flushed(site: Path) -> None:
    """`serve`'s rebuilds: the cache stays in memory until flush_cache; the output is a cold
    build's either way, and a process that never got the flushed files starts from the older ones."""
    folder = site.parent / "cache"

    def pickles() -> dict[str, bytes]:  # (the pieces' own files are written as they are made)
        return {name: data for name, data in files(folder).items() if name.endswith(".pickle")}

    cached(site)
    on_disk = pickles()
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, corrected.")
    first = cached(site, deferred_cache=True)
    assert first.rendered and pickles() == on_disk  # nothing written
    same_as_cold(site)
    assert cached(site, deferred_cache=True).archive is None  # the memory holds this build's state
    edit(site / A, "Narrative of Alpha, corrected.", "Narrative of Alpha, corrected twice.")
    assert "events/2025-01-10-a/index.html" in cached(site, deferred_cache=True).rendered

    # A process that starts now (serve stopped without writing the cache) reads the older files.
    memory = dict(cache._MEMORY)
    cache._MEMORY.clear()
    assert cached(site).rendered  # not the state the output is in: it works again, and right
    same_as_cold(site)
    cache._MEMORY.clear()
    cache._MEMORY.update(memory)

    flush_cache(folder)  # writes nothing: the build above wrote these files since
    cache._MEMORY.clear()
    assert cached(site).archive is None
    edit(site / A, "corrected twice.", "corrected three times.")
    cached(site, deferred_cache=True)
    flush_cache(folder)
    cache._MEMORY.clear()  # as the next process finds the cache: the flushed state, nothing to do
    assert cached(site).archive is None
    same_as_cold(site)


def test_list_items_made_in_workers_are_kept_for_the_next_build(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outputs, "PARALLEL", 0)
    cached(site, workers=3)
    cache._MEMORY.clear()  # as the next process finds the cache
    store = cache.Store(site.parent / "cache")
    kept = store.load_shards("items", sealed=True)
    assert kept is not None and set(kept) == {"2025-01-10-a", "2025-02-11-b", "2025-03-12-c", "2024-12-01-d"}
    assert all(len(pieces) >= 3 for _, pieces in kept.values())  # region, tag and source lists
    assert list((site.parent / "cache").glob("build-items-*.bin")) == []
    edit(site / A, "title: Alpha", "title: Alpha, renamed")
    cached(site, workers=3)
    same_as_cold(site)


def test_a_build_forks_no_worker_once_the_parent_is_large(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outputs, "PARALLEL", 0)  # every build's work is "large"
    asked: list[int] = []
    run_jobs = outputs.parallel.run_jobs

    def counted(jobs: list[object], workers: int, *args: object) -> None:
        asked.append(workers)
        run_jobs(jobs, workers, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(outputs.parallel, "run_jobs", counted)
    monkeypatch.setattr(outputs.parallel, "resident", lambda: outputs.FORK_MEMORY_COLD)
    build(site, site.parent / "large", search=False, workers=2)  # no cache, but a large parent
    monkeypatch.setattr(outputs.parallel, "resident", lambda: outputs.FORK_MEMORY_COLD - 1)
    cached(site, workers=2)  # no cache yet: forks while the parent holds less
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, again.")
    monkeypatch.setattr(outputs.parallel, "resident", lambda: outputs.FORK_MEMORY)
    cached(site, workers=2)
    monkeypatch.setattr(outputs.parallel, "resident", lambda: outputs.FORK_MEMORY - 1)
    edit(site / A, "Narrative of Alpha, again.", "Narrative of Alpha, once more.")
    cached(site, workers=2)
    assert asked == [1, 2, 1, 2]
    same_as_cold(site)


def test_progress_lines(capsys: pytest.CaptureFixture[str], site: Path) -> None:
    progress = Progress(sys.stderr, tty=False, delay=0)
    build(site, site.parent / "output", search=False, progress=progress)
    lines = capsys.readouterr().err.splitlines()
    assert lines[:2] == ["scan…", "load…"] and lines[-1] == "swap…"
    assert any(line.startswith("render (") and line.endswith(")…") for line in lines)
    build(site, site.parent / "output", search=False, progress=Progress(sys.stderr, quiet=True, delay=0))
    assert capsys.readouterr().err == ""


def test_search_index_is_kept_while_the_entries_pages_are_unchanged(site: Path) -> None:
    output = site.parent / "output"
    build(site, output, cache_dir=site.parent / "cache")
    bundle = output / "pagefind/pagefind-entry.json"
    inode = bundle.stat().st_ino
    write_tree(site, {"templates/tag.html": '{% extends "base.html" %}{% block main %}{{ tag }}{% endblock %}'})
    build(site, output, cache_dir=site.parent / "cache")
    assert (output / "pagefind/pagefind-entry.json").stat().st_ino == inode  # linked, not indexed again
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, with new words.")
    build(site, output, cache_dir=site.parent / "cache")
    cold = site.parent / "cold"
    build(site, cold)
    assert files(output) == files(cold)


def test_an_entry_page_asking_tree_for_events_is_rendered_once_all_are_known(site: Path) -> None:
    """The entries' pages are rendered as they are parsed, before all are known: one whose
    template asks `tree` for events is rendered later, and depends on those events."""
    page = (
        '{% extends "base.html" %}{% block main %}<h1>{{ event.title }}</h1>'
        '<p class="north">{{ tree.events("north")|length }}</p>{{ event.body_html|safe }}{% endblock %}'
    )
    write_tree(site, {"templates/event.html": page})
    cached(site)
    html = (site.parent / "output/events/2025-01-10-a/index.html").read_text()
    assert '<p class="north">3</p>' in html and "<p>Narrative of Alpha.</p>" in html
    same_as_cold(site)
    edit(site / "events/2025/2025-03-12-c.md", "Narrative of Charlie.", "Narrative of Charlie, 2.")  # south
    assert "events/2025-01-10-a/index.html" not in cached(site).rendered
    edit(site / "events/2025/2025-02-11-b.md", "Narrative of Bravo.", "Narrative of Bravo, 2.")  # coast, in north
    assert "events/2025-01-10-a/index.html" in cached(site).rendered
    same_as_cold(site)


def test_entry_pages_rendered_late_are_in_the_search_index(site: Path) -> None:
    """Pagefind starts once the entries' pages are written: those rendered late (their template
    asks `tree` for events) must be written before it starts, or search misses them."""
    page = '{% extends "base.html" %}{% block main %}<h1>{{ event.title }}</h1>{{ tree.events("north")|length }} in north{% endblock %}'
    write_tree(site, {"templates/event.html": page})
    output = site.parent / "output"
    build(site, output, cache_dir=site.parent / "cache")
    # Pagefind's metadata lists one fragment per page it indexed.
    fragments = list((output / "pagefind/fragment").glob("*.pf_fragment"))
    assert len(fragments) == len(EVENTS)


def test_data_files_put_together_from_pieces_are_those_of_data_files(site: Path) -> None:
    """events.json, the CSV tables and the search index are made from pieces kept per entry."""
    output = site.parent / "output"
    build(site, output, search=False)
    archive = check(site)
    for rel, content in data.data_files(archive, None, Edition()).items():
        assert (output / rel).read_bytes() == content, rel
    for rel, content in offline.files(archive, THEMES / "default").items():
        assert (output / offline.FOLDER / rel).read_bytes() == content, rel


def test_data_files_after_an_edit_are_made_from_the_last_ones_with_the_changed_pieces(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """events.json and the CSV tables are copied from the last build's files but for the pieces
    of the entries that changed: the same bytes as a build from scratch, through edits that keep
    the order, change a piece's length, move an entry in the order, and add one."""
    spliced: list[int] = []
    splice = fragments.Fragments._splice

    def counted(self: fragments.Fragments, *args: object) -> object:
        plan = splice(self, *args)  # type: ignore[arg-type]
        spliced.append(0 if plan is None else len(plan[1]))
        return plan

    monkeypatch.setattr(fragments.Fragments, "_splice", counted)
    cached(site)
    assert spliced == [0, 0, 0]  # nothing to copy from yet
    steps = [
        lambda: edit(site / A, "title: Alpha", "title: Alpha, with a much longer title than it had"),
        lambda: edit(site / "events/2024/2024-12-01-d.md", "count: 3", "count: 30000"),  # the first
        lambda: (  # the last, and one between
            edit(site / "events/2025/2025-03-12-c.md", "count: 3", "count: 4"),
            edit(site / "events/2025/2025-02-11-b.md", "title: Bravo", "title: B"),
        ),
        lambda: edit(site / A, "date: 2025-01-10", "date: 2025-06-01"),  # a new order: made whole
        lambda: write_tree(site, {"events/2025/2025-04-01-e.md": entry("Echo", "2025-04-01", "[coast]")}),
    ]
    for n, step in enumerate(steps):
        spliced.clear()
        step()
        cached(site)
        if n < 3:
            assert len(spliced) == 3 and all(spans > 2 for spans in spliced), spliced  # copied around a fresh piece
        else:
            assert spliced == [0, 0, 0]
        same_as_cold(site, f"cold{n}")
    for folder in ("output", ".output.build-spare"):  # the last build's file edited by hand, in both
        with (site.parent / folder / "data/events.csv").open("a") as file:
            file.write("not,the,build's\n")
    spliced.clear()
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, once more.")
    cached(site)
    assert spliced[1] == 0  # events.csv: made from the pieces
    same_as_cold(site, "cold-last")


def test_without_an_atomic_exchange_two_renames_do(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where renameat2 is missing (not Linux) or refused (some file systems), the folders swap by
    renaming: the same output, and the spare kept."""
    monkeypatch.setattr(write, "_renameat2", lambda: None)
    cached(site)
    edit(site / A, "Narrative of Alpha.", "Narrative of Alpha, 2.")
    cached(site)
    edit(site / A, "Narrative of Alpha, 2.", "Narrative of Alpha, 3.")
    cached(site)
    same_as_cold(site)
    assert sorted(p.name for p in site.parent.iterdir()) == [
        ".output.build-spare",
        "cache",
        "cold",
        "content",
        "output",
    ]


def test_a_template_named_by_a_piece_call_counts_as_one_it_includes() -> None:
    env = Environment()
    assert fingerprint._named(env, '{{ piece("item.html", e, heading="h2") }}{% include "x.html" %}') == {
        "item.html",
        "x.html",
    }
    assert fingerprint._named(env, "{{ piece(name, e) }}") is None  # any template may be it
