"""EDTF-style dates: `2025`, `2025-03`, `2025-03-08`, intervals `a/b`, `?` uncertain, `~` approximate.

Events sort and filter on the interval's bounds and are shown at their own precision.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property

_PART = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?([?~%]?)$")

Translate = Callable[..., str]


@dataclass(frozen=True, order=True)
class DatePart:
    """One date at year, month or day precision, with its first and last possible day."""

    first: date
    last: date
    precision: str  # "year" | "month" | "day"
    qualifier: str = ""  # "", "?" uncertain, "~" approximate, "%" both

    @property
    def iso(self) -> str:
        text = self.first.isoformat()
        return text[: {"year": 4, "month": 7, "day": 10}[self.precision]]


@dataclass(frozen=True)
class EdtfDate:
    text: str
    start: DatePart
    end: DatePart

    @property
    def first(self) -> date:
        return self.start.first

    @property
    def last(self) -> date:
        return self.end.last

    @cached_property  # sorting 10,000 events asks it often; written into __dict__, frozen or not
    def sort_key(self) -> tuple[date, date]:
        return (self.first, self.last)

    @property
    def is_interval(self) -> bool:
        return self.start is not self.end

    @property
    def year(self) -> int:
        return self.first.year

    def __reduce__(self) -> tuple[Callable[[str], EdtfDate], tuple[str]]:
        """Pickled as its text (the build cache, and records sent between processes): read back,
        it is the one object `parse_date` keeps for that text, not five new ones per date."""
        return (parse_date, (self.text,))


def _parse_part(text: str) -> DatePart:
    match = _PART.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)")
    year, month, day, qualifier = match.groups()
    y = int(year)
    if y == 0:
        raise ValueError(f"'{text}' is not a date: there is no year 0")
    if month is None:
        return DatePart(date(y, 1, 1), date(y, 12, 31), "year", qualifier)
    m = int(month)
    if not 1 <= m <= 12:
        raise ValueError(f"'{text}' has no month {m}")
    days = calendar.monthrange(y, m)[1]
    if day is None:
        return DatePart(date(y, m, 1), date(y, m, days), "month", qualifier)
    d = int(day)
    if not 1 <= d <= days:
        raise ValueError(f"'{text}' does not exist: {calendar.month_name[m]} {y} has {days} days")
    return DatePart(date(y, m, d), date(y, m, d), "day", qualifier)


@cache
def parse_date(text: str) -> EdtfDate:
    """Parse an EDTF-style date or interval; ValueError with a readable message otherwise. A
    text is parsed once: its date is one object however many entries give it (they are frozen)."""
    text = text.strip()
    if "/" in text:
        left, _, right = text.partition("/")
        start, end = _parse_part(left), _parse_part(right)
        if end.last < start.first:
            raise ValueError(f"interval '{text}' ends before it starts")
        return EdtfDate(text, start, end)
    part = _parse_part(text)
    return EdtfDate(text, part, part)


def _month(t: Translate, month: int) -> str:
    return t(f"month_{month}")


def _plain(t: Translate, part: DatePart) -> str:
    d = part.first
    if part.precision == "year":
        return str(d.year)
    if part.precision == "month":
        return t("date_month", month=_month(t, d.month), year=d.year)
    return t("date_day", day=d.day, month=_month(t, d.month), year=d.year)


def _qualify(t: Translate, text: str, qualifier: str) -> str:
    if qualifier in ("~", "%"):
        text = t("date_approximate", date=text)
    if qualifier in ("?", "%"):
        text = t("date_uncertain", date=text)
    return text


def _range(t: Translate, a: DatePart, b: DatePart) -> str:
    """Shared parts said once: '7–8 March 2025', '28 February – 3 March 2025', 'March–April 2025'."""
    if a.precision == b.precision == "day" and not a.qualifier and not b.qualifier:
        if (a.first.year, a.first.month) == (b.first.year, b.first.month):
            return t("date_day", day=f"{a.first.day}–{b.first.day}", month=_month(t, a.first.month), year=a.first.year)
        if a.first.year == b.first.year:
            left = t("date_day_no_year", day=a.first.day, month=_month(t, a.first.month))
            return f"{left} – {_plain(t, b)}"
    if a.precision == b.precision == "month" and not a.qualifier and not b.qualifier and a.first.year == b.first.year:
        return t("date_month", month=f"{_month(t, a.first.month)}–{_month(t, b.first.month)}", year=a.first.year)
    if a.precision == b.precision == "year" and not a.qualifier and not b.qualifier:
        return f"{a.first.year}–{b.first.year}"
    return f"{_qualify(t, _plain(t, a), a.qualifier)} – {_qualify(t, _plain(t, b), b.qualifier)}"


def format_date(value: EdtfDate, t: Translate) -> str:
    """Show a date at its own precision: '7–8 March 2025', 'March 2025', 'about 8 March 2025'."""
    if not value.is_interval:
        return _qualify(t, _plain(t, value.start), value.start.qualifier)
    return _range(t, value.start, value.end)
