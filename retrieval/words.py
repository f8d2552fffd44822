"""What counts as a word: the one analyzer the BM25 index, ranking and highlighting all use.

A word is a match of :data:`TOKEN` (two word characters or more) in the lowercased text that
is not an English stop word, Snowball-stemmed: what ``bm25s.tokenize(stopwords="en")`` makes
with the same stemmer, so the index's scores are bm25s's own.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

# bm25s's default token pattern.
TOKEN = r"(?u)\b\w\w+\b"


class Analyzer:
    """Splits texts into words: ``pattern``'s matches in the lowercased text, less
    ``stop_words``, stemmed by the Snowball stemmer of ``language``.

    Example:
        >>> ENGLISH.tokenize(["The runners ran on"])
        [['runner', 'ran']]
    """

    def __init__(self, pattern: str, stop_words: Iterable[str], language: str):
        self.pattern = re.compile(pattern)
        # In a fixed order: the index builder numbers the stop words first.
        self.stop_words = tuple(dict.fromkeys(stop_words))
        self.stop_set = frozenset(self.stop_words)
        self.language = language
        # A stemmer per thread: PyStemmer's "must not be called concurrently", and BM25 reads
        # the question on a thread beside the one that ranks.
        self._local = threading.local()

    def surface(self, text: str) -> list[str]:
        """The lowercased words of ``text``, stop words included, unstemmed."""
        return self.pattern.findall(text.lower())

    def stem(self, words: list[str]) -> list[str]:
        """The stem of each of ``words``."""
        try:
            stemmer = self._local.stemmer
        except AttributeError:
            stemmer = self._local.stemmer = Stemmer.Stemmer(self.language)
        return stemmer.stemWords(words)  # type: ignore[no-any-return]

    def tokenize(self, texts: Sequence[str]) -> list[list[str]]:
        """Each text's words in order, stemmed, a word as often as it occurs."""
        findall, stop = self.pattern.findall, self.stop_set
        kept = [[w for w in findall(text.lower()) if w not in stop] for text in texts]
        unique = list({w: None for words in kept for w in words})
        stems = dict(zip(unique, self.stem(unique), strict=True))
        return [[stems[w] for w in words] for words in kept]

    def word_sets(self, texts: Sequence[str]) -> list[set[str]]:
        """The distinct words of each text, as :meth:`tokenize` makes them."""
        findall, stop = self.pattern.findall, self.stop_set
        kept = [[w for w in findall(text.lower()) if w not in stop] for text in texts]
        unique = sorted({w for words in kept for w in words})
        stems = dict(zip(unique, self.stem(unique), strict=True))
        return [{stems[w] for w in words} for words in kept]

    def coverage(self, asked: set[str], texts: Sequence[str]) -> list[float]:
        """For each text, the share of the ``asked`` words (from :meth:`word_sets`) it holds.

        Example:
            >>> ENGLISH.coverage(ENGLISH.word_sets(["Baku skipped talks"])[0], ["Baku talks", "x"])
            [0.6666666666666666, 0.0]
        """
        if not asked or not texts:
            return [0.0] * len(texts)
        # word_sets() of every text, but stemming each distinct word once and keeping only the
        # words whose stem was asked: this runs on every candidate of every question.
        findall = self.pattern.findall
        surfaces = [set(findall(text.lower())) for text in texts]
        unique = sorted(set().union(*surfaces) - self.stop_set)
        stems = dict(zip(unique, self.stem(unique), strict=True))
        wanted = {word for word, stem in stems.items() if stem in asked}
        return [len({stems[w] for w in words & wanted}) / len(asked) for words in surfaces]


# bm25s's English stop words, so that the words are those of bm25s.tokenize(stopwords="en").
ENGLISH = Analyzer(TOKEN, STOPWORDS_EN, "english")

tokenize = ENGLISH.tokenize
word_sets = ENGLISH.word_sets
coverage = ENGLISH.coverage
