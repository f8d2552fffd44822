"""The bot as a member of a workspace, over HTTP on the fake desk: follow-ups in threads, help
channels, channel collections, the "Find quotes" shortcut, the Home tab, and what votes keep.
Every request is signed as Slack signs it; every call the bot makes is checked at the stand-in
(blocks through ``slack_sdk``'s models)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack.blocks import ACTION_ASK_AGAIN, ACTION_MORE, ACTION_SHARE, ACTION_UP
from bot.slack.config import SlackConfig
from bot.slack.listeners.actions import NO_WORDS
from bot.slack.state import AnswerState
from bot.store import BotStore, ChannelSetting
from retrieval import QuoteDesk
from standins.payloads import (
    FORM,
    USER_ID,
    home_action_body,
    home_opened_event,
    mention_event,
    message_event,
    shortcut_body,
)
from standins.web_api import StandIn
from standins.workspace import BOT_ID, BOT_USER_ID
from tests.helpers import SEEDS, FakeEncoder, open_desk
from tests.slack.helpers import Bot, channel, running

BAKU = "why did Baku skip the Washington meeting?"
FOLLOW_UP = "who made those remarks?"
CONTEXT_LINE = f"🧵 Read with this thread’s earlier question: “{BAKU}”"
WIRE = "A wire story: the Kyrgyz parliament approved the glacier water treaty on Tuesday."


def text_of(params: dict[str, Any]) -> str:
    return json.dumps(params["blocks"], ensure_ascii=False)


def contexts(params: dict[str, Any]) -> list[str]:
    return [
        element["text"]
        for block in params["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
    ]


def buttons(params: dict[str, Any]) -> dict[str, str]:
    actions = [b for b in params["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e["value"] for e in actions[0]["elements"]} if actions else {}


def valid_blocks(params: dict[str, Any]) -> None:
    for block in Block.parse_all(params["blocks"]):
        block.validate_json()


def ask_in_thread(bot: Bot, where: str) -> str:
    """Mention the bot with the Baku question in ``where``; the thread's ts."""
    first = mention_event(BAKU, channel=where)
    bot.event(first)
    assert len(bot.posts(where)) == 1
    return str(first["ts"])


# --- follow-ups -----------------------------------------------------------------------------


def test_a_later_message_in_an_answered_thread_is_a_follow_up(bot: Bot) -> None:
    where = channel()
    root = ask_in_thread(bot, where)
    assert bot.event(message_event(FOLLOW_UP, channel=where, thread_ts=root)).status == 200
    first, second = bot.posts(where)
    assert second.params["thread_ts"] == root
    assert second.params["blocks"][0]["text"]["text"] == f"*Q:* {FOLLOW_UP}"
    assert CONTEXT_LINE in contexts(second.params)
    assert CONTEXT_LINE not in contexts(first.params)
    valid_blocks(second.params)


def test_a_follow_up_is_read_with_every_earlier_question_of_its_thread(bot: Bot) -> None:
    where = channel()
    root = ask_in_thread(bot, where)
    bot.event(message_event(FOLLOW_UP, channel=where, thread_ts=root))
    bot.settle()
    bot.event(message_event("when did he say it?", channel=where, thread_ts=root))
    third = bot.posts(where)[2]
    assert f"“{BAKU}” · “{FOLLOW_UP}”" in contexts(third.params)[0]


def test_a_mention_in_an_answered_thread_is_read_with_it_and_answered_once(bot: Bot) -> None:
    """Slack sends both an app_mention and a message event for it: one answer."""
    where = channel()
    root = ask_in_thread(bot, where)
    mention = mention_event(FOLLOW_UP, channel=where, thread_ts=root)
    as_message = {**mention, "type": "message", "channel_type": "channel"}
    bot.event(as_message)
    bot.event(mention)
    assert len(bot.posts(where)) == 2
    assert CONTEXT_LINE in contexts(bot.posts(where)[1].params)


def test_a_mention_in_a_thread_the_bot_never_answered_is_read_alone(bot: Bot) -> None:
    where, parent = channel(), f"{int(datetime.now(UTC).timestamp())}.000001"
    bot.event(mention_event(FOLLOW_UP, channel=where, thread_ts=parent))
    [post] = bot.posts(where)
    assert not any(c.startswith("🧵") for c in contexts(post.params))


