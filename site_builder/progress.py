"""What a long build is doing, on stderr: stage names and counts.

Nothing for the first second (most builds are over by then). After that, on a terminal, one line
rewritten in place ("render 120/436"), at most ten times a second; elsewhere (CI logs, pipes) one
plain line per stage. `quiet` shows nothing: the caller prints errors and its closing line.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(
        self, stream: TextIO | None = None, *, quiet: bool = False, tty: bool | None = None, delay: float = 1.0
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.tty = self.stream.isatty() if tty is None else tty
        self.start = time.monotonic() + delay
        self.name = ""
        self.total = 0
        self.done = 0
        self.printed = ""  # the stage of the last plain line
        self.shown = 0.0
        self.width = 0  # of the line on screen, to blank what a shorter one leaves

    def stage(self, name: str, total: int = 0) -> None:
        """A new stage; `total` > 0 when it counts things."""
        self.name, self.total, self.done = name, total, 0
        self._show(force=True)

    def count(self, done: int) -> None:
        self.done = done
        self._show(force=done >= self.total)

    def _show(self, force: bool) -> None:
        now = time.monotonic()
        if self.quiet or now < self.start:
            return
        text = f"{self.name} {min(self.done, self.total):,}/{self.total:,}" if self.total else self.name
        if not self.tty:
            if self.printed != self.name:
                self.printed = self.name
                print(f"{self.name} ({self.total:,})…" if self.total else f"{self.name}…", file=self.stream, flush=True)
        elif force or now - self.shown >= 0.1:
            self.shown = now
            self._line(text)

    def _line(self, text: str) -> None:
        self.stream.write("\r" + text.ljust(self.width) + "\r" + text)
        self.width = len(text)
        self.stream.flush()

    def close(self) -> None:
        """Clear the line before the caller prints its summary."""
        if self.tty and self.width and not self.quiet:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


class Silent(Progress):
    """No display: `build()` called from Python, or from `serve`."""

    def __init__(self) -> None:
        super().__init__(sys.stderr, quiet=True, tty=False)
