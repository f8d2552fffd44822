"""Saying nothing rather than quoting noise: when no candidate is close enough to the question,
the answer offers the closest documents as "might be related" instead of quotes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date  # noqa: F401  (the doctest's)

from retrieval.rank.candidate import Candidate
from retrieval.records import Source
from retrieval.timeframe import Period
from retrieval.tuning import RetrievalConfig

# Stemmed words that ask for nothing in particular: "what happened this week?", "any news
# today?" ask only for a time, and the documents of that time answer them.
GENERIC_WORDS = frozenset(
    {
        "what",
        "ani",
        "anyth",
        "someth",
        "happen",
        "go",
        "new",
        "news",
        "latest",
        "updat",
        "stori",
        "event",
        "said",
        "say",
    }
)


def asks_only_for_time(asked: set[str], period: Period | None) -> bool:
    """Whether the question, less its time phrase, asks for nothing in particular.

    Example:
        >>> asks_only_for_time({"happen"}, Period(date(2023, 11, 27), date(2023, 12, 3), "x"))
        True
    """
    return period is not None and asked <= GENERIC_WORDS


def abstains(
    ranked: Sequence[Candidate], *, config: RetrievalConfig, only_for: Period | None = None
) -> bool:
    """True when no candidate reaches ``config.min_similarity`` (cosine to the question),
    unless the question asks only for a time (``only_for``, see :func:`asks_only_for_time`)
    and documents of that period are among the candidates: then they are the answer."""
    if only_for is not None and any(only_for.covers(c.passage.document.date) for c in ranked):
        return False
    return max((c.similarity for c in ranked), default=0.0) < config.min_similarity


def related_sources(ranked: Sequence[Candidate], *, config: RetrievalConfig) -> tuple[Source, ...]:
    """The first ``config.related`` distinct documents of ``ranked``."""
    # By id: two collections may each hold a document of the same path.
    seen: dict[int, Source] = {}
    for c in ranked:
        seen.setdefault(c.passage.document.id, c.passage.document.source)
    return tuple(list(seen.values())[: config.related])
