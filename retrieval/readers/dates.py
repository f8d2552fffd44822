"""Publication dates as documents write them: ``2022-07-06``, ``2022-07-06T09:00:00Z``,
``Wed, 06 Jul 2022 09:00:00 +0000``, ``July 6, 2022``, ``6 July 2022``.

A date is taken only when year, month and day are all written: "July 2022" or "2022" is no
date (a day would have to be guessed), and neither is anything that does not parse whole, nor
a date in figures that reads two ways (``06/07/2022``: June 7th in the US, July 6th elsewhere).
"""

from __future__ import annotations

import re
from datetime import date, datetime

# Years a news archive holds; anything else is a number that happened to parse.
MIN_YEAR = 1800
MAX_YEAR = 2200
# Longer than any written date with its time and zone; longer strings are sentences.
_MAX_DATE_CHARS = 64
_ISO = re.compile(r"\s*(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.,]+(?:Z|[+-]\d{2}:?\d{2})?)?\s*\Z")
# Day and month in figures, either order: a guess unless one of them is over 12 (or both agree).
_NUMERIC = re.compile(r"\s*(\d{1,2})[./-](\d{1,2})[./-]\d{2,4}\s*\Z")
# "Published on: ", "Date - ", "First posted ": the label before a date line in a document.
DATE_LABEL = re.compile(
    r"(?:first\s+)?(?:published|posted|dated?|released|issued)(?:\s+on)?\s*[:\-–—]?\s*",
    re.IGNORECASE,
)
# A date written inside longer text: ISO, "July 6, 2022", "6 July 2022", "06.07.2022".
_DATE_IN_TEXT = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|(?:[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4})"
    r"|(?:\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4})"
    r"|(?:\d{1,2}[./]\d{1,2}[./]\d{4})"
)
# Two defaults differing in every field: a field taken from the default differs between the
# two parses, so it was not written.
_DEFAULTS = (datetime(2001, 1, 1), datetime(2002, 2, 2))


def parse_date(value: object) -> date | None:
    """The calendar date ``value`` writes, or ``None`` when it writes none whole.

    The date is the one written, in the writer's own time zone: ``2022-07-06T23:30:00-05:00``
    is the 6th, as its readers saw it.

    Example:
        >>> parse_date("Wed, 06 Jul 2022 09:00:00 +0000")
        datetime.date(2022, 7, 6)
        >>> parse_date("July 2022") is None
        True
    """
    if isinstance(value, datetime):
        return _plausible(value.date())
    if isinstance(value, date):
        return _plausible(value)
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_DATE_CHARS:
        return None
    iso = _ISO.match(value)
    if iso:
        try:
            return _plausible(date(*(int(g) for g in iso.groups())))
        except ValueError:
            return None
    numeric = _NUMERIC.match(value)
    if numeric and _ambiguous(int(numeric.group(1)), int(numeric.group(2))):
        return None
    from dateutil import parser  # imported on first use: most files never need it

    try:
        first, second = (parser.parse(value, default=d) for d in _DEFAULTS)
    except (ValueError, OverflowError, parser.ParserError):
        return None
    if (first.year, first.month, first.day) != (second.year, second.month, second.day):
        return None
    return _plausible(first.date())


def _ambiguous(first: int, second: int) -> bool:
    return first <= 12 and second <= 12 and first != second


def _plausible(day: date) -> date | None:
    return day if MIN_YEAR <= day.year <= MAX_YEAR else None


def date_within(text: str) -> date | None:
    """The first whole date written in ``text`` ("July 6, 2022, 9:00 a.m. ET" → July 6).

    Example:
        >>> date_within("Updated July 6, 2022, 9:00 a.m. ET")
        datetime.date(2022, 7, 6)
    """
    for match in _DATE_IN_TEXT.finditer(text):
        found = parse_date(match.group())
        if found:
            return found
    return None
