"""Benchmark the offline search (search from disk) on a large SYNTHETIC archive.

    .venv/bin/python benchmarks/offline_search_bench.py [--events 10000] [--seed 0] [--full] [--path DIR]

generates a SYNTHETIC archive (benchmarks/synthetic.py: made-up places, sources and words, never
in `content/`) in a temporary folder, or in `--path` (kept; it must not exist yet). It then writes
the offline index (site_builder/offline.py) with a bench page that loads only
static/offline-search.js, or with `--full` builds the whole site with site_builder.build.

In Chromium, from file:// with no server, it times a handful of queries: performance.now() around
the engine's search() and data() for the first 50 results, as the search page shows them, newest
first. "cold" is a fresh browser context (nothing cached) and a fresh engine; "warm" repeats the
query on the same engine. The bytes are the sizes of the index files the query loaded, meta.js
included. It prints a table; it does not assert, because timings depend on the machine.
Targets at 10,000 entries: a query answers in < 200 ms and loads < 2 MB.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import generate

from site_builder import offline
from site_builder.build import build
from site_builder.load import load_content
from site_builder.render import THEMES
from site_builder.validate import validate

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BENCH_PAGE = (
    '<!doctype html><meta charset="utf-8"><title>bench</title><script src="assets/offline-search.js"></script>\n'
)
SHOWN = 50  # results the search page renders

MEASURE = """async ({base, query, filters}) => {
  const engine = window.SiteBuilderOfflineSearch.open(base);
  let started = performance.now();
  await engine.init();
  const init = performance.now() - started;
  const once = async () => {
    const t0 = performance.now();
    const search = await engine.search(query, {filters, sort: {date: "desc"}});
    await Promise.all(search.results.slice(0, SHOWN).map(r => r.data()));
    return [performance.now() - t0, search.results.length];
  };
  const [cold, count] = await once();
  const [warm] = await once();
  return {init, cold, warm, count, files: engine.loaded()};
}""".replace("SHOWN", str(SHOWN))


@dataclass(frozen=True)
class Query:
    label: str
    text: str | None
    filters: dict[str, str]


def _queries(index: Path) -> list[Query]:
    """The queries, some picked from the generated index so they exist whatever the seed."""
    meta = offline_meta(index)
    region = max(meta["filters"]["region"].items(), key=lambda kv: (kv[1], kv[0]))[0]
    country = next(v for v in sorted(meta["filters"]["region"]) if v.startswith("Synthetic "))
    return [
        Query("single common word", "residents", {}),
        Query("very common word", "the", {}),
        Query("two words", "market shelling", {}),
        Query("rare word", _rare_word(index), {}),
        Query("prefix", "hosp", {}),
        Query("one-letter prefix", "s", {}),
        Query("Arabic word", "مستشفى", {}),
        Query(f"word + region filter ({country})", "market", {"region": country}),
        Query(f"filter only ({region})", None, {"region": region}),
    ]


def offline_meta(index: Path) -> dict[str, Any]:
    meta: dict[str, Any] = offline.read((index / "meta.js").read_bytes())[2]
    return meta


def _rare_word(index: Path) -> str:
    """A word of at least 8 letters found in 1 to 3 entries."""
    for path in sorted((index / "terms").glob("*.js")):
        for word, postings in sorted(offline.read(path.read_bytes())[2].items()):
            if len(word) >= 8 and word.isascii() and 1 <= len(offline.decode(postings)) <= 3:
                return word
    return "zzzz"


def _sizes(index: Path) -> None:
    files = [p for p in index.rglob("*.js")]
    by_kind = Counter(p.relative_to(index).parts[0] if len(p.relative_to(index).parts) > 1 else "meta" for p in files)
    total = sum(p.stat().st_size for p in files)
    terms = sorted((index / "terms").glob("*.js"), key=lambda p: p.stat().st_size)
    docs = list((index / "docs").glob("*.js"))
    filters = sorted((index / "filters").glob("*.js"), key=lambda p: p.stat().st_size)
    print(f"offline index: {len(files):,} files, {total / 1e6:.2f} MB in all")
    print(f"  meta.js {(index / 'meta.js').stat().st_size / 1e3:.1f} KB")
    print(
        f"  {by_kind['terms']:,} term shards, {sum(p.stat().st_size for p in terms) / 1e6:.2f} MB, "
        f"largest {terms[-1].stat().st_size / 1e3:.1f} KB"
    )
    print(
        f"  {by_kind['filters']} filter files, largest {filters[-1].stat().st_size / 1e3:.1f} KB ({filters[-1].name})"
    )
    print(
        f"  {by_kind['docs']:,} display chunks, {sum(p.stat().st_size for p in docs) / 1e6:.2f} MB, "
        f"about {sum(p.stat().st_size for p in docs) / len(docs) / 1e3:.1f} KB each"
    )


def _measure(browser: Browser, site: Path, query: Query) -> dict[str, Any]:
    context = browser.new_context()  # nothing cached: a cold start
    try:
        page = context.new_page()
        page.goto((site / "bench.html").as_uri())
        base = (site / "search-offline").as_uri() + "/"
        result: dict[str, Any] = page.evaluate(MEASURE, {"base": base, "query": query.text, "filters": query.filters})
    finally:
        context.close()
    result["bytes"] = sum((site / "search-offline" / f).stat().st_size for f in result["files"])
    return result


def _write_index(content: Path, site: Path) -> None:
    started = time.perf_counter()
    archive = validate(load_content(content))
    loaded = time.perf_counter()
    files = offline.files(archive, THEMES / "default")
    done = time.perf_counter()
    for rel, data in files.items():
        path = site / offline.FOLDER / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    print(f"load and validate {loaded - started:.2f} s; offline index {done - loaded:.2f} s")


def run(root: Path, events: int, seed: int, full: bool) -> None:
    started = time.perf_counter()
    content = generate(root, events, seed)
    print(f"{events:,} SYNTHETIC entries generated in {time.perf_counter() - started:.1f} s")
    site = root / "output"
    if full:
        started = time.perf_counter()
        build(content, site, log=lambda line: print(f"  {line}"))
        print(f"full build {time.perf_counter() - started:.1f} s")
    else:
        _write_index(content, site)
    (site / "assets").mkdir(exist_ok=True)
    shutil.copyfile(THEMES / "default" / "static" / "offline-search.js", site / "assets" / "offline-search.js")
    (site / "bench.html").write_text(BENCH_PAGE, encoding="utf-8")
    index = site / "search-offline"
    _sizes(index)

    print()
    header = f"{'query':<52} {'results':>8} {'files':>6} {'KB loaded':>10} {'cold ms':>8} {'warm ms':>8}"
    print(header)
    print("-" * len(header))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            inits = []
            for query in _queries(index):
                r = _measure(browser, site, query)
                inits.append(r["init"])
                text = f"{query.label}: {query.text!r}" if query.text else query.label
                print(
                    f"{text:<52} {r['count']:>8,} {len(r['files']):>6} {r['bytes'] / 1e3:>10.1f} "
                    f"{r['cold']:>8.1f} {r['warm']:>8.1f}"
                )
        finally:
            browser.close()
    print(f"\nopening the engine (meta.js) before any query: {min(inits):.1f}–{max(inits):.1f} ms")
    print("targets: < 200 ms to answer, < 2,000 KB loaded")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full", action="store_true", help="build the whole site (slower) instead of only the index")
    parser.add_argument("--path", type=Path, help="keep the archive and output here (must not exist)")
    args = parser.parse_args(argv)
    if args.path:
        if args.path.exists():
            parser.error(f"{args.path} exists")
        run(args.path, args.events, args.seed, args.full)
    else:
        with tempfile.TemporaryDirectory(prefix="offline-bench-") as tmp:
            run(Path(tmp), args.events, args.seed, args.full)
    return 0


if __name__ == "__main__":
    sys.exit(main())
