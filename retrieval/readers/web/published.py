"""When a page's article was published: htmldate on what the page states, then on the
dateline under the headline, then on the rest of the page less the story's own paragraphs."""

from __future__ import annotations

import copy
import html as html_lib
import re
from collections.abc import Collection, Iterator
from datetime import date, datetime

import lxml.html
from htmldate import find_date
from lxml import etree

from retrieval.readers.base import clean_line
from retrieval.readers.dates import MAX_YEAR, MIN_YEAR, parse_date
from retrieval.readers.web.text import main_text, paragraphs

__all__ = ["dated", "is_dateline", "publication_date"]

# htmldate's bounds: the years an archive holds, never "today" (its default): a page is dated
# by what it says, whatever the day it is read.
_MIN_DATE = datetime(MIN_YEAR, 1, 1)
_MAX_DATE = datetime(MAX_YEAR, 12, 31)
# Prose: its dates are events the story tells of, not when it was published. Shorter blocks
# (a dateline, a byline) stay for htmldate, unless they are the story's own.
_PROSE = ("p", "li", "blockquote", "dd", "pre")
_PROSE_CHARS = 160
# Other elements that may hold one of the story's paragraphs, and no more than a long one.
_BLOCKS_OF_TEXT = ("div", "span", "td", "h2", "h3", "h4", "h5", "h6")
_MAX_STORY_CHARS = 5000
# A dateline: "Published July 6, 2022", "By Jane Roe · 6 July 2022, 10:14", a short line among
# the first few under the headline.
_DATELINE_CHARS = 100
_DATELINE_LINES = 8
_DATELINE_ELEMENTS = 200
_DATELINE_WORDS = 5


def publication_date(
    tree: lxml.html.HtmlElement, url: str | None = None, story: Collection[str] | None = None
) -> date | None:
    """When the article was first published, as the page says; ``None`` when it does not say.

    htmldate on the page's structure (meta tags, JSON-LD, the URL's path, ``<time>``,
    date-marked elements), else a date written whole in the short lines under the headline.
    Never a copyright year, an "Updated 3 hours ago", a month without its day, a date the story
    mentions (``story``: its paragraphs, found here when not given), or the day the page is
    read.
    """
    if story is None:
        body = main_text(tree)
        story = paragraphs(body) if body is not None else []
    return dated(tree, url, story)


def dated(tree: lxml.html.HtmlElement, url: str | None, story: Collection[str]) -> date | None:
    # htmldate in fast mode throughout: its extensive search of the page's text falls back to
    # guesses (a copyright year as January 1st, "July 2022" as July 1st, the earliest date
    # anywhere on the page).
    # 1. What the page states about itself: meta tags, JSON-LD, the URL's path.
    day = _htmldate(_statements(tree), extensive=False, url=url)
    if day is not None:
        return day
    # 2. A date written under the headline, before any elsewhere on the page (a related
    # story's <time>).
    lines = list(_dateline(tree))
    if lines:
        # The text search on those lines alone: no footer, no story to guess from...
        page = "".join(f"<p>{html_lib.escape(line)}</p>" for line in lines)
        day = _htmldate(f"<html><body>{page}</body></html>", extensive=True)
        # ...where it still falls back to partial dates: a day only when a line writes it
        # whole.
        if day is not None and any(_writes(line, day) for line in lines):
            return day
    # 3. Dated elements anywhere (<time>, date-marked boxes), not the story's own text.
    return _htmldate(_without_prose(tree, set(story)), extensive=False, url=url)


