"""The one analyzer: bm25s's words, the same for the BM25 index and for ranking."""

from __future__ import annotations

import threading

import bm25s
import numpy as np
import Stemmer

from retrieval.search.lexical import LexicalIndex
from retrieval.words import ENGLISH, coverage, tokenize, word_sets

TEXTS = [
    "O’Brien’s “one-sided” remarks, 2023's U.S.-hosted talks: it's 100,000 people!",
    "After Baku withdrew from an approaching U.S.-hosted gathering due to reportedly “biased” "
    "remarks made by a US State Department official, Azerbaijan's foreign ministry said so.",
    "KAMAZ trucks: production centre in Tashkent, 1,200 vehicles a year (ETA 2025).",
    "",
    "the and of a",
    "Ünïcode ＦＵＬＬ width ﬁ ligature İstanbul straße x y 2",
    "run running runs ran RUNNER, runs again",
]


def test_the_words_are_bm25s_tokenize_with_english_stop_words_and_snowball():
    reference = bm25s.tokenize(
        TEXTS,
        stopwords="en",
        stemmer=Stemmer.Stemmer("english"),
        return_ids=False,
        show_progress=False,
    )
    assert tokenize(TEXTS) == reference
    assert word_sets(TEXTS) == [set(tokens) for tokens in reference]


def test_the_index_counts_the_analyzers_words():
    index = LexicalIndex.build(np.arange(len(TEXTS)), TEXTS)
    assert index.scores is not None
    assert set(index.scores.vocab) == set().union(*word_sets(TEXTS))
    asked = word_sets(["runners ran to Istanbul"])[0]
    held = [len(asked & words) for words in word_sets(TEXTS)]
    assert index.holding(asked, np.arange(len(TEXTS))).tolist() == held
    assert coverage(asked, TEXTS) == [n / len(asked) for n in held]


def test_surface_words_keep_stop_words_and_case_folds():
    assert ENGLISH.surface("The U.S. and I") == ["the", "and"]
    assert "the" in ENGLISH.stop_set and len(ENGLISH.stop_words) == len(ENGLISH.stop_set)


def test_each_thread_stems_with_its_own_stemmer():
    # PyStemmer's stemmers must not be called concurrently.
    seen = []

    def stem() -> None:
        ENGLISH.stem(["running"])
        seen.append(ENGLISH._local.stemmer)

    threads = [threading.Thread(target=stem) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert ENGLISH.stem(["running", "ran"]) == ["run", "ran"]
    assert len({id(s) for s in [*seen, ENGLISH._local.stemmer]}) == 3
