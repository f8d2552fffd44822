"""A passage found by either retriever, with the evidence ranking weighs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from retrieval.records import Passage
from retrieval.words import coverage, word_sets


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
    indexed: Mapping[int, int] | None = None,
    with_titles: bool = True,
) -> list[Candidate]:
    """The evidence for each passage.

    Args:
        passages: The passages found.
        query: The question's unit vector.
        asked: The question's words (:func:`retrieval.words.word_sets`).
        bm25: BM25 scores by passage id.
        indexed: How many of the ``asked`` words each passage's indexed text holds, by
            passage id, when known (the lexical index knows; -1 where it does not).
        with_titles: Whether ``indexed`` counts the words of the passage's title and text
            together: a passage whose title holds none of them holds as many in its text,
            the others are read. False: the counts are of the text alone.
    """
    found = list(passages)
    covered = _coverage(found, asked, indexed or {}, with_titles=with_titles)
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


def _coverage(
    found: list[Passage], asked: set[str], indexed: Mapping[int, int], *, with_titles: bool
) -> list[float]:
    if not asked:
        return [0.0] * len(found)
    asked_in_title: set[int] = set()
    if with_titles:
        # Every title's words at once: stemming a title at a time cost more than the rest.
        documents = {p.document.id: p.document for p in found if p.document.source.title}
        title_words = word_sets([d.source.title or "" for d in documents.values()])
        asked_in_title = {
            doc_id for doc_id, words in zip(documents, title_words, strict=True) if asked & words
        }
    known = {
        p.id: indexed[p.id] / len(asked)
        for p in found
        if indexed.get(p.id, -1) >= 0 and p.document.id not in asked_in_title
    }
    unread = [p for p in found if p.id not in known]
    read = coverage(asked, [p.text for p in unread])
    known.update(zip((p.id for p in unread), read, strict=True))
    return [known[p.id] for p in found]
