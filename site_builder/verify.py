"""`site-builder verify PATH`: check a bundle, zipped or unzipped, against its own manifests.

Reports every payload file that is missing, extra or changed against manifest-sha256.txt, every
tag file against tagmanifest-sha256.txt, and the Payload-Oxum of bag-info.txt; exit 1 on any
difference. A zip is read where it is, never extracted; entries with unsafe names (`../`, absolute
paths) and symbolic links are reported, not followed. Files are hashed in chunks, however large.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import stat
import sys
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .bundle import CHUNK, decode_path, sha256_file, unsafe_reason

TAG_LIMIT = 64 << 20  # a manifest larger than this is not one we wrote
KNOWN_TAGS = re.compile(r"bagit\.txt|bag-info\.txt|(tag)?manifest-\w+\.txt")
READ_ERRORS = (OSError, EOFError, RuntimeError, NotImplementedError, zipfile.BadZipFile, zlib.error)


class VerifyError(Exception):
    pass


@dataclass(frozen=True, order=True)
class Finding:
    path: str  # relative to the bag's folder (or the zip's entry name, outside the bag)
    kind: str  # missing, extra, changed, unreadable, unsafe
    detail: str = ""

    def __str__(self) -> str:
        return f"verify: {self.kind}: {self.path}" + (f" ({self.detail})" if self.detail else "")


class Bag:
    """The files of one bag, in a zip or a folder: `files` maps bag-relative paths to sizes."""

    def __init__(self) -> None:
        self.files: dict[str, int] = {}
        self.findings: list[Finding] = []  # what was found unsafe or extra while listing

    def open(self, rel: str) -> IO[bytes]:
        raise NotImplementedError

    def read_tag(self, rel: str) -> str:
        if self.files[rel] > TAG_LIMIT:
            raise VerifyError(f"{rel} is too large to be a tag file ({self.files[rel]:,} bytes)")
        try:
            with self.open(rel) as source:
                return source.read(TAG_LIMIT + 1).decode("utf-8")
        except (*READ_ERRORS, UnicodeDecodeError) as error:
            raise VerifyError(f"cannot read {rel}: {error}") from None

    def digest(self, rel: str) -> str:
        sha = hashlib.sha256()
        with self.open(rel) as source:
            while chunk := source.read(CHUNK):
                sha.update(chunk)
        return sha.hexdigest()


class ZipBag(Bag):
    def __init__(self, path: Path) -> None:
        super().__init__()
        try:
            self.zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as error:
            raise VerifyError(f"{path} is not a readable zip file: {error}") from None
        names = Counter(info.filename for info in self.zip.infolist())
        entries = {}
        for info in self.zip.infolist():
            name = info.filename
            reason = unsafe_reason(name.removesuffix("/") if info.is_dir() else name)
            if names[name] > 1:
                reason = "the name appears more than once"
            elif stat.S_ISLNK(info.external_attr >> 16):
                reason = "a symbolic link"
            if reason:
                self.findings.append(Finding(name, "unsafe", reason))
            elif not info.is_dir():
                entries[name] = info
        self.prefix = _root({n.rpartition("/")[0] for n in entries if n.rpartition("/")[2] == "bagit.txt"}, path)
        self.entries = {}
        for name, info in entries.items():
            if name.startswith(self.prefix):
                self.entries[name[len(self.prefix) :]] = info
            else:
                self.findings.append(Finding(name, "extra", "outside the bag's folder"))
        self.files = {rel: info.file_size for rel, info in self.entries.items()}

    def open(self, rel: str) -> IO[bytes]:
        return self.zip.open(self.entries[rel])


class FolderBag(Bag):
    def __init__(self, path: Path) -> None:
        super().__init__()
        if (path / "bagit.txt").is_file():
            self.root = path
        else:
            candidates = {child.name for child in path.iterdir() if (child / "bagit.txt").is_file()}
            self.root = path / _root(candidates, path).removesuffix("/")
        if self.root.is_symlink():
            raise VerifyError(f"{self.root} is a symbolic link; give the bundle's own folder")
        for folder, dirs, files in os.walk(self.root):
            for name in sorted([*dirs, *files]):
                item = Path(folder, name)
                rel = item.relative_to(self.root).as_posix()
                if item.is_symlink():
                    self.findings.append(Finding(rel, "unsafe", "a symbolic link"))
                elif name in files:
                    info = item.lstat()
                    if stat.S_ISREG(info.st_mode):
                        self.files[rel] = info.st_size
                    else:
                        self.findings.append(Finding(rel, "unsafe", "not a regular file"))

    def open(self, rel: str) -> IO[bytes]:
        return (self.root / rel).open("rb")


def _root(candidates: set[str], path: Path) -> str:
    """The one folder (as 'name/', or '' for the top) among those holding a bagit.txt."""
    if len(candidates) != 1:
        found = "no" if not candidates else "more than one"
        raise VerifyError(f"{path} holds {found} BagIt bag (a folder with bagit.txt); give one bundle")
    top = candidates.pop()
    if "/" in top:
        raise VerifyError(f"{path}: bagit.txt is not at the top of the bundle")
    return f"{top}/" if top else ""


def read_manifest(bag: Bag, name: str) -> dict[str, str]:
    """path -> SHA-256 from a manifest; a malformed line or an unsafe path fails the whole check."""
    manifest: dict[str, str] = {}
    for number, line in enumerate(bag.read_tag(name).split("\n"), 1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        match = re.fullmatch(r"([0-9a-fA-F]{64})[ \t]+\*?(.+)", line)
        if match is None:
            raise VerifyError(f"{name}:{number}: not a line of SHA-256 and path: {line[:80]!r}")
        path = decode_path(match.group(2))
        if unsafe_reason(path):
            raise VerifyError(f"{name}:{number}: unsafe path {path!r}: {unsafe_reason(path)}")
        if path in manifest:
            raise VerifyError(f"{name}:{number}: {path} is listed twice")
        manifest[path] = match.group(1).lower()
    return manifest


def _compare(bag: Bag, manifest: dict[str, str]) -> list[Finding]:
    findings = []
    for path, expected in sorted(manifest.items()):
        if path not in bag.files:
            findings.append(Finding(path, "missing"))
            continue
        try:
            actual = bag.digest(path)
        except READ_ERRORS as error:
            findings.append(Finding(path, "unreadable", str(error)))
            continue
        if actual != expected:
            findings.append(Finding(path, "changed"))
    return findings


def _oxum(bag: Bag, payload: list[str]) -> str:
    """A difference between bag-info.txt's Payload-Oxum and the payload, or ''."""
    if "bag-info.txt" not in bag.files:
        return ""
    match = re.search(r"^Payload-Oxum:[ \t]*(\d+)\.(\d+)[ \t]*$", bag.read_tag("bag-info.txt"), re.MULTILINE)
    if match is None:
        return ""
    stated = (int(match.group(1)), int(match.group(2)))
    actual = (sum(bag.files[p] for p in payload), len(payload))
    if stated == actual:
        return ""
    stated_text = f"{stated[1]:,} files of {stated[0]:,} bytes"
    return f"Payload-Oxum says {stated_text}; the payload has {actual[1]:,} files of {actual[0]:,} bytes"


