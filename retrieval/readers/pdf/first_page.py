"""The title and the date atop a PDF's first page, taken out of its text: the title (the
metadata's, else the large type that opens page 1) and a "Published ..." line."""

from __future__ import annotations

from datetime import date

from retrieval.readers.base import clean_line
from retrieval.readers.dates import DATE_LABEL, date_within, parse_date
from retrieval.readers.pdf.hyphens import join_lines
from retrieval.readers.pdf.lines import Line
from retrieval.readers.pdf.paragraphs import same_size

__all__ = ["labelled_date", "take_date_line", "take_title"]

# Lines atop page 1 looked at for the title and the date.
_FIRST_PAGE_LINES = 12
# Type this much larger than the body's is a heading: its own paragraph.
_HEADING = 1.15
_MAX_TITLE_CHARS = 300
# Lines above the title on page 1 dropped with it: a header, a section label, a kicker.
_ABOVE_TITLE = 3


def take_date_line(lines: list[Line]) -> date | None:
    """The date of a "Published ..." (or a bare date) line atop page 1, the line removed."""
    first_page = lines[0].page if lines else 0
    for i, line in enumerate(lines[:_FIRST_PAGE_LINES]):
        if line.page != first_page:
            break
        label = DATE_LABEL.match(line.text)
        rest = line.text[label.end() :] if label else line.text
        if not label and len(rest) > 40:
            continue
        found = (parse_date(rest) or date_within(rest)) if label else parse_date(rest)
        if found:
            del lines[i]
            return found
    return None


def labelled_date(lines: list[Line]) -> date | None:
    """The date of the first "Published ..." line among ``lines`` (a header, a footer)."""
    for line in lines:
        label = DATE_LABEL.match(line.text)
        if label:
            found = parse_date(line.text[label.end() :]) or date_within(line.text)
            if found:
                return found
    return None


def _comparable(text: str) -> str:
    return clean_line(text).casefold()


def take_title(lines: list[Line], meta_title: str | None, body: float) -> str | None:
    """The title: the metadata's, its lines atop page 1 removed (with what is above them, a
    header); without one, the large type that opens page 1."""
    first_page = lines[0].page if lines else 0
    top = [line for line in lines[:_FIRST_PAGE_LINES] if line.page == first_page]
    if meta_title:
        wanted = _comparable(meta_title)
        for start in range(len(top)):
            joined = ""
            for end in range(start, len(top)):
                joined = _comparable(f"{joined} {top[end].text}")
                if joined == wanted:
                    # A few lines above the title are a header or a section label.
                    del lines[0 if start <= _ABOVE_TITLE else start : end + 1]
                    return meta_title
                if not wanted.startswith(joined):
                    break
        return meta_title
    # No title in the metadata: the largest type atop page 1, when it is heading type (a
    # letterhead or a section label above it is smaller, and goes with it).
    head = top[: _ABOVE_TITLE + 1]
    if not head or body <= 0:
        return None
    largest = max(line.size for line in head)
    if largest < body * _HEADING:
        return None
    start = next(i for i, line in enumerate(head) if same_size(line.size, largest))
    end = start
    while end < len(top) and same_size(top[end].size, largest):
        end += 1
    title = clean_line(join_lines([line.text for line in top[start:end]], set(), set()))
    if len(title) > _MAX_TITLE_CHARS:
        return None
    del lines[:end]
    return title
