"""Combining the dense and lexical evidence into one ranking."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retrieval.store import PassageRow

# Relative weights of the evidence in hybrid mode, tuned together on the seed golden set and
# rtqa-2022 (see README, "How retrieval works"): the passage's cosine similarity, its
# document title's cosine similarity, the BM25 score divided by the query's best, and the share
# of the question's words the passage contains.
DENSE_WEIGHT = 0.6
TITLE_WEIGHT = 0.1
BM25_WEIGHT = 0.1
COVERAGE_WEIGHT = 0.1
# For "latest" questions: at most this much is added for the newest document among candidates,
# enough to reorder near-ties, not to lift an irrelevant passage.
RECENCY_WEIGHT = 0.05


@dataclass
class Candidate:
    """A passage found by either retriever, with its evidence."""

    row: PassageRow
    vector: np.ndarray
    similarity: float
    bm25: float = 0.0
    title_similarity: float = 0.0
    coverage: float = 0.0
    score: float = 0.0


def rank(candidates: list[Candidate], *, mode: str, prefer_recent: bool = False) -> list[Candidate]:
    """Score and sort candidates, best first.

    ``dense`` ranks by cosine similarity, ``lexical`` by BM25, and ``hybrid`` by a weighted sum
    of the cosine, the title's cosine, the BM25 score divided by the best BM25 score of the
    query, and the question's word coverage.
    """
    top = max((c.bm25 for c in candidates), default=0.0) or 1.0
    for c in candidates:
        if mode == "dense":
            c.score = c.similarity
        elif mode == "lexical":
            c.score = c.bm25 / top
        else:
            c.score = (
                DENSE_WEIGHT * c.similarity
                + TITLE_WEIGHT * c.title_similarity
                + BM25_WEIGHT * c.bm25 / top
                + COVERAGE_WEIGHT * c.coverage
            )
    if prefer_recent:
        _add_recency(candidates)
    return sorted(candidates, key=lambda c: (-c.score, c.row.id))


def _add_recency(candidates: list[Candidate]) -> None:
    days = [c.row.document.date.toordinal() for c in candidates if c.row.document.date]
    if not days or max(days) == min(days):
        return
    low, span = min(days), max(days) - min(days)
    for c in candidates:
        if c.row.document.date:
            c.score += RECENCY_WEIGHT * (c.row.document.date.toordinal() - low) / span
