"""The Home tab: what the bot knows, how to ask it, the person's recent questions with "Ask
again"; escaped, trimmed, within Slack's limits."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from slack_sdk.models.views import View

from bot.slack.blocks import ACTION_ASK_AGAIN, MAX_TEXT
from bot.slack.home import (
    EMPTY,
    MAX_COLLECTIONS,
    MAX_HOME_BLOCKS,
    MAX_RECENT,
    NO_QUESTIONS,
    ago,
    home_view,
)
from bot.slack.state import MAX_QUESTION, MAX_VALUE, AnswerState
from bot.store import BotStore
from bot.store.records import AskedQuestion
from retrieval.records import CollectionSummary, NewDocument
from retrieval.store import Store

NOW = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
NEWS = CollectionSummary(
    "news", 1204, 12, date(2022, 1, 3), date(2022, 12, 30), NOW - timedelta(minutes=5)
)


def asked(question: str, *, hours: float = 1, id: int | None = None) -> AskedQuestion:
    return AskedQuestion("D1", question, user_id="U1", id=id, asked_at=NOW - timedelta(hours=hours))


def valid(view: dict[str, Any]) -> dict[str, Any]:
    """``view`` as Slack would take it: it validates, and survives JSON."""
    View(**view).validate_json()
    assert view["type"] == "home" and 0 < len(view["blocks"]) <= MAX_HOME_BLOCKS
    return json.loads(json.dumps(view))


def mrkdwn(view: dict[str, Any]) -> list[str]:
    """Every text Slack renders as mrkdwn."""
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(view["blocks"])
    return found


def buttons(view: dict[str, Any]) -> list[dict[str, Any]]:
    return [b["accessory"] for b in view["blocks"] if "accessory" in b]


def test_the_tab_says_what_it_knows_how_to_ask_and_what_was_asked() -> None:
    view = valid(
        home_view(
            collections=[NEWS, CollectionSummary("wires", 3, 3, None, None, None)],
            recent=[asked("why did Baku skip the Washington meeting?", hours=2)],
            now=NOW,
        )
    )
    assert view["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "quotedesk", "emoji": False},
    }
    text = "\n".join(mrkdwn(view))
    assert "1,207 documents in 2 collections" in text
    assert (
        "• *news* · 1,204 documents · 2022-01-03 – 2022-12-30 (12 undated) · "
        "last ingested 5 minutes ago"
    ) in text
    assert "• *wires* · 3 documents · all undated" in text
    for how in ("@quotedesk", "thread", "Messages", "`/ask QUESTION`", "Find quotes", "`/sources`"):
        assert how in text, how
    assert "why did Baku skip the Washington meeting?\n_asked 2 hours ago_" in text


def test_markup_in_names_and_questions_cannot_ping_or_link() -> None:
    hostile = "<!channel> <@U123> <https://evil.example|click> & \u202eevil"
    view = valid(
        home_view(
            collections=[CollectionSummary(hostile, 1, 0, date(2023, 1, 1), date(2023, 1, 1), NOW)],
            recent=[asked(hostile)],
            now=NOW,
        )
    )
    texts = mrkdwn(view)
    assert not any("<" in text or ">" in text for text in texts)
    assert sum("&lt;!channel&gt;" in text for text in texts) == 2
    assert not any("\u202e" in text for text in texts)
    # The button's value is data, not rendered: it carries the question as asked.
    [button] = buttons(view)
    assert AnswerState.parse(button["value"]).question.startswith("<!channel>")


def test_many_collections_are_trimmed_with_a_count_of_the_rest() -> None:
    many = [
        CollectionSummary(f"c{n:03d}-" + "x" * 5000, 10, 1, date(2020, 1, 1), date(2024, 1, 1), NOW)
        for n in range(250)
    ]
    view = valid(home_view(collections=many, recent=[], now=NOW))
    texts = mrkdwn(view)
    joined = "\n".join(texts)
    assert "2,500 documents in 250 collections" in joined
    listed = [line for text in texts for line in text.split("\n") if line.startswith("• *c")]
    assert len(listed) == MAX_COLLECTIONS
    assert listed[0].startswith("• *c000-") and listed[-1].startswith("• *c019-")
    assert all("…" in line and "10 documents" in line for line in listed)
    assert f"… and {250 - MAX_COLLECTIONS} more collections" in joined
    assert all(len(text) <= MAX_TEXT for text in texts)


def test_an_empty_corpus_says_how_to_fill_it() -> None:
    for collections in ([], [CollectionSummary("gone", 0, 0, None, None, None)]):
        view = valid(home_view(collections=collections, recent=[], now=NOW))
        text = "\n".join(mrkdwn(view))
        assert EMPTY in text and "quotedesk ingest FOLDER" in text
        assert "documents in" not in text
        assert NO_QUESTIONS in text and not buttons(view)


def test_times_are_relative_then_dates() -> None:
    def before(**delta: float) -> str:
        return ago(NOW - timedelta(**delta), NOW)

    assert before(seconds=5) == "just now"
    assert before(seconds=-30) == "just now"  # another machine's clock ahead
    assert before(minutes=1) == "1 minute ago"
    assert before(minutes=59, seconds=59) == "59 minutes ago"
    assert before(hours=1) == "1 hour ago"
    assert before(hours=23) == "23 hours ago"
    assert before(days=1) == "1 day ago"
    assert before(days=29) == "29 days ago"
    assert before(days=30) == "on 2024-02-09"
    # SQLite's times come back without a zone: they are UTC.
    assert ago((NOW - timedelta(hours=3)).replace(tzinfo=None), NOW) == "3 hours ago"
    view = valid(
        home_view(
            collections=[
                CollectionSummary(
                    "old", 2, 0, date(2021, 5, 1), date(2021, 6, 1), datetime(2023, 1, 2, 3, 4)
                )
            ],
            recent=[],
            now=NOW,
        )
    )
    assert "last ingested on 2023-01-02" in "\n".join(mrkdwn(view))


def test_ask_again_carries_the_question_newest_first() -> None:
    long = "why " + "very " * 400 + "long?"
    recent = [asked(f"question {n}?", hours=n + 1, id=100 - n) for n in range(8)]
    recent[3] = asked(long, hours=4, id=97)
    shuffled = [*recent[::2], *recent[1::2]]
    view = valid(home_view(collections=[NEWS], recent=shuffled, k=4, now=NOW))
    found = buttons(view)
    assert len(found) == MAX_RECENT
    assert {b["action_id"] for b in found} == {ACTION_ASK_AGAIN}
    assert {b["text"]["text"] for b in found} == {"Ask again"}
    states = [AnswerState.parse(b["value"]) for b in found]
    assert [s.question for s in states] == [
        "question 0?",
        "question 1?",
        "question 2?",
        long[:MAX_QUESTION],
        "question 4?",
    ]
    assert all(s.k == 4 and s.offset == 0 and s.as_of is None for s in states)
    assert all(len(b["value"]) <= MAX_VALUE for b in found)
    assert all(len(text) <= MAX_TEXT for text in mrkdwn(view))


def test_the_tab_from_the_stores_as_the_listener_builds_it() -> None:
    store = Store("sqlite:///:memory:")
    store.put_documents(
        [
            NewDocument("news", "a.txt", "/n", "0" * 64, date(2023, 5, 1), None, None, ()),
            NewDocument("news", "b.txt", "/n", "1" * 64, None, None, None, ()),
            NewDocument("<!here>", "c.txt", "/h", "2" * 64, date(2023, 6, 2), None, None, ()),
        ]
    )
    records = BotStore(store)
    for question in ["who fled?", "why?", "who fled?"]:
        records.record_question(AskedQuestion("D1", question, user_id="U1"))
    records.record_question(AskedQuestion("D2", "someone else's?", user_id="U2"))
    view = valid(home_view(collections=store.summary(), recent=records.recent_questions("U1"), k=3))
    text = "\n".join(mrkdwn(view))
    assert "3 documents in 2 collections" in text
    assert "• *news* · 2 documents · 2023-05-01 (1 undated) · last ingested just now" in text
    assert "• *&lt;!here&gt;* · 1 document · 2023-06-02" in text
    questions = [AnswerState.parse(b["value"]).question for b in buttons(view)]
    assert questions == ["who fled?", "why?"]


def test_the_bench_builds_the_tab_cold_and_warm(tmp_path: Path) -> None:
    from bot.bench import home
    from bot.bench.report import Row
    from tests.helpers import open_desk

    desk = open_desk(tmp_path / "data")
    desk.store.put_documents(
        [NewDocument("news", f"{n}.txt", "/n", f"{n:064d}", None, None, None, ()) for n in range(5)]
    )
    rows: list[Row] = []
    times = home.bench_home(
        "home 5",
        "5",
        open_desk=lambda: open_desk(tmp_path / "data"),
        questions=["why?", "who?"],
        k=3,
        add=rows.append,
        log=lambda _: None,
        runs=2,
        warm_runs=3,
    )
    assert times.documents == 5 and times.collections == 1 and times.blocks > 5
    assert [row.section for row in rows] == ["home 5", "home 5"]
    cold, warm = rows
    assert cold.name.startswith("Home tab at 5 passages, cold")
    assert warm.name.startswith("Home tab at 5 passages, warm")
    assert cold.target == warm.target == "<= 300 ms"
    assert cold.value is not None and cold.baseline is not None and cold.met is not None
    assert warm.baseline == cold.value
