"""Combining the dense and lexical evidence into one ranking."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from retrieval.store import PassageRow

# Weight of the cosine similarity against the max-normalized BM25 score, tuned on the seed
# golden set and rtqa-2022 (see README, "How retrieval works").
DENSE_WEIGHT = 0.8
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
    score: float = 0.0


def rank(candidates: list[Candidate], *, mode: str, prefer_recent: bool = False) -> list[Candidate]:
    """Score and sort candidates, best first.

    ``dense`` ranks by cosine similarity, ``lexical`` by BM25, and ``hybrid`` by a convex
    combination of the cosine and the BM25 score divided by the best BM25 score of the query.
    """
    top = max((c.bm25 for c in candidates), default=0.0) or 1.0
    for c in candidates:
        if mode == "dense":
            c.score = c.similarity
        elif mode == "lexical":
            c.score = c.bm25 / top
        else:
            c.score = DENSE_WEIGHT * c.similarity + (1 - DENSE_WEIGHT) * c.bm25 / top
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
