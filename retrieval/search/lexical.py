"""BM25 over passage text (bm25s, with an English Snowball stemmer): catches the names,
numbers and rare words a small sentence encoder blurs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import bm25s
import numpy as np

from retrieval.words import tokenize


@dataclass
class LexicalIndex:
    """BM25 scores of passages for a query; ids are passage ids.

    Example:
        >>> index = LexicalIndex.build(np.array([3, 4]), ["Baku withdrew", "Moscow agreed"])
        >>> index.search("why did Baku withdraw", 1)[1].tolist()
        [3]
    """

    bm25: bm25s.BM25 | None
    ids: np.ndarray

    @classmethod
    def build(cls, ids: np.ndarray, texts: Sequence[str]) -> LexicalIndex:
        if not len(ids):
            return cls(None, np.zeros(0, dtype=np.int64))
        bm25 = bm25s.BM25()
        bm25.index(tokenize(texts), show_progress=False)
        return cls(bm25, np.asarray(ids, dtype=np.int64))

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and passage ids of the ``k`` best passages (fewer when fewer match)."""
        if self.bm25 is None:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        vocab = self.bm25.vocab_dict
        tokens = [[t for t in tokenize([query])[0] if t in vocab]]
        if not tokens[0]:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        k = max(1, min(k, len(self.ids)))
        rows, scores = self.bm25.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        keep = scores[0] > 0
        return scores[0][keep], self.ids[rows[0][keep]]
