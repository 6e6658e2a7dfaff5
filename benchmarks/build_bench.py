"""Time `site-builder build` on a SYNTHETIC archive: cold, no change, one entry edited, a template
edited, with and without search; peak memory of the whole process tree. It prints, not asserts.

    .venv/bin/python benchmarks/build_bench.py                   # 10,000 entries
    .venv/bin/python benchmarks/build_bench.py --events 100000   # on request: takes a while
    .venv/bin/python benchmarks/build_bench.py --path /tmp/b     # keep the archive and output

The archive is made by synthetic.py in a temporary folder (or --path, which must not exist),
never in content/. Every build runs as `python -m site_builder build` in a subprocess, as a user
runs it; while it runs, /proc is read every 20 ms for the resident memory of the build and of
every process it started (its workers, Pagefind): "RSS" adds up each process's resident set
(memory shared by forked workers counts once per process), "PSS" shares such pages out (what the
tree really holds). Linux only.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic

TARGETS = {
    "cold build, no search": "≤ 5 s",
    "cold build, with search": "≤ 14 s",
    "no change": "≤ 0.5 s",
    "one entry edited": "≤ 0.5 s",
}
MEMORY_TARGET = "≤ 300 MiB"


@dataclass
class Run:
    name: str
    seconds: float
    rss: int  # peak, KiB, summed over the process tree
    pss: int
    summary: str  # the build's closing line


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as file:
            return [int(p) for p in file.read().split()]
    except OSError:
        return []


def _field(path: str, name: str) -> int:
    try:
        with open(path) as file:
            for line in file:
                if line.startswith(name):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(name: str, command: list[str], cwd: Path) -> Run:
    """Run `command`; its wall time and the peak memory of its process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rss = pss = 0
    while process.poll() is None:
        tree, todo = [], [process.pid]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo += _children(pid)
        rss = max(rss, sum(_field(f"/proc/{pid}/status", "VmRSS:") for pid in tree))
        pss = max(pss, sum(_field(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in tree))
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    out, err = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"{name}: the build failed:\n{err}")
    return Run(name, seconds, rss, pss, out.strip().splitlines()[-1])


def edit_entry(content: Path, n: int) -> None:
    """Add a sentence to one entry's narrative (its date, and so every list's order, unchanged)."""
    path = sorted((content / "events").rglob("*.md"))[n]
    path.write_text(path.read_text(encoding="utf-8") + f"\nSynthetic edit number {n}.\n", encoding="utf-8")


# A `serve` process: it has built before, so its imports, compiled templates and cache are in
# memory. It edits entries and rebuilds as `serve` does (no Pagefind; the cache kept in memory
# until the edits settle, then written), and prints each rebuild's time.
IN_PROCESS = """
import gc, time
from pathlib import Path
gc.set_threshold(20_000, 50, 1_000)  # as the build command sets it
from site_builder.build import build, flush_cache
paths = sorted(Path("content/events").rglob("*.md"))
build(Path("content"), Path("output"), cache_dir=Path("cache"), search=False)
seconds = []
for n in range(4, 7):
    paths[n].write_text(paths[n].read_text(encoding="utf-8") + f"\\nSynthetic edit number {n}.\\n", encoding="utf-8")
    started = time.perf_counter()
    build(Path("content"), Path("output"), cache_dir=Path("cache"), search=False, deferred_cache=True)
    seconds.append(f"{time.perf_counter() - started:.2f}")
flush_cache(Path("cache"))
print("rebuilds:", *seconds)
"""


