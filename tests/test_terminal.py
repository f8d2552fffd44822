"""Terminal rendering against rich itself: the fast word wrap gives rich's lines."""

from __future__ import annotations

import pytest
from rich.console import Console
from rich.text import Text

from bot.terminal import indented_lines, wrap
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
