"""Terminal rendering against rich itself: the fast word wrap gives rich's lines, and the plain
rendering of an answer gives the text of the styled one."""

from __future__ import annotations

from datetime import date

import pytest
from rich.console import Console
from rich.text import Text

from bot.terminal import answer_lines, answer_plain, indented_lines, wrap
from retrieval.answer import Answer, Quote
from retrieval.records import Source
from retrieval.timeframe import Period
from tests.helpers import SEEDS

EDGES = [
    "",
    "one",
    "   leading spaces then words that go on and on past the width of a line",
    "two  spaces   between    words and a trailing run of them         ",
    "a paragraph\n\nand another after a blank line\nand a single line break",
    "a word longer than any line: " + "x" * 130 + " and after it",
    "quotes “curly” and dashes — and ’apostrophes’ of news text, cafés and Ελληνικά",
    "wide characters 東京 and 서울 take two cells each in a terminal 東京東京東京東京東京",
    "a combining accent: e\u0301 and a joiner: \U0001f468\u200d\U0001f469 in the middle",
    "tabs\tcount\tas several cells\tin a terminal",
]


def texts() -> list[str]:
    seeds = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    return EDGES + [paragraph for text in seeds for paragraph in text.split("\n\n")[:6]]


@pytest.mark.parametrize("width", [20, 33, 61, 97])
def test_wrap_gives_riches_lines_and_styles(width: int) -> None:
    console = Console(width=width + 3, color_system=None)
    for plain in texts():
        text = Text(plain)
        if len(plain) > 12:
            text.stylize("bold yellow", 5, len(plain) // 2)
        ours = wrap(console, text, width)
        theirs = list(text.wrap(console, width))
        assert [(t.plain, t.spans) for t in ours] == [(t.plain, t.spans) for t in theirs], plain


def test_indented_lines_keep_blank_lines_empty() -> None:
    console = Console(width=30, color_system=None)
    lines = indented_lines(console, Text("first paragraph here\n\nsecond one"))
    assert [line.plain for line in lines] == ["   first paragraph here", "", "   second one"]


def quotes(texts: list[str]) -> tuple[Quote, ...]:
    sources = [Source("a/b.txt", date(2022, 3, 1), "A title"), Source("c.md", None, None, "x")]
    return tuple(
        Quote(
            text=text,
            source=sources[n % 2],
            score=0.5,
            similarity=0.4,
            passage_id=n,
            start=0,
            end=len(text),
            highlights=((0, len(text) // 3),) if text else (),
            also_in=tuple(sources[: n % 3]),
        )
        for n, text in enumerate(texts)
    )


@pytest.mark.parametrize("width", [10, 24, 57, 100])
def test_plain_answer_is_the_text_of_the_styled_one(width: int) -> None:
    console = Console(width=width, color_system=None)
    period = Period(date(2022, 3, 1), date(2022, 3, 7), "this week")
    answers = [
        Answer("why?", answered=True, quotes=quotes(texts()), offset=2, period=period),
        Answer("what\tnow", answered=False, quotes=(), related=(Source("r.txt", None),)),
        Answer("nothing", answered=False, quotes=()),
    ]
    for answer in answers:
        assert answer_plain(console, answer) == [
            line.plain for line in answer_lines(console, answer)
        ]