def _statements(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """A page of ``tree``'s meta tags and JSON-LD only: what it states about itself."""
    head = lxml.html.Element("head")
    for element in tree.iter("meta", "script"):
        kind = (element.get("type") or "").strip().lower()
        if element.tag == "meta" or kind in ("application/ld+json", "application/settings+json"):
            statement = copy.copy(element)
            statement.tail = None
            head.append(statement)
    page = lxml.html.Element("html")
    page.append(head)
    return page


def _htmldate(
    page: lxml.html.HtmlElement | str, *, extensive: bool, url: str | None = None
) -> date | None:
    try:
        found = find_date(
            page,
            extensive_search=extensive,
            original_date=True,
            url=url,
            min_date=_MIN_DATE,
            max_date=_MAX_DATE,
            # A date the page states (meta tags, JSON-LD) over the one its URL's path implies.
            deferred_url_extractor=True,
        )
    except Exception:
        # htmldate is not made for hostile pages; a date not found is no date.
        return None
    return parse_date(found) if found else None


def _without_prose(tree: lxml.html.HtmlElement, story: set[str]) -> lxml.html.HtmlElement:
    """A copy of ``tree`` without the story's paragraphs, nor any long one: the dates in them
    are what the story tells of ("the council first met on 5/3/1996")."""
    pruned = copy.deepcopy(tree)
    for element in list(pruned.iter(*_PROSE, *_BLOCKS_OF_TEXT)):
        if (element.tag in _PROSE and _text_longer_than(element, _PROSE_CHARS)) or (
            story
            and not _text_longer_than(element, _MAX_STORY_CHARS)
            and clean_line(element.text_content()) in story
        ):
            element.drop_tree()  # keeps its tail: the text after it is not its own
    return pruned


def _text_longer_than(element: etree._Element, limit: int) -> bool:
    """Whether ``element`` holds more than ``limit`` characters of text (read only that far)."""
    size = 0
    for piece in element.itertext():
        size += len(piece)
        if size > limit:
            return True
    return False


# A copyright line's year is the site's, not the article's.
_COPYRIGHT = re.compile(r"©|&copy;|\(c\)|\bcopyright\b", re.I)


def _dateline(tree: lxml.html.HtmlElement) -> Iterator[str]:
    """The short lines right under the headline (the first ``<h1>``, else ``<h2>``), up to
    where the story's prose starts."""
    headline = tree.find(".//h1")
    if headline is None:
        headline = tree.find(".//h2")
    if headline is None:
        return
    taken: set[etree._Element] = set()
    count = 0
    for element in _following(headline):
        if not isinstance(element.tag, str) or element.tag in ("script", "style", "template"):
            continue
        if any(ancestor in taken for ancestor in element.iterancestors()):
            continue
        if _text_longer_than(element, _DATELINE_CHARS):
            if element.tag in _PROSE:
                return  # the story has started
            continue  # a container: its children are looked at next
        line = clean_line(element.text_content())
        if line and not _COPYRIGHT.search(line):
            taken.add(element)
            yield line
            count += 1
            if count >= _DATELINE_LINES:
                return


def _following(element: etree._Element) -> Iterator[etree._Element]:
    """The elements after ``element`` in document order (not inside it), a bounded number."""
    seen = 0
    node: etree._Element | None = element
    while node is not None and seen < _DATELINE_ELEMENTS:
        sibling = node.getnext()
        while sibling is not None:
            for inner in sibling.iter():
                yield inner
                seen += 1
                if seen >= _DATELINE_ELEMENTS:
                    return
            sibling = sibling.getnext()
        node = node.getparent()


# A date written whole: its day, month and year together, in numbers or with the month's name
# (which htmldate read; here only its place is checked).
_WRITTEN_DATE = re.compile(
    # 2022-07-06, 06/07/2022, 6.7.22
    r"(?<!\d)(?P<a>\d{1,4})[./-](?P<b>\d{1,2})[./-](?P<c>\d{1,4})(?!\d)"
    # 6 July 2022, 6th of July 2022, 6. Juli 2022
    r"|(?<!\d)(?P<day>\d{1,2})(?:st|nd|rd|th|\.)?\s+(?:of\s+)?[^\W\d_]{3,}\.?,?\s+"
    r"(?P<year>\d{4})(?!\d)"
    # July 6, 2022
    r"|[^\W\d_]{3,}\.?\s+(?P<day2>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year2>\d{4})(?!\d)"
    # 2022年7月6日
    r"|(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
)


def is_dateline(line: str, day: date) -> bool:
    """Whether ``line`` is a dateline of ``day``: the date and a few words ("Published",
    "By Jane Roe ·", "10:14 AM EDT"), not a sentence that mentions it."""
    if not _writes(line, day):
        return False
    words = [w for w in _WRITTEN_DATE.sub(" ", line).split() if any(c.isalpha() for c in w)]
    return len(words) <= _DATELINE_WORDS


def _writes(line: str, day: date) -> bool:
    """Whether ``line`` writes ``day`` whole (not a year alone, nor a month and its year)."""
    years = (day.year, day.year % 100)
    for match in _WRITTEN_DATE.finditer(line):
        found = {int(n) for n in match.groups() if n is not None}
        if day.day in found and any(y in found for y in years):
            if match["a"] is None and match["y"] is None:
                return True  # the month is the word between them
            if day.month in found:
                return True
    return False
