"""Abstention and "might be related" on hand-made records."""

from __future__ import annotations

from retrieval.config import RetrievalConfig
from retrieval.rank import Candidate, abstains, related_sources
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
