"""Reading a question: arguments checked in order, text cleaned, filters and time words read."""

from __future__ import annotations

from datetime import date

import pytest

from retrieval.answering.question import Question, read_question
from retrieval.errors import (
    EmptyQuestionError,
    InvalidArgumentError,
    QueryError,
    QuestionTooLongError,
)
from retrieval.tuning import Mode, RetrievalConfig

CONFIG = RetrievalConfig()
DAY = date(2023, 12, 1)  # a Friday


def test_defaults_come_from_the_config():
    read = read_question(" why did\x00Baku go?\u202e ", config=CONFIG, as_of=DAY)
    assert read == Question(
        "why did Baku go?", read.query, CONFIG.mode, CONFIG.default_k, 0, DAY, None
    )
    assert read.query.text == "why did Baku go?" and not read.query.filtered
    assert read.wanted == CONFIG.default_k


def test_arguments_are_read():
    read = read_question("Baku", config=CONFIG, k=3, offset=6, mode="Lexical", as_of=DAY)
    assert (read.k, read.offset, read.mode, read.wanted) == (3, 6, Mode.LEXICAL, 9)
    assert read_question("Baku", config=CONFIG).as_of == date.today()


@pytest.mark.parametrize(
    ("question", "arguments", "error"),
    [
        ("?!", {"k": 0, "offset": -1}, InvalidArgumentError),  # k first
        ("?!", {"offset": True, "mode": "fuzzy"}, InvalidArgumentError),
        ("?!", {"mode": "fuzzy"}, InvalidArgumentError),  # the mode before the words
        ("x" * (CONFIG.max_question_chars + 1), {}, QuestionTooLongError),
        ("since:2023-13-01 Baku", {}, QueryError),
        ("  since:2023-01-01 ?! ", {}, EmptyQuestionError),
    ],
)
def test_what_cannot_be_asked_is_a_user_error(question, arguments, error):
    with pytest.raises(error):
        read_question(question, config=CONFIG, **arguments)


def test_filters_leave_the_words():
    read = read_question("latest on Baku since:2023-01-01", config=CONFIG, as_of=DAY)
    assert read.query.text == "latest on Baku" and read.query.since == date(2023, 1, 1)
    assert read.query.filtered and read.query.prefer_recent
    assert read.text == "latest on Baku since:2023-01-01"  # as asked, for the answer


def test_relative_time_words_become_the_period_calendar_words_stay():
    read = read_question("Baku talks this week", config=CONFIG, as_of=DAY)
    assert read.period is not None and read.period.covers(date(2023, 11, 28))
    assert read.query.text == "Baku talks"
    kept = read_question(
        "Baku talks this week", config=RetrievalConfig(strip_time_words=False), as_of=DAY
    )
    assert kept.query.text == "Baku talks this week" and kept.period == read.period
    calendar = read_question("Baku talks in November 2023", config=CONFIG, as_of=DAY)
    assert calendar.period is not None and calendar.query.text == "Baku talks in November 2023"
    # A question of time words only keeps them: it must search for something.
    alone = read_question("this week", config=CONFIG, as_of=DAY)
    assert alone.period is not None and alone.query.text == "this week"
