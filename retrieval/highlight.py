"""Finding, inside a quoted passage, the sentence that best answers the question."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from retrieval.embedder import Embedder
from retrieval.lexical import tokenize
from retrieval.sentences import sentence_spans

# Weight of the sentence's cosine similarity against its share of the question's words.
SENTENCE_DENSE_WEIGHT = 0.7
# Sentences are encoded for the first quotes only; later ones are scored on words alone, which
# keeps an answer within its latency budget (encoding every sentence of five quotes tripled it).
DENSE_QUOTES = 1
_WORD = re.compile(r"\w")


def highlight(
    embedder: Embedder, question: str, query: np.ndarray, passages: Sequence[str]
) -> list[tuple[tuple[int, int], ...]]:
    """For each passage, the span of its best-answering sentence (the whole passage when it is
    one sentence). One encoder call covers the sentences of the first ``DENSE_QUOTES``."""
    spans = [
        [s for s in sentence_spans(text) if _WORD.search(text[s[0] : s[1]])] for text in passages
    ]
    sentences = [
        text[a:b]
        for text, found in zip(passages, spans, strict=True)
        if len(found) > 1
        for a, b in found
    ]
    vectors = embedder.encode(sentences) if sentences else np.zeros((0, 1), dtype=np.float32)
    asked = set(tokenize([question])[0])
    result: list[tuple[tuple[int, int], ...]] = []
    row = 0
    for number, (text, found) in enumerate(zip(passages, spans, strict=True)):
        if len(found) <= 1:
            result.append(tuple(found))
            continue
        scores = []
        for a, b in found:
            words = set(tokenize([text[a:b]])[0])
            overlap = len(asked & words) / len(asked) if asked else 0.0
            if number < DENSE_QUOTES:
                cosine = float(vectors[row] @ query)
                row += 1
                scores.append(
                    SENTENCE_DENSE_WEIGHT * cosine + (1 - SENTENCE_DENSE_WEIGHT) * overlap
                )
            else:
                scores.append(overlap)
        result.append((found[int(np.argmax(scores))],))
    return result
