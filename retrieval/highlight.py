"""Finding, inside a quoted passage, the sentence that best answers the question."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from retrieval.embedder import Embedder
from retrieval.lexical import word_sets
from retrieval.sentences import sentence_spans

# Weight of the sentence's cosine similarity against its share of the question's words.
SENTENCE_DENSE_WEIGHT = 0.7
# Sentences are encoded for the first quotes only, and only when the question's words leave a
# tie: encoding every sentence of one passage costs ~30 ms on two cores, most of the budget.
DENSE_QUOTES = 1
_WORD = re.compile(r"\w")

Span = tuple[int, int]


def highlight(
    embedder: Embedder, question: str, query: np.ndarray, passages: Sequence[str]
) -> list[tuple[Span, ...]]:
    """For each passage, the span of its best-answering sentence (the whole passage when it is
    one sentence).

    Sentences are scored by the share of the question's (stemmed) words they hold. In the first
    ``DENSE_QUOTES`` passages, sentences tied for the best share are told apart by their cosine
    similarity to ``query``, with one encoder call for all of them.
    """
    asked = word_sets([question])[0]
    spans = [
        [s for s in sentence_spans(text) if _WORD.search(text[s[0] : s[1]])] for text in passages
    ]
    overlaps = [_overlaps(asked, text, found) for text, found in zip(passages, spans, strict=True)]
    tied = [
        [i for i, share in enumerate(shares) if share == max(shares)]
        if number < DENSE_QUOTES and len(shares) > 1
        else []
        for number, shares in enumerate(overlaps)
    ]
    to_encode = [
        passages[n][spans[n][i][0] : spans[n][i][1]]
        for n, ties in enumerate(tied)
        if len(ties) > 1
        for i in ties
    ]
    vectors = iter(embedder.encode(to_encode)) if to_encode else iter(())
    result: list[tuple[Span, ...]] = []
    for found, shares, ties in zip(spans, overlaps, tied, strict=True):
        if len(found) <= 1:
            result.append(tuple(found))
            continue
        best = int(np.argmax(shares))
        if len(ties) > 1:
            scores = [
                SENTENCE_DENSE_WEIGHT * float(next(vectors) @ query)
                + (1 - SENTENCE_DENSE_WEIGHT) * shares[i]
                for i in ties
            ]
            best = ties[int(np.argmax(scores))]
        result.append((found[best],))
    return result


def _overlaps(asked: set[str], text: str, spans: list[Span]) -> list[float]:
    if not asked or not spans:
        return [0.0] * len(spans)
    words = word_sets([text[a:b] for a, b in spans])
    return [len(asked & w) / len(asked) for w in words]
