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

    def with_score(self, score: float) -> Candidate:
        """This candidate scored ``score`` (a copy: candidates are immutable). What
        ``dataclasses.replace`` does, at a third of its cost: ranking scores every candidate
        of every question, some twice."""
        return Candidate(
            self.passage, self.similarity, self.bm25, self.title_similarity, self.coverage, score
        )


def gather(
    passages: Iterable[Passage],
    query: np.ndarray,
    *,
    asked: set[str],
    bm25: Mapping[int, float],
    in_text: Mapping[int, int] | None = None,
) -> list[Candidate]:
    """The evidence for each passage.

    Args:
        passages: The passages found.
        query: The question's unit vector.
        asked: The question's words (:func:`retrieval.words.word_sets`).
        bm25: BM25 scores by passage id.
        in_text: How many of the ``asked`` words a passage's text holds, by passage id, where
            known (the lexical index knows most: its
            :meth:`~retrieval.search.LexicalIndex.words_in_text`); the others' texts are read.
    """
    found = list(passages)
    covered = _coverage(found, asked, in_text or {})
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


def _coverage(found: list[Passage], asked: set[str], in_text: Mapping[int, int]) -> list[float]:
    if not asked:
        return [0.0] * len(found)
    known = {p.id: in_text[p.id] / len(asked) for p in found if p.id in in_text}
    unread = [p for p in found if p.id not in known]
    read = coverage(asked, [p.text for p in unread])
    known.update(zip((p.id for p in unread), read, strict=True))
    return [known[p.id] for p in found]
