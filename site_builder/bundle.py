"""`site-builder bundle`: the built site as one ZIP file holding a BagIt bag (RFC 8493).

Inside the zip is one folder named after the archive: bagit.txt, bag-info.txt (title, address,
release, commit, Payload-Oxum), manifest-sha256.txt (every payload file), tagmanifest-sha256.txt,
an index.html that opens the site, and the site itself under data/. The zip is deterministic:
sorted entries, one fixed timestamp, fixed permissions, no extra fields, so two bundles of the
same build are byte-identical. `site-builder verify` (site_builder.verify) checks one.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import io
import json
import os
import re
import stat
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from .write import MARKER, Writer

BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
DOWNLOAD = "download"  # where `build --bundle` puts the zip; a zip cannot hold itself
EXCLUDED = frozenset({MARKER, DOWNLOAD})  # top-level names of the output never in the payload
CHUNK = 1 << 20
Stamp = tuple[int, int, int, int, int, int]
DOS_EPOCH: Stamp = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


class BundleError(Exception):
    pass


@dataclass(frozen=True)
class Bundle:
    name: str  # the bag's folder inside the zip, e.g. coastal-syria-2025
    files: int  # payload files
    size: int  # payload bytes


# --- names and manifest lines, shared with site_builder.verify -----------------------------------


def bundle_name(title: str, base_url: str) -> str:
    """An ASCII-safe name for the archive: the last folder of its address, else its title."""
    segment = urlsplit(base_url).path.rstrip("/").rpartition("/")[2]
    return _slug(segment) or _slug(title) or "archive"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:80].rstrip("-")


def encode_path(path: str) -> str:
    """RFC 8493 §2.1.3: a manifest path with %, CR and LF percent-encoded."""
    return path.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def decode_path(path: str) -> str:
    return re.sub(r"%(25|0[aAdD])", lambda m: chr(int(m.group(1), 16)), path)


def unsafe_reason(path: str) -> str:
    """Why a relative path from a bag or zip must not be trusted, or '' if it is safe."""
    parts = path.split("/")
    if not path or path.startswith("/") or re.match(r"[A-Za-z]:", path):
        return "an absolute path"
    if "\\" in path or "\0" in path:
        return "a backslash or NUL in the name"
    if any(part in ("", ".", "..") for part in parts):
        return "an empty, '.' or '..' path segment"
    return ""


# --- making a bundle ----------------------------------------------------------------------------


def write_bundle(site: Path, out: IO[bytes], date: str = "") -> Bundle:
    """Write the zip of `site` (a built site) to the seekable `out`.

    `date` (YYYY-MM-DD, the commit's date) is the Bagging-Date unless SOURCE_DATE_EPOCH is set;
    with neither, there is no Bagging-Date: never the wall clock, so the bundle stays reproducible.
    """
    about = _site_info(site)
    name = bundle_name(str(about.get("title") or ""), str(about.get("base_url") or ""))
    payload = list(_payload(site))
    bundle = Bundle(name, len(payload), sum(size for _, _, size in payload))
    epoch = _source_date_epoch()
    stamp = _stamp(epoch)
    bagging_date = time.strftime("%Y-%m-%d", time.gmtime(epoch)) if epoch is not None else date
    tags = {
        "bag-info.txt": _bag_info(about, bundle, bagging_date),
        "bagit.txt": BAGIT_TXT,
        "index.html": _opener(about),
    }
    manifest = []
    # Entries go in sorted order: bag-info.txt, bagit.txt, data/..., index.html, manifest-, tagmanifest-.
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for tag in ("bag-info.txt", "bagit.txt"):
            _add(archive, f"{name}/{tag}", stamp, tags[tag])
        for rel, path, size in payload:
            digest = _add_file(archive, f"{name}/data/{rel}", stamp, path, size)
            manifest.append(f"{digest}  {encode_path('data/' + rel)}\n")
        _add(archive, f"{name}/index.html", stamp, tags["index.html"])
        tags["manifest-sha256.txt"] = "".join(manifest).encode("utf-8")
        _add(archive, f"{name}/manifest-sha256.txt", stamp, tags["manifest-sha256.txt"])
        tagmanifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {tag}\n" for tag, data in sorted(tags.items()))
        _add(archive, f"{name}/tagmanifest-sha256.txt", stamp, tagmanifest.encode("utf-8"))
    return bundle


def _site_info(site: Path) -> dict[str, Any]:
    """The archive's title, address, release and commit, from the built site's data/events.json."""
    path = site / "data" / "events.json"
    try:
        about = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        raise BundleError(f"cannot read {path}: {error}") from None
    if not isinstance(about, dict):
        raise BundleError(f"{path} is not a site-builder data file")
    return about


def _payload(site: Path) -> Iterator[tuple[str, Path, int]]:
    """(path under data/, file, size) for every file of the site, sorted; symlinks refused."""
    found = []
    for folder, dirs, files in os.walk(site):
        here = Path(folder)
        top = here == site
        dirs[:] = [d for d in dirs if not (top and d in EXCLUDED)]
        for entry in [*dirs, *(f for f in files if not (top and f in EXCLUDED))]:
            path = here / entry
            rel = path.relative_to(site).as_posix()
            if path.is_symlink():
                raise BundleError(f"{site}/{rel} is a symbolic link; a built site has none, refusing to bundle it")
            if _bad_name(rel):
                raise BundleError(f"{site}/{rel}: {_bad_name(rel)}; refusing to bundle it")
            if entry in files:
                mode = path.lstat()
                if not stat.S_ISREG(mode.st_mode):
                    raise BundleError(f"{site}/{rel} is not a regular file; refusing to bundle it")
                found.append((rel, path, mode.st_size))
    yield from sorted(found)


def _bad_name(rel: str) -> str:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return "a file name that is not UTF-8"
    return unsafe_reason(rel)


def _source_date_epoch() -> int | None:
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) > 253402300799:  # 9999-12-31
        raise BundleError(f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, not {value!r}")
    return int(value)


def _stamp(epoch: int | None) -> Stamp:
    """The one timestamp of every entry, within what a zip can hold (1980 to 2107)."""
    if epoch is None:
        return DOS_EPOCH
    moment = time.gmtime(min(max(epoch, 315532800), 4354819198))
    return (moment.tm_year, moment.tm_mon, moment.tm_mday, moment.tm_hour, moment.tm_min, moment.tm_sec)


def _one_line(value: object) -> str:
    """A bag-info value on one line: whitespace and control characters collapsed to spaces."""
    return " ".join("".join(c if c.isprintable() else " " for c in str(value)).split())


def _bag_info(about: dict[str, Any], bundle: Bundle, bagging_date: str) -> bytes:
    fields = [
        ("External-Description", about.get("title")),
        ("External-Identifier", about.get("base_url")),
        ("Bagging-Date", bagging_date),
        ("Payload-Oxum", f"{bundle.size}.{bundle.files}"),
        ("Archive-Release", about.get("release")),
        ("Archive-Commit", about.get("commit")),
    ]
    lines = [f"{label}: {_one_line(value)}\n" for label, value in fields if value and _one_line(value)]
    return "".join(lines).encode("utf-8")


def _opener(about: dict[str, Any]) -> bytes:
    """The bag's own index.html: opening it (from disk too) goes to the site in data/."""
    title = html.escape(_one_line(about.get("title") or "index.html"))
    return (
        "<!DOCTYPE html>\n"
        '<html><head><meta charset="utf-8">\n'
        '<meta http-equiv="refresh" content="0; url=data/index.html">\n'
        f"<title>{title}</title></head>\n"
        f'<body><p><a href="data/index.html">{title}</a></p></body></html>\n'
    ).encode()


def _entry(arcname: str, stamp: Stamp, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(arcname, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED  # at zlib's default level, 6
    info.create_system = 3  # Unix, so the permissions below are read
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.file_size = size  # known up front: zipfile then decides about Zip64 the same way every time
    return info


def _add(archive: zipfile.ZipFile, arcname: str, stamp: Stamp, data: bytes) -> None:
    with archive.open(_entry(arcname, stamp, len(data)), "w") as entry:
        entry.write(data)


def _add_file(archive: zipfile.ZipFile, arcname: str, stamp: Stamp, path: Path, size: int) -> str:
    """Stream one file into the zip; returns its SHA-256."""
    digest, written = hashlib.sha256(), 0
    with path.open("rb") as source, archive.open(_entry(arcname, stamp, size), "w") as entry:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            entry.write(chunk)
            written += len(chunk)
    if written != size:
        raise BundleError(f"{path} changed while it was being bundled")
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def checksum_line(digest: str, file_name: str) -> bytes:
    """One line in `sha256sum` format, for `sha256sum -c`."""
    return f"{digest}  {file_name}\n".encode()


def commit_date(where: Path, commit: str) -> str:
    """The commit's day (YYYY-MM-DD, in UTC like the history's dates, whatever time zone the
    committer or the build is in) from the Git repository at `where`; '' when Git cannot tell."""
    if not re.fullmatch(r"[0-9a-f]{7,64}", commit):
        return ""
    command = ["git", "-C", str(where), "show", "-s", "--format=%ct", f"{commit}^{{commit}}"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError:
        return ""
    stamp = result.stdout.strip()
    if result.returncode != 0 or not stamp.isdigit():
        return ""
    return time.strftime("%Y-%m-%d", time.gmtime(int(stamp)))


# --- `build --bundle` and `site-builder bundle` -------------------------------------------------


def add_to_build(writer: Writer, file_name: str, date: str) -> None:
    """download/<name>.zip and its .sha256 inside the staged build, which must be complete."""
    writer.discard()  # the spare may hold files this build does not make (pages of deleted entries)
    buffer = io.BytesIO()
    bundle = write_bundle(writer.staging, buffer, date)
    if f"{bundle.name}.zip" != file_name:
        raise BundleError(f"the bundle is named {bundle.name}.zip, but the home page links to {file_name}")
    data = buffer.getvalue()
    writer.write(f"{DOWNLOAD}/{file_name}", data, "bundle")
    writer.write(f"{DOWNLOAD}/{file_name}.sha256", checksum_line(hashlib.sha256(data).hexdigest(), file_name), "bundle")


def bundle_folder(output: Path, to: Path | None = None) -> tuple[Path, Bundle, str]:
    """Bundle a built site into `to` (default: beside it); returns the zip, what it holds, its SHA-256."""
    if not output.is_dir():
        raise BundleError(f"{output} is not a folder; build the site first (site-builder build)")
    if not (output / MARKER).is_file() or not (output / "data" / "events.json").is_file():
        raise BundleError(f"{output} is not a site built by site-builder (no {MARKER} or data/events.json)")
    about = _site_info(output)
    name = bundle_name(str(about.get("title") or ""), str(about.get("base_url") or ""))
    target = to if to is not None else output.resolve().parent / f"{name}.zip"
    if target.resolve().is_relative_to(output.resolve()):
        raise BundleError(f"the bundle {target} must not be written inside the site it bundles")
    if target.is_dir():
        raise BundleError(f"{target} is a folder; give the zip file's name")
    # The commit's date, from the repository holding the output folder or the current folder.
    commit = str(about.get("commit") or "")
    date = commit_date(output, commit) or commit_date(Path.cwd(), commit)
    try:
        with _replacing(target) as out:
            bundle = write_bundle(output, out, date)
        digest = sha256_file(target)
        with _replacing(target.with_name(target.name + ".sha256")) as out:
            out.write(checksum_line(digest, target.name))
    except OSError as error:
        raise BundleError(str(error)) from None
    return target, bundle, digest


@contextmanager
def _replacing(target: Path) -> Iterator[IO[bytes]]:
    """Write a file beside `target`, then rename it into place: never a half-written bundle."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=f".{target.name}.", delete=False) as out:
        try:
            yield out
        except BaseException:
            out.close()
            os.unlink(out.name)
            raise
    os.chmod(out.name, 0o644)
    os.replace(out.name, target)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", type=Path, default=Path("output"), help="the built site (default: output)")
    parser.add_argument(
        "--to", type=Path, help="the zip to write (default: beside the output folder, named after the archive)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        target, bundle, digest = bundle_folder(args.output, args.to)
    except BundleError as error:
        print(f"site-builder: error: {error}", file=sys.stderr)
        return 1
    print(
        f"Bundled {bundle.files} files ({bundle.size:,} bytes) of {args.output} into {target}"
        f" and {target.name}.sha256.\nSHA-256 {digest}"
    )
    return 0