@pytest.mark.parametrize(
    "extra",
    [
        {"bot_id": "B0OTHER"},
        {"subtype": "bot_message", "bot_id": "B0OTHER"},
        {"user": BOT_USER_ID, "bot_id": BOT_ID},
        {"subtype": "message_changed"},
        {"edited": {"user": USER_ID, "ts": "1.0"}},
        {"text": "<@U0SOMEONE> what do you make of it?"},
    ],
    ids=["bot", "bot_message", "itself", "edit", "edited", "for someone else"],
)
def test_later_messages_not_for_the_bot_are_not_answered(bot: Bot, extra: dict[str, Any]) -> None:
    where = channel()
    root = ask_in_thread(bot, where)
    bot.event({**message_event(FOLLOW_UP, channel=where, thread_ts=root), **extra})
    assert len(bot.posts(where)) == 1


def test_threads_the_bot_never_answered_are_left_alone(bot: Bot) -> None:
    where = channel()
    bot.event(message_event(BAKU, channel=where))  # top level, not a help channel
    bot.event(message_event(FOLLOW_UP, channel=where, thread_ts="1701302400.000100"))
    assert bot.posts(where) == []


def test_chatter_in_an_answered_thread_gets_no_not_found(bot: Bot) -> None:
    """Unasked, the bot answers when the archive has something, and is silent otherwise."""
    where = channel()
    root = ask_in_thread(bot, where)
    bot.event(message_event("qqqq zzzz xxyy", channel=where, thread_ts=root))
    assert len(bot.posts(where)) == 1


def test_a_follow_up_in_a_dm_thread_on_the_answer_is_read_with_it(bot: Bot) -> None:
    where = channel("D")
    bot.event(message_event(BAKU, channel=where))
    [answer] = bot.posts(where)
    assert answer.reply is not None
    answer_ts = answer.reply["ts"]
    bot.event(message_event(FOLLOW_UP, channel=where, thread_ts=answer_ts))
    second = bot.posts(where)[1]
    assert second.params["thread_ts"] == answer_ts
    assert CONTEXT_LINE in contexts(second.params)


def test_a_retried_follow_up_is_answered_once(bot: Bot) -> None:
    where = channel()
    root = ask_in_thread(bot, where)
    event, event_id = (
        message_event(FOLLOW_UP, channel=where, thread_ts=root),
        "Ev" + uuid.uuid4().hex,
    )
    bot.event(event, event_id=event_id)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    bot.event(event, event_id=event_id, extra=retry)
    bot.event(event)  # the same message under another event id
    assert len(bot.posts(where)) == 2


def test_more_quotes_on_a_follow_up_reads_it_with_the_thread_again(bot: Bot) -> None:
    where = channel()
    root = ask_in_thread(bot, where)
    bot.event(message_event(FOLLOW_UP, channel=where, thread_ts=root))
    more = buttons(bot.posts(where)[1].params)[ACTION_MORE]
    url = bot.response_url()
    bot.click(ACTION_MORE, more, response_url=url, channel=where)
    [page] = bot.responses(url)
    assert CONTEXT_LINE in contexts(page.params)


def test_a_button_naming_another_channels_question_shows_none_of_it(bot: Bot) -> None:
    where, elsewhere = channel(), channel()
    root = ask_in_thread(bot, where)
    bot.event(message_event(FOLLOW_UP, channel=where, thread_ts=root))
    more = buttons(bot.posts(where)[1].params)[ACTION_MORE]
    url = bot.response_url()
    bot.click(ACTION_MORE, more, response_url=url, channel=elsewhere)
    [page] = bot.responses(url)
    assert BAKU not in text_of(page.params)


# --- help channels and channel collections ----------------------------------------------------


@pytest.fixture(scope="module")
def two_collections(tmp_path_factory: pytest.TempPathFactory) -> QuoteDesk:
    """The seeds (collection ``seeds``) and a wire folder (collection ``wire``)."""
    root = tmp_path_factory.mktemp("two")
    wire = root / "wire"
    wire.mkdir()
    (wire / "glacier.txt").write_text(
        f"{WIRE}\n\nBaku and Washington: the meeting was skipped, the wire says, over remarks."
        "\n\nThe glacier water treaty splits the Naryn's summer flow between three states.\n",
        encoding="utf-8",
    )
    desk = open_desk(root / "data", FakeEncoder())
    desk.ingest(SEEDS)
    desk.ingest(wire)
    assert {c.name for c in desk.store.collections()} == {"seeds", "wire"}
    return desk


