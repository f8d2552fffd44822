"""Time words in questions: the period each stands for, and what is not time at all."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from retrieval import timeframe
from retrieval.timeframe import Period, find_period, find_time

WED = date(2024, 11, 20)  # a Wednesday; its ISO week runs Monday 18 to Sunday 24 November
JAN = date(2025, 1, 2)  # a Thursday; its ISO week started on Monday 30 December 2024
SUN = date(2024, 11, 24)
MON = date(2024, 11, 18)
d = date

# question, as_of, (start, end), because (the phrase exactly as written)
CASES = [
    # relative to as_of
    ("what happened today?", WED, (d(2024, 11, 20), d(2024, 11, 20)), "today"),
    ("news from Baku yesterday", WED, (d(2024, 11, 19), d(2024, 11, 19)), "yesterday"),
    ("Yesterday's vote", JAN, (d(2025, 1, 1), d(2025, 1, 1)), "Yesterday"),
    (
        "the day before yesterday",
        JAN,
        (d(2024, 12, 31), d(2024, 12, 31)),
        "the day before yesterday",
    ),
    ("what did Aliyev say this week?", WED, (d(2024, 11, 18), d(2024, 11, 24)), "this week"),
    ("This week in Armenia", SUN, (d(2024, 11, 18), d(2024, 11, 24)), "This week"),
    ("this week", MON, (d(2024, 11, 18), d(2024, 11, 24)), "this week"),
    ("this week", JAN, (d(2024, 12, 30), d(2025, 1, 5)), "this week"),
    ("what happened last week in Baku?", WED, (d(2024, 11, 11), d(2024, 11, 17)), "last week"),
    ("last week", JAN, (d(2024, 12, 23), d(2024, 12, 29)), "last week"),
    ("over the past week", WED, (d(2024, 11, 14), d(2024, 11, 20)), "over the past week"),
    ("this past week", WED, (d(2024, 11, 14), d(2024, 11, 20)), "this past week"),
    ("this month", WED, (d(2024, 11, 1), d(2024, 11, 30)), "this month"),
    ("last month", WED, (d(2024, 10, 1), d(2024, 10, 31)), "last month"),
    ("last month", JAN, (d(2024, 12, 1), d(2024, 12, 31)), "last month"),
    ("the past month", d(2024, 3, 31), (d(2024, 3, 1), d(2024, 3, 31)), "the past month"),
    ("this year", WED, (d(2024, 1, 1), d(2024, 12, 31)), "this year"),
    ("last year's election", JAN, (d(2024, 1, 1), d(2024, 12, 31)), "last year"),
    ("what has Pashinyan said recently?", WED, (d(2024, 11, 7), d(2024, 11, 20)), "recently"),
    ("lately", JAN, (d(2024, 12, 20), d(2025, 1, 2)), "lately"),
    ("on Tuesday", WED, (d(2024, 11, 19), d(2024, 11, 19)), "on Tuesday"),
    ("what did Blinken say Monday", WED, (d(2024, 11, 18), d(2024, 11, 18)), "Monday"),
    ("Wednesday", WED, (d(2024, 11, 20), d(2024, 11, 20)), "Wednesday"),  # as_of's own day
    ("last Wednesday", WED, (d(2024, 11, 13), d(2024, 11, 13)), "last Wednesday"),
    ("on Friday", WED, (d(2024, 11, 15), d(2024, 11, 15)), "on Friday"),
    ("on Friday", JAN, (d(2024, 12, 27), d(2024, 12, 27)), "on Friday"),
    ("since Monday", WED, (d(2024, 11, 18), d(2024, 11, 20)), "since Monday"),
    ("3 days ago", JAN, (d(2024, 12, 30), d(2024, 12, 30)), "3 days ago"),
    ("two weeks ago", WED, (d(2024, 11, 4), d(2024, 11, 10)), "two weeks ago"),
    ("a month ago", d(2024, 3, 31), (d(2024, 2, 1), d(2024, 2, 29)), "a month ago"),
    ("in the last 5 days", WED, (d(2024, 11, 16), d(2024, 11, 20)), "in the last 5 days"),
    ("in the last three days", JAN, (d(2024, 12, 31), d(2025, 1, 2)), "in the last three days"),
    ("over the past two weeks", WED, (d(2024, 11, 7), d(2024, 11, 20)), "over the past two weeks"),
    ("in the past 24 hours", WED, (d(2024, 11, 19), d(2024, 11, 20)), "in the past 24 hours"),
    # absolute
    ("talks in October 2021", WED, (d(2021, 10, 1), d(2021, 10, 31)), "in October 2021"),
    ("Sept. 2021", WED, (d(2021, 9, 1), d(2021, 9, 30)), "Sept. 2021"),
    ("what happened in 2023?", WED, (d(2023, 1, 1), d(2023, 12, 31)), "in 2023"),
    ("in 2024", WED, (d(2024, 1, 1), d(2024, 12, 31)), "in 2024"),
    ("since 2020", WED, (d(2020, 1, 1), d(2024, 11, 20)), "since 2020"),
    ("on 14 October", WED, (d(2024, 10, 14), d(2024, 10, 14)), "on 14 October"),
    ("October 14", WED, (d(2024, 10, 14), d(2024, 10, 14)), "October 14"),
    ("November 16", WED, (d(2024, 11, 16), d(2024, 11, 16)), "November 16"),
    ("November 21", WED, (d(2023, 11, 21), d(2023, 11, 21)), "November 21"),  # tomorrow: last year
    ("the Nov. 16 vote", WED, (d(2024, 11, 16), d(2024, 11, 16)), "Nov. 16"),
    (
        "on the 14th of October 2021",
        WED,
        (d(2021, 10, 14), d(2021, 10, 14)),
        "on the 14th of October 2021",
    ),
    ("October 14th, 2021", WED, (d(2021, 10, 14), d(2021, 10, 14)), "October 14th, 2021"),
    ("December 31", JAN, (d(2024, 12, 31), d(2024, 12, 31)), "December 31"),
    ("February 29", d(2025, 3, 1), (d(2024, 2, 29), d(2024, 2, 29)), "February 29"),
    ("in November", WED, (d(2024, 11, 1), d(2024, 11, 30)), "in November"),
    ("in December", WED, (d(2023, 12, 1), d(2023, 12, 31)), "in December"),
    ("in December", JAN, (d(2024, 12, 1), d(2024, 12, 31)), "in December"),
    ("last November", WED, (d(2023, 11, 1), d(2023, 11, 30)), "last November"),
    ("in early November", WED, (d(2024, 11, 1), d(2024, 11, 30)), "in early November"),
    ("what happened in may", WED, (d(2024, 5, 1), d(2024, 5, 31)), "in may"),
    ("the vote on 5 May", WED, (d(2024, 5, 5), d(2024, 5, 5)), "on 5 May"),
    ("March 15 protests", WED, (d(2024, 3, 15), d(2024, 3, 15)), "March 15"),
    ("on 2022-10-07", WED, (d(2022, 10, 7), d(2022, 10, 7)), "on 2022-10-07"),
    ("after October 2021", WED, (d(2021, 11, 1), d(2024, 11, 20)), "after October 2021"),
    # relative words say when it was reported; the date names the event
    (
        "The Jan. 6 committee held a hearing this week",
        WED,
        (d(2024, 11, 18), d(2024, 11, 24)),
        "this week",
    ),
    # a filter token is skipped, the time words beside it are not
    ("since:2024-01-01 the vote of May 5", WED, (d(2024, 5, 5), d(2024, 5, 5)), "May 5"),
    (
        "since:2024-01-01 what happened last week",
        WED,
        (d(2024, 11, 11), d(2024, 11, 17)),
        "last week",
    ),
]


@pytest.mark.parametrize(("question", "as_of", "expected", "because"), CASES)
def test_period(question: str, as_of: date, expected: tuple[date, date], because: str) -> None:
    period = find_period(question, as_of=as_of)
    assert period is not None
    assert (period.start, period.end) == expected
    assert period.because == because
    assert because in question


NOT_TIME = [
    "may the minister resign?",
    "May the minister resign?",
    "what may happen next?",
    "May 2 ministers resign over it?",
    "since:2024-01-01 May 2 ministers resign?",  # still the opening word
    "this may help Baku",
    "the march on Washington",
    "who led the March on Washington?",
    "100,000 protesters",
    "2,500 troops",
    "November 16,000 people",
    "COVID-19 cases in Baku",
    "Brexit 2.0",
    "the wars of the 1990s",
    "Section 230",
    "August Strindberg's plays",
    "June Carter songs",
    "songs in June Carter's style",
    "Theresa May's cabinet",
    "what changed in May's absence?",
    "Super Tuesday results",
    "the Sunday Times report",
    "the last week of the campaign",
    "2,500 days ago",
    "before November 16",
    "until last week",
    "gas prices through July 4 weekend",
    "the three months ending June 30",
    "what is planned in 2030?",
    "this Friday",  # asked on a Wednesday: still to come
    "February 30",
    "before:2024-10-07 news",
    "since:2024-01-01 after:2023-06-01",
    "what happened in since:2024-01-01 November?",  # no phrase runs across a filter
    "why did Baku skip the Washington meeting?",
]


@pytest.mark.parametrize("question", NOT_TIME)
def test_not_time(question: str) -> None:
    assert find_time(question, as_of=WED) is None


@pytest.mark.parametrize(
    ("question", "text"),
    [
        ("what did Aliyev say last week?", "what did Aliyev say?"),
        ("what happened in November in Baku?", "what happened in Baku?"),
        ("last year's election results", "election results"),
        ("since:2024-01-01 news from Yerevan yesterday", "since:2024-01-01 news from Yerevan"),
    ],
)
def test_text_without_the_phrase(question: str, text: str) -> None:
    found = find_time(question, as_of=WED)
    assert found is not None
    assert found.text == text
    assert question[slice(*found.span)] == found.period.because


def test_the_first_phrase_wins_and_a_datetime_counts_as_its_day() -> None:
    period = find_period("on Tuesday, and again on Friday", as_of=datetime(2024, 11, 20, 23, 59))
    assert period == Period(d(2024, 11, 19), d(2024, 11, 19), "on Tuesday")
    period = find_period("in October, and again in November", as_of=WED)
    assert period == Period(d(2024, 10, 1), d(2024, 10, 31), "in October")


def test_a_period_is_ordered_and_knows_its_days() -> None:
    period = Period(d(2024, 11, 18), d(2024, 11, 20), "this week")
    assert period.covers(d(2024, 11, 18)) and period.covers(d(2024, 11, 20))
    assert not period.covers(d(2024, 11, 21)) and not period.covers(None)
    with pytest.raises(ValueError):
        Period(d(2024, 11, 20), d(2024, 11, 18), "backwards")


@pytest.mark.slow  # a fresh interpreter
def test_dateutil_is_imported_only_for_a_written_date() -> None:
    # A fresh interpreter: this process may have imported dateutil for other tests.
    module = Path(timeframe.__file__)
    code = f"""
import importlib.util, sys
from datetime import date
spec = importlib.util.spec_from_file_location("timeframe", {str(module)!r})
tf = importlib.util.module_from_spec(spec)
sys.modules["timeframe"] = tf
spec.loader.exec_module(tf)
tf.find_time("why did Baku skip the Washington meeting?", as_of=date(2024, 11, 20))
tf.find_time("what happened last week?", as_of=date(2024, 11, 20))
assert "dateutil" not in sys.modules, "imported for a question without a written date"
assert tf.find_time("in November", as_of=date(2024, 11, 20)) is not None
assert "dateutil" in sys.modules
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
