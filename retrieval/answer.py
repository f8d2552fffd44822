"""What the core answers: quotes with their source and date. Front ends only render these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from retrieval.records import Source, SourceInfo
from retrieval.timeframe import Period

__all__ = ["Answer", "Period", "Quote", "Source", "SourceInfo"]


@dataclass(frozen=True)
class Quote:
    """A passage quoted verbatim from a source.

    Attributes:
        text: The passage exactly as the source has it.
        source: The document it stands in.
        score: Relevance (higher is better; comparable within one answer).
        similarity: Cosine similarity of the passage to the question.
        passage_id: The passage's id in the store.
        start: Offset of the passage in the source text.
        end: End offset of the passage in the source text.
        highlights: Spans within ``text`` of the sentences that best answer the question.
        also_in: Other sources that carry the same passage in nearly the same words.
    """

    text: str
    source: Source
    score: float
    similarity: float
    passage_id: int
    start: int
    end: int
    highlights: tuple[tuple[int, int], ...] = ()
    also_in: tuple[Source, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.source.to_dict(),
            "text": self.text,
            "score": round(float(self.score), 4),
            "similarity": round(float(self.similarity), 4),
            "passage_id": self.passage_id,
            "start": self.start,
            "end": self.end,
            "highlights": [list(span) for span in self.highlights],
            "also_in": [source.to_dict() for source in self.also_in],
        }


@dataclass(frozen=True)
class Answer:
    """The quotes for one question; ``answered`` is false when nothing relevant was found.

    Attributes:
        question: The question as asked.
        answered: Whether any quote is relevant enough to show as an answer.
        quotes: The quotes, best first (empty when not answered).
        related: When not answered, the closest sources, offered as "might be related".
        offset: How many quotes came before these (for "more quotes").
        as_of: The moment of asking: "this week" is the week of this day.
        period: The dates the question's time words asked for, when it had any: documents
            dated in it were preferred.
        context: The earlier questions it was read with (a thread's), oldest first; empty
            when it was read alone.
        timings: Seconds each stage of answering took (``encode``, ``dense``, ``lexical``,
            ``ranking``), for metrics; not part of :meth:`to_dict`.
    """

    question: str
    answered: bool
    quotes: tuple[Quote, ...]
    related: tuple[Source, ...] = ()
    offset: int = 0
    as_of: date | None = None
    period: Period | None = None
    context: tuple[str, ...] = ()
    timings: tuple[tuple[str, float], ...] = field(default=(), compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "quotes": [quote.to_dict() for quote in self.quotes],
            "related": [source.to_dict() for source in self.related],
            "offset": self.offset,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "period": self.period.to_dict() if self.period else None,
            "context": list(self.context),
        }