@dataclass(frozen=True)
class Report:
    findings: list[Finding]
    oxum: str  # a Payload-Oxum difference, or ''
    files: int  # payload files in the manifest
    size: int  # bytes of the payload files found


def verify(path: Path) -> Report:
    """Check the bundle at `path`: a zip, a bag's folder, or a folder holding one bag's folder."""
    if path.is_dir():
        bag: Bag = FolderBag(path)
    elif path.is_file():
        bag = ZipBag(path)
    else:
        raise VerifyError(f"{path} does not exist")
    if "bagit.txt" not in bag.files:
        raise VerifyError(f"{path}: its bagit.txt is not a regular file")
    if not bag.read_tag("bagit.txt").startswith("BagIt-Version:"):
        raise VerifyError(f"{path}: bagit.txt does not start with BagIt-Version")
    if "manifest-sha256.txt" not in bag.files:
        raise VerifyError(f"{path} has no manifest-sha256.txt to check against")
    manifest = read_manifest(bag, "manifest-sha256.txt")
    findings = list(bag.findings)
    if outside := sorted(p for p in manifest if not p.startswith("data/")):
        raise VerifyError(f"manifest-sha256.txt lists {outside[0]}, which is not in data/")
    payload = sorted(p for p in bag.files if p.startswith("data/"))
    findings += _compare(bag, manifest)
    findings += [Finding(p, "extra") for p in payload if p not in manifest]
    if "tagmanifest-sha256.txt" in bag.files:
        tags = read_manifest(bag, "tagmanifest-sha256.txt")
        findings += _compare(bag, tags)
        others = (p for p in bag.files if not p.startswith("data/") and p not in tags)
        findings += [Finding(p, "extra") for p in others if not KNOWN_TAGS.fullmatch(p)]
    if path.is_file() and path.with_name(path.name + ".sha256").is_file():
        findings += _checksum_file(path)
    size = sum(bag.files[p] for p in payload)
    return Report(sorted(findings), _oxum(bag, payload), len(manifest), size)


def _checksum_file(path: Path) -> list[Finding]:
    """The zip against the `sha256sum` line published beside it (<name>.zip.sha256)."""
    sums = path.with_name(path.name + ".sha256")
    try:
        line = sums.read_text(encoding="utf-8").split("\n", 1)[0]
    except (OSError, UnicodeDecodeError) as error:
        raise VerifyError(f"cannot read {sums}: {error}") from None
    match = re.fullmatch(r"([0-9a-fA-F]{64}) [ *](.+)", line.strip())
    if match is None or match.group(2) != path.name:
        return [Finding(path.name, "unreadable", f"{sums.name} is not a sha256sum line for {path.name}")]
    if sha256_file(path) != match.group(1).lower():
        return [Finding(path.name, "changed", f"its SHA-256 is not the one in {sums.name}")]
    return []


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", type=Path, help="a bundle: the .zip, or the folder it was unzipped into")


def run(args: argparse.Namespace) -> int:
    try:
        report = verify(args.path)
    except VerifyError as error:
        print(f"site-builder: error: {error}", file=sys.stderr)
        return 1
    for finding in report.findings:
        print(finding)
    if report.oxum:
        print(f"verify: {report.oxum}")
    if report.findings or report.oxum:
        kinds = Counter(f.kind for f in report.findings)
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        count = len(report.findings) + bool(report.oxum)
        print(f"verify: {args.path}: {count} difference{'s' if count != 1 else ''}{': ' + counts if counts else ''}.")
        return 1
    print(f"verify: {args.path} is intact: {report.files:,} files ({report.size:,} bytes) match manifest-sha256.txt.")
    return 0
