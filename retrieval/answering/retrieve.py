"""Retrieving: the passages the dense and lexical indexes find for a question, that pass its
filters, with the evidence ranking weighs."""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from retrieval.answering.question import Question
from retrieval.embedder import Encoder
from retrieval.rank import Candidate, gather
from retrieval.records import Passage
from retrieval.search import Indexes
from retrieval.search.parallel import beside
from retrieval.tuning import Mode, RetrievalConfig
from retrieval.words import word_sets

# BM25's candidates: their scores, the passages when read with them, and the seconds the
# search took.
Lexical = tuple[dict[int, float], dict[int, Passage], float]


class PassageReader(Protocol):
    """Where passages are read by id (a :class:`~retrieval.store.Store`)."""

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]: ...


@dataclass(frozen=True)
class Found:
    """What retrieval found for a question.

    Attributes:
        vector: The question's unit vector.
        asked: The question's words (:func:`retrieval.words.word_sets`).
        candidates: The passages found that pass its filters, in passage id order.
        timings: Seconds each stage took: ``encode``, ``dense``, ``lexical`` (those run).
    """

    vector: np.ndarray
    asked: set[str]
    candidates: list[Candidate]
    timings: dict[str, float] = field(default_factory=dict)


def search_depth(question: Question, config: RetrievalConfig) -> int:
    """How many candidates each index is asked for."""
    n = max(config.candidates, question.wanted * config.candidates_per_quote)
    # Filters drop candidates after the search, so search deeper when there are any.
    if question.query.filtered:
        n *= config.filtered_depth
    if question.collections is not None:
        n *= config.collection_depth
    return n


def search_words(question: Question) -> str:
    """What the lexical index searches for: the question's words, after those of the
    earlier questions it follows.

    Example:
        >>> from retrieval.answering.question import read_question
        >>> from retrieval.tuning import RetrievalConfig
        >>> search_words(read_question("who said it?", config=RetrievalConfig(),
        ...                            context=["why did Baku skip the meeting?"]))
        'why did Baku skip the meeting? who said it?'
    """
    return " ".join([*question.context, question.query.text])


def question_vector(question: Question, encoder: Encoder, config: RetrievalConfig) -> np.ndarray:
    """The question's unit vector; a follow-up's leans toward its thread's earlier questions
    (``config.context_weight``), so "who made those remarks?" looks for the remarks the thread
    asked about."""
    if not question.context:
        return encoder.encode_query(question.query.text)[0]
    own = encoder.encode_query(question.query.text)[0]
    earlier = encoder.encode_query(" ".join(question.context))[0]
    vector = own + config.context_weight * earlier
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm else own).astype(np.float32)


def retrieve(
    question: Question,
    indexes: Indexes,
    *,
    store: PassageReader,
    encoder: Encoder,
    config: RetrievalConfig,
) -> Found:
    """The candidates either index finds for ``question`` (as its mode says), read from
    ``store``, with their evidence."""
    text, mode = search_words(question), question.mode
    depth = search_depth(question, config)
    lexical = None
    if mode is Mode.HYBRID and indexes.size >= config.parallel_search_from:
        # BM25 needs no vector: it runs beside the encoder and the FAISS search (all three
        # release the GIL), and a question waits for the longest instead of their sum. The
        # thread then reads its candidates from the store while the encoder still runs.
        lexical = beside().submit(search_lexical, indexes, store, text, depth, read=True)
    started = time.perf_counter()
    vector = question_vector(question, encoder, config)
    timings = {"encode": time.perf_counter() - started}
    asked = word_sets([text])[0]
    candidates = _candidates(
        question, indexes, store, vector, asked, depth=depth, lexical=lexical, timings=timings
    )
    return Found(vector, asked, candidates, timings)


def search_lexical(
    indexes: Indexes, store: PassageReader, text: str, depth: int, *, read: bool = False
) -> Lexical:
    """BM25's candidates with their scores, (``read``) the passages, from ``store``, and the
    seconds the search took."""
    started = time.perf_counter()
    scores, found = indexes.lexical.search(text, depth)
    seconds = time.perf_counter() - started
    bm25 = {int(i): float(s) for s, i in zip(scores, found, strict=True)}
    return bm25, store.passages(bm25) if read else {}, seconds


def _candidates(
    question: Question,
    indexes: Indexes,
    store: PassageReader,
    vector: np.ndarray,
    asked: set[str],
    *,
    depth: int,
    lexical: Future[Lexical] | None,
    timings: dict[str, float],
) -> list[Candidate]:
    """Passages either index finds that pass the question's date filters (``lexical``: the
    BM25 search, when it was started on another thread); each search's seconds go to
    ``timings``."""
    if indexes.size == 0:
        return []
    query, mode = question.query, question.mode
    ids: set[int] = set()
    bm25: dict[int, float] = {}
    read: dict[int, Passage] = {}
    if mode in (Mode.DENSE, Mode.HYBRID):
        started = time.perf_counter()
        _, found = indexes.dense.search(vector[None, :], depth)
        timings["dense"] = time.perf_counter() - started
        ids.update(int(i) for i in found[0] if i >= 0)
    if lexical is not None:
        bm25, read, timings["lexical"] = lexical.result()
    elif mode in (Mode.LEXICAL, Mode.HYBRID):
        bm25, _, timings["lexical"] = search_lexical(indexes, store, search_words(question), depth)
    ids.update(bm25)
    read.update(store.passages(ids.difference(read)))
    allowed = question.collections
    # In id order, as one read gives them: ties in ranking keep their order either way.
    passages = [
        read[i]
        for i in sorted(read)
        if query.admits(read[i].document.date)
        and (allowed is None or read[i].document.source.collection in allowed)
    ]
    in_text = indexes.lexical.words_in_text(asked, passages)
    return gather(passages, vector, asked=asked, bm25=bm25, in_text=in_text)
