"""Golden questions over the shipped seeds, asked as a user would."""

from __future__ import annotations

import pytest

from tests.helpers import golden

# Every test here asks the real model.
pytestmark = pytest.mark.slow


def _cases() -> list:
    return [pytest.param(case, id=case["question"][:60]) for case in golden()]


@pytest.mark.parametrize("case", _cases())
def test_answer_in_top_three_with_source_and_date(seed_desk, case):
    answer = seed_desk.ask(case["question"], k=3)
    assert answer.answered, "an in-domain question was not answered"
    hits = [
        q
        for q in answer.quotes[:3]
        if any(s in case["sources"] for s in [q.source.path, *(a.path for a in q.also_in)])
        and case["contains"] in q.text
    ]
    assert hits, [(q.source.path, q.text[:80]) for q in answer.quotes]
    for quote in answer.quotes:
        expected = {
            "002_7344d3f17e8d7f1e.txt": "2023-11-28",
            "003_f5d439a893dfd6cf.txt": "2021-10-21",
            "004_6db652f8069ebf00.txt": "2023-02-17",
        }.get(quote.source.path)
        assert (quote.source.date.isoformat() if quote.source.date else None) == expected


def test_the_readme_question_quotes_the_reason_first(seed_desk):
    answer = seed_desk.ask("why did Baku skip the Washington meeting?")
    first = answer.quotes[0]
    assert first.source.path in {"000_11112fc514e6e23b.txt", "001_cf87b5f311defa2c.txt"}
    assert first.source.date is None
    assert "biased" in first.text or "one-sided" in first.text
