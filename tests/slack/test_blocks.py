"""Block Kit rendering: escaping, emphasis, dates, Slack's limits."""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.slack.blocks import (
    ACTION_MORE,
    ACTION_SHARE,
    MAX_BLOCKS,
    MAX_TEXT,
    NOT_FOUND,
    answer_message,
    cited,
    escape,
    quote_mrkdwn,
    sources_message,
)
from bot.slack.listeners.replies import question_from
from bot.slack.state import MAX_QUESTION, MAX_VALUE, AnswerState
from retrieval.answer import Answer, Quote, Source, SourceInfo

DATED = Source("a/dated.txt", date(2023, 11, 28), "A title")
UNDATED = Source("undated.txt", None)


def quote(text: str, *, source: Source = DATED, highlights=(), also_in=(), pid: int = 1) -> Quote:  # type: ignore[no-untyped-def]
    return Quote(text, source, 0.8, 0.7, pid, 0, len(text), tuple(highlights), tuple(also_in))


def answer(*quotes: Quote, question: str = "why?", offset: int = 0) -> Answer:
    return Answer(question=question, answered=True, quotes=quotes, offset=offset)


def texts(message: dict) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def test_escape_neutralises_mentions_and_links() -> None:
    assert escape("<!channel> <@U1> <http://x|y> a&b") == (
        "&lt;!channel&gt; &lt;@U1&gt; &lt;http://x|y&gt; a&amp;b"
    )


def test_quote_is_a_block_quote_with_the_best_sentence_bold() -> None:
    text = "First sentence. The answer is here.\nNext line."
    start = text.index("The")
    rendered = quote_mrkdwn(quote(text, highlights=[(start, text.index("\n"))]))
    assert rendered == "> First sentence. *The answer is here.*\n> Next line."


def test_highlight_across_lines_is_bold_on_each_line() -> None:
    text = "one two\nthree four"
    assert quote_mrkdwn(quote(text, highlights=[(4, len(text))])) == "> one *two*\n> *three four*"


def test_corpus_text_is_escaped_inside_quotes() -> None:
    rendered = quote_mrkdwn(quote("Tell <!everyone> about <http://evil|this> & that"))
    assert "<" not in rendered and ">" not in rendered.replace("> ", "", 1)
    assert "&lt;!everyone&gt;" in rendered and "&amp;" in rendered


def test_dates_and_undated_in_the_context_line() -> None:
    message = answer_message(
        answer(quote("x " * 30, pid=1), quote("y " * 30, source=UNDATED, pid=2)), k=3
    )
    blocks = texts(message)
    assert "a/dated.txt · 2023-11-28" in blocks
    assert "undated.txt · undated" in blocks
    assert message["text"].startswith("Q: why?")


LINKED = Source(
    "web/strike.html",
    date(2022, 7, 6),
    "Strike <ends> & more",
    url="https://courier.example/a?b=1&c=2|x",
)


def test_a_linked_source_is_cited_by_its_title_as_a_link_with_its_date() -> None:
    blocks = texts(answer_message(answer(quote("x " * 30, source=LINKED)), k=3))
    assert (
        "📄 <https://courier.example/a?b=1&amp;c=2%7Cx|Strike &lt;ends&gt; &amp; more> · 2022-07-06"
        in blocks
    )
    listing = texts(sources_message([SourceInfo(LINKED, 3)]))
    assert "• <https://courier.example/a?b=1&amp;c=2%7Cx|Strike &lt;ends&gt; &amp; more>" in listing
    assert "· 2022-07-06 · 3 passages" in listing


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "file:///etc/passwd", "https://a.example/x y", "https://x\n", ""],
)
def test_only_plain_web_links_are_linked_else_the_file_name(url: str) -> None:
    source = Source("release.pdf", None, "A title", url=url or None)
    assert cited(source) == "📄 release.pdf · undated"


def test_also_in_is_shown() -> None:
    message = answer_message(answer(quote("z " * 30, also_in=[UNDATED])), k=3)
    assert "also in undated.txt (undated)" in texts(message)


def test_long_quote_is_trimmed_with_an_ellipsis() -> None:
    text = "word & <b> " * 2000
    rendered = quote_mrkdwn(quote(text, highlights=[(0, 5000)]))
    assert len(rendered) <= MAX_TEXT
    assert rendered.endswith("…")
    message = answer_message(answer(quote(text)), k=3)  # validated by slack_sdk
    assert all(len(b["text"]["text"]) <= MAX_TEXT for b in message["blocks"] if "text" in b)


def test_long_question_is_trimmed_everywhere() -> None:
    message = answer_message(answer(quote("x"), question="why " * 2000), k=3)
    assert len(message["text"]) <= MAX_TEXT
    assert message["blocks"][0]["text"]["text"].endswith("…")


def test_many_quotes_stay_under_fifty_blocks() -> None:
    quotes = [quote(f"quote {i}", pid=i) for i in range(60)]
    message = answer_message(answer(*quotes), k=60)
    assert len(message["blocks"]) <= MAX_BLOCKS
    assert "more not shown" in texts(message)
    assert message["blocks"][-1]["type"] == "actions"


def test_buttons_carry_the_next_page() -> None:
    quotes = [quote(f"q{i}", pid=i) for i in range(3)]
    message = answer_message(answer(*quotes, offset=3), k=3, shareable=True)
    actions = {e["action_id"]: e["value"] for e in message["blocks"][-1]["elements"]}
    assert AnswerState.parse(actions[ACTION_MORE]).offset == 6
    assert AnswerState.parse(actions[ACTION_SHARE]).offset == 3


def test_last_page_has_no_more_button() -> None:
    message = answer_message(answer(quote("only")), k=3)
    assert ACTION_MORE not in texts(message)


def test_not_answered_says_so_and_offers_related() -> None:
    message = answer_message(
        Answer(question="banana?", answered=False, quotes=(), related=(UNDATED,)), k=3
    )
    assert NOT_FOUND in texts(message)
    assert "Might be related: undated.txt · undated" in texts(message)
    assert not any(b["type"] == "actions" for b in message["blocks"])


def test_sources_listing_splits_and_caps() -> None:
    infos = [SourceInfo(Source(f"doc_{i:04}.txt" + "x" * 80, None), 3) for i in range(2000)]
    message = sources_message(infos)
    assert len(message["blocks"]) <= MAX_BLOCKS
    assert all(len(b["text"]["text"]) <= MAX_TEXT for b in message["blocks"] if b.get("text"))
    assert "more" in texts(message)


def test_sources_empty() -> None:
    assert "quotedesk ingest" in sources_message([])["text"]


def test_longest_question_fits_a_button_value() -> None:
    question = question_from('"\\' * 1000)
    assert len(question) == MAX_QUESTION
    state = AnswerState(question, offset=100, k=20, passages=tuple(range(10**6, 10**6 + 20)))
    assert len(state.value()) <= MAX_VALUE


@pytest.mark.parametrize("value", ["", "{}", "[1]", '{"q": "x", "o": -1, "k": 3}', "nope"])
def test_bad_button_values_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        AnswerState.parse(value)
