"""A part of a stored document's text around one of its passages, for reading a quote in
context (``quotedesk show --around``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from retrieval.errors import InvalidArgumentError
from retrieval.records import StoredText

_PARAGRAPH_BREAK = "\n\n"


@dataclass(frozen=True)
class Excerpt:
    """``text`` is ``stored_text[start:end]``; ``passage`` the quoted passage's span in the
    stored text, when one was asked for.

    Example:
        >>> Excerpt("abc", 0, 3).to_dict()["start"]
        0
    """

    text: str
    start: int
    end: int
    passage: tuple[int, int] | None = None
    length: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "passage": list(self.passage) if self.passage else None,
            "length": self.length,
        }


def excerpt(stored: StoredText, *, around: int | None = None, context: int = 600) -> Excerpt:
    """The whole text, or the passage at offset ``around`` with ``context`` characters on each
    side, widened to whole paragraphs.

    Raises:
        InvalidArgumentError: No passage of the document covers ``around``.
    """
    text = stored.text or ""
    if around is None:
        return Excerpt(text, 0, len(text), None, len(text))
    span = next((p for p in stored.passages if p[0] <= around < p[1]), None)
    if span is None:
        starts = ", ".join(str(a) for a, _ in stored.passages[:8])
        more = ", …" if len(stored.passages) > 8 else ""
        raise InvalidArgumentError(
            f"no passage of {stored.source.path} covers offset {around}: its passages start at "
            f"{starts}{more}"
        )
    begin = max(0, span[0] - context)
    if begin > 0:
        cut = text.rfind(_PARAGRAPH_BREAK, 0, begin)
        begin = 0 if cut < 0 else cut + len(_PARAGRAPH_BREAK)
    finish = min(len(text), span[1] + context)
    if finish < len(text):
        cut = text.find(_PARAGRAPH_BREAK, finish)
        finish = len(text) if cut < 0 else cut
    return Excerpt(text[begin:finish], begin, finish, span, len(text))
