"""Reading question sets and computing their figures, on the fake encoder."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from retrieval import QuoteDesk
from retrieval.answer import Quote
from retrieval.evaluation import (
    EvalCase,
    PassageRef,
    evaluate,
    highlight_holds,
    load_cases,
    passage_matches,
)
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


def quote_at(
    start: int,
    end: int,
    *,
    text: str = "Owls hunt at night.",
    path: str = "a.txt",
    collection: str | None = "news",
    also_in: tuple[Source, ...] = (),
) -> Quote:
    return Quote(
        text=text,
        source=Source(path, None, collection=collection),
        score=1.0,
        similarity=1.0,
        passage_id=1,
        start=start,
        end=end,
        also_in=also_in,
    )


def test_a_quote_is_the_passage_when_its_span_overlaps_in_the_same_document():
    ref = PassageRef("a.txt", "news", 100, 200, "Owls hunt at night.")
    assert passage_matches(ref, quote_at(150, 260, text="other words"))
    assert passage_matches(ref, quote_at(50, 101, text="other words"))
    # [start, end): touching is not overlapping.
    assert not passage_matches(ref, quote_at(200, 300, text="other words"))
    assert not passage_matches(ref, quote_at(0, 100, text="other words"))
    # Another document, or the same path in another collection, is another passage.
    assert not passage_matches(ref, quote_at(100, 200, text="x", path="b.txt"))
    assert not passage_matches(ref, quote_at(100, 200, text="x", collection="archive"))
    # A collection known on one side only does not tell them apart.
    assert passage_matches(ref, quote_at(100, 200, text="x", collection=None))
    assert passage_matches(PassageRef("a.txt", None, 100, 200), quote_at(100, 200, text="x"))


def test_failing_offsets_a_quote_is_the_passage_when_its_text_is():
    # The document was read again and the passage moved: its text still says it is the one.
    moved = PassageRef("a.txt", "news", 0, 19, "Owls hunt\n at night. ")
    assert passage_matches(moved, quote_at(500, 519))
    assert passage_matches(PassageRef("a.txt", text="Owls hunt at night."), quote_at(5, 24))
    assert not passage_matches(PassageRef("a.txt", text="Owls sleep by day."), quote_at(5, 24))
    # The same words elsewhere are not the passage voted on ...
    elsewhere = quote_at(0, 19, path="b.txt")
    assert not passage_matches(moved, elsewhere)
    # ... unless its source is one of the quote's duplicates.
    duplicate = quote_at(0, 19, path="b.txt", also_in=(Source("a.txt", None, collection="news"),))
    assert passage_matches(moved, duplicate)
    unknown = quote_at(0, 19, path="b.txt", also_in=(Source("a.txt", None),))
    assert passage_matches(moved, unknown)  # a duplicate of no known collection
    archived = quote_at(0, 19, path="b.txt", also_in=(Source("a.txt", None, collection="old"),))
    assert not passage_matches(moved, archived)


def test_feedback_lines_are_read_with_their_passage_vote_and_collections(tmp_path: Path):
    passage = {"source": "a.txt", "collection": "news", "start": 3, "end": 9, "text": "Owls"}
    cases = load_cases(
        write(
            tmp_path / "q.jsonl",
            [
                {
                    "question": "who?",
                    "thread": ["what?"],
                    "as_of": "2026-12-01",
                    "collections": ["news"],
                    "vote": "up",
                    "approved": passage,
                    "voted_at": "2026-12-02T10:00:00+00:00",
                },
                {"question": "why?", "rejected": {"source": "b.txt", "text": "Bees"}},
                {"question": "plain?", "answer": "x"},
            ],
        )
    )
    up, down, plain = cases
    assert (up.vote, up.passage, up.collections, up.context, up.as_of) == (
        "up",
        PassageRef("a.txt", "news", 3, 9, "Owls"),
        ("news",),
        ("what?",),
        date(2026, 12, 1),
    )
    assert up.feedback and not up.labeled
    assert (down.vote, down.passage, down.collections) == (
        "down",
        PassageRef("b.txt", text="Bees"),
        None,
    )
    assert not plain.feedback and plain.passage is None and plain.collections is None


@pytest.mark.parametrize(
    "row",
    [
        {
            "question": "q",
            "approved": {"source": "a.txt", "text": "x"},
            "rejected": {"source": "a.txt", "text": "x"},
        },
        {"question": "q", "vote": "down", "approved": {"source": "a.txt", "text": "x"}},
        {"question": "q", "approved": {"source": "a.txt", "start": 1}},
        {"question": "q", "approved": "a.txt"},
        {"question": "q", "approved": {"source": "a.txt", "start": "1", "end": 2}},
        {"question": "q", "answer": "x", "collections": "news"},
    ],
)
def test_a_bad_feedback_line_names_its_line(tmp_path: Path, row: dict[str, object]):
    path = write(tmp_path / "q.jsonl", [{"q": "fine?", "answer": "x"}, row])
    with pytest.raises(ValueError, match=r"q.jsonl:2: not a question line"):
        load_cases(path)


def test_feedback_cases_have_figures_of_their_own(fake_seed_desk: QuoteDesk, monkeypatch):
    question = "why did Baku skip the Washington meeting?"
    first, second = fake_seed_desk.ask(question, k=5, collections=["seeds"]).quotes[:2]

    def ref(quote: Quote) -> PassageRef:
        return PassageRef(
            quote.source.path, quote.source.collection, quote.start, quote.end, quote.text
        )

    asked: list[object] = []
    real = fake_seed_desk.ask

    def ask(question, **kw):  # type: ignore[no-untyped-def]
        asked.append(kw.get("collections"))
        return real(question, **kw)

    monkeypatch.setattr(fake_seed_desk, "ask", ask)
    nowhere = PassageRef("nowhere.txt", None, 0, 10, "nothing")
    cases = [
        EvalCase(question, passage=ref(first), vote="up", collections=("seeds",)),
        EvalCase(question, passage=nowhere, vote="up"),
        EvalCase(question, passage=ref(first), vote="down"),
        EvalCase(question, passage=ref(second), vote="down"),
        EvalCase(question, passage=nowhere, vote="down"),
        EvalCase(question, answer="Baku"),
    ]
    report = evaluate(fake_seed_desk, cases)
    assert asked == [("seeds",), None, None, None, None, None]
    assert (report.approved, report.approved_kept) == (2, 0.5)
    assert (report.rejected, report.rejected_not_first) == (3, 2 / 3)
    # Counted in no other figure: only the answer-string line is.
    assert (report.labeled, report.with_answer, report.follow_ups) == (0, 1, 0)
    assert report.to_dict()["approved_kept"] == 0.5
    assert f"rejected still first: {question}" in report.misses
    assert f"approved passage at rank -: {question}" in report.misses
