"""UI strings: one translation table per theme (`strings.yaml`: key -> language -> text)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

RTL_LANGUAGES = ("ar", "fa", "he", "ur", "ps", "ckb", "yi", "dv")


def load_table(path: Path) -> dict[str, dict[str, str]]:
    # The theme is project code, not contributed content: plain safe loading is enough here
    # (libyaml's, where PyYAML has it: a tenth of the time, and every build reads the table).
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def translator(table: dict[str, dict[str, str]], language: str) -> Callable[..., str]:
    """`t(key, **values)`: the string in `language` (else its base language, else English), formatted."""
    base = language.split("-")[0]

    def t(key: str, **values: object) -> str:
        entry = table.get(key)
        if entry is None:
            raise KeyError(f"no UI string '{key}' in the translation table")
        text = entry.get(language) or entry.get(base) or entry["en"]
        return text.format(**values) if values else text

    return t


def direction(language: str) -> str:
    return "rtl" if language.split("-")[0] in RTL_LANGUAGES else "ltr"
