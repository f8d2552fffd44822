"""Reading a question: its arguments checked, its text cleaned, its filters and time words read."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from retrieval.errors import EmptyQuestionError, InvalidArgumentError, QuestionTooLongError
from retrieval.query import Query, clean_question
from retrieval.timeframe import Period, find_time
from retrieval.tuning import Mode, RetrievalConfig, parse_mode

_HAS_WORD = re.compile(r"\w")


@dataclass(frozen=True)
class Question:
    """A question as read.

    Attributes:
        text: The question as cleaned (:func:`retrieval.query.clean_question`): what the
            answer repeats.
        query: What to search for (without the filters, nor relative time words) and the
            filters.
        mode: How to search.
        k: How many quotes to return.
        offset: How many of the best quotes to skip.
        as_of: The day of asking.
        period: The dates the question's time words ask for, if any.
        context: The earlier questions it follows (a thread's), cleaned and without their
            filters, oldest first; empty for a question read alone.
        collections: The collections it may quote; ``None`` for all.
    """

    text: str
    query: Query
    mode: Mode
    k: int
    offset: int
    as_of: date
    period: Period | None = None
    context: tuple[str, ...] = ()
    collections: frozenset[str] | None = None

    @property
    def wanted(self) -> int:
        """How many of the best quotes the page needs, the skipped ones included."""
        return self.offset + self.k


def read_question(
    question: str,
    *,
    config: RetrievalConfig,
    k: int | None = None,
    offset: int = 0,
    mode: Mode | str | None = None,
    as_of: date | None = None,
    context: Sequence[str] = (),
    collections: Iterable[str] | None = None,
) -> Question:
    """``question`` and the arguments of :meth:`retrieval.QuoteDesk.ask`, checked and read.

    Raises:
        UserError: See :meth:`retrieval.QuoteDesk.ask`.
    """
    k = config.check_k(config.default_k if k is None else k)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise InvalidArgumentError(f"offset must be a whole number of 0 or more, not {offset!r}")
    chosen = parse_mode(mode) if mode is not None else config.mode
    text = clean_question(question)
    if len(text) > config.max_question_chars:
        raise QuestionTooLongError(
            f"the question is {len(text):,} characters long: ask it in at most "
            f"{config.max_question_chars:,} (the encoder reads no more)"
        )
    query = Query.parse(text)
    if not _HAS_WORD.search(query.text):
        raise EmptyQuestionError(
            'ask a question in words, e.g. "why did Baku skip the Washington meeting?"'
        )
    as_of = as_of or date.today()
    time = find_time(query.text, as_of=as_of)
    if time and time.relative and config.strip_time_words and _HAS_WORD.search(time.text):
        # "this week" says when, not what, and no article says it so: the words are left
        # to the period. Calendar words ("in October") stay: the answer may say them.
        query = dataclasses.replace(query, text=time.text)
    return Question(
        text,
        query,
        chosen,
        k,
        offset,
        as_of,
        time.period if time else None,
        context=read_context(context, config=config),
        collections=None if collections is None else frozenset(collections),
    )


def read_context(context: Sequence[str], *, config: RetrievalConfig) -> tuple[str, ...]:
    """The earlier questions a follow-up is read with: each cleaned, its filters dropped and cut
    to ``max_question_chars``; those without words left out; the newest
    ``config.context_questions`` kept, oldest first.

    Example:
        >>> read_context(["why did Baku skip it? since:2023-01-01", " ", "?"],
        ...              config=RetrievalConfig())
        ('why did Baku skip it?',)
    """
    if isinstance(context, str):
        raise InvalidArgumentError("context must be a list of earlier questions, not one string")
    kept = []
    for earlier in context:
        text = Query.parse_words(clean_question(str(earlier))[: config.max_question_chars])
        if _HAS_WORD.search(text):
            kept.append(text)
    return tuple(kept[len(kept) - config.context_questions :]) if kept else ()
