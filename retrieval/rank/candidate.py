"""A passage found by either retriever, with the evidence ranking weighs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from retrieval.records import Passage
from retrieval.words import coverage


@dataclass(frozen=True)
class Candidate:
    """A passage and its evidence.

    Attributes:
        passage: The stored passage.
        similarity: Cosine similarity of the passage to the question.
        bm25: Its BM25 score for the question (0 when BM25 did not find it).
        title_similarity: Cosine similarity of its document's title to the question.
        coverage: The share of the question's words it holds.
        score: What ranking made of the evidence (see :func:`retrieval.rank.fuse`).
    """

    passage: Passage
    similarity: float
    bm25: float = 0.0
    title_similarity: float = 0.0
    coverage: float = 0.0
    score: float = 0.0

    @property
    def document_id(self) -> int:
        return self.passage.document.id


def gather(
    passages: Iterable[Passage],
    query: np.ndarray,
    *,
    asked: set[str],
    bm25: Mapping[int, float],
) -> list[Candidate]:
    """The evidence for each passage.

    Args:
        passages: The passages found.
        query: The question's unit vector.
        asked: The question's words (:func:`retrieval.words.word_sets`).
        bm25: BM25 scores by passage id.
    """
    found = list(passages)
    covered = coverage(asked, [p.text for p in found])
    candidates = []
    for passage, share in zip(found, covered, strict=True):
        title = passage.document.title_vector
        candidates.append(
            Candidate(
                passage=passage,
                similarity=float(passage.vector @ query),
                bm25=bm25.get(passage.id, 0.0),
                title_similarity=float(title @ query) if title is not None else 0.0,
                coverage=share,
            )
        )
    return candidates
