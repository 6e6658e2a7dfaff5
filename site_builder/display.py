"""How figures read on a page: 'approximately 745', 'more than 1,000', '1,200–1,400 (northern Lebanon)'."""

from __future__ import annotations

from collections.abc import Callable

from .model import Tally
from .timeline import Total

Translate = Callable[..., str]


def number(value: int) -> str:
    return f"{value:,}"


def figure(tally: Tally, t: Translate) -> str:
    """A tally as its source stated it, at its own precision, with its scope."""
    if tally.count is None:
        text = t("figure_range", low=number(tally.low or 0), high=number(tally.high or 0))
        if tally.qualifier != "exact":
            text = t(f"qualifier_{tally.qualifier}", n=text)
    else:
        text = t(f"qualifier_{tally.qualifier}", n=number(tally.count))
    return t("figure_scoped", figure=text, scope=tally.scope) if tally.scope else text


def total(value: Total, t: Translate) -> str:
    """A roll-up: exact when every figure was, a range or 'at least' otherwise."""
    if value.high is None:
        return t("qualifier_at-least", n=number(value.low))
    if value.low == value.high:
        return number(value.low) if value.exact else t("qualifier_approximately", n=number(value.low))
    return t("figure_range", low=number(value.low), high=number(value.high))
