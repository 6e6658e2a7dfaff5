"""Problems found in content, reported as `path:line: error: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the content, located at a file and line (1-based; 0 = whole file)."""

    path: str
    line: int
    message: str
    col: int = 0
    severity: str = "error"

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity}: {self.message}"


class ContentError(Exception):
    """Raised by a stage when the content has problems; carries all of them, sorted."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class Problems:
    """Collects problems for one file so parsing can go on after the first one."""

    def __init__(self, path: str, line_offset: int = 0) -> None:
        self.path = path
        self.line_offset = line_offset
        self.items: list[Problem] = []

    def add(self, line: int, message: str, col: int = 0) -> None:
        self.items.append(Problem(self.path, line + self.line_offset if line else 0, message, col))

    def __bool__(self) -> bool:
        return bool(self.items)
