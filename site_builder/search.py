"""Index the finished site with Pagefind's bundled binary (pagefind_bin: nothing is downloaded).

Pagefind writes its filter indexes in hash-map order, so two runs over the same pages differ
(Pagefind issue #638). `_stabilise` rewrites those few small files in sorted order under names
derived from their content, so the whole output stays byte-identical between builds.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pagefind_bin import get_executable

MAGIC = b"pagefind_dcd"


class SearchIndexError(Exception):
    pass


def index_site(site: Path) -> None:
    """Write the Pagefind bundle into `site/pagefind/`, keeping `index.html` in result URLs."""
    finish_index(site, start_index(site))


@dataclass
class Indexing:
    """Pagefind running; its output goes to files, not pipes (nobody reads while the build goes on)."""

    process: subprocess.Popen[bytes]
    out: IO[bytes]
    err: IO[bytes]


def start_index(site: Path) -> Indexing:
    """Start Pagefind on `site`: it reads only the pages it indexes, so other files may still be
    being written; `finish_index` waits for it and checks what it wrote."""
    # Only the current archive's event pages: releases under versions/ keep their own words.
    # (With no event yet, Pagefind still writes an empty index so the search page loads.)
    glob = "events/**/*.html" if any((site / "events").glob("*/index.html")) else "index.html"
    command = [str(get_executable()), "--site", str(site), "--glob", glob, "--keep-index-url", "--silent"]
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()  # noqa: SIM115 (closed by finish_index)
    return Indexing(subprocess.Popen(command, stdout=out, stderr=err), out, err)


def finish_index(site: Path, indexing: Indexing) -> None:
    returncode = indexing.process.wait()
    err, out = _text(indexing.err), _text(indexing.out)
    if returncode != 0:
        raise SearchIndexError(f"Pagefind failed ({returncode}): {err or out}")
    bundle = site / "pagefind"
    if not (bundle / "pagefind.js").is_file():
        raise SearchIndexError("Pagefind ran but wrote no pagefind/pagefind.js")
    _stabilise(bundle)


def _text(stream: IO[bytes]) -> str:
    with stream:
        stream.seek(0)
        return stream.read().decode("utf-8", "replace").strip()


# --- the small CBOR subset Pagefind's metadata and filter files use -----------------------------


def _decode(data: bytes, at: int = 0) -> tuple[Any, int]:
    head = data[at]
    major, info = head >> 5, head & 31
    at += 1
    if info < 24:
        value = info
    else:
        size = 1 << (info - 24)
        value = int.from_bytes(data[at : at + size], "big")
        at += size
    if major == 0:
        return value, at
    if major == 1:
        return -1 - value, at
    if major in (2, 3):
        raw = data[at : at + value]
        return (raw if major == 2 else raw.decode("utf-8")), at + value
    if major == 4:
        items = []
        for _ in range(value):
            item, at = _decode(data, at)
            items.append(item)
        return items, at
    raise SearchIndexError(f"unexpected CBOR item {head:#x} in a Pagefind file")


def _head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes([major << 5 | value])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if value < 1 << (8 * size):
            return bytes([major << 5 | info]) + value.to_bytes(size, "big")
    raise ValueError(value)


def _encode(value: Any) -> bytes:
    if isinstance(value, int):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _head(3, len(raw)) + raw
    return _head(4, len(value)) + b"".join(_encode(v) for v in value)


def _read(path: Path) -> Any:
    data = gzip.decompress(path.read_bytes())
    if not data.startswith(MAGIC):
        raise SearchIndexError(f"{path.name} is not a Pagefind file")
    return _decode(data, len(MAGIC))[0]


def _write(folder: Path, prefix: str, digits: int, suffix: str, value: Any) -> str:
    data = MAGIC + _encode(value)
    name = f"{prefix}{hashlib.sha256(data).hexdigest()[:digits]}"
    (folder / f"{name}{suffix}").write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    return name


def _stabilise(bundle: Path) -> None:
    entry_path = bundle / "pagefind-entry.json"
    entry = json.loads(entry_path.read_text(encoding="utf-8"))
    for language, info in entry["languages"].items():
        meta_path = bundle / f"pagefind.{info['hash']}.pf_meta"
        meta = _read(meta_path)
        renamed = {}
        for filter_file in sorted((bundle / "filter").glob(f"{language}_*.pf_filter")):
            name, values = _read(filter_file)
            values.sort(key=lambda item: item[0])
            for item in values:
                item[1] = sorted(set(item[1]))
            filter_file.unlink()
            renamed[filter_file.name.removesuffix(".pf_filter")] = _write(
                bundle / "filter", f"{language}_", 7, ".pf_filter", [name, values]
            )
        for i, part in enumerate(meta):
            # The filter list: [[filter name, filter file], ...]; put it in name order, new names.
            if (
                isinstance(part, list)
                and part
                and all(isinstance(p, list) and len(p) == 2 and isinstance(p[1], str) and p[1] in renamed for p in part)
            ):
                meta[i] = sorted([name, renamed[file]] for name, file in part)
        meta_path.unlink()
        info["hash"] = _write(bundle, f"pagefind.{language}_", 10, ".pf_meta", meta).removeprefix("pagefind.")
    entry_path.write_text(json.dumps(entry, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
