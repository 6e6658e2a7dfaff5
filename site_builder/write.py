"""Write the site into a fresh folder beside the output, then swap it in.

A failed build leaves the previous output exactly as it was; two pages aimed at one file fail
the build. Nothing is written outside the output folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

MARKER = ".site-builder"  # marks a folder as a build, so only a build is ever replaced


class WriteError(Exception):
    pass


class Writer:
    """Collects files for one build in a staging folder; `commit()` swaps it into place."""

    def __init__(self, output: Path) -> None:
        self.output = output.resolve()
        self.output.parent.mkdir(parents=True, exist_ok=True)
        self.staging = Path(tempfile.mkdtemp(prefix=f".{self.output.name}.build-", dir=self.output.parent))
        self.written: dict[str, str] = {}

    def _target(self, rel: str) -> Path:
        pure = PurePosixPath(rel)
        if pure.is_absolute() or ".." in pure.parts or not pure.parts:
            raise WriteError(f"refusing to write outside the output folder: {rel}")
        return self.staging.joinpath(*pure.parts)

    def write(self, rel: str, content: bytes, origin: str) -> None:
        if rel in self.written:
            raise WriteError(f"{origin} and {self.written[rel]} both write {rel}")
        self.written[rel] = origin
        target = self._target(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)

    def copy(self, rel: str, source: Path) -> None:
        self.write(rel, source.read_bytes(), str(source))

    def commit(self) -> None:
        """Replace the output folder with the staged build (two renames; the old one is then removed)."""
        old = None
        if self.output.exists() and any(self.output.iterdir()) and not (self.output / MARKER).exists():
            self.abort()
            raise WriteError(f"{self.output} is not empty and was not made by site-builder; refusing to replace it")
        (self.staging / MARKER).write_text("built by site-builder; this folder is replaced on every build\n")
        if self.output.exists():
            old = self.output.with_name(f".{self.output.name}.old-{os.getpid()}")
            os.replace(self.output, old)
        os.replace(self.staging, self.output)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
