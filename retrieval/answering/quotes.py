"""Quoting: the page of ranked passages (copies merged, best sentences highlighted) that
answers a question, or the related sources when it abstains."""

from __future__ import annotations

import numpy as np

from retrieval.answer import Answer, Quote
from retrieval.answering.question import Question
from retrieval.answering.ranking import Ranking
from retrieval.answering.retrieve import Found
from retrieval.embedder import Encoder
from retrieval.rank import (
    choose,
    merge_duplicates,
    related_sources,
    sentences_to_encode,
    tied_sentences,
)
from retrieval.tuning import RetrievalConfig


def answer(
    question: Question,
    found: Found,
    ranking: Ranking,
    *,
    encoder: Encoder,
    config: RetrievalConfig,
) -> Answer:
    """The answer to ``question``: its page of quotes, or when ``ranking`` abstains, no quote
    and the closest sources. ``encoder`` encodes tied sentences (see
    :mod:`retrieval.rank.highlight`)."""
    ranked = ranking.candidates
    if not ranking.answered:
        return Answer(
            question.text,
            answered=False,
            quotes=(),
            related=related_sources(ranked, config=config),
            offset=question.offset,
            as_of=question.as_of,
            period=question.period,
            context=question.context,
        )
    groups = merge_duplicates(ranked, config=config, limit=question.wanted)[question.offset :]
    texts = [lead.passage.text for lead, _ in groups]
    ties = tied_sentences(found.asked, texts)
    tied = sentences_to_encode(texts, ties, dense_quotes=config.dense_highlight_quotes)
    vector = found.vector
    spans = choose(
        ties,
        dense_quotes=config.dense_highlight_quotes,
        encoded=encoder.encode(tied) if tied else np.zeros((0, len(vector))),
        query=vector,
    )
    quotes = tuple(
        Quote(
            text=lead.passage.text,
            source=lead.passage.document.source,
            score=lead.score,
            similarity=lead.similarity,
            passage_id=lead.passage.id,
            start=lead.passage.start,
            end=lead.passage.end,
            highlights=found_spans,
            also_in=tuple(c.passage.document.source for c in copies),
        )
        for (lead, copies), found_spans in zip(groups, spans, strict=True)
    )
    return Answer(
        question.text,
        answered=True,
        quotes=quotes,
        offset=question.offset,
        as_of=question.as_of,
        period=question.period,
        context=question.context,
    )
