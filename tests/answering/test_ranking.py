"""Ranking hand-made candidates: the order the mode gives, and when to abstain."""

from __future__ import annotations

from datetime import date

import numpy as np

from retrieval.answering.question import read_question
from retrieval.answering.ranking import rank
from retrieval.answering.retrieve import Found
from retrieval.rank import Candidate
from retrieval.tuning import RetrievalConfig
from retrieval.words import word_sets
from tests.helpers import make_passage

CONFIG = RetrievalConfig()
DAY = date(2023, 12, 1)


def found(question: str, candidates: list[Candidate]) -> Found:
    return Found(np.zeros(2, dtype=np.float32), word_sets([question])[0], candidates)


CANDIDATES = [
    Candidate(make_passage(1, day=date(2023, 11, 28)), 0.2, bm25=4.0),
    Candidate(make_passage(2, day=date(2020, 1, 1)), 0.4, bm25=1.0),
    Candidate(make_passage(3), 0.3, bm25=2.0),
]


def test_the_mode_orders_the_candidates():
    for mode, order in (("dense", [2, 3, 1]), ("lexical", [1, 3, 2])):
        read = read_question("Baku talks", config=CONFIG, mode=mode, as_of=DAY)
        ranking = rank(read, found("Baku talks", CANDIDATES), config=CONFIG)
        assert [c.passage.id for c in ranking.candidates] == order
        assert ranking.answered  # 0.4 reaches min_similarity
    scores = [c.score for c in ranking.candidates]
    assert scores == [1.0, 0.5, 0.25]


def test_the_period_and_recency_are_weighed():
    read = read_question("Baku talks this week", config=CONFIG, mode="dense", as_of=DAY)
    ranking = rank(read, found(read.query.text, CANDIDATES), config=CONFIG)
    # Passage 1 is dated this week and the newest: its 0.2 gains the period's and recency's.
    assert [c.passage.id for c in ranking.candidates] == [1, 2, 3]
    first = 0.2 + CONFIG.period_weight + CONFIG.recency_weight
    assert ranking.candidates[0].score == first


def test_nothing_close_enough_abstains_unless_only_a_time_is_asked():
    weak = [Candidate(make_passage(1, day=date(2023, 11, 28)), 0.1)]
    read = read_question("Baku talks", config=CONFIG, as_of=DAY)
    assert not rank(read, found("Baku talks", weak), config=CONFIG).answered
    when = read_question("what happened this week?", config=CONFIG, as_of=DAY)
    assert rank(when, found(when.query.text, weak), config=CONFIG).answered
    assert not rank(when, found(when.query.text, []), config=CONFIG).answered
