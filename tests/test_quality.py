"""Answer quality over the seeds with the real model: merged copies, highlights, abstention,
dates, the golden floors."""

from __future__ import annotations

import re
from datetime import date

import pytest

from retrieval.errors import QueryError
from retrieval.evaluation import evaluate, load_cases
from tests.helpers import GOLDEN, golden

pytestmark = pytest.mark.slow

README_QUESTION = "why did Baku skip the Washington meeting?"
COPIES = {"000_11112fc514e6e23b.txt", "001_cf87b5f311defa2c.txt"}

# Floors the seed golden set holds today (`quotedesk eval tests/golden/seeds.jsonl --corpus
# seeds`). Raise them with the ranking; never lower them.
HIT1_FLOOR = 0.80
HIT3_FLOOR = 1.0


def test_syndicated_copies_are_shown_once_with_every_source(seed_desk):
    answer = seed_desk.ask(README_QUESTION)
    first = answer.quotes[0]
    assert {first.source.path, *(s.path for s in first.also_in)} == COPIES
    assert all(s.date is None for s in first.also_in)
    texts = [q.text for q in answer.quotes]
    assert len(set(texts)) == len(texts)
    # No two quotes shown tell the same passage: at most 60% of the smaller's words in common.
    words = [set(re.findall(r"\w+", t.lower())) for t in texts]
    for i, a in enumerate(words):
        for b in words[i + 1 :]:
            assert len(a & b) / min(len(a), len(b)) < 0.6


def test_best_sentence_is_highlighted_verbatim(seed_desk):
    answer = seed_desk.ask("How many ethnic Armenians fled Karabakh?")
    for quote in answer.quotes:
        assert quote.highlights
        for start, end in quote.highlights:
            assert 0 <= start < end <= len(quote.text)
    top = answer.quotes[0]
    start, end = top.highlights[0]
    assert "100,000" in top.text[start:end]
    assert top.to_dict()["highlights"] == [[start, end]]


@pytest.mark.parametrize("case", golden("off_topic"), ids=lambda c: c["question"][:40])
def test_off_topic_questions_are_not_answered(seed_desk, case):
    answer = seed_desk.ask(case["question"])
    assert not answer.answered and answer.quotes == ()
    assert len(answer.related) <= 3


def test_golden_set_floors_and_no_in_domain_abstention(seed_desk):
    report = evaluate(seed_desk, load_cases(GOLDEN))
    assert report.labeled >= 40 and report.off_topic >= 10
    assert report.abstention == 1.0
    assert report.in_domain_abstained == 0
    assert report.hit1 is not None and report.hit1 >= HIT1_FLOOR
    assert report.hit3 is not None and report.hit3 >= HIT3_FLOOR


def test_date_filters(seed_desk):
    recent = seed_desk.ask("Russia Azerbaijan relations since:2023-01-01")
    assert recent.answered
    assert all(q.source.date and q.source.date >= date(2023, 1, 1) for q in recent.quotes)
    old = seed_desk.ask("Russia Azerbaijan relations before:2022-12-31", k=10)
    assert {q.source.path for q in old.quotes} == {"003_f5d439a893dfd6cf.txt"}
    with pytest.raises(QueryError, match="YYYY-MM-DD"):
        seed_desk.ask("Baku since:yesterday")


def test_this_week_prefers_the_document_of_that_week(seed_desk):
    asked = date(2023, 11, 30)  # the week of 002 (2023-11-28), the only seed dated then
    answer = seed_desk.ask("what happened this week?", as_of=asked)
    assert answer.period is not None and answer.period.because == "this week"
    assert answer.quotes[0].source.path == "002_7344d3f17e8d7f1e.txt"
    # A week with no document changes nothing but what the answer says it understood.
    later = seed_desk.ask("what did Blinken tell Aliyev this week?", as_of=date(2025, 6, 4))
    plain = seed_desk.ask("what did Blinken tell Aliyev?", as_of=date(2025, 6, 4))
    assert [q.passage_id for q in later.quotes] == [q.passage_id for q in plain.quotes]
