from datetime import date

import pytest

from site_builder.dates import format_date, parse_date
from site_builder.i18n import load_table, translator
from site_builder.render import THEMES

t = translator(load_table(THEMES / "default" / "strings.yaml"), "en")


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("2025", "2025"),
        ("2025-03", "March 2025"),
        ("2025-03-08", "8 March 2025"),
        ("2025-03-07/2025-03-08", "7–8 March 2025"),
        ("2025-02-28/2025-03-03", "28 February – 3 March 2025"),
        ("2024-12-30/2025-01-02", "30 December 2024 – 2 January 2025"),
        ("2025-03/2025-04", "March–April 2025"),
        ("2024/2025", "2024–2025"),
        ("2025-03-08~", "about 8 March 2025"),
        ("2025-03-08?", "8 March 2025 (uncertain)"),
        ("2025-03%", "about March 2025 (uncertain)"),
        ("2025-03-07~/2025-03-08", "about 7 March 2025 – 8 March 2025"),
    ],
)
def test_shown_at_own_precision(text: str, shown: str) -> None:
    assert format_date(parse_date(text), t) == shown


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2025", date(2025, 1, 1), date(2025, 12, 31)),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
        ("2025-03-07/2025-03-08", date(2025, 3, 7), date(2025, 3, 8)),
        ("2025-03/2025-05-02", date(2025, 3, 1), date(2025, 5, 2)),
    ],
)
def test_bounds(text: str, first: date, last: date) -> None:
    value = parse_date(text)
    assert (value.first, value.last) == (first, last)


def test_sorts_on_bounds() -> None:
    texts = ["2025-03-08", "2025-03", "2025", "2025-03-07/2025-03-09", "2025-03-07"]
    ordered = sorted(texts, key=lambda s: parse_date(s).sort_key)
    assert ordered == ["2025", "2025-03", "2025-03-07", "2025-03-07/2025-03-09", "2025-03-08"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2025-02-30", "'2025-02-30' does not exist: February 2025 has 28 days"),
        ("2025-13", "'2025-13' has no month 13"),
        ("2025-03-08/2025-03-07", "interval '2025-03-08/2025-03-07' ends before it starts"),
        ("8 March 2025", "'8 March 2025' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)"),
        ("25-03-08", "is not a date"),
    ],
)
def test_impossible_dates(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_date(text)
    assert message in str(caught.value)


def test_a_date_is_pickled_as_its_text_and_read_back_as_the_one_object_for_it() -> None:
    import pickle

    from site_builder import cache

    for text in ("2025-03-08", "2025-03/2025-05", "2025~"):
        value = parse_date(text)
        data = cache.dumps(value)
        assert len(data) < 60 + len(text)  # the function and the text, not five objects
        again = cache.loads(data)
        assert again is value and again.is_interval == ("/" in text)
        assert pickle.loads(pickle.dumps(value)) is value  # between processes too
    assert parse_date(" 2025 ") is parse_date(" 2025 ")
