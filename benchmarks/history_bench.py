"""Benchmark `site_builder.history.read_history` on a large SYNTHETIC Git repository.

    .venv/bin/python benchmarks/history_bench.py [--path DIR] [--entries 10000] [--commits 20000]

builds (with `git fast-import`, in a few seconds) a repository of SYNTHETIC event files, never in
`content/` of this checkout: in a temporary folder that is deleted afterwards, or in `--path`
(which must not exist yet, and is kept). Every entry, region, source and figure in it is made up
by a seeded random generator; none of it describes real events. Each of the `--commits` commits
adds, edits, renames, moves or deletes one to four entries of about 30 lines of front matter, until
`--entries` entries exist at HEAD.

It then times `read_history`: cold without a cache, cold writing a cache, again with no new commit
(reading only the cache), and after 10 new commits (reading only those), and prints the seconds
against the targets. It prints; it does not assert, because timings depend on the machine.
"""

from __future__ import annotations

import argparse
import functools
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from site_builder.history import CACHE_FILE, read_history
from site_builder.model import History

START = 1_609_459_200  # 2021-01-01T00:00:00Z: the first synthetic commit
STEP = 3_600  # one commit an hour
WORDS = [
    "synthetic",
    "report",
    "village",
    "road",
    "market",
    "convoy",
    "shelter",
    "clinic",
    "district",
    "checkpoint",
    "residents",
    "river",
    "bridge",
    "school",
    "water",
    "power",
    "line",
    "council",
    "crossing",
    "camp",
    "hospital",
    "harbour",
    "station",
    "field",
]
MEASURES = ("killed", "injured", "missing", "detained", "displaced")
GROUPS = ("all", "civilians", "combatants", "security-forces", "children")
QUALIFIERS = ("exact", "approximately", "at-least", "more-than")
SOURCES = tuple(f"synthetic-monitor-{n}" for n in range(12))
REGIONS = tuple(f"synthetic-region-{n:02d}" for n in range(40))
TAGS = ("killings", "displacement", "protest", "shelling", "detentions", "aid", "background")


@dataclass
class Entry:
    """The current state of one SYNTHETIC entry."""

    id: str
    year: int
    title: str
    day: str
    summary: list[str]
    regions: list[str]
    tags: list[str]
    grade: str
    tallies: list[dict[str, str]]
    sources: list[dict[str, str]]
    body: list[str]
    status: str = "published"
    aliases: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"content/events/{self.year}/{self.id}.md"

    def text(self) -> bytes:
        lines = [
            "---",
            f"title: {self.title}",
            "summary: >-",
            *(f"  {line}" for line in self.summary),
            f"date: {self.day}",
            f"regions: [{', '.join(self.regions)}]",
            f"tags: [{', '.join(self.tags)}]",
            f"status: {self.status}",
            "confidence:",
            f"  grade: {self.grade}",
            "  note: >-",
            "    SYNTHETIC benchmark entry; the figures are made up by a seeded generator.",
            "tallies:",
        ]
        for tally in self.tallies:
            lines.append(f"  - measure: {tally['measure']}")
            lines.extend(f"    {key}: {value}" for key, value in tally.items() if key != "measure")
        lines.append("sources:")
        for source in self.sources:
            lines.append(f"  - id: {source['id']}")
            lines.extend(f"    {key}: {value}" for key, value in source.items() if key != "id")
        if self.aliases:
            lines.append(f"aliases: [{', '.join(self.aliases)}]")
        lines += ["---", "", *self.body, ""]
        return "\n".join(lines).encode()


