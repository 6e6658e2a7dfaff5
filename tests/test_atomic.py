"""A build killed at any moment leaves output/ as the previous build or the new one, never a mixture.

A SYNTHETIC archive (benchmarks/synthetic.py, a few hundred made-up entries: a build lasts a
second or two) is built as archive A; archive B edits an entry, deletes one and adds one. Their
outputs are built once into folders of their own, as references. Then `python -m site_builder
build` runs again and again, switching the content between A and B, and each run is killed with
SIGKILL (its whole process group: the forked workers and Pagefind too) after a delay drawn by a
seeded random generator across the build's duration, from before Python has started to after the
build has ended. After every kill:

- output/ holds exactly A's files or exactly B's (every file's bytes and mode, every folder, every
  symbolic link): the one built before the run, or the one the run was building;
- nothing beside output/ changed but what the build keeps there (docs/build.md): the cache folder,
  the spare folder `.output.build-spare` and folders `.output.build-*` it is writing; content/
  has the same bytes and mtimes, and the temporary folder ($TMPDIR) is empty.

The next run starts from what the killed one left, so each run also checks that a killed build's
cache, spare and half-written folders do not spoil the next one; a last uninterrupted build must
give exactly B's reference, with nothing left over beside output/. With the cache and without.
"""

from __future__ import annotations

import collections
import fcntl
import hashlib
import importlib.util
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import MINIMAL_SITE, event, write_tree

from site_builder import write
from site_builder.build import build as build_site

REPO = Path(__file__).resolve().parent.parent
ENTRIES = 150  # a build lasts a second or two on a shared machine of two cores
KILLS = 12  # per mode, on top of the two uninterrupted builds that time it
SEED = 20250307

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="process groups and /proc: Linux")

Snapshot = dict[str, tuple[object, ...]]


