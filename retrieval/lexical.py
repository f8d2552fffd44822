"""BM25 over passage text (bm25s, with an English Snowball stemmer): catches the names,
numbers and rare words a small sentence encoder blurs."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

# bm25s logs and shows progress bars by default; a library must stay quiet.
logging.getLogger("bm25s").setLevel(logging.ERROR)
_STEMMER = Stemmer.Stemmer("english")
# What bm25s.tokenize(stopwords="en") uses, for word_sets.
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOPWORDS = frozenset(STOPWORDS_EN)


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lowercased, stemmed word tokens without English stop words."""
    tokens = bm25s.tokenize(
        list(texts), stopwords="en", stemmer=_STEMMER, show_progress=False, return_ids=False
    )
    return tokens  # type: ignore[return-value]


def word_sets(texts: Sequence[str]) -> list[set[str]]:
    """The distinct words of each text as :func:`tokenize` makes them, several times faster:
    scoring the candidates of every question must not cost more than the search."""
    kept = [[w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS] for text in texts]
    unique = sorted({w for words in kept for w in words})
    stems = dict(zip(unique, _STEMMER.stemWords(unique), strict=True))
    return [{stems[w] for w in words} for words in kept]


def word_coverage(question: str, texts: Sequence[str]) -> list[float]:
    """For each text, the share of the question's distinct (stemmed) words it contains."""
    asked = word_sets([question])[0]
    if not asked or not texts:
        return [0.0] * len(texts)
    return [len(asked & words) / len(asked) for words in word_sets(texts)]


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
