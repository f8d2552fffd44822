"""Reading question sets and computing their figures, on the fake encoder."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from retrieval import QuoteDesk
from retrieval.answer import Quote
from retrieval.evaluation import EvalCase, evaluate, highlight_holds, load_cases
from retrieval.records import Source


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def test_question_dates_come_from_as_of_or_the_qid(tmp_path: Path):
    cases = load_cases(
        write(
            tmp_path / "q.jsonl",
            [
                {"qid": "20220701_3", "q": "Where did the launch occur?", "answer": "Australia"},
                {"qid": "20220701_4", "as_of": "2022-07-05", "q": "Who?", "answer": "X"},
                {"qid": "x_1", "q": "Who?", "answer": "X"},
                {"question": "why?", "off_topic": True},
            ],
        )
    )
    assert [c.as_of for c in cases] == [date(2022, 7, 1), date(2022, 7, 5), None, None]


def test_a_bad_as_of_names_its_line(tmp_path: Path):
    path = write(tmp_path / "q.jsonl", [{"q": "Who?", "answer": "X", "as_of": "July"}])
    with pytest.raises(ValueError, match=r"q.jsonl:1"):
        load_cases(path)


def test_highlight_holds_when_the_emphasized_sentence_has_the_answer():
    quote = Quote(
        text="The weather was mild. The launch was in Australia.",
        source=Source("a.txt", None),
        score=1.0,
        similarity=1.0,
        passage_id=1,
        start=0,
        end=50,
        highlights=((22, 50),),
    )
    assert highlight_holds(EvalCase("Where?", answer="australia"), quote)
    assert not highlight_holds(EvalCase("Weather?", answer="mild"), quote)
    labeled = EvalCase("Where?", sources=("a.txt",), contains="in Australia")
    assert highlight_holds(labeled, quote)


def test_each_question_is_asked_as_of_its_own_date(fake_seed_desk: QuoteDesk, monkeypatch):
    asked: list[date | None] = []
    real = fake_seed_desk.ask

    def ask(question, **kw):  # type: ignore[no-untyped-def]
        asked.append(kw.get("as_of"))
        return real(question, **kw)

    monkeypatch.setattr(fake_seed_desk, "ask", ask)
    cases = [
        EvalCase("what did Blinken say this week?", answer="Blinken", as_of=date(2023, 11, 30)),
        EvalCase("what did Blinken say?", answer="Blinken"),
    ]
    report = evaluate(fake_seed_desk, cases, as_of=date(2024, 1, 1))
    assert asked == [date(2023, 11, 30), date(2024, 1, 1)]
    assert report.answer1 == 1.0 and report.highlight1 is not None
    evaluate(fake_seed_desk, cases, as_of=date(2024, 1, 1), question_dates=False)
    assert asked[2:] == [date(2024, 1, 1), date(2024, 1, 1)]
