"""Combining the dense and lexical evidence into one ranking."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from retrieval.config import Mode, RetrievalConfig
from retrieval.rank.candidate import Candidate
from retrieval.timeframe import Period


def fuse(
    candidates: list[Candidate],
    *,
    config: RetrievalConfig,
    mode: Mode | None = None,
    prefer_recent: bool = False,
    period: Period | None = None,
    as_of: date | None = None,
) -> list[Candidate]:
    """Score and sort candidates, best first (ties by passage id, so the order is stable).

    ``dense`` ranks by cosine similarity, ``lexical`` by BM25, and ``hybrid`` by a weighted sum
    of the cosine, the title's cosine, the BM25 score divided by the best BM25 score of the
    query, and the question's word coverage (weights from ``config``). With
    ``prefer_recent``, the newest documents among the candidates gain up to
    ``config.recency_weight``; with a ``period`` (the question's time words), passages of
    documents dated in it gain ``config.period_weight`` (a soft preference: nothing is
    removed, and undated documents neither gain nor lose). Without one, ``as_of`` (the moment
    of asking) makes documents of the ``config.news_days`` days up to it gain
    ``config.news_weight``: a question about the news is mostly about this news.

    Example:
        >>> [c.passage.id for c in fuse(candidates, config=RetrievalConfig())]
        [3, 1, 2]
    """
    mode = mode or config.mode
    top = max((c.bm25 for c in candidates), default=0.0) or 1.0
    scored = [dataclasses.replace(c, score=_score(c, top, mode, config)) for c in candidates]
    if prefer_recent:
        scored = _add_recency(scored, config.recency_weight)
    if period is not None:
        scored = _prefer(scored, period, config.period_weight)
    elif as_of is not None and config.news_days > 0:
        news = Period(as_of - timedelta(days=config.news_days - 1), as_of, "")
        scored = _prefer(scored, news, config.news_weight)
    return sorted(scored, key=lambda c: (-c.score, c.passage.id))


def _score(c: Candidate, top: float, mode: Mode, config: RetrievalConfig) -> float:
    if mode is Mode.DENSE:
        return c.similarity
    if mode is Mode.LEXICAL:
        return c.bm25 / top
    return (
        config.dense_weight * c.similarity
        + config.title_weight * c.title_similarity
        + config.bm25_weight * c.bm25 / top
        + config.coverage_weight * c.coverage
    )


def _prefer(candidates: list[Candidate], period: Period, weight: float) -> list[Candidate]:
    if not weight:
        return candidates
    return [
        dataclasses.replace(c, score=c.score + weight)
        if period.covers(c.passage.document.date)
        else c
        for c in candidates
    ]


def _add_recency(candidates: list[Candidate], weight: float) -> list[Candidate]:
    days = [c.passage.document.date.toordinal() for c in candidates if c.passage.document.date]
    if not days or max(days) == min(days):
        return candidates
    low, span = min(days), max(days) - min(days)
    return [
        dataclasses.replace(
            c, score=c.score + weight * (c.passage.document.date.toordinal() - low) / span
        )
        if c.passage.document.date
        else c
        for c in candidates
    ]