class Archive:
    """A seeded generator of SYNTHETIC commits, written as a `git fast-import` stream."""

    def __init__(self, entries: int, commits: int, seed: int = 2025) -> None:
        self.rng = random.Random(seed)
        self.target = entries
        self.total = commits
        self.deletions = max(entries // 100, 1)
        self.creates = entries + self.deletions
        self.live: dict[str, Entry] = {}
        self.order: list[str] = []  # ids of live entries, for random choice
        self.created = 0
        self.deleted = 0
        self.count = 0  # commits written so far
        self.serial = 0

    # --- synthetic text -----------------------------------------------------------------------

    def words(self, n: int) -> str:
        return " ".join(self.rng.choice(WORDS) for _ in range(n))

    def day(self, year: int) -> str:
        return f"{year}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"

    def tally(self, year: int, sources: list[dict[str, str]]) -> dict[str, str]:
        tally = {"measure": self.rng.choice(MEASURES), "group": self.rng.choice(GROUPS)}
        tally["count"] = str(self.rng.randint(1, 3000))
        if self.rng.random() < 0.5:
            tally["qualifier"] = self.rng.choice(QUALIFIERS)
        if self.rng.random() < 0.4:
            tally["verbatim"] = f"about {tally['count']} people"
        tally["as_of"] = self.day(year)
        tally["source"] = self.rng.choice(sources)["id"]
        return tally

    def source(self, year: int, used: set[str]) -> dict[str, str]:
        source = {"id": self.rng.choice([s for s in SOURCES if s not in used])}
        if self.rng.random() < 0.6:
            source["published"] = self.day(year)
        if self.rng.random() < 0.3:
            source["url"] = f"https://example.org/synthetic/{self.rng.randint(1, 10**6)}"
        return source

    def new_entry(self) -> Entry:
        self.serial += 1
        year = self.rng.randint(2015, 2025)
        day = self.day(year)
        sources: list[dict[str, str]] = []
        for _ in range(self.rng.randint(1, 3)):
            sources.append(self.source(year, {s["id"] for s in sources}))
        return Entry(
            id=f"{day}-synthetic-{self.serial}",
            year=year,
            title=f"SYNTHETIC {self.words(5)} {self.serial}",
            day=day,
            summary=[self.words(12), self.words(10)],
            regions=sorted(self.rng.sample(REGIONS, self.rng.randint(1, 3))),
            tags=sorted(self.rng.sample(TAGS, self.rng.randint(1, 2))),
            grade=self.rng.choice(("confirmed", "fair", "weak")),
            tallies=[self.tally(year, sources) for _ in range(self.rng.randint(2, 4))],
            sources=sources,
            body=[f"SYNTHETIC. {self.words(40)}.", "", f"{self.words(50)}."],
        )

    # --- operations: each returns the fast-import file commands and a subject ---------------

    def create(self) -> tuple[list[bytes], str]:
        entry = self.new_entry()
        while entry.id in self.live:  # pragma: no cover - serial numbers make ids unique
            entry = self.new_entry()
        self.live[entry.id] = entry
        self.order.append(entry.id)
        self.created += 1
        return [_modify(entry)], f"Add {entry.id}"

    def pick(self, exclude: set[str]) -> Entry | None:
        for _ in range(20):
            entry = self.live[self.rng.choice(self.order)]
            if entry.id not in exclude:
                return entry
        return None

    def edit(self, entry: Entry) -> tuple[list[bytes], str]:
        roll = self.rng.random()
        if roll < 0.35:
            entry.tallies.append(self.tally(entry.year, entry.sources))
            what = "add a figure to"
        elif roll < 0.6:
            tally = self.rng.choice(entry.tallies)
            tally["count"] = str(int(tally["count"]) + self.rng.randint(1, 50))
            tally["as_of"] = self.day(entry.year)
            what = "update a figure of"
        elif roll < 0.75:
            entry.summary[-1] = self.words(10)
            what = "reword the summary of"
        elif roll < 0.9:
            entry.body[-1] = f"{self.words(50)}."
            what = "edit the narrative of"
        elif roll < 0.95 and len(entry.sources) < len(SOURCES):
            entry.sources.append(self.source(entry.year, {s["id"] for s in entry.sources}))
            what = "add a source to"
        else:
            entry.status = self.rng.choice(("published", "disputed"))
            entry.grade = self.rng.choice(("confirmed", "fair", "weak", "contested"))
            what = "regrade"
        return [_modify(entry)], f"{what.capitalize()} {entry.id}"

    def rename(self, entry: Entry) -> tuple[list[bytes], str]:
        old_path, old_id = entry.path, entry.id
        if self.rng.random() < 0.5:  # a move to another year folder
            entry.year = entry.year + 1 if entry.year < 2025 else entry.year - 1
            subject = f"Move {old_id} to {entry.year}"
        else:  # a new id; the old one stays as an alias
            self.serial += 1
            entry.id = f"{entry.day}-synthetic-renamed-{self.serial}"
            entry.aliases.append(old_id)
            subject = f"Rename {old_id} to {entry.id}"
        del self.live[old_id]
        self.live[entry.id] = entry
        self.order[self.order.index(old_id)] = entry.id
        return [f"R {old_path} {entry.path}\n".encode(), _modify(entry)], subject

    def delete(self, entry: Entry) -> tuple[list[bytes], str]:
        del self.live[entry.id]
        self.order.remove(entry.id)
        self.deleted += 1
        return [f"D {entry.path}\n".encode()], f"Remove {entry.id}"

    def commit(self) -> bytes:
        """The next commit's fast-import commands."""
        self.count += 1
        progress = self.count / self.total
        # Creations are spread over the first 80% of the history; a few deletions in the second half.
        due = min(self.creates, round(self.creates * min(1.0, progress / 0.8)))
        if self.count > self.total:  # commits beyond the planned ones only edit
            due = self.created
        files = self.rng.choice((1, 1, 2, 2, 3, 4))
        commands: list[bytes] = []
        subjects: list[str] = []
        touched: set[str] = set()
        for _ in range(files):
            if self.created < due or not self.live:
                ops, subject = self.create()
            else:
                entry = self.pick(touched)
                if entry is None:
                    continue
                roll = self.rng.random()
                deletions_due = self.deletions * max(0.0, (progress - 0.5) / 0.5)
                if self.deleted < deletions_due and len(self.live) > 1 and self.count <= self.total:
                    ops, subject = self.delete(entry)
                elif roll < 0.012:
                    ops, subject = self.rename(entry)
                else:
                    ops, subject = self.edit(entry)
                touched.add(entry.id)
            commands.extend(ops)
            subjects.append(subject)
        message = (subjects[0] if len(subjects) == 1 else f"{subjects[0]} and {len(subjects) - 1} more").encode()
        stamp = START + self.count * STEP
        head = [
            b"commit refs/heads/main\n",
            f"committer SYNTHETIC Bench <bench@example.org> {stamp} +0000\n".encode(),
            f"data {len(message)}\n".encode() + message + b"\n",
        ]
        if self.count == 1:
            site = b"title: SYNTHETIC benchmark archive\n"
            head.append(f"M 100644 inline content/site.yaml\ndata {len(site)}\n".encode() + site + b"\n")
        elif self.first_of_run:
            head.append(b"from refs/heads/main^0\n")
        self.first_of_run = False
        return b"".join(head + commands) + b"\n"

    first_of_run = False

    def write(self, repo: Path, commits: int) -> None:
        """Append `commits` commits to refs/heads/main of `repo` with `git fast-import`."""
        self.first_of_run = self.count > 0
        proc = subprocess.Popen(["git", "-C", str(repo), "fast-import", "--quiet", "--done"], stdin=subprocess.PIPE)
        assert proc.stdin is not None
        for _ in range(commits):
            proc.stdin.write(self.commit())
        proc.stdin.write(b"done\n")
        proc.stdin.close()
        if proc.wait() != 0:
            raise SystemExit("git fast-import failed")


def _modify(entry: Entry) -> bytes:
    data = entry.text()
    return f"M 100644 inline {entry.path}\ndata {len(data)}\n".encode() + data + b"\n"


def make_repo(repo: Path, entries: int, commits: int) -> Archive:
    """A new SYNTHETIC repository at `repo` (which must not exist), checked out."""
    repo.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    archive = Archive(entries, commits)
    archive.write(repo, commits)
    subprocess.run(["git", "-C", str(repo), "reset", "-q", "--hard"], check=True)
    return archive


def timed(run: Callable[[], History | None], repeat: int) -> tuple[float, float, History | None]:
    """The best and the median time of `repeat` runs, and the last result."""
    times = []
    result = None
    for _ in range(repeat):
        result = None  # free the previous result before timing, not while
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", type=Path, help="where to build the SYNTHETIC repository (kept); default: a temp dir")
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--commits", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each timing (best and median shown)")
    args = parser.parse_args(argv)

    temp = None
    if args.path is None:
        temp = tempfile.mkdtemp(prefix="history-bench-")
        base = Path(temp)
    else:
        base = args.path
        if base.exists():
            parser.error(f"{base} exists: give a new folder")
    repo, caches = base / "synthetic-repo", base / "caches"
    try:
        start = time.perf_counter()
        archive = make_repo(repo, args.entries, args.commits)
        print(f"SYNTHETIC repository: {repo}")
        print(f"  built in {time.perf_counter() - start:.1f} s: {args.commits} commits, {len(archive.live)} entries")
        content = repo / "content"
        fresh = iter(range(1_000_000))

        def new_cache() -> Path:
            return caches / str(next(fresh))

        rows = []
        best, median, history = timed(lambda: read_history(content), args.repeat)
        rows.append(("cold, no cache", best, median, "< 3"))
        best, median, _ = timed(lambda: read_history(content, new_cache()), args.repeat)
        rows.append(("cold, writing the cache", best, median, "< 3"))
        cache = new_cache()
        read_history(content, cache)
        best, median, cached = timed(lambda: read_history(content, cache), max(args.repeat, 5))
        rows.append(("no new commit (cache)", best, median, "< 0.2"))
        archive.write(repo, 10)
        incremental = []
        for _ in range(args.repeat):  # each from the cache of the old head
            copy = new_cache()
            shutil.copytree(cache, copy)
            incremental.append(timed(functools.partial(read_history, content, copy), 1))
        rows.append(
            (
                "10 new commits (incremental)",
                min(t[0] for t in incremental),
                statistics.median(t[1] for t in incremental),
                "",
            )
        )
        updated = incremental[-1][2]
        scratch = read_history(content)

        assert history is not None and updated is not None
        revisions = sum(len(r) for r in history.revisions.values())
        print(f"  history: {len(history.revisions)} entries, {revisions} revisions, {len(history.removed)} removed")
        print(f"  cache file: {(cache / CACHE_FILE).stat().st_size / 1e6:.1f} MB")
        print(f"  read from the cache equals a cold read: {cached == history}")
        print(f"  incremental read equals a read from scratch: {updated == scratch}")
        print()
        print(f"| {f'step (seconds, {args.repeat} runs)':<28} |  best | median | target |")
        print("|------------------------------|------:|-------:|-------:|")
        for name, best, median, target in rows:
            print(f"| {name:<28} | {best:5.2f} | {median:6.2f} | {target:>6} |")
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
