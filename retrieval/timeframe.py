"""Time words in a question, read as a soft preference for when the answer was published.

A small set of regular expressions *finds* time phrases and python-dateutil *reads* them
(``dateutil.parser`` for written dates, ``relativedelta`` for month arithmetic), imported only
when a phrase needs it. dateparser's ``search_dates`` was measured and rejected: ~0.15-0.3 s to
import plus ~0.25 s for its first call, it reads "may the minister resign?", "the march on",
"August Strindberg" and "June Carter" as dates, and it turns "in November" or "last week" into
one instant rather than a span. Finding needs the question's grammar, which is where date
libraries are trigger-happy; reading a phrase already known to be a date is where they are
reliable.

Conventions, each chosen on purpose:

* Weeks start on Monday (ISO 8601).
* Calendar periods are whole: "this week" asked on a Wednesday is Monday to Sunday, "this
  month" the whole month, as a reader means them (and as the answer says them back). A period
  that would start after ``as_of`` ("in 2030", "this Friday" asked on a Monday) is not a
  publication date, so nothing is returned for it.
* "last week" / "last month" / "last year" is the previous *calendar* week, month or year;
  "past week", "this past week", "the last week", "in the last 3 days", "over the past two
  months" are *rolling* windows that end on ``as_of``.
* A weekday alone ("Tuesday", "on Tuesday") is the most recent such day on or before
  ``as_of``, so on a Tuesday it is that very day (a report published the day of asking says
  "on Tuesday" too); "last Tuesday" is the one before that.
* A month or a day without a year is the most recent such month or day not after ``as_of``:
  "in December" asked in January is last December.
* "recently" / "lately" / "of late" are the last 14 days: a news story is "recent" for about
  two weekly news cycles; a month would make it the same as "the past month", and a week
  would miss last week's stories that are still being asked about.
* "since X" runs from the start of X to ``as_of``; "after X" from the day after X ends.
  "before X" / "until X" / "through X" / "by X" give no period (there is no start to prefer).
* Not time: "may" and "march" as verbs, names ("August Strindberg", "June Carter", "Theresa
  May's"), numbers ("2,500", "COVID-19", "Section 230"), decades ("the 1990s": an era the
  question is *about*, mostly written about later, not when the answer was published), and
  tokens with a colon (``since:2024-01-01`` is a filter handled by :mod:`retrieval.query`).
* Known gaps: "early/mid/late November" is the whole month; numeric dates other than ISO
  ("7/10/2022" is ambiguous); spelled-out days ("the fifth of November"); ranges ("between
  May and July", "from 2020 to 2022": only the first phrase is read); named days ("the Jan. 6
  committee" alone is read as January 6 of the latest year); "in 2000 homes" is read as a year.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dateutil.relativedelta import relativedelta

RECENT_DAYS = 14
"""How far back "recently" / "lately" reach, ``as_of`` included (see the module docstring)."""


@dataclass(frozen=True)
class Period:
    """Days a question prefers its answers to be published in, both ends included.

    Attributes:
        start: The first day of the period.
        end: The last day of the period (a calendar period is whole, so it may be after the
            question's ``as_of``).
        because: The time phrase exactly as the question wrote it, e.g. ``"on Tuesday"``.

    Example:
        >>> period = Period(date(2024, 11, 18), date(2024, 11, 20), "this week")
        >>> period.covers(date(2024, 11, 19)), period.covers(None)
        (True, False)
    """

    start: date
    end: date
    because: str

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"a period cannot end ({self.end}) before it starts ({self.start})")

    def to_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(), "because": self.because}

    def describe(self) -> str:
        """The one line an answer shows, e.g. ``Preferring documents from 2023-01-02 to
        2023-01-08 ("this week")``."""
        days = (
            f"of {self.start.isoformat()}"
            if self.start == self.end
            else f"from {self.start.isoformat()} to {self.end.isoformat()}"
        )
        return f'Preferring documents {days} ("{self.because}")'

    def covers(self, day: date | None) -> bool:
        """Whether a document published on ``day`` falls in the period (undated ones never do)."""
        return day is not None and self.start <= day <= self.end


@dataclass(frozen=True)
class TimeMatch:
    """A time phrase found in a question.

    Attributes:
        period: The days the phrase stands for.
        text: The question with the phrase taken out (spaces tidied), for a caller that does
            not want BM25 to match "November" or "week" literally.
        span: Where the phrase stands in the question, as ``question[start:end]``.
        relative: The phrase counts from the moment of asking ("this week", "recently"), so a
            document never says it in those words; a calendar phrase ("in mid-October",
            "November 16") may well stand in the answer's text.

    Example:
        >>> found = find_time("what did Aliyev say last week?", as_of=date(2024, 11, 20))
        >>> found.text, found.period.start, found.period.end
        ('what did Aliyev say?', datetime.date(2024, 11, 11), datetime.date(2024, 11, 17))
    """

    period: Period
    text: str
    span: tuple[int, int]
    relative: bool = False


def find_period(question: str, *, as_of: date) -> Period | None:
    """The period a question's time words prefer, or ``None`` when it has none.

    Args:
        question: The question as the user wrote it.
        as_of: The day the question is asked; relative words count from it.

    Returns:
        The period of the question's time phrase (see :func:`find_time`), or ``None``.

    Example:
        >>> period = find_period("news from Baku in October 2021", as_of=date(2024, 11, 20))
        >>> str(period.start), str(period.end), period.because
        ('2021-10-01', '2021-10-31', 'in October 2021')
    """
    found = find_time(question, as_of=as_of)
    return found.period if found else None


def find_time(question: str, *, as_of: date) -> TimeMatch | None:
    """The time phrase of a question, its period, and the question without it.

    Only one phrase is read (a period is one span of days). A phrase relative to ``as_of``
    wins over a calendar date, because in one question the relative words usually say when it
    was reported ("The Jan. 6 committee held a hearing this week") and the date names the
    event. Otherwise the phrase starting first wins, and of those the longest ("on 14 October
    2021" over "14 October").

    Args:
        question: The question as the user wrote it.
        as_of: The day the question is asked (a ``datetime`` is taken as its date).

    Returns:
        The match, or ``None`` when the question names no time.

    Example:
        >>> find_time("why did Baku skip the Washington meeting?", as_of=date(2024, 11, 20))
    """
    if isinstance(as_of, datetime):
        as_of = as_of.date()
    # Blot out filter tokens (since:2024-01-01) and clock times, keeping every offset; NULs,
    # not spaces, so that no phrase runs across one ("in since:2024-01-01 November").
    masked = _COLON_TOKEN.sub(lambda m: "\0" * len(m.group()), question)
    best: tuple[tuple[bool, int, int], TimeMatch] | None = None
    for pattern, read, relative in _rules():
        for match in pattern.finditer(masked):
            rank = (not relative, match.start(), -match.end())
            if best is not None and rank >= best[0]:
                continue
            if _BLOCKED_BEFORE.search(masked, 0, match.start()):
                continue
            span = read(match, as_of)
            if span is None:
                continue
            start, end = _apply_lead(match, span, as_of)
            if start > as_of:
                continue
            period = Period(start, end, match.group())
            best = (
                rank,
                TimeMatch(period, _without(question, *match.span()), match.span(), relative),
            )
    return best[1] if best else None


def _without(question: str, begin: int, end: int) -> str:
    """The question without ``question[begin:end]``, spaces tidied."""
    after = question[end:]
    # "last year's election" leaves "election", not "'s election".
    after = after[2:] if after.startswith(("'s", "\u2019s")) else after
    rest = " ".join((question[:begin] + " " + after).split())
    return _SPACE_BEFORE_PUNCT.sub(r"\1", rest)


# --- Reading: each reader turns a match into (start, end), or None when it is not time. ---

_Span = tuple[date, date]


def _today_words(m: re.Match[str], as_of: date) -> _Span | None:
    word = " ".join(m.group("word").lower().split())
    back = 2 if word.startswith("the day before") else 1 if word in _YESTERDAY else 0
    day = as_of - timedelta(days=back)
    return day, day


def _recently(m: re.Match[str], as_of: date) -> _Span | None:
    return as_of - timedelta(days=RECENT_DAYS - 1), as_of


def _this_last_unit(m: re.Match[str], as_of: date) -> _Span | None:
    which = " ".join(m.group("which").lower().split())
    unit = m.group("unit").lower()
    if which == "this":
        return _unit_start(as_of, unit), _unit_end(as_of, unit)
    if which in ("last", "previous", "the previous"):
        # The whole previous calendar unit: in January, "last month" is last December.
        before = _unit_start(as_of, unit) - timedelta(days=1)
        return _unit_start(before, unit), before
    # "past week", "the last week", "this past month": a window ending today.
    return _rolling(as_of, 1, unit)


def _last_n_units(m: re.Match[str], as_of: date) -> _Span | None:
    n = _number(m.group("n"))
    return _rolling(as_of, n, m.group("unit").lower().rstrip("s")) if n else None


def _units_ago(m: re.Match[str], as_of: date) -> _Span | None:
    n = _number(m.group("n"))
    if not n:
        return None
    unit = m.group("unit").lower().rstrip("s")
    if unit == "day":
        day = as_of - timedelta(days=n)
        return day, day
    # "two weeks ago" is that calendar week, "three months ago" that calendar month.
    then = as_of - timedelta(weeks=n) if unit == "week" else as_of - _delta(unit, n)
    return _unit_start(then, unit), _unit_end(then, unit)


def _weekday(m: re.Match[str], as_of: date) -> _Span | None:
    text = m.string
    which = " ".join((m.group("which") or "").lower().split())
    if not (m.group("lead") or which):
        # "Super Tuesday", "Black Friday", "the Sunday Times": names, not days.
        if _WEEKDAY_MODIFIER.search(text, 0, m.start()):
            return None
        if _NEXT_IS_CAPITALIZED.match(text, m.end()):
            return None
    target = _WEEKDAYS.index(m.group("weekday").lower())
    if which == "this":
        day = _unit_start(as_of, "week") + timedelta(days=target)
    elif which in ("last", "past", "this past"):
        day = as_of - timedelta(days=(as_of.weekday() - target - 1) % 7 + 1)
    else:
        day = as_of - timedelta(days=(as_of.weekday() - target) % 7)
    return day, day


def _iso_day(m: re.Match[str], as_of: date) -> _Span | None:
    try:
        day = date.fromisoformat(m.group("iso"))
    except ValueError:
        return None
    return day, day


def _day_and_month(m: re.Match[str], as_of: date) -> _Span | None:
    if not _plausible_month(m):
        return None
    if m.group("year"):
        day = _read(m.group("core"), int(m.group("year")))
        return (day, day) if day else None
    # No year: the most recent such day not after as_of. Walk back a few years, not one,
    # so that "February 29" finds the last leap year.
    for year in range(as_of.year, as_of.year - 8, -1):
        day = _read(m.group("core"), year)
        if day and day <= as_of:
            return day, day
    return None


def _month_and_year(m: re.Match[str], as_of: date) -> _Span | None:
    if not _plausible_month(m):
        return None
    first = _read(m.group("core"), int(m.group("year")))
    return (first, _unit_end(first, "month")) if first else None


def _month_alone(m: re.Match[str], as_of: date) -> _Span | None:
    which = (m.group("which") or "").lower()
    if not (m.group("lead") or which) or not _plausible_month(m):
        return None
    after = m.string[m.end() :]
    # "in May's cabinet", "in June Carter's songs": a name, not a month.
    if after.startswith(("'s", "\u2019s")) or _NEXT_IS_CAPITALIZED.match(m.string, m.end()):
        return None
    first = _read(m.group("month"), as_of.year)
    if first is None:
        return None
    if which == "this":
        pass  # this year's, even when it is still to come (then it is not a publication date)
    elif first.month > as_of.month or (which == "last" and first.month == as_of.month):
        first = first.replace(year=first.year - 1)
    return first, _unit_end(first, "month")


def _year(m: re.Match[str], as_of: date) -> _Span | None:
    if not (m.group("lead") or m.group("which")):
        return None
    year = int(m.group("year"))
    return date(year, 1, 1), date(year, 12, 31)


# --- Helpers ---


def _read(text: str, year: int) -> date | None:
    """A written date (``"Nov. 16"``, ``"14th of October 2021"``) read by dateutil.

    Missing fields come from January 1 of ``year``; ``None`` when it is no valid date.
    """
    from dateutil import parser  # lazy: ~30 ms to import, needed only for written dates

    try:
        return parser.parse(text, default=datetime(year, 1, 1)).date()
    except (ValueError, OverflowError):
        return None


def _delta(unit: str, n: int) -> relativedelta | timedelta:
    if unit in ("day", "hour"):
        return timedelta(days=n)
    if unit == "week":
        return timedelta(weeks=n)
    # Months and years differ in length: relativedelta clamps (March 31 - 1 month = Feb 29).
    from dateutil.relativedelta import relativedelta

    return relativedelta(months=n) if unit == "month" else relativedelta(years=n)


def _rolling(as_of: date, n: int, unit: str) -> _Span:
    """The last ``n`` units ending on ``as_of``: "the past 3 days" is as_of - 2 to as_of."""
    if unit == "hour":
        # The time of day is unknown, so 24 hours reach into yesterday.
        return as_of - timedelta(days=-(-n // 24)), as_of
    return as_of - _delta(unit, n) + timedelta(days=1), as_of


def _unit_start(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return date(day.year, 1, 1)


def _unit_end(day: date, unit: str) -> date:
    if unit == "week":
        return _unit_start(day, "week") + timedelta(days=6)
    if unit == "month":
        return day.replace(day=calendar.monthrange(day.year, day.month)[1])
    return date(day.year, 12, 31)


def _apply_lead(m: re.Match[str], span: _Span, as_of: date) -> _Span:
    lead = (m.groupdict().get("lead") or "").lower()
    if lead == "since":
        return span[0], as_of
    if lead == "after":
        return span[1] + timedelta(days=1), as_of
    return span


def _plausible_month(m: re.Match[str]) -> bool:
    """Whether "may" / "march" here name a month rather than a verb or a noun.

    They do with a year ("May 2023"), after a preposition ("in may", "on march 5"), or
    capitalized in mid-sentence ("the vote on 5 May"); "May 2 ministers resign?" opening a
    question is the verb.
    """
    word = m.group("month")
    if word.lower() not in ("may", "march"):
        return True
    groups = m.groupdict()
    if groups.get("year") or (groups.get("lead") or "").lower() in _PREPOSITIONS:
        return True
    if not word[0].isupper():
        return False
    opening = m.string[: m.start("month")].strip(" \t\0\"'(\u201c")
    return not (word.lower() == "may" and opening == "")


def _number(text: str) -> int:
    word = " ".join(text.lower().split())
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


# --- Patterns ---

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
# Abbreviations only ever count beside a day or a year ("Nov. 16", "Sept 2021").
_MONTH = rf"(?P<month>{_MONTHS}|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\b\.?"
_DAY = r"(?<![\d,.])(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b"
# Not "1990s" / "1990's" (a decade) nor "2023-24" (a season) nor "2022/23".
_YEAR = r"(?P<year>(?:19|20)\d\d)\b(?![-\u2013/]?\d|s\b|(?<=0)'s\b)"
_PREPOSITIONS = frozenset({"in", "on", "during", "throughout", "from", "since", "after"})
_LEAD = r"(?:\b(?P<lead>in|on|during|throughout|from|since|after|over|within|for)\s+)?"
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "a couple of": 2,
    "couple of": 2,
}
_NUMBER = (
    r"(?<![\d,.])(?P<n>\d{1,3}|a\s+couple\s+of|couple\s+of|an?|one|two|three|four|five|six"
    r"|seven|eight|nine|ten|eleven|twelve)"
)
_YESTERDAY = ("yesterday", "last night")

# Anchored at a word's start: unanchored, a long word without a colon is scanned from each of
# its characters (quadratic: seconds for a 40,000-character paste).
_COLON_TOKEN = re.compile(r"(?<!\S)\S*:\S*")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([?!.,;])")
_BLOCKED_BEFORE = re.compile(
    r"\b(?:before|until|till|through|thru|by|ending|ended|prior\s+to|ahead\s+of|up\s+to)\s*$",
    re.IGNORECASE,
)
_WEEKDAY_MODIFIER = re.compile(
    r"\b(?:super|black|good|bloody|ash|cyber|holy|easter|palm|maundy|shrove|fat|giving)\s*$",
    re.IGNORECASE,
)
_NEXT_IS_CAPITALIZED = re.compile(r"[ \t]+[A-Z]")  # no IGNORECASE: it is about case


_Reader = Callable[[re.Match[str], date], _Span | None]


@functools.cache
def _rules() -> tuple[tuple[re.Pattern[str], _Reader, bool], ...]:
    """The finding patterns, each with its reader and whether it counts from ``as_of``.

    Compiled on the first question, not at import: compiling them takes ~10 ms, which every
    CLI command would otherwise pay.
    """
    return tuple(
        (re.compile(p, re.IGNORECASE | re.VERBOSE), read, read in _RELATIVE)
        for p, read in _PATTERNS
    )


_PATTERNS: tuple[tuple[str, _Reader], ...] = (
    (
        rf"""{_LEAD}\b(?P<word>today|tonight|yesterday|last\s+night
            |this\s+(?:morning|afternoon|evening)|the\s+day\s+before\s+yesterday)\b""",
        _today_words,
    ),
    (r"\b(?:recently|lately|of\s+late)\b", _recently),
    (
        # "the last week of the campaign" is about the campaign, not about last week.
        rf"""{_LEAD}\b(?P<which>this\s+past|this|last|past|previous
            |the\s+(?:last|past|previous))\s+(?P<unit>week|month|year)\b(?!\s+of\b)""",
        _this_last_unit,
    ),
    (
        rf"""{_LEAD}(?:\bthe\s+)?\b(?:last|past|previous)\s+{_NUMBER}\s+
            (?P<unit>hours?|days?|weeks?|months?|years?)\b""",
        _last_n_units,
    ),
    (rf"{_NUMBER}\s+(?P<unit>days?|weeks?|months?|years?)\s+ago\b", _units_ago),
    (
        rf"""{_LEAD}(?:\b(?P<which>this\s+past|last|this|past)\s+)?
            \b(?P<weekday>{"|".join(_WEEKDAYS)})\b""",
        _weekday,
    ),
    (rf"{_LEAD}(?<![\d-])(?P<iso>\d{{4}}-\d\d-\d\d)(?![\d-])", _iso_day),
    (
        rf"{_LEAD}(?:\bthe\s+)?(?P<core>{_DAY}\s+(?:of\s+)?\b{_MONTH}(?:,?\s+{_YEAR})?)",
        _day_and_month,
    ),
    (
        rf"{_LEAD}(?P<core>\b{_MONTH}\s+{_DAY}(?:,?\s+{_YEAR})?)(?![.,]?\d)",
        _day_and_month,
    ),
    (
        rf"""{_LEAD}(?:\b(?P<which>early|mid|late)[-\s]+)?
            (?P<core>\b{_MONTH},?\s+(?:of\s+)?{_YEAR})""",
        _month_and_year,
    ),
    (
        rf"""(?:\b(?P<lead>in|during|throughout|from|since|after)\s+)?
            (?:\b(?P<which>last|this|early|mid|late)[-\s]+)?\b(?P<month>{_MONTHS})\b""",
        _month_alone,
    ),
    (
        rf"""(?:\b(?P<lead>in|during|throughout|from|since|after)\s+)?
            (?:\b(?P<which>early|mid|late)[-\s]+)?(?<![\d,.-])\b{_YEAR}""",
        _year,
    ),
)
_RELATIVE = frozenset(
    {_today_words, _recently, _this_last_unit, _last_n_units, _units_ago, _weekday}
)
