"""Finding, inside a quoted passage, the sentence that best answers the question.

Two pure steps around one encoder call the engine makes: :func:`tied_sentences` picks, in each
passage, the sentences holding the largest share of the question's words; when the first
quotes' best sentences tie, :func:`sentences_to_encode` names them and :func:`choose` takes the
one closest to the question. Encoding only on a tie keeps an answer within its time budget.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from retrieval.sentences import sentence_spans
from retrieval.words import word_sets

_WORD = re.compile(r"\w")

Span = tuple[int, int]


def tied_sentences(asked: set[str], passages: Sequence[str]) -> list[list[Span]]:
    """For each passage, the spans of its sentences that hold the largest share of ``asked``
    (every sentence when none holds any), in text order.

    Example:
        >>> tied_sentences(word_sets(["who fled?"])[0], ["They stayed. Many fled."])
        [[(13, 23)]]
    """
    sentences = [
        [s for s in sentence_spans(text) if _WORD.search(text[s[0] : s[1]])] for text in passages
    ]
    # The words of every sentence of every passage at once: one stemming call, not one each.
    cut = [text[a:b] for text, found in zip(passages, sentences, strict=True) for a, b in found]
    words = iter(word_sets(cut) if asked else ())
    ties: list[list[Span]] = []
    for found in sentences:
        shares = [len(asked & next(words)) / len(asked) if asked else 0.0 for _ in found]
        top = max(shares, default=0.0)
        ties.append([span for span, share in zip(found, shares, strict=True) if share == top])
    return ties


def sentences_to_encode(
    passages: Sequence[str], ties: Sequence[Sequence[Span]], *, dense_quotes: int
) -> list[str]:
    """The tied sentences of the first ``dense_quotes`` passages, to encode in one call."""
    return [
        passages[n][a:b]
        for n in range(min(dense_quotes, len(ties)))
        if len(ties[n]) > 1
        for a, b in ties[n]
    ]


def choose(
    ties: Sequence[Sequence[Span]],
    *,
    dense_quotes: int,
    encoded: np.ndarray,
    query: np.ndarray,
) -> list[tuple[Span, ...]]:
    """Each passage's highlight: its first tied sentence, except in the first ``dense_quotes``
    passages with a tie, where the sentence whose vector (rows of ``encoded``, in the order of
    :func:`sentences_to_encode`) is closest to ``query`` wins."""
    chosen = [tuple(spans[:1]) for spans in ties]
    cosines = iter(encoded @ query if len(encoded) else ())
    for n in range(min(dense_quotes, len(ties))):
        if len(ties[n]) > 1:
            closest = int(np.argmax([next(cosines) for _ in ties[n]]))
            chosen[n] = (ties[n][closest],)
    return chosen
