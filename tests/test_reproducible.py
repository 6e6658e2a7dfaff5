"""Reproducible builds: the same commit gives the same bytes, wherever and however it is built.

The example archive (content/) is copied into two folders at different absolute paths, each made
a fresh Git repository holding one commit with the same author, committer and dates, hence the
same commit id. `python -m site_builder build --bundle` (Pagefind's index and the zip included)
runs in each with a different environment: TZ (UTC, Pacific/Kiritimati at UTC+14, where the
commit falls on another day), the locale (C.UTF-8, another one: one `locale -a` lists, else one
compiled with localedef), PYTHONHASHSEED (0, 12345), HOME, the content files' mtimes, the cache
(none, a cold one) and the processes (two cores, one: no forked workers). Every output file must
be byte for byte the same, and none may hold an absolute path of the build (in compressed files
too: Pagefind's and the zip's members are read unpacked).

Pagefind itself writes its filter files in hash-map order, a different order on every run
(Pagefind issue #638); search.py rewrites those files sorted, under names derived from their
content, and this test is what keeps that so. Nothing else of Pagefind's output was seen to vary.

Then SOURCE_DATE_EPOCH. The pages, feeds, sitemap and data files show no time but the content's
and Git's: an entry's dates, its revisions' days (the committer's time, as a UTC day), a release's
date. Nothing reads the clock (the "accessed" date of "Cite this entry" is the reader's, filled in
by cite.js in the browser; the page itself holds a placeholder). The one date not taken from the
content is the bundle's: its Bagging-Date and its zip entries' times follow SOURCE_DATE_EPOCH,
else the commit's day and 1980-01-01. The last tests check both, and that a build without
SOURCE_DATE_EPOCH shows no date of the day it ran.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import EXAMPLE, REPO

COMMIT_DATE = "2025-08-01T21:30:00-05:00"  # after every date of the example; 2 August in UTC
COMMIT_DAY = "2025-08-02"
OTHER_ZONE = "Pacific/Kiritimati"

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def content_repo(root: Path) -> str:
    """The example archive as root/content, one commit of fixed identity and date; its id."""
    content = root / "content"
    shutil.copytree(EXAMPLE, content)
    who = {"NAME": "Curator", "EMAIL": "curator@example.org", "DATE": COMMIT_DATE}
    env = {
        **os.environ,
        **{f"GIT_{role}_{key}": value for role in ("AUTHOR", "COMMITTER") for key, value in who.items()},
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    git = ["git", "-C", str(content), "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "The example archive"]):
        subprocess.run([*git, *args], env=env, check=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()


def other_locale(folder: Path) -> dict[str, str]:
    """LC_ALL and LANG (and LOCPATH) of a locale other than C and POSIX: one the machine has, else
    one compiled into `folder`; POSIX if neither can be had."""
    listed = subprocess.run(["locale", "-a"], capture_output=True, text=True, check=False).stdout.split()
    for name in listed:
        if name.split(".")[0] not in ("C", "POSIX"):
            return {"LC_ALL": name, "LANG": name}
    if shutil.which("localedef"):
        target = folder / "tr_TR.UTF-8"  # Turkish: its dotless i trips case-folding that follows the locale
        subprocess.run(["localedef", "-i", "tr_TR", "-f", "UTF-8", str(target)], capture_output=True, check=False)
        if (target / "LC_CTYPE").exists():
            return {"LC_ALL": "tr_TR.UTF-8", "LANG": "tr_TR.UTF-8", "LOCPATH": str(folder)}
    return {"LC_ALL": "POSIX", "LANG": "POSIX"}


def environment(home: Path, **values: str) -> dict[str, str]:
    """A build's environment: the machine's PATH, nothing else inherited."""
    home.mkdir(parents=True, exist_ok=True)
    return {"PATH": os.environ["PATH"], "HOME": str(home), "GIT_CONFIG_GLOBAL": os.devnull, **values}


def run_build(root: Path, env: dict[str, str], *options: str, cores: set[int] | None = None) -> None:
    command = [sys.executable, "-m", "site_builder", "build", "--content", "content", "--output", "output"]
    result = subprocess.run(
        [*command, "--bundle", "--quiet", *options],
        cwd=root,
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
        preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None,
    )
    assert result.returncode == 0, result.stderr


def files(folder: Path) -> dict[str, bytes]:
    found = {}
    for path in sorted(folder.rglob("*")):
        assert not path.is_symlink(), path
        if path.is_file():
            found[path.relative_to(folder).as_posix()] = path.read_bytes()
    return found


def readable(rel: str, data: bytes) -> list[tuple[str, bytes]]:
    """The file, and what it holds unpacked: Pagefind's gzip files, the zip's members."""
    if data[:2] == b"\x1f\x8b":
        return [(rel, gzip.decompress(data))]
    if rel.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [(name, archive.read(name)) for name in archive.namelist()]
        return [(rel, data)] + [
            (f"{rel}/{inner}", text) for name, member in members for inner, text in readable(name, member)
        ]
    return [(rel, data)]


def test_two_builds_of_one_commit_are_byte_identical(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "elsewhere" / "a much longer path" / "two"
    assert content_repo(one) == content_repo(two)
    # Different mtimes on every content file (Git does not keep them; a checkout sets them anyhow).
    for n, path in enumerate(sorted((two / "content").rglob("*"))):
        if ".git" not in path.parts and path.is_file():
            os.utime(path, ns=(981173106_000_000_000 + n * 7_654_321_000, 981173106_000_000_000 + n * 7_654_321_000))
    first = environment(tmp_path / "home-1", TZ="UTC", LC_ALL="C.UTF-8", LANG="C.UTF-8", PYTHONHASHSEED="0")
    locale = other_locale(tmp_path / "locales")
    second = environment(tmp_path / "home-2", TZ=OTHER_ZONE, PYTHONHASHSEED="12345", **locale)
    run_build(one, first, "--no-cache")
    run_build(two, second, cores={min(os.sched_getaffinity(0))})  # one core: no forked workers
    a, b = files(one / "output"), files(two / "output")
    assert a.keys() == b.keys(), (
        f"only in one: {sorted(a.keys() - b.keys())}; only in two: {sorted(b.keys() - a.keys())}"
    )
    differing = sorted(rel for rel in a if a[rel] != b[rel])
    assert not differing, f"{len(differing)} of {len(a)} files differ (locale {locale['LC_ALL']}): {differing}"
    assert any(rel.startswith("pagefind/") for rel in a) and any(rel.startswith("download/") for rel in a)
    # No absolute path of either build: its folders, HOME, site-builder's own (the theme's).
    needles = [str(tmp_path).encode(), str(REPO).encode(), str(tmp_path.resolve()).encode()]
    leaks = [
        inner
        for output in (a, b)
        for rel, data in output.items()
        for inner, text in readable(rel, data)
        if any(needle in text for needle in needles)
    ]
    assert not leaks, f"absolute paths of the build in {leaks}"


# --- SOURCE_DATE_EPOCH ------------------------------------------------------------------------


def bundle_dates(output: Path) -> tuple[str, set[tuple[int, ...]]]:
    """The bag's Bagging-Date ('' if none) and the times of the zip's entries."""
    [zip_path] = (output / "download").glob("*.zip")
    with zipfile.ZipFile(zip_path) as archive:
        [info] = [name for name in archive.namelist() if name.endswith("/bag-info.txt")]
        found = re.search(r"^Bagging-Date: (.*)$", archive.read(info).decode(), re.M)
        return (found.group(1) if found else ""), {entry.date_time for entry in archive.infolist()}


def without_bundle(output: Path) -> dict[str, bytes]:
    return {rel: data for rel, data in files(output).items() if not rel.startswith("download/")}


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[str, set[tuple[int, ...]]]]]:
    """The example commit built with SOURCE_DATE_EPOCH at two values and without it, one build
    after the other with the cache (so the cache follows it too); each output kept."""
    root = tmp_path_factory.mktemp("dated")
    content_repo(root)
    dates = {}
    for label, epoch in (("2023", "1700000000"), ("2027", "1800000000"), ("none", "")):
        env = environment(
            root / "home", TZ=OTHER_ZONE, LC_ALL="C.UTF-8", **({"SOURCE_DATE_EPOCH": epoch} if epoch else {})
        )
        run_build(root, env)
        dates[label] = bundle_dates(root / "output")
        shutil.copytree(root / "output", root / f"kept-{label}")
    return root, dates


def test_source_date_epoch_dates_the_bundle(dated: tuple[Path, dict[str, tuple[str, set[tuple[int, ...]]]]]) -> None:
    _, dates = dated
    # 1700000000 is 2023-11-14 22:13:20 UTC, 1800000000 is 2027-01-15 08:00:00 UTC.
    assert dates["2023"] == ("2023-11-14", {(2023, 11, 14, 22, 13, 20)})
    assert dates["2027"] == ("2027-01-15", {(2027, 1, 15, 8, 0, 0)})
    # Without it: the commit's day in UTC (as the history's dates: not the committer's 1 August
    # nor the build's time zone's), and the earliest time a zip can hold.
    assert dates["none"] == (COMMIT_DAY, {(1980, 1, 1, 0, 0, 0)})


def test_everything_but_the_bundle_comes_from_the_content_and_git(
    dated: tuple[Path, dict[str, tuple[str, set[tuple[int, ...]]]]],
) -> None:
    root, _ = dated
    kept = {label: without_bundle(root / f"kept-{label}") for label in ("2023", "2027", "none")}
    assert kept["2023"] == kept["2027"] == kept["none"]
    site = root / "kept-none"
    feed = (site / "feed.atom").read_text(encoding="utf-8")
    assert re.findall(r"<updated>([^<]*)</updated>", feed)[0] == f"{COMMIT_DAY}T00:00:00Z"  # the last revision's day
    assert set(re.findall(r"<lastmod>([^<]*)</lastmod>", (site / "sitemap.xml").read_text(encoding="utf-8"))) == {
        COMMIT_DAY
    }


def test_a_build_shows_no_date_of_the_day_it_ran(
    dated: tuple[Path, dict[str, tuple[str, set[tuple[int, ...]]]]],
) -> None:
    """Today, yesterday and tomorrow (in UTC and at UTC+14), as ISO dates, as the pages write
    dates and in the zip's form, appear nowhere: not in a file, not in the zip's members."""
    root, _ = dated
    now = dt.datetime.now(dt.UTC)
    days = {
        (now.astimezone(ZoneInfo(zone)) + dt.timedelta(days=shift)).date()
        for zone in ("UTC", OTHER_ZONE)
        for shift in (-1, 0, 1)
    }
    # Unless the content or its commit has that date too (a test run on a day the example names).
    named = b"".join(data for _, data in files(root / "content").items()) + COMMIT_DAY.encode()
    shown = {
        text
        for day in days
        for text in (day.isoformat(), f"{day.day} {day.strftime('%B')} {day.year}", f"{day:%Y%m%d}")
        if text.encode() not in named and day.isoformat() != COMMIT_DAY
    }
    found = [
        (inner, text)
        for rel, data in files(root / "kept-none").items()
        for inner, content in readable(rel, data)
        for text in shown
        if text.encode() in content
    ]
    assert not found, found
