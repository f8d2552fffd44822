"""The bot over HTTP on the fake desk: signatures, malformed requests, health, exactly-once
replies, and the plumbing of mentions, DMs, commands and buttons. What answers say, with the
real model, is in ``test_answers``."""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import uuid
from datetime import date
from typing import Any

import pytest

from bot.slack.blocks import (
    ACTION_DOWN,
    ACTION_MORE,
    ACTION_SHARE,
    ACTION_UP,
    APOLOGY,
    NOT_FOUND,
    USAGE,
)
from bot.slack.config import SlackConfig
from bot.slack.server import MAX_BODY
from bot.slack.state import AnswerState
from bot.store import BotStore
from retrieval import QuoteDesk
from retrieval.errors import DataDirError
from standins.payloads import JSON, dm_event, mention_event, next_ts, signed_headers
from standins.web_api import StandIn
from standins.workspace import BOT_ID, BOT_USER_ID
from tests.slack.helpers import SECRET, WAIT, Bot, DeskDouble, channel, request, running

BAKU = "why did Baku skip the Washington meeting?"
# "📄 path · date" under each quote.
SOURCE_LINE = re.compile(r"^📄 \S+\.txt · (undated|\d{4}-\d\d-\d\d)$")


def text_of(params: dict[str, Any]) -> str:
    return json.dumps(params["blocks"], ensure_ascii=False)


def shown(node: object) -> list[str]:
    """Every text Slack renders from blocks (not the values buttons carry)."""
    if isinstance(node, list):
        return [text for item in node for text in shown(item)]
    if isinstance(node, dict):
        own = [node["text"]] if isinstance(node.get("text"), str) else []
        return own + [t for k, v in node.items() if k != "value" for t in shown(v)]
    return []