@pytest.fixture(scope="module")
def scoped(two_collections: QuoteDesk, slack: StandIn, slack_config: SlackConfig) -> Iterator[Bot]:
    with running(two_collections, slack=slack, config=slack_config) as served:
        yield served


def mapped(desk: QuoteDesk, *collections: str, help_channel: bool = False) -> str:
    where = channel()
    BotStore(desk.store).set_channel(ChannelSetting(where, collections, help_channel))
    return where


def quoted_sources(params: dict[str, Any]) -> set[str]:
    return {c.removeprefix("📄 ").split(" · ")[0] for c in contexts(params) if c.startswith("📄")}


@pytest.mark.parametrize("question", [BAKU, "glacier water treaty", "who approved the treaty?"])
def test_a_mapped_channel_never_quotes_another_collection(
    scoped: Bot, two_collections: QuoteDesk, question: str
) -> None:
    seeds_only, wire_only = mapped(two_collections, "seeds"), mapped(two_collections, "wire")
    for where in (seeds_only, wire_only):
        scoped.event(mention_event(question, channel=where))
        root = scoped.posts(where)[0]
        scoped.event(message_event("and then?", channel=where, thread_ts=root.params["thread_ts"]))
        url = scoped.response_url()
        scoped.command("/ask", question, response_url=url, channel=where)
        scoped.post(shortcut_body(question, response_url=url, channel=where), content_type=FORM)
        messages = [p.params for p in scoped.posts(where)] + [
            r.params for r in scoped.responses(url)
        ]
        for params in messages:
            if more := buttons(params).get(ACTION_MORE):
                page = scoped.response_url()
                scoped.click(ACTION_MORE, more, response_url=page, channel=where)
                messages += [r.params for r in scoped.responses(page)]
        sources = set().union(*(quoted_sources(m) for m in messages))
        if where == seeds_only:
            assert "glacier.txt" not in sources and WIRE not in str(messages)
        else:
            assert sources == {"glacier.txt"}


def test_an_unmapped_channel_and_a_dm_answer_from_every_collection(scoped: Bot) -> None:
    for where in (channel(), channel("D")):
        event = (
            mention_event("glacier water treaty Baku meeting", channel=where)
            if where.startswith("C")
            else message_event("glacier water treaty Baku meeting", channel=where)
        )
        scoped.event(event)
        [post] = scoped.posts(where)
        sources = quoted_sources(post.params)
        assert "glacier.txt" in sources and len(sources) > 1


def test_sources_in_a_mapped_channel_lists_only_its_collections(
    scoped: Bot, two_collections: QuoteDesk
) -> None:
    url = scoped.response_url()
    scoped.command("/sources", "", response_url=url, channel=mapped(two_collections, "wire"))
    [listing] = scoped.responses(url)
    assert "glacier.txt" in text_of(listing.params)
    assert ".txt" not in text_of(listing.params).replace("glacier.txt", "")


def test_a_help_channel_answers_top_level_questions_in_their_thread(
    scoped: Bot, two_collections: QuoteDesk
) -> None:
    where = mapped(two_collections, "seeds", help_channel=True)
    question = message_event(BAKU, channel=where)
    scoped.event(question)
    scoped.event(message_event("morning all, coffee is in the kitchen", channel=where))
    scoped.event(message_event("qqqq zzzz xxyy?", channel=where))  # a question nothing answers
    [post] = scoped.posts(where)
    assert post.params["thread_ts"] == question["ts"]
    assert post.params["blocks"][0]["text"]["text"] == f"*Q:* {BAKU}"


def test_a_channel_not_set_to_answer_questions_waits_for_a_mention(
    scoped: Bot, two_collections: QuoteDesk
) -> None:
    where = mapped(two_collections, "seeds")
    scoped.event(message_event(BAKU, channel=where))
    assert scoped.posts(where) == []


# --- the shortcut ---------------------------------------------------------------------------


