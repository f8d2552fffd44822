"""What a question asks for besides its words: date filters and a wish for recent news."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from retrieval.errors import QueryError

# Bidirectional formatting characters reorder how the text around them is displayed (the
# "Trojan Source" trick): in a question they mean nothing and could make its echo lie.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# C0 and C1 control characters (NUL, ESC starting a terminal escape sequence, DEL, CSI, ...):
# each becomes a space, so the words on either side stay apart.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BIDI = re.compile(f"[{BIDI_CONTROLS}]")

_FILTER = re.compile(r"(?<!\S)(since|after|before|until):(\S+)", re.IGNORECASE)
_RECENT = re.compile(
    r"\b(latest|most recent(ly)?|newest|recent(ly)?|today|this (week|month|year))\b",
    re.IGNORECASE,
)


def clean_question(text: str) -> str:
    """``text`` as a question: control characters made spaces, bidirectional formatting
    characters dropped, the ends stripped. Every front end shows and stores it as cleaned.

    Example:
        >>> clean_question("\\x1b[31mwhy\\x00did\\u202e Baku?\\n")
        '[31mwhy did Baku?'
    """
    return _BIDI.sub("", _CONTROL.sub(" ", text)).strip()


@dataclass(frozen=True)
class Query:
    """A question split into its words and its filters.

    Attributes:
        text: The question without its filters.
        since: Only documents dated on or after this day.
        before: Only documents dated on or before this day.
        prefer_recent: The question asks for the latest news.

    Example:
        >>> query = Query.parse("latest on Baku since:2023-01-01")
        >>> query.text, query.since, query.prefer_recent
        ('latest on Baku', datetime.date(2023, 1, 1), True)
    """

    text: str
    since: date | None = None
    before: date | None = None
    prefer_recent: bool = False

    @property
    def filtered(self) -> bool:
        return self.since is not None or self.before is not None

    def admits(self, published: date | None) -> bool:
        """Whether a document of this date passes the filters (undated ones never do)."""
        if not self.filtered:
            return True
        if published is None:
            return False
        if self.since and published < self.since:
            return False
        return not (self.before and published > self.before)

    @staticmethod
    def parse_words(question: str) -> str:
        """The question's words without its filters, whatever their dates say (an earlier
        question of a thread, read for its words only).

        Example:
            >>> Query.parse_words("Baku since:yesterday talks")
            'Baku talks'
        """
        return " ".join(_FILTER.sub(" ", question).split())

    @classmethod
    def parse(cls, question: str) -> Query:
        since = before = None
        for match in _FILTER.finditer(question):
            word, value = match.group(1).lower(), match.group(2)
            try:
                day = date.fromisoformat(value)
            except ValueError as exc:
                raise QueryError(f"{word}: takes a date as YYYY-MM-DD, not {value!r}") from exc
            if word in ("since", "after"):
                since = day
            else:
                before = day
        text = " ".join(_FILTER.sub(" ", question).split())
        return cls(text, since, before, bool(_RECENT.search(text)))
