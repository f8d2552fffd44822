"""Words as BM25 sees them: lowercased, English stop words out, Snowball-stemmed. Ranking,
highlighting and the lexical index all count words this one way."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import bm25s
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


def coverage(asked: set[str], texts: Sequence[str]) -> list[float]:
    """For each text, the share of the ``asked`` words (from :func:`word_sets`) it contains.

    Example:
        >>> coverage(word_sets(["Baku skipped talks"])[0], ["Baku talks", "Moscow"])
        [0.6666666666666666, 0.0]
    """
    if not asked or not texts:
        return [0.0] * len(texts)
    # word_sets() of every text, but stemming each distinct word once and keeping only the
    # words whose stem was asked: this runs on every candidate of every question.
    surfaces = [set(_TOKEN.findall(text.lower())) for text in texts]
    unique = sorted(set().union(*surfaces) - _STOPWORDS)
    stems = dict(zip(unique, _STEMMER.stemWords(unique), strict=True))
    wanted = {word for word, stem in stems.items() if stem in asked}
    return [len({stems[w] for w in words & wanted}) / len(asked) for words in surfaces]
