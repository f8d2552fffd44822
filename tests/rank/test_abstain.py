"""Abstention and "might be related" on hand-made records."""

from __future__ import annotations

from retrieval.rank import Candidate, abstains, related_sources
from retrieval.tuning import RetrievalConfig
from tests.helpers import make_passage

CONFIG = RetrievalConfig()


def test_abstains_below_the_threshold_only():
    weak = [Candidate(make_passage(1), CONFIG.min_similarity - 0.01)]
    strong = [*weak, Candidate(make_passage(2), CONFIG.min_similarity)]
    assert abstains(weak, config=CONFIG)
    assert not abstains(strong, config=CONFIG)
    assert abstains([], config=CONFIG)


def test_related_sources_are_distinct_and_limited():
    ranked = [Candidate(make_passage(p, document=p // 2), 0.1) for p in range(10)]
    related = related_sources(ranked, config=CONFIG)
    assert [s.path for s in related] == ["0.txt", "1.txt", "2.txt"]
    assert len(related_sources(ranked, config=RetrievalConfig(related=5))) == 5


def test_a_question_only_about_a_time_is_answered_by_the_documents_of_that_time():
    from datetime import date

    from retrieval.rank import asks_only_for_time
    from retrieval.timeframe import Period
    from retrieval.words import word_sets

    week = Period(date(2023, 11, 27), date(2023, 12, 3), "this week")
    weak = [Candidate(make_passage(1, day=date(2023, 11, 28)), 0.1)]
    elsewhere = [Candidate(make_passage(2, day=date(2021, 1, 1)), 0.1)]
    only = asks_only_for_time(word_sets(["what happened?"])[0], week)
    assert only and not abstains(weak, config=CONFIG, only_for=week)
    assert abstains(elsewhere, config=CONFIG, only_for=week)
    # A question about something in particular still needs a close passage.
    assert not asks_only_for_time(word_sets(["what did the Peruvian minister say?"])[0], week)
    assert not asks_only_for_time(word_sets(["what happened?"])[0], None)
    assert abstains(weak, config=CONFIG)