def edit_template(content: Path, theme: Path, name: str, n: int) -> None:
    """The site's own copy of a theme template (content/templates/), changed a little."""
    text = (theme / "templates" / name).read_text(encoding="utf-8")
    (content / "templates").mkdir(exist_ok=True)
    (content / "templates" / name).write_text(text + f"{{# synthetic edit {n} #}}\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="number of entries (default 10,000)")
    parser.add_argument("--path", type=Path, help="work here (must not exist) and keep it")
    parser.add_argument("--skip-search", action="store_true", help="leave out the cold build with search")
    args = parser.parse_args(argv)
    root = args.path or Path(tempfile.mkdtemp(prefix="site-builder-bench-"))
    root.mkdir(parents=True, exist_ok=args.path is None)
    theme = Path(__file__).resolve().parent.parent / "themes" / "default"
    try:
        started = time.perf_counter()
        content = synthetic.generate(root, args.events)
        print(f"{args.events:,} SYNTHETIC entries in {content} ({time.perf_counter() - started:.1f} s)")
        build = [sys.executable, "-m", "site_builder", "build", "--content", "content", "--quiet"]
        fast = [*build, "--no-search", "--output", "output", "--cache", "cache"]
        runs: list[Run] = []

        def run(name: str, command: list[str]) -> Run:
            result = measure(name, command, root)
            runs.append(result)
            print(f"  {name}: {result.seconds:.2f} s  ({result.summary})", flush=True)
            return result

        cold = run("cold build, no search", fast)
        run("no change", fast)
        edit_entry(content, 1)
        run("one entry edited (first: makes the spare folder)", fast)
        for n in (2, 3):
            edit_entry(content, n)
            run("one entry edited", fast)
        serving = measure("in a serve process", [sys.executable, "-c", IN_PROCESS], root)
        rebuilds = serving.summary.split()[1:]
        name = "one entry edited, in a `serve` process (best of 3)"
        runs.append(Run(name, min(map(float, rebuilds)), serving.rss, serving.pss, serving.summary))
        print(f"  {name}: {', '.join(rebuilds)} s", flush=True)
        edit_template(content, theme, "tag.html", 0)  # the site's own templates turn on the sandbox
        edit_template(content, theme, "event.html", 0)
        run("(the site's own copies of two templates)", fast)
        edit_template(content, theme, "tag.html", 1)
        run("template edited: tag.html (the tag pages)", fast)
        edit_template(content, theme, "event.html", 1)
        run("template edited: event.html (every entry's page)", fast)
        for name in ("tag.html", "event.html"):
            (content / "templates" / name).unlink()
        shutil.rmtree(root / "output")
        shutil.rmtree(root / "cache")
        size = 0
        if not args.skip_search:
            run("cold build, with search", [*build, "--output", "output-search", "--cache", "cache-search"])
            offline = root / "output-search" / "search-offline"
            size = sum(p.stat().st_size for p in offline.rglob("*") if p.is_file())
        report(runs, cold, args.events, size)
    finally:
        if args.path is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


def report(runs: list[Run], cold: Run, events: int, offline_bytes: int) -> None:
    pages = int(cold.summary.split(" pages")[0].split()[-1].replace(",", ""))
    print(f"\n{events:,} SYNTHETIC entries, {pages:,} pages; {sys.platform}, Python {sys.version.split()[0]}\n")
    print("| build | seconds | target | peak RSS (MiB) | peak PSS (MiB) |")
    print("|---|--:|---|--:|--:|")
    for r in runs:
        target = TARGETS.get(r.name, "")
        print(f"| {r.name} | {r.seconds:.2f} | {target} | {r.rss / 1024:.0f} | {r.pss / 1024:.0f} |")
    peak = max(r.rss for r in runs if "with search" not in r.name)
    peak_pss = max(r.pss for r in runs if "with search" not in r.name)
    print(f"\npeak memory without search: {peak / 1024:.0f} MiB RSS, {peak_pss / 1024:.0f} MiB PSS ({MEMORY_TARGET})")
    print(f"pages per second, cold without search: {pages / cold.seconds:,.0f}")
    if offline_bytes:
        print(f"offline search index: {offline_bytes / 1e6:.1f} MB")


if __name__ == "__main__":
    sys.exit(main())