def test_find_quotes_answers_privately_with_share(bot: Bot) -> None:
    claim = "Azerbaijan walked out of the Washington talks over biased remarks"
    url = bot.response_url()
    reply = bot.post(shortcut_body(claim, response_url=url), content_type=FORM)
    assert reply.status == 200
    [answer] = bot.responses(url)
    assert answer.params["response_type"] == "ephemeral"
    assert answer.params["blocks"][0]["text"]["text"] == f"*Q:* {claim}"
    assert ACTION_SHARE in buttons(answer.params)
    valid_blocks(answer.params)


def test_find_quotes_on_a_message_without_words_says_so(bot: Bot) -> None:
    url = bot.response_url()
    bot.post(shortcut_body("", response_url=url), content_type=FORM)
    [note] = bot.responses(url)
    assert note.params["text"] == NO_WORDS


def test_find_quotes_on_a_long_message_reads_its_start_and_says_so(bot: Bot) -> None:
    url = bot.response_url()
    bot.post(shortcut_body("Baku skipped the meeting. " * 60, response_url=url), content_type=FORM)
    [answer] = bot.responses(url)
    assert "Only the first 450 characters" in text_of(answer.params)


# --- the Home tab ---------------------------------------------------------------------------


def home_views(bot: Bot, user: str) -> list[dict[str, Any]]:
    bot.settle()
    return [
        json.loads(c.params["view"]) if isinstance(c.params["view"], str) else c.params["view"]
        for c in bot.slack.find("views.publish")
        if c.params.get("user_id") == user
    ]


def test_the_home_tab_shows_what_the_bot_knows_and_recent_questions(bot: Bot) -> None:
    user = "U" + uuid.uuid4().hex[:10].upper()
    bot.post(shortcut_body(BAKU, response_url=bot.response_url(), user=user), content_type=FORM)
    bot.settle()
    assert bot.event(home_opened_event(user=user)).status == 200
    [view] = home_views(bot, user)
    View(**view).validate_json()
    shown = json.dumps(view, ensure_ascii=False)
    assert "5 documents" in shown and BAKU in shown
    again = [
        e
        for block in view["blocks"]
        for e in [block.get("accessory") or {}]
        if e.get("action_id") == ACTION_ASK_AGAIN
    ]
    assert AnswerState.parse(again[0]["value"]).question == BAKU


def test_the_messages_tab_publishes_nothing(bot: Bot) -> None:
    user = "U" + uuid.uuid4().hex[:10].upper()
    bot.event(home_opened_event(user=user, tab="messages"))
    assert home_views(bot, user) == []


def test_ask_again_answers_in_the_persons_dm_and_refreshes_home(bot: Bot) -> None:
    user = "U" + uuid.uuid4().hex[:10].upper()
    value = AnswerState(BAKU, k=3).value()
    assert (
        bot.post(home_action_body(ACTION_ASK_AGAIN, value, user=user), content_type=FORM).status
        == 200
    )
    [post] = bot.posts(user)
    assert post.params["blocks"][0]["text"]["text"] == f"*Q:* {BAKU}"
    assert home_views(bot, user)


# --- feedback -------------------------------------------------------------------------------


def test_a_vote_on_a_follow_up_keeps_what_it_takes_to_ask_it_again(
    scoped: Bot, two_collections: QuoteDesk
) -> None:
    where = mapped(two_collections, "seeds")
    first = mention_event(BAKU, channel=where)
    scoped.event(first)
    scoped.settle()  # a person follows up once the answer is there
    scoped.event(message_event(FOLLOW_UP, channel=where, thread_ts=first["ts"]))
    up = buttons(scoped.posts(where)[1].params)[ACTION_UP]
    scoped.click(ACTION_UP, up, response_url=scoped.response_url(), channel=where)
    scoped.settle()
    [vote] = BotStore(two_collections.store).feedback(channel_id=where)
    assert (vote.vote, vote.question, vote.context) == ("up", FOLLOW_UP, (BAKU,))
    assert vote.collections == ("seeds",) and vote.as_of is not None
    quote = vote.quotes[0]
    text = two_collections.stored_text(quote["source"], collection="seeds").text
    assert text is not None and text[quote["start"] : quote["end"]] == quote["text"]