def buttons(params: dict[str, Any]) -> dict[str, str]:
    actions = [b for b in params["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e["value"] for e in actions[0]["elements"]} if actions else {}


def quote_sections(params: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each quote block and the texts of the context block under it."""
    blocks = params["blocks"]
    return [
        (block["text"]["text"], [e["text"] for e in blocks[i + 1]["elements"]])
        for i, block in enumerate(blocks)
        if block["type"] == "section" and block["text"]["text"].startswith("> ")
    ]


# --- HTTP and signatures -------------------------------------------------------------------


def test_url_verification_echoes_the_challenge(bot: Bot) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
    reply = bot.post(body)
    assert reply.status == 200
    assert "c-123" in reply.body


def test_healthz_is_200_once_loaded(bot: Bot) -> None:
    reply = request(bot.url + "/healthz")
    assert reply.status == 200
    assert reply.json() == {"ok": True, "status": "ready"}
    assert request(bot.url + "/healthz", method="HEAD").status == 200


def test_healthz_is_503_while_loading_then_200(
    fake_desk: QuoteDesk, slack: StandIn, slack_config: SlackConfig
) -> None:
    gate = threading.Event()
    desk = DeskDouble(fake_desk, warm_gate=gate)
    try:
        with running(desk, slack=slack, config=slack_config, ready=False) as loading:
            reply = request(loading.url + "/healthz")
            assert reply.status == 503
            assert reply.json() == {"ok": False, "status": "loading"}
            gate.set()
            assert loading.wsgi is not None and loading.wsgi.ready.wait(WAIT)
            reply = request(loading.url + "/healthz")
            assert (reply.status, reply.json()["status"]) == (200, "ready")
    finally:
        gate.set()  # never leave the loading thread waiting


def test_healthz_stays_503_after_a_failed_load(
    fake_desk: QuoteDesk, slack: StandIn, slack_config: SlackConfig
) -> None:
    desk = DeskDouble(fake_desk, warm_error=DataDirError("cannot read /nowhere/q.db"))
    with running(desk, slack=slack, config=slack_config, ready=False) as failed:
        assert failed.wsgi is not None and failed.wsgi.warmer is not None
        failed.wsgi.warmer.join(WAIT)
        assert not failed.wsgi.warmer.is_alive()
        reply = request(failed.url + "/healthz")
        assert reply.status == 503
        assert reply.json() == {
            "ok": False,
            "status": "failed",
            "error": "DataDirError: cannot read /nowhere/q.db",
        }
        assert not failed.wsgi.ready.is_set()


def test_bad_signature_is_401_and_not_answered(bot: Bot) -> None:
    where = channel()
    reply = bot.event(mention_event(BAKU, channel=where), secret="not-the-secret")
    assert reply.status == 401
    assert bot.posts(where) == []


def test_stale_signature_is_401_and_not_answered(bot: Bot) -> None:
    where = channel()
    six_minutes_ago = int(time.time()) - 6 * 60
    reply = bot.event(mention_event(BAKU, channel=where), timestamp=six_minutes_ago)
    assert reply.status == 401
    assert bot.posts(where) == []


def test_missing_signature_is_401(bot: Bot) -> None:
    reply = request(bot.url + "/slack/events", b"{}", {"Content-Type": JSON})
    assert reply.status == 401


@pytest.mark.parametrize(
    "body",
    ['{"type": "event_callback", "event": ', "[1, 2]", "payload=%7Bnot-json", '"just a string"'],
)
def test_malformed_bodies_are_4xx(bot: Bot, body: str) -> None:
    assert bot.post(body).status == 400
    assert bot.post(body, secret="forged").status == 401


@pytest.mark.parametrize("body", [{"type": "event_callback"}, {"hello": "world"}])
def test_signed_bodies_that_are_no_request_of_slacks_are_404(
    bot: Bot, body: dict[str, Any]
) -> None:
    # Bolt's answer to a request no listener matches (an event without an "event").
    assert bot.post(json.dumps(body)).status == 404


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/slack/events", 405),
        ("PUT", "/slack/events", 405),
        ("POST", "/healthz", 405),
        ("DELETE", "/healthz", 405),
        ("GET", "/nope", 404),
        ("GET", "/", 404),
        ("POST", "/slack/events/more", 404),
        ("GET", "/healthz/deep", 404),
    ],
)
def test_wrong_methods_are_405_and_unknown_paths_404(
    bot: Bot, method: str, path: str, status: int
) -> None:
    data = b"{}" if method in ("POST", "PUT") else None
    assert request(bot.url + path, data, method=method).status == status


def post_raw(
    bot: Bot, body: bytes, headers: dict[str, str], *, send: int | None = None
) -> tuple[int, str]:
    """POST to /slack/events with http.client, sending only the first ``send`` bytes of
    ``body`` (all by default) after a Content-Length of all of it."""
    host, port = bot.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=WAIT)
    try:
        connection.putrequest("POST", "/slack/events")
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            connection.putheader(name, value)
        connection.endheaders()
        connection.send(body[:send])
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_a_body_over_one_megabyte_is_413_before_it_is_read(bot: Bot) -> None:
    # Signed and valid JSON: only its size is wrong. The bot must refuse it on its declared
    # length: a bot that read it first would wait for the rest of it and time out here (and
    # sending it all would only meet a closed connection).
    body = json.dumps({"type": "url_verification", "challenge": "c", "pad": "x" * MAX_BODY})
    headers = signed_headers(body, secret=SECRET)
    assert post_raw(bot, body.encode(), headers, send=64 * 1024) == (413, "Payload Too Large")


def test_a_body_of_exactly_one_megabyte_is_read(bot: Bot) -> None:
    head = json.dumps({"type": "url_verification", "challenge": "c-limit", "pad": ""})
    body = head[:-2] + "x" * (MAX_BODY - len(head)) + head[-2:]
    assert len(body.encode()) == MAX_BODY
    status, text = post_raw(bot, body.encode(), signed_headers(body, secret=SECRET))
    assert (status, json.loads(text)) == (200, {"challenge": "c-limit"})


# --- exactly once ----------------------------------------------------------------------------


def event_in(kind: str, where: str, text: str = BAKU) -> dict[str, Any]:
    """A mention in channel ``where``, or a DM in conversation ``where``."""
    if kind == "mention":
        return mention_event(text, channel=where)
    return dm_event(text, channel=where)


@pytest.mark.parametrize("kind", ["mention", "dm"])
def test_retried_and_duplicated_events_are_answered_exactly_once(bot: Bot, kind: str) -> None:
    where = channel("C" if kind == "mention" else "D")
    event, event_id = event_in(kind, where), "Ev" + uuid.uuid4().hex
    assert bot.event(event, event_id=event_id).status == 200
    assert len(bot.posts(where)) == 1
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert bot.event(event, event_id=event_id, extra=retry).status == 200
    assert bot.event(event, event_id=event_id).status == 200  # a plain duplicate
    assert len(bot.posts(where)) == 1


@pytest.mark.parametrize("kind", ["mention", "dm"])
def test_a_retry_while_the_first_answer_is_under_way_is_not_answered(
    fake_desk: QuoteDesk, slack: StandIn, slack_config: SlackConfig, kind: str
) -> None:
    """Slack retries after 3 s without a reply: the retry must not start a second answer."""
    gate = threading.Event()
    desk = DeskDouble(fake_desk, ask_gate=gate)
    try:
        with running(desk, slack=slack, config=slack_config) as slow:
            where = channel("C" if kind == "mention" else "D")
            event, event_id = event_in(kind, where), "Ev" + uuid.uuid4().hex
            assert slow.event(event, event_id=event_id).status == 200
            for number in ("1", "2"):
                retry = {"X-Slack-Retry-Num": number, "X-Slack-Retry-Reason": "http_timeout"}
                assert slow.event(event, event_id=event_id, extra=retry).status == 200
            gate.set()
            assert len(slow.posts(where)) == 1
            assert desk.asked == [BAKU]
    finally:
        gate.set()


def test_ask_is_acknowledged_before_it_is_answered(
    fake_desk: QuoteDesk, slack: StandIn, slack_config: SlackConfig
) -> None:
    gate = threading.Event()
    desk = DeskDouble(fake_desk, ask_gate=gate)
    try:
        with running(desk, slack=slack, config=slack_config) as slow:
            url = slow.response_url()
            reply = slow.command("/ask", BAKU, response_url=url)
            # Acknowledged while the answer is still being looked up.
            assert (reply.status, reply.body) == (200, "")
            assert slow.slack.find(path=url[len(slow.slack.url) :]) == []
            gate.set()
            [response] = slow.responses(url)
            assert response.params["response_type"] == "ephemeral"
    finally:
        gate.set()


# --- mentions and DMs ----------------------------------------------------------------------


def test_mention_is_answered_once_in_its_thread_with_quotes_and_sources(bot: Bot) -> None:
    where = channel()
    event = mention_event(BAKU, channel=where)
    assert bot.event(event).status == 200
    [post] = bot.posts(where)
    params = post.params
    assert params["thread_ts"] == event["ts"]
    assert params["text"].startswith(f"Q: {BAKU} — 3 quotes, first from ")
    assert params["blocks"][0]["text"]["text"] == f"*Q:* {BAKU}"  # without the mention
    quotes = quote_sections(params)
    assert len(quotes) == 3
    assert all(len(context) >= 1 and SOURCE_LINE.match(context[0]) for _, context in quotes)
    assert {ACTION_MORE, ACTION_UP, ACTION_DOWN} == set(buttons(params))


def test_mention_inside_a_thread_replies_in_that_thread(bot: Bot) -> None:
    where, parent = channel(), next_ts()
    bot.event(mention_event(BAKU, channel=where, thread_ts=parent))
    assert [p.params["thread_ts"] for p in bot.posts(where)] == [parent]


def test_edited_mention_is_not_answered_again(bot: Bot) -> None:
    where = channel()
    event = {**mention_event(BAKU, channel=where), "edited": {"user": "U0ASKER", "ts": "1.0"}}
    assert bot.event(event).status == 200
    assert bot.posts(where) == []


def test_dm_is_answered_once_in_the_conversation(bot: Bot) -> None:
    where = channel("D")
    assert bot.event(dm_event(BAKU, channel=where)).status == 200
    [post] = bot.posts(where)
    assert post.params.get("thread_ts") is None
    assert post.params["blocks"][0]["text"]["text"] == f"*Q:* {BAKU}"
    assert len(quote_sections(post.params)) == 3


@pytest.mark.parametrize(
    "extra",
    [
        {"bot_id": "B0OTHER"},
        {"subtype": "bot_message", "bot_id": "B0OTHER"},
        {"user": BOT_USER_ID, "bot_id": BOT_ID},
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"subtype": "channel_join"},
    ],
)
def test_dms_that_are_not_questions_are_ignored(bot: Bot, extra: dict[str, Any]) -> None:
    where = channel("D")
    assert bot.event(dm_event(BAKU, channel=where, **extra)).status == 200
    assert bot.posts(where) == []


def test_a_persons_dm_next_to_the_ignored_ones_is_answered(bot: Bot) -> None:
    # The control for the test above: the same DM without what makes it "not a question".
    where = channel("D")
    assert bot.event(dm_event(BAKU, channel=where)).status == 200
    assert len(bot.posts(where)) == 1


def test_channel_messages_are_acknowledged_not_answered(bot: Bot) -> None:
    where = channel()
    event = {**dm_event(BAKU, channel=where), "channel_type": "channel"}
    assert bot.event(event).status == 200
    assert bot.posts(where) == []


def test_slack_markup_in_a_question_is_read_as_words(bot: Bot) -> None:
    where = channel()
    text = "<!channel> why did <http://x.example|Baku> skip <#C1|general> &amp; <@U0ALICE|alice>?"
    bot.event(mention_event(text, channel=where))
    [post] = bot.posts(where)
    assert post.params["blocks"][0]["text"]["text"] == "*Q:* why did Baku skip general &amp; alice?"


def test_typed_markup_is_echoed_and_cannot_ping_or_link(bot: Bot) -> None:
    where = channel()
    # What Slack sends when someone types "<!channel> is Baku <http://evil|click> & why?".
    typed = "&lt;!channel&gt; is Baku &lt;http://evil|click&gt; &amp; why?"
    bot.event(mention_event(typed, channel=where))
    [post] = bot.posts(where)
    posted = "\n".join([post.params["text"], *shown(post.params["blocks"])])
    assert "<!channel>" not in posted and "<http://evil" not in posted
    assert "*Q:* &lt;!channel&gt; is Baku &lt;http://evil|click&gt; &amp; why?" in posted


def test_not_found_says_so(bot: Bot) -> None:
    where = channel()
    bot.event(mention_event("Baku", channel=where))  # one word: too far from every passage
    [post] = bot.posts(where)
    assert NOT_FOUND in text_of(post.params)
    assert buttons(post.params) == {}


@pytest.mark.parametrize("text", ["", "<!here>", "<@U0ALICE>", "since:2023-01-01"])
def test_a_mention_without_words_gets_the_usage_help(bot: Bot, text: str) -> None:
    where = channel()
    bot.event(mention_event(text, channel=where))
    [post] = bot.posts(where)
    assert post.params["text"] == USAGE


# --- user errors -----------------------------------------------------------------------------

BAD_FILTER = "Baku since:yesterday"
HINT = "since: takes a date as YYYY-MM-DD, not 'yesterday'"


@pytest.mark.parametrize("kind", ["mention", "dm"])
def test_an_unreadable_filter_gets_its_hint_not_the_apology(bot: Bot, kind: str) -> None:
    where = channel("C" if kind == "mention" else "D")
    event = event_in(kind, where, BAD_FILTER)
    bot.event(event)
    [post] = bot.posts(where)
    assert post.params["text"] == HINT
    assert APOLOGY not in text_of(post.params)
    if kind == "mention":
        assert post.params["thread_ts"] == event["ts"]


def test_ask_with_an_unreadable_filter_gets_its_hint_privately(bot: Bot) -> None:
    url = bot.response_url()
    assert bot.command("/ask", BAD_FILTER, response_url=url).status == 200
    [response] = bot.responses(url)
    assert response.params["response_type"] == "ephemeral"
    assert response.params["text"] == HINT


def test_a_hint_quoting_typed_markup_cannot_ping(bot: Bot) -> None:
    where = channel()
    bot.event(mention_event("Baku since:&lt;!channel&gt;", channel=where))
    [post] = bot.posts(where)
    posted = "\n".join([post.params["text"], *shown(post.params["blocks"])])
    assert "<!channel>" not in posted
    assert "since: takes a date as YYYY-MM-DD, not '&lt;!channel&gt;'" in posted


@pytest.mark.parametrize("action", [ACTION_MORE, ACTION_SHARE])
def test_a_button_with_an_unreadable_filter_gets_the_hint_aside(bot: Bot, action: str) -> None:
    url = bot.response_url()
    value = AnswerState(BAD_FILTER, offset=3 if action == ACTION_MORE else 0).value()
    assert bot.click(action, value, response_url=url, ephemeral=True).status == 200
    [note] = bot.responses(url)
    assert note.params["text"] == HINT
    # Neither replaces the answer shown nor says anything in the channel.
    assert note.params["response_type"] == "ephemeral"
    assert note.params["replace_original"] is False


# --- slash commands ------------------------------------------------------------------------


def test_ask_answers_privately_with_a_share_button(bot: Bot) -> None:
    url = bot.response_url()
    assert bot.command("/ask", BAKU, response_url=url).status == 200
    [response] = bot.responses(url)
    assert response.params["response_type"] == "ephemeral"
    assert len(quote_sections(response.params)) == 3
    assert {ACTION_SHARE, ACTION_MORE, ACTION_UP, ACTION_DOWN} == set(buttons(response.params))


@pytest.mark.parametrize("text", ["   ", "<@U0ALICE>", "<!here> <#C1>"])
def test_ask_without_words_acks_with_the_usage_and_posts_nothing(bot: Bot, text: str) -> None:
    url = bot.response_url()
    reply = bot.command("/ask", text, response_url=url)
    assert reply.status == 200
    assert reply.json()["text"] == USAGE
    assert bot.responses(url) == []


def test_sources_lists_documents_with_dates(bot: Bot) -> None:
    url = bot.response_url()
    assert bot.command("/sources", "", response_url=url).status == 200
    [response] = bot.responses(url)
    listing = text_of(response.params)
    assert "*5 documents*" in listing
    assert "000_11112fc514e6e23b.txt · undated" in listing
    assert "003_f5d439a893dfd6cf.txt · 2021-10-21" in listing


# --- buttons -------------------------------------------------------------------------------


def private_answer(bot: Bot) -> dict[str, str]:
    url = bot.response_url()
    bot.command("/ask", BAKU, response_url=url)
    [response] = bot.responses(url)
    return buttons(response.params)


def test_share_posts_the_same_answer_in_the_channel(bot: Bot) -> None:
    values = private_answer(bot)
    url = bot.response_url()
    reply = bot.click(ACTION_SHARE, values[ACTION_SHARE], response_url=url, ephemeral=True)
    assert reply.status == 200
    shared, deleted = bot.responses(url)
    assert shared.params["response_type"] == "in_channel"
    assert deleted.params["delete_original"] is True and not deleted.params.get("blocks")
    assert "Shared by <@U0ASKER>" in text_of(shared.params)
    assert set(buttons(shared.params)) == {ACTION_MORE, ACTION_UP, ACTION_DOWN}
    assert buttons(shared.params)[ACTION_UP] == values[ACTION_UP]  # the same quotes


def test_more_quotes_replaces_the_message_with_the_next_page(bot: Bot) -> None:
    values = private_answer(bot)
    first = AnswerState.parse(values[ACTION_UP])
    url = bot.response_url()
    bot.click(ACTION_MORE, values[ACTION_MORE], response_url=url, ephemeral=True)
    [page] = bot.responses(url)
    assert page.params["replace_original"] is True
    after = buttons(page.params)
    second = AnswerState.parse(after[ACTION_UP])
    assert (second.offset, len(second.passages)) == (first.offset + first.k, first.k)
    assert not set(second.passages) & set(first.passages)
    assert ACTION_SHARE in after  # still private, still shareable


def test_feedback_is_stored(bot: Bot, fake_desk: QuoteDesk) -> None:
    values = private_answer(bot)
    where, url = channel(), bot.response_url()
    bot.click(ACTION_DOWN, values[ACTION_DOWN], response_url=url, channel=where)
    [thanks] = bot.responses(url)
    assert thanks.params["replace_original"] is False
    [row] = BotStore(fake_desk.store).feedback(channel_id=where)
    assert (row.vote, row.question, row.user_id) == ("down", BAKU, "U0ASKER")
    voted_on = AnswerState.parse(values[ACTION_DOWN]).passages
    assert [q["passage_id"] for q in row.quotes] == list(voted_on)
    assert len(row.quotes) == 3 and all(q["source"].endswith(".txt") for q in row.quotes)


def test_forged_button_value_gets_an_apology(bot: Bot) -> None:
    url = bot.response_url()
    assert bot.click(ACTION_MORE, "{not json", response_url=url).status == 200
    [apology] = bot.responses(url)
    assert apology.params["text"] == APOLOGY
    assert apology.params["replace_original"] is False  # the answer shown stays


# --- failures ------------------------------------------------------------------------------


def test_a_failing_answer_posts_an_apology_and_logs_the_trace(
    fake_desk: QuoteDesk,
    slack: StandIn,
    slack_config: SlackConfig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    desk = DeskDouble(fake_desk, ask_error=RuntimeError("the database went away"))
    with running(desk, slack=slack, config=slack_config) as broken:
        where, url = channel(), broken.response_url()
        broken.event(mention_event(BAKU, channel=where))
        broken.command("/ask", BAKU, response_url=url)
        [post] = broken.posts(where)
        [response] = broken.responses(url)
    assert post.params["text"] == APOLOGY
    assert response.params["text"] == APOLOGY
    assert "the database went away" in caplog.text
    assert "Traceback" in caplog.text


# --- the moment of asking ------------------------------------------------------------------


def test_a_mention_is_asked_as_of_its_message_and_more_quotes_keep_that_day(bot: Bot) -> None:
    where = channel()
    ts = "1701345600.000100"  # 2023-11-30
    bot.event(mention_event(BAKU.replace("?", " this week?"), channel=where, ts=ts))
    [post] = bot.posts(where)
    contexts = [
        e["text"] for b in post.params["blocks"] if b["type"] == "context" for e in b["elements"]
    ]
    assert '🗓️ Preferring documents from 2023-11-27 to 2023-12-03 ("this week")' in contexts
    values = buttons(post.params)
    assert AnswerState.parse(values[ACTION_MORE]).as_of == date(2023, 11, 30)
    url = bot.response_url()
    bot.click(ACTION_MORE, values[ACTION_MORE], response_url=url)
    [page] = bot.responses(url)
    assert AnswerState.parse(buttons(page.params)[ACTION_UP]).as_of == date(2023, 11, 30)
    assert "2023-11-27 to 2023-12-03" in json.dumps(page.params["blocks"], ensure_ascii=False)
