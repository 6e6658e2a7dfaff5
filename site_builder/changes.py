"""What changed in an entry between two revisions, in words, from its parsed front matter.

Snapshots are front matter read without type resolution (every value a string), so an old
revision that no longer validates can still be compared. Figures are matched by measure, group,
source and scope: one before and one after is a change ("approximately 745 → at least 1,225");
the rest are additions and removals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .display import figure
from .model import Snapshot, Tally

Translate = Callable[..., str]
SourceName = Callable[[str], str]


def _list(snapshot: Mapping[str, Any], key: str) -> list[Any]:
    value = snapshot.get(key)
    return value if isinstance(value, list) else []


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _figure(item: Mapping[str, Any], t: Translate) -> str:
    """A tally as readers see it; the raw words when an old revision's figure does not read."""

    def number(key: str) -> int | None:
        raw = _text(item.get(key))
        return int(raw) if raw.isdigit() else None

    try:
        tally = Tally(
            measure=_text(item.get("measure")),
            source=_text(item.get("source")),
            count=number("count"),
            low=number("low"),
            high=number("high"),
            qualifier=_text(item.get("qualifier")) or "exact",
        )
        if tally.count is None and (tally.low is None or tally.high is None):
            raise ValueError
        return figure(tally, t)
    except (KeyError, ValueError):
        return " ".join(_text(item.get(k)) for k in ("qualifier", "count", "low", "high") if item.get(k)) or "?"


def _label(item: Mapping[str, Any], source_name: SourceName) -> str:
    measure = _text(item.get("measure")) or "?"
    group = _text(item.get("group")) or "all"
    scope = _text(item.get("scope"))
    source = source_name(_text(item.get("source")))
    where = f", {scope}" if scope else ""
    return f"{measure}, {group.replace('-', ' ')}{where} ({source})"


def _key(item: Any) -> tuple[str, ...]:
    if not isinstance(item, Mapping):
        return ("",)
    return tuple(_text(item.get(k)) for k in ("measure", "group", "source", "scope"))


def _figure_changes(before: Sequence[Any], after: Sequence[Any], t: Translate, name: SourceName) -> list[str]:
    out = []
    keys = sorted({_key(i) for i in [*before, *after]})
    for key in keys:
        old = [i for i in before if _key(i) == key and i not in after]
        new = [i for i in after if _key(i) == key and i not in before]
        while old and new:
            a, b = old.pop(0), new.pop(0)
            out.append(t("change_figure", what=_label(b, name), old=_figure(a, t), new=_figure(b, t)))
        out += [
            t("change_figure_added", what=_label(i, name), new=_figure(i, t)) for i in new if isinstance(i, Mapping)
        ]
        out += [
            t("change_figure_removed", what=_label(i, name), old=_figure(i, t)) for i in old if isinstance(i, Mapping)
        ]
    return out


def _ids(items: Sequence[Any], key: str) -> list[str]:
    return [_text(i.get(key)) for i in items if isinstance(i, Mapping)]


def describe(before: Snapshot, after: Snapshot, t: Translate, source_name: SourceName = str) -> list[str]:
    """The changes from `before` to `after`, each a short sentence; [] when nothing readers see changed."""
    if before is None and after is None:
        return [t("change_unreadable")]
    if before is None:
        return [t("change_created")]
    if after is None:
        return [t("change_removed")]
    out = []
    for key in ("title", "date", "status"):
        old, new = before.get(key), after.get(key)
        if key == "status":
            old, new = old or "published", new or "published"
        if old != new:
            out.append(t("change_field", field=key, old=_text(old) or "–", new=_text(new) or "–"))
    old_regions, new_regions = _list(before, "regions"), _list(after, "regions")
    if old_regions != new_regions:
        old_text, new_text = ", ".join(map(_text, old_regions)), ", ".join(map(_text, new_regions))
        out.append(t("change_field", field="regions", old=old_text, new=new_text))
    out += _figure_changes(_list(before, "tallies"), _list(after, "tallies"), t, source_name)
    old_sources, new_sources = _ids(_list(before, "sources"), "id"), _ids(_list(after, "sources"), "id")
    out += [t("change_source_added", name=source_name(s)) for s in new_sources if s not in old_sources]
    out += [t("change_source_removed", name=source_name(s)) for s in old_sources if s not in new_sources]
    old_said, new_said = _list(before, "statements"), _list(after, "statements")
    said = [s for s in new_said if s not in old_said and isinstance(s, Mapping)]
    unsaid = [s for s in old_said if s not in new_said and isinstance(s, Mapping)]
    out += [t("change_statement_added", speaker=_text(s.get("speaker"))) for s in said]
    out += [t("change_statement_removed", speaker=_text(s.get("speaker"))) for s in unsaid]
    if not out and before != after:
        out.append(t("change_details"))
    return out
