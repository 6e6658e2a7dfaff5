"""Releases: Git tags built as frozen copies under versions/<tag>/, a changelog between them.

Each release is built from the tag's own content with the current tool and theme. A release
already in the previous output, built from the same commit by the same tool and theme, is
copied rather than rebuilt. `latest/` holds redirect pages to the newest release (no symlinks:
they do not survive zips or USB sticks).
"""

from __future__ import annotations

import hashlib
import io
import json
import posixpath
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import ContentError
from .frontmatter import front_matter, load_front_matter
from .load import load_content
from .model import Archive, Edition, Release, Snapshot
from .validate import validate

Log = Callable[[str], None]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, check=True).stdout


@dataclass(frozen=True)
class Repository:
    root: Path
    content: str  # the content folder, relative to the root, POSIX


def repository(content: Path) -> Repository | None:
    """The Git repository holding `content`, or None when there is none."""
    try:
        root = Path(_git(content, "rev-parse", "--show-toplevel").strip())
        _git(root, "rev-parse", "--verify", "HEAD")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return None
    rel = content.resolve().relative_to(root.resolve()).as_posix()
    return Repository(root, "" if rel == "." else rel)


def head_commit(content: Path) -> str:
    repo = repository(content)
    return _git(repo.root, "rev-parse", "HEAD").strip() if repo else ""


def list_releases(repo: Repository, pattern: str) -> tuple[Release, ...]:
    """Tags matching `pattern`, newest first (by the tagged commit's date, then tag)."""
    releases = []
    for tag in _git(repo.root, "tag", "--list", pattern).split():
        commit = _git(repo.root, "rev-list", "-n", "1", tag).strip()
        date = _git(repo.root, "show", "-s", "--format=%cs", commit).strip()
        releases.append(Release(tag, commit, date))
    return tuple(sorted(releases, key=lambda r: (r.date, r.tag), reverse=True))


def extract(repo: Repository, commit: str, into: Path) -> Path:
    """Write the content folder as it was at `commit` into `into`; returns its path there."""
    args = ["git", "-C", str(repo.root), "archive", "--format=tar", commit]
    if repo.content:
        args += ["--", repo.content]
    data = subprocess.run(args, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into / repo.content if repo.content else into


def snapshots(content: Path) -> dict[str, Snapshot]:
    """Every event's front matter as plain data, by id (for the changelog)."""
    out: dict[str, Snapshot] = {}
    for path in sorted((content / "events").rglob("*.md")):
        text = front_matter(path.read_text(encoding="utf-8", errors="replace"))
        out[path.stem] = load_front_matter(text) if text is not None else None
    return out


def build_key(theme: Path) -> str:
    """What a reused release must have been built with: this tool's version and theme."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(p for p in theme.rglob("*") if p.is_file()):
        digest.update(path.relative_to(theme).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


STAMP = ".release.json"


@dataclass(frozen=True)
class BuiltRelease:
    release: Release
    archive: Archive
    snapshots: dict[str, Snapshot]


def build_releases(
    repo: Repository,
    releases: tuple[Release, ...],
    current_ids: frozenset[str],
    staging: Path,
    previous: Path,
    theme: Path,
    render: Callable[[Archive, Path, Edition, str], None],
    log: Log,
) -> list[BuiltRelease]:
    """Build (or reuse) each release into staging/versions/<tag>/; returns those that built."""
    key = build_key(theme)
    built = []
    for release in releases:
        with tempfile.TemporaryDirectory(prefix="site-builder-release-") as tmp:
            content = extract(repo, release.commit, Path(tmp))
            try:
                archive = validate(load_content(content))
            except ContentError as error:
                count = len(error.problems)
                log(f"release {release.tag} skipped: {count} errors with this version of site-builder")
                continue
            built.append(BuiltRelease(release, archive, snapshots(content)))
            target = f"versions/{release.tag}"
            old = previous / target
            stamp = {"commit": release.commit, "key": key}
            if (old / STAMP).is_file() and json.loads((old / STAMP).read_text()) == stamp:
                shutil.copytree(old, staging / target)
                log(f"release {release.tag}: reused")
                continue
            edition = Edition(release=release, current_ids=current_ids, commit=release.commit)
            render(archive, content / "templates", edition, target + "/")
            (staging / target / STAMP).write_text(json.dumps(stamp) + "\n")
            log(f"release {release.tag}: built")
    return built


def latest_redirects(staging: Path, release: Release) -> dict[str, bytes]:
    """A redirect page in latest/ for every page of the newest release."""
    folder = staging / "versions" / release.tag
    pages = {}
    for path in sorted(folder.rglob("*.html")):
        rel = path.relative_to(folder).as_posix()
        depth = rel.count("/") + 1  # latest/ plus the page's own folders
        target = "../" * depth + f"versions/{release.tag}/{rel}"
        html = (
            '<!doctype html>\n<meta charset="utf-8">\n'
            f"<title>{release.tag}</title>\n"
            f'<meta http-equiv="refresh" content="0; url={target}">\n'
            f'<link rel="canonical" href="{target}">\n'
            f'<p><a href="{target}">{release.tag}</a></p>\n'
        )
        pages[posixpath.join("latest", rel)] = html.encode("utf-8")
    return pages


def versions_json(releases: list[BuiltRelease], current: str) -> bytes:
    document = {
        "schema_version": 1,
        "current": {"commit": current, "path": ""},
        "latest": releases[0].release.tag if releases else None,
        "releases": [
            {
                "tag": b.release.tag,
                "commit": b.release.commit,
                "date": b.release.date,
                "path": f"versions/{b.release.tag}/",
                "data": f"versions/{b.release.tag}/data/events.json",
            }
            for b in releases
        ],
    }
    return (json.dumps(document, indent=1) + "\n").encode("utf-8")
