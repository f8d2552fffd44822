"""Follow-ups over the shipped seeds (``tests/golden/threads.jsonl``): the second question of
each thread leans on the first ("who made those remarks?"), and is answered with the thread's
context where alone it mostly is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.evaluation import evaluate, load_cases

# Every test here asks the real model.
pytestmark = pytest.mark.slow

THREADS = Path(__file__).resolve().parent / "golden" / "threads.jsonl"


def test_follow_ups_are_answered_with_their_thread_and_worse_alone(seed_desk) -> None:
    cases = load_cases(THREADS)
    assert len(cases) >= 15 and all(case.context for case in cases)
    report = evaluate(seed_desk, cases)
    assert report.follow_ups == len(cases)
    assert report.hit3 is not None and report.hit3 >= 0.9, report.misses
    # Measurably worse alone: at least a fifth of the threads are lost without their context.
    assert report.hit3_alone is not None and report.hit3_alone <= report.hit3 - 0.2


def test_the_readme_follow_up_names_obrien_with_its_thread(seed_desk) -> None:
    answer = seed_desk.ask(
        "who made those remarks?", k=3, context=["why did Baku skip the Washington meeting?"]
    )
    assert answer.context == ("why did Baku skip the Washington meeting?",)
    assert any("O’Brien" in quote.text for quote in answer.quotes[:3])
