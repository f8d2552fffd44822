"""Combining the dense and lexical evidence into one ranking."""

from __future__ import annotations

import dataclasses

from retrieval.answer import Quote

# Weight of the cosine similarity against the max-normalized BM25 score, tuned on the seed
# golden set (see README, "How retrieval works").
DENSE_WEIGHT = 0.7


def rank(quotes: list[Quote], lexical: dict[int, float], *, mode: str) -> list[Quote]:
    """Score and sort candidate quotes.

    ``dense`` ranks by cosine similarity, ``lexical`` by BM25, and ``hybrid`` by a convex
    combination of the cosine and the BM25 score divided by the best BM25 score of the query.
    """
    top = max(lexical.values(), default=0.0) or 1.0

    def score(quote: Quote) -> float:
        bm25 = lexical.get(quote.passage_id, 0.0) / top
        if mode == "dense":
            return quote.similarity
        if mode == "lexical":
            return bm25
        return DENSE_WEIGHT * quote.similarity + (1 - DENSE_WEIGHT) * bm25

    scored = [dataclasses.replace(q, score=score(q)) for q in quotes]
    return sorted(scored, key=lambda q: (-q.score, q.passage_id))
