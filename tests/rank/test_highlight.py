"""Highlights on plain text and vectors: which sentence, and when a tie needs the encoder."""

from __future__ import annotations

import numpy as np

from retrieval.rank import choose, sentences_to_encode, tied_sentences
from retrieval.words import word_sets

QUESTION = word_sets(["why did Baku skip the meeting?"])[0]
DECIDED = "The weather was mild. Baku decided to skip the meeting. Talks went on."
TIED = "Baku stayed away. Baku sent nobody."


def test_the_sentence_with_most_of_the_questions_words_wins():
    (ties,) = tied_sentences(QUESTION, [DECIDED])
    assert [DECIDED[a:b] for a, b in ties] == ["Baku decided to skip the meeting."]
    assert sentences_to_encode([DECIDED], [ties], dense_quotes=1) == []


def test_only_the_first_quotes_ties_are_encoded_and_the_closest_wins():
    ties = tied_sentences(QUESTION, [TIED, TIED, DECIDED])
    assert len(ties[0]) == len(ties[1]) == 2
    wanted = sentences_to_encode([TIED, TIED, DECIDED], ties, dense_quotes=1)
    assert wanted == ["Baku stayed away.", "Baku sent nobody."]
    query = np.array([0.0, 1.0], dtype=np.float32)
    encoded = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)  # the second is closer
    chosen = choose(ties, dense_quotes=1, encoded=encoded, query=query)
    assert TIED[slice(*chosen[0][0])] == "Baku sent nobody."
    assert TIED[slice(*chosen[1][0])] == "Baku stayed away."  # not encoded: the first tie
    assert DECIDED[slice(*chosen[2][0])] == "Baku decided to skip the meeting."


def test_a_passage_without_words_has_no_highlight():
    assert choose(
        tied_sentences(QUESTION, ["…"]), dense_quotes=1, encoded=np.zeros((0, 2)), query=np.zeros(2)
    ) == [()]
