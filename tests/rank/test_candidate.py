"""The evidence gathered for each passage, and the words it is counted in."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from retrieval.passages import lexical_text
from retrieval.rank import Candidate, gather
from retrieval.search.lexical import LexicalIndex
from retrieval.words import coverage, word_sets
from tests.helpers import SEEDS, make_passage, unit


def test_evidence_of_a_passage():
    query = unit([1, 1])
    passage = make_passage(1, text="Baku withdrew from talks.", vector=[1, 0], title_vector=[0, 1])
    untitled = make_passage(2, text="Unrelated text.", vector=[0, 1])
    asked = word_sets(["why did Baku withdraw from the talks?"])[0]
    first, second = gather([passage, untitled], query, asked=asked, bm25={1: 3.5})
    assert first.similarity == pytest.approx(0.7071, abs=1e-4)
    assert first.title_similarity == pytest.approx(0.7071, abs=1e-4)
    assert (first.bm25, first.coverage) == (3.5, 0.5)  # baku, from, talk: 3 of 6 words
    assert (second.bm25, second.title_similarity, second.coverage) == (0.0, 0.0, 0.0)


def test_coverage_is_the_share_of_asked_words_in_each_texts_word_set():
    texts = [p for f in sorted(SEEDS.glob("*.txt")) for p in f.read_text().split("\n\n")]
    texts += ["", "the and of", "Running RUNNERS ran İstanbul straße ﬁ", "x y 2,500 troops"]
    for question in ("why did Baku skip the Washington meeting?", "running troops", "İstanbul"):
        asked = word_sets([question])[0]
        expected = [len(asked & words) / len(asked) for words in word_sets(texts)]
        assert coverage(asked, texts) == expected


TITLES = ["Baku skips the Washington meeting", None, "Running troops", "The talks"]


def titled_seed_passages() -> list:
    texts = [p for f in sorted(SEEDS.glob("*.txt")) for p in f.read_text().split("\n\n")]
    return [
        make_passage(10 + i, text=t, document=i % 7, title=TITLES[(i % 7) % len(TITLES)])
        for i, t in enumerate(texts)
    ]


@pytest.mark.parametrize("titles_apart", [False, True])
def test_coverage_read_from_the_lexical_index_is_the_coverage_of_the_text(titles_apart):
    """The index holds title and text together. One that keeps each passage's title-only terms
    tells the text's words of every passage; one that does not leaves out the passages whose
    title holds a question word, and their texts are read."""
    passages = titled_seed_passages()
    ids = np.asarray([p.id for p in passages])
    if titles_apart:
        index = LexicalIndex.from_passages(
            (p.id, p.document.source.title, p.text) for p in passages
        )
    else:
        index = LexicalIndex.build(
            ids, [lexical_text(p.document.source.title, p.text) for p in passages]
        )
    query = unit([1.0, 0.0])
    seen = 0.0
    for question in ("why did Baku skip the Washington meeting?", "running troops", "talks"):
        asked = word_sets([question])[0]
        in_text = index.words_in_text(asked, passages)
        # Every question here shares a word with some title.
        assert (len(in_text) == len(passages)) is titles_apart
        fast = gather(passages, query, asked=asked, bm25={}, in_text=in_text)
        slow = gather(passages, query, asked=asked, bm25={})
        assert [c.coverage for c in fast] == [c.coverage for c in slow]
        seen += sum(c.coverage for c in slow)
    assert seen > 0


def test_counts_given_are_taken_and_the_rest_read():
    query = unit([1.0, 0.0])
    passages = [make_passage(1, text="Baku withdrew."), make_passage(2, text="Baku withdrew.")]
    asked = word_sets(["Baku withdrew, talks"])[0]  # baku, withdrew, talk
    # Passage 1's count is taken as given (here a wrong one, to tell it from a reading).
    first, second = gather(passages, query, asked=asked, bm25={}, in_text={1: 3})
    assert (first.coverage, second.coverage) == (1.0, 2 / 3)


def test_coverage_counts_the_questions_stemmed_words():
    asked = word_sets(["why did Baku withdraw from the talks?"])[0]
    shares = coverage(asked, ["Baku withdrew from talks.", "Baku said nothing.", "Unrelated."])
    assert shares[0] > shares[1] > shares[2] == 0.0
    assert shares[0] == 3 * shares[1]  # "withdrew" stems like "withdraw", "talks" like "talk"
    assert coverage(word_sets(["why?"])[0], ["Baku"]) == [0.0]


def test_with_score_changes_the_score_alone():
    original = Candidate(
        make_passage(4, text="Baku withdrew"),
        0.5,
        bm25=2.0,
        title_similarity=0.25,
        coverage=0.75,
        score=0.1,
    )
    assert original.with_score(0.9) == dataclasses.replace(original, score=0.9)
