"""How long each step of a build took, for the log line `build` ends with."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

Log = Callable[[str], None]


@dataclass
class Timings:
    steps: list[tuple[str, float]] = field(default_factory=list)
    last: float = field(default_factory=time.perf_counter)

    def step(self, name: str) -> None:
        """The step that just ended: since the one before (or since this was made)."""
        now = time.perf_counter()
        self.steps.append((name, now - self.last))
        self.last = now

    def line(self) -> str:
        return "  ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in self.steps)
