"""What every reader gives: articles with their text, title, date and link.

A reader turns one file's bytes into :class:`Article` records. The text of an article is what
quotedesk stores and quotes from (``text[start:end]`` is every quote), so a reader decides
what is article text and what is furniture or metadata; the rest of the pipeline never sees
the original file again.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

# Runs of whitespace inside a paragraph: a line wrapped by a page layout, a tab, a
# non-breaking space. A paragraph is stored on one line, so a quote never breaks mid-sentence
# and an answer's words are found across a wrapped line.
_SPACES = re.compile(r"[^\S\n]+|\s*\n\s*")
_PARAGRAPH_BREAK = "\n\n"


class UnreadableFileError(ValueError):
    """A file (or one record of it) that cannot be used; the message says why."""


@dataclass(frozen=True)
class Article:
    """One article as a reader found it.

    Attributes:
        text: The article's text as stored and quoted: paragraphs separated by a blank line.
        title: Its headline, ``None`` when unknown (never made up).
        date: Its publication date, ``None`` when unknown (never guessed).
        url: Its canonical link, ``None`` when unknown.
        record: For a file holding several articles, which one this is (``"12"``, the 12th
            record; the document is then named ``file#12``); ``None`` for a one-article file.
        body_start: Where the passages start in ``text`` (after a header or title line that
            is kept in the text but not quoted).
    """

    text: str
    title: str | None = None
    date: datetime.date | None = None
    url: str | None = None
    record: str | None = None
    body_start: int = 0

    @classmethod
    def from_paragraphs(
        cls,
        paragraphs: Iterable[str],
        *,
        title: str | None = None,
        date: datetime.date | None = None,
        url: str | None = None,
        record: str | None = None,
    ) -> Article:
        """An article whose text is ``paragraphs``, each on one line, blank lines between.

        Raises:
            UnreadableFileError: No paragraph holds any text.
        """
        text = join_paragraphs(paragraphs)
        if not text:
            raise UnreadableFileError("no text found")
        return cls(
            text=text,
            title=clean_line(title) or None if title else None,
            date=date,
            url=(url or "").strip() or None,
            record=record,
        )


@dataclass(frozen=True)
class SkippedRecord:
    """One record of a multi-article file that could not be read (the others are)."""

    record: str
    reason: str


@dataclass
class Extraction:
    """What a reader found in one file: its articles, and the records it had to skip."""

    articles: list[Article] = field(default_factory=list)
    skipped: list[SkippedRecord] = field(default_factory=list)


def clean_line(text: str) -> str:
    """``text`` on one line: every run of whitespace one space, trimmed."""
    return _SPACES.sub(" ", text).strip()


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    """Paragraphs on one line each, blank lines between, empty ones left out."""
    return _PARAGRAPH_BREAK.join(p for p in (clean_line(p) for p in paragraphs) if p)