def _synthetic() -> object:
    spec = importlib.util.spec_from_file_location("synthetic", REPO / "benchmarks" / "synthetic.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("synthetic", module)  # its data classes look their module up
    spec.loader.exec_module(module)
    return module


def snapshot(folder: Path) -> Snapshot:
    """Every folder, file (mode and SHA-256) and symbolic link under `folder`, by relative path."""
    found: Snapshot = {}
    for dirpath, dirs, files in os.walk(folder):
        here = Path(dirpath)
        for name in dirs + files:
            path = here / name
            rel = path.relative_to(folder).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                found[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                found[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                found[rel] = ("file", stat.S_IMODE(st.st_mode), hashlib.sha256(path.read_bytes()).hexdigest())
    return found


def untouched(folder: Path) -> Snapshot:
    """Bytes and mtimes (folders' too: a file made and removed again shows) under `folder`."""
    found: Snapshot = {"": ("dir", folder.stat().st_mtime_ns)}
    for dirpath, dirs, files in os.walk(folder):
        here = Path(dirpath)
        for name in dirs + files:
            path = here / name
            st = path.lstat()
            data = path.read_bytes() if stat.S_ISREG(st.st_mode) else b""
            found[path.relative_to(folder).as_posix()] = (st.st_mode, st.st_mtime_ns, hashlib.sha256(data).digest())
    return found


def difference(got: Snapshot, want: Snapshot) -> str:
    changed = sorted(rel for rel in got.keys() & want.keys() if got[rel] != want[rel])
    return (
        f"only in the output: {sorted(got.keys() - want.keys())[:10]}; missing: {sorted(want.keys() - got.keys())[:10]};"
        f" different: {changed[:10]}"
    )


class Archive:
    """Archive A (the synthetic one) and B: one entry edited, one deleted, one added."""

    def __init__(self, content: Path) -> None:
        events = sorted(content.glob("events/*/*.md"))
        edited, deleted, model = events[3], events[len(events) // 2], events[-5]
        text = edited.read_text(encoding="utf-8")
        assert "Synthetic entry." in text
        added = content / "events" / "2024" / "2024-12-31-synthetic-addition.md"
        assert not added.exists()
        new = model.read_text(encoding="utf-8").replace("title: ", "title: Added ", 1)
        self.files = {
            "A": {edited: text, deleted: deleted.read_text(encoding="utf-8"), added: None},
            "B": {
                edited: text.replace("Synthetic entry.", "Synthetic entry, corrected.", 1),
                deleted: None,
                added: new,
            },
        }

    def switch(self, name: str) -> None:
        for path, text in self.files[name].items():
            if text is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Snapshot]]:
    """The synthetic content (as A), and A's and B's outputs from uninterrupted builds of their own."""
    root = tmp_path_factory.mktemp("atomic")
    content = _synthetic().generate(root / "made", ENTRIES, seed=7)  # type: ignore[attr-defined]
    archive = Archive(content)
    trees = {}
    (root / "reference").mkdir()
    for name in ("B", "A"):
        archive.switch(name)
        output = root / "reference" / name
        done = run_build(content, output, root / "reference" / f"cache-{name}", cached=False, env=dict(os.environ))
        assert done.wait() == 0
        trees[name] = snapshot(output)
    assert trees["A"] != trees["B"]
    return content, trees


def run_build(
    content: Path, output: Path, cache: Path, *, cached: bool, env: dict[str, str], log: Path | None = None
) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "site_builder", "build", "--content", str(content), "--output", str(output)]
    command += ["--cache", str(cache)] if cached else ["--no-cache"]
    with open(log or os.devnull, "wb") as out:  # what it says, for a failure's message
        return subprocess.Popen(
            command,
            cwd=output.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers and Pagefind are killed with it
        )


def kill_group(process: subprocess.Popen[bytes]) -> bool:
    """SIGKILL the build's process group, if it still runs; True if it did. Returns once no process
    of the group is left (a killed worker might otherwise still finish a write)."""
    killed = process.poll() is None
    if killed:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    while _group_alive(process.pid):
        assert time.monotonic() < deadline, "the build's processes outlived SIGKILL"
        time.sleep(0.01)
    return killed


def _group_alive(group: int) -> bool:
    return bool(_group(group))


def _group(group: int) -> list[str]:
    """The command names of the live processes of a process group (/proc/PID/stat)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            comm, _, rest = (proc / "stat").read_text().partition(" (")[2].rpartition(")")
        except OSError:
            continue
        fields = rest.split()
        if int(fields[2]) == group and fields[0] not in ("Z", "X"):
            found.append(comm)
    return found


def kill_points(rng: random.Random, duration: float) -> list[tuple[str, float]]:
    """KILLS (moment, delay after it): before Python starts, early, spread across the build, while
    Pagefind runs, right after the swap (before the cache is saved), and after the build's end."""
    fixed = [("start", 0.0), ("start", 0.02), ("pagefind", 0.0), ("pagefind", 0.05)]
    fixed += [("swap", 0.0), ("swap", 0.01), ("start", 1.2 * duration)]
    spread = [("start", rng.uniform(0.15, 1.0) * duration) for _ in range(KILLS - len(fixed))]
    chosen = fixed + spread
    rng.shuffle(chosen)
    return chosen


def wait_for(moment: str, process: subprocess.Popen[bytes], output: Path) -> None:
    """Until the build swaps `output` (its inode changes), runs Pagefind, or ends."""
    inode = output.stat().st_ino
    while moment != "start" and process.poll() is None:
        if moment == "swap" and _inode(output) != inode:  # swapped, or (a moment without it) being swapped
            return
        if moment == "pagefind" and _pagefind_runs(process.pid):
            return
        time.sleep(0.0002)


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def _pagefind_runs(group: int) -> bool:
    return any("pagefind" in comm for comm in _group(group))


@pytest.mark.parametrize("cached", [True, False], ids=["cache", "no-cache"])
def test_a_killed_build_leaves_the_old_output_or_the_new_one(
    tmp_path: Path, references: tuple[Path, dict[str, Snapshot]], cached: bool
) -> None:
    made, trees = references
    root = tmp_path / "site"
    root.mkdir()
    content, output, cache, spare = root / "content", root / "output", root / "cache", root / ".output.build-spare"
    shutil.copytree(made, content)
    archive = Archive(content)
    temporary = tmp_path / "tmp"  # the build's $TMPDIR: nothing may be left in it
    temporary.mkdir()
    env = {**os.environ, "TMPDIR": str(temporary)}
    own = {"output", "cache", spare.name}
    logs, steps = tmp_path / "logs", []
    logs.mkdir()

    def build(target: str, kill: tuple[str, float] | None) -> tuple[bool, float]:
        """Switch the content to `target`, run a build, kill it at `kill` (None: let it end)."""
        archive.switch(target)
        before = untouched(content)
        started = time.monotonic()
        log = logs / f"{len(steps)}.txt"
        process = run_build(content, output, cache, cached=cached, env=env, log=log)
        if kill is None:
            assert process.wait(timeout=120) == 0
            killed = False
        else:
            wait_for(kill[0], process, output)
            time.sleep(kill[1])
            killed = kill_group(process)
            if not killed:
                assert process.returncode == 0
        seconds = time.monotonic() - started
        said = log.read_text(encoding="utf-8", errors="replace").strip().replace("\n", " | ")
        steps.append(f"to {target}, {'killed' if killed else 'ended'} at {kill}: {said}")
        assert untouched(content) == before, "the build changed content/"
        assert list(temporary.iterdir()) == [], "the build left temporary files"
        beside = {p.name for p in root.iterdir()} - own - {"content"}
        assert all(name.startswith(".output.build-") for name in beside), beside
        return killed, seconds

    # Two uninterrupted builds first: A, then A to B, which says how long a build lasts.
    build("A", None)
    assert snapshot(output) == trees["A"]
    _, duration = build("B", None)
    assert snapshot(output) == trees["B"]
    current, outcomes = "B", collections.Counter[str]()
    rng = random.Random(SEED + cached)
    for moment, delay in kill_points(rng, duration):
        target = "A" if current == "B" else "B"
        killed, _ = build(target, (moment, delay))
        got = snapshot(output)
        if got == trees[target]:
            current = target
            outcomes["new" if killed else "new (ended before the kill)"] += 1
        else:
            outcomes["old"] += 1
            assert got == trees[current], (
                f"killed {delay:.3f} s after {moment}: output/ is neither {current} nor {target}:"
                f" {difference(got, trees[current])}"
            )
            assert killed, f"the build ended, but output/ is still {current}"
            assert moment != "swap", "killed after the swap, yet output/ is the old one"
    print(f"\n{'cache' if cached else 'no cache'}: build {duration:.2f} s; after {KILLS} kills: {dict(outcomes)}")
    assert outcomes["old"] and outcomes["new"], "the kills did not land both before and after the swap"

    # An uninterrupted build after all that: exactly B's reference, nothing left over.
    build("B", None)
    history = "\n".join(steps)
    assert snapshot(output) == trees["B"], f"{difference(snapshot(output), trees['B'])}\n{history}"
    expected = {"content", "output"} | ({"cache", spare.name} if cached else set())
    assert {p.name for p in root.iterdir()} == expected


# --- the two faults the kills found, one by one ----------------------------------------------------


def test_without_a_cache_there_is_no_moment_without_an_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The swap without a cache was two renames (output aside, the new one in): a build killed
    between them left no output/ at all. It is one exchange now, the old output deleted after."""
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, "events/2025/a.md": event("Alpha")})
    output = tmp_path / "output"
    build_site(content, output, search=False)
    seen = []

    def watched(function):  # type: ignore[no-untyped-def]
        def call(*args, **kwargs):  # type: ignore[no-untyped-def]
            result = function(*args, **kwargs)
            seen.append((function.__name__, (output / write.MARKER).is_file()))
            return result

        return call

    monkeypatch.setattr(write, "exchange", watched(write.exchange))
    monkeypatch.setattr(write.os, "replace", watched(os.replace))
    monkeypatch.setattr(write.shutil, "rmtree", watched(shutil.rmtree))
    (content / "events/2025/a.md").write_text(event("Alpha, corrected"), encoding="utf-8")
    build_site(content, output, search=False)
    assert seen and all(present for _, present in seen), seen
    assert "Alpha, corrected" in (output / "events/a/index.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "output"]


def test_folders_left_by_killed_builds_are_swept_but_not_one_in_use(tmp_path: Path) -> None:
    """A build killed while writing a fresh folder (no cache, or the first rebuild with one), or
    while deleting the old output after the swap, left that folder beside the output, one more at
    every kill. The next build deletes them, except a folder a running build holds."""
    content = write_tree(tmp_path / "content", {**MINIMAL_SITE, "events/2025/a.md": event("Alpha")})
    output = tmp_path / "output"
    build_site(content, output, search=False)
    left = [tmp_path / ".output.build-0a1b2c3d", tmp_path / ".output.old-4242"]
    for folder in left:
        write_tree(folder, {"index.html": "half a build", "events/x/index.html": "x"})
    busy = write_tree(tmp_path / ".output.build-99999999", {"index.html": "a build still writing"})
    unrelated = write_tree(tmp_path / ".output.build-notes", {"notes.txt": "not a build's"})
    fd = os.open(busy, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        build_site(content, output, search=False)
        build_site(content, output, search=False, cache_dir=tmp_path / "cache")
    finally:
        os.close(fd)
    assert not any(folder.exists() for folder in left)
    assert (busy / "index.html").is_file() and (unrelated / "notes.txt").is_file()
    assert (output / "events/a/index.html").is_file()


def test_a_deleted_entry_leaves_the_search_index_and_the_bundle(tmp_path: Path) -> None:
    """With the cache, a build writes into the spare: the build before last, which still holds
    the page of an entry deleted since. Pagefind indexed that page (it reads the folder, before
    the stale files were pruned at the swap), and the bundle held it: the deleted entry stayed
    searchable and downloadable. Both see only the files this build makes now."""
    content = write_tree(
        tmp_path / "content",
        {**MINIMAL_SITE, "events/2025/a.md": event("Alpha"), "events/2025/x.md": event("Xylophone")},
    )
    output, options = tmp_path / "output", {"cache_dir": tmp_path / "cache", "bundle": True}
    build_site(content, output, **options)
    (content / "events/2025/a.md").write_text(event("Alpha, corrected"), encoding="utf-8")
    build_site(content, output, **options)
    (content / "events/2025/x.md").unlink()
    build_site(content, output, **options)  # into the spare, which has events/x/ from the first build
    build_site(content, tmp_path / "cold", bundle=True)
    assert snapshot(output) == snapshot(tmp_path / "cold"), difference(snapshot(output), snapshot(tmp_path / "cold"))
    assert not (output / "events/x").exists()
