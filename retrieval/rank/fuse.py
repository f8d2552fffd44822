"""Combining the dense and lexical evidence into one ranking."""

from __future__ import annotations

from retrieval.rank.candidate import Candidate
from retrieval.timeframe import Period
from retrieval.tuning import Mode, RetrievalConfig


def fuse(
    candidates: list[Candidate],
    *,
    config: RetrievalConfig,
    mode: Mode | None = None,
    prefer_recent: bool = False,
    period: Period | None = None,
) -> list[Candidate]:
    """Score and sort candidates, best first (ties by passage id, so the order is stable).

    ``dense`` ranks by cosine similarity, ``lexical`` by BM25, and ``hybrid`` by a weighted sum
    of the cosine, the title's cosine, the BM25 score divided by the best BM25 score of the
    query, and the question's word coverage (weights from ``config``). With
    ``prefer_recent``, the newest documents among the candidates gain up to
    ``config.recency_weight``; with a ``period`` (the question's time words), passages of
    documents dated in it gain ``config.period_weight`` (a soft preference: nothing is
    removed, and undated documents neither gain nor lose).

    Example:
        >>> from retrieval.records import Document, Passage, Source
        >>> document = Document(1, Source("a.txt", None))
        >>> def candidate(id, similarity, bm25):
        ...     return Candidate(Passage(id, document, 0, 0, "", None), similarity, bm25)
        >>> candidates = [candidate(1, 0.9, bm25=0.0), candidate(2, 0.5, bm25=8.0)]
        >>> [c.passage.id for c in fuse(candidates, config=RetrievalConfig(), mode=Mode.DENSE)]
        [1, 2]
        >>> [c.passage.id for c in fuse(candidates, config=RetrievalConfig(), mode=Mode.LEXICAL)]
        [2, 1]
    """
    mode = mode or config.mode
    top = max((c.bm25 for c in candidates), default=0.0) or 1.0
    scored = [c.with_score(_score(c, top, mode, config)) for c in candidates]
    if prefer_recent:
        scored = _add_recency(scored, config.recency_weight)
    if period is not None and config.period_weight:
        scored = [
            c.with_score(c.score + config.period_weight)
            if period.covers(c.passage.document.date)
            else c
            for c in scored
        ]
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


def _add_recency(candidates: list[Candidate], weight: float) -> list[Candidate]:
    days = [c.passage.document.date.toordinal() for c in candidates if c.passage.document.date]
    if not days or max(days) == min(days):
        return candidates
    low, span = min(days), max(days) - min(days)
    return [
        c.with_score(c.score + weight * (c.passage.document.date.toordinal() - low) / span)
        if c.passage.document.date
        else c
        for c in candidates
    ]
