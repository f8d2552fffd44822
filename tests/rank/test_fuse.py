"""Fusion on hand-made records: no database, no model."""

from __future__ import annotations

import dataclasses
from datetime import date

from retrieval.rank import Candidate, fuse
from retrieval.tuning import Mode, RetrievalConfig
from tests.helpers import make_passage

CONFIG = RetrievalConfig()


def candidate(pid: int, similarity: float, day: date | None = None, **evidence: float) -> Candidate:
    return Candidate(make_passage(pid, day=day), similarity=similarity, **evidence)


def ids(ranked: list[Candidate]) -> list[int]:
    return [c.passage.id for c in ranked]


def test_each_mode_ranks_by_its_own_evidence():
    a = candidate(1, 0.9, bm25=1.0)
    b = candidate(2, 0.5, bm25=4.0)
    assert ids(fuse([a, b], config=CONFIG, mode=Mode.DENSE)) == [1, 2]
    assert ids(fuse([a, b], config=CONFIG, mode=Mode.LEXICAL)) == [2, 1]
    lexical = fuse([a, b], config=CONFIG, mode=Mode.LEXICAL)
    assert [c.score for c in lexical] == [1.0, 0.25]  # BM25 over the query's best


def test_hybrid_is_the_weighted_sum_of_the_evidence():
    c = candidate(1, 0.5, bm25=2.0, title_similarity=0.4, coverage=0.5)
    top = candidate(2, 0.1, bm25=4.0)
    scored = {x.passage.id: x.score for x in fuse([c, top], config=CONFIG, mode=Mode.HYBRID)}
    assert scored[1] == 0.6 * 0.5 + 0.1 * 0.4 + 0.1 * 0.5 + 0.1 * 0.5


def test_hybrid_uses_title_and_coverage_to_break_near_ties():
    plain = candidate(1, 0.6)
    titled = candidate(2, 0.6, title_similarity=0.5, coverage=0.5)
    assert ids(fuse([plain, titled], config=CONFIG)) == [2, 1]
    # Dense mode ignores them: the cosine alone ranks (ties by passage id).
    assert ids(fuse([plain, titled], config=CONFIG, mode=Mode.DENSE)) == [1, 2]


def test_weights_come_from_the_config():
    near = candidate(1, 0.6, coverage=0.0)
    covered = candidate(2, 0.5, coverage=1.0)
    assert ids(fuse([near, covered], config=CONFIG)) == [2, 1]
    dense_only = dataclasses.replace(CONFIG, coverage_weight=0.0)
    assert ids(fuse([near, covered], config=dense_only)) == [1, 2]


def test_latest_prefers_newer_among_equally_relevant():
    old = candidate(1, 0.6, date(2021, 1, 1))
    new = candidate(2, 0.6, date(2023, 1, 1))
    undated = candidate(3, 0.6)
    assert ids(fuse([old, new, undated], config=CONFIG, mode=Mode.DENSE)) == [1, 2, 3]
    recent = fuse([old, new, undated], config=CONFIG, mode=Mode.DENSE, prefer_recent=True)
    assert ids(recent) == [2, 1, 3]
    assert [c.score for c in recent] == [0.6 + CONFIG.recency_weight, 0.6, 0.6]


def test_the_recency_bonus_is_bounded_by_its_weight():
    # Just under the bonus, the newer passage overtakes; just over, it does not.
    new = candidate(2, 0.6, date(2023, 1, 1))
    weight = CONFIG.recency_weight
    behind = candidate(1, 0.6 + weight - 0.001, date(2020, 1, 1))
    ahead = candidate(1, 0.6 + weight + 0.001, date(2020, 1, 1))
    assert ids(fuse([behind, new], config=CONFIG, mode=Mode.DENSE, prefer_recent=True))[0] == 2
    assert ids(fuse([ahead, new], config=CONFIG, mode=Mode.DENSE, prefer_recent=True))[0] == 1


def test_fusion_does_not_change_its_input():
    a = candidate(1, 0.5)
    fuse([a], config=CONFIG)
    assert a.score == 0.0


def test_documents_of_the_questions_period_are_preferred_not_required():
    from retrieval.timeframe import Period

    week = Period(date(2023, 11, 27), date(2023, 12, 3), "this week")
    inside = candidate(1, 0.5, date(2023, 11, 28))
    before = candidate(2, 0.55, date(2023, 11, 20))
    undated = candidate(3, 0.52)
    far = candidate(4, 0.9, date(2021, 1, 1))
    ranked = fuse([inside, before, undated, far], config=CONFIG, mode=Mode.DENSE, period=week)
    assert ids(ranked) == [4, 1, 2, 3]  # a strong passage outside still leads; none removed
    assert [c.score for c in ranked][1] == 0.5 + CONFIG.period_weight
    off = dataclasses.replace(CONFIG, period_weight=0.0)
    assert ids(fuse([inside, before, undated], config=off, mode=Mode.DENSE, period=week)) == [
        2,
        3,
        1,
    ]
