"""Finding, inside a quoted passage, the sentence that best answers the question."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from retrieval.embedder import Embedder
from retrieval.lexical import word_sets
from retrieval.sentences import sentence_spans

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

    The best sentence holds the largest share of the question's (stemmed) words; among
    sentences tied on that share, the first comes first, except in the first ``DENSE_QUOTES``
    passages, where the one closest to ``query`` wins (one encoder call for all of them).
    """
    asked = word_sets([question])[0]
    result: list[tuple[Span, ...]] = []
    tied: list[tuple[int, list[Span]]] = []  # (passage number, its tied sentences)
    for number, text in enumerate(passages):
        found = [s for s in sentence_spans(text) if _WORD.search(text[s[0] : s[1]])]
        shares = _overlaps(asked, text, found)
        top = max(shares, default=0.0)
        ties = [span for span, share in zip(found, shares, strict=True) if share == top]
        if number < DENSE_QUOTES and len(ties) > 1:
            tied.append((number, ties))
        result.append(tuple(ties[:1]))
    if tied:
        texts = [passages[number][a:b] for number, ties in tied for a, b in ties]
        cosines = iter(embedder.encode(texts) @ query)
        for number, ties in tied:
            closest = int(np.argmax([next(cosines) for _ in ties]))
            result[number] = (ties[closest],)
    return result


def _overlaps(asked: set[str], text: str, spans: list[Span]) -> list[float]:
    if not asked or not spans:
        return [0.0] * len(spans)
    words = word_sets([text[a:b] for a, b in spans])
    return [len(asked & w) / len(asked) for w in words]
