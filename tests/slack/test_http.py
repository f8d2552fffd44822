"""End to end over HTTP: signed requests to the WSGI app, replies recorded by the stand-in."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.slack.blocks import ACTION_DOWN, ACTION_MORE, ACTION_SHARE, ACTION_UP, APOLOGY, NOT_FOUND
from bot.slack.config import SlackConfig
from bot.slack.models import FeedbackRow
from bot.slack.payloads import JSON, dm_event, mention_event, next_ts
from bot.slack.server import create_wsgi_app
from bot.slack.standin import BOT_ID, BOT_USER_ID, StandIn
from bot.slack.state import AnswerState
from tests.slack.conftest import Bot, request, serving

BAKU = "why did Baku skip the Washington meeting?"
# Long enough for a listener that would (wrongly) answer to have posted.
QUIET = 1.5


def channel() -> str:
    """A channel of its own for each test, so replies are told apart."""
    return "C" + uuid.uuid4().hex[:10].upper()


def text_of(call_params: dict) -> str:
    return json.dumps(call_params["blocks"], ensure_ascii=False)


def shown(node: object) -> list[str]:
    """Every text Slack renders from blocks (not the values buttons carry)."""
    if isinstance(node, list):
        return [text for item in node for text in shown(item)]
    if isinstance(node, dict):
        own = [node["text"]] if isinstance(node.get("text"), str) else []
        return own + [t for k, v in node.items() if k != "value" for t in shown(v)]
    return []


def buttons(params: dict) -> dict[str, str]:
    actions = [b for b in params["blocks"] if b["type"] == "actions"]
    return {e["action_id"]: e["value"] for e in actions[0]["elements"]} if actions else {}


# --- HTTP and signatures -------------------------------------------------------------------


def test_url_verification_echoes_the_challenge(bot: Bot) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-123", "token": "t"})
    reply = bot.post(body)
    assert reply.status == 200
    assert "c-123" in reply.body


def test_healthz_is_200_once_loaded(bot: Bot) -> None:
    reply = request(bot.url + "/healthz")
    assert reply.status == 200
    assert reply.json()["status"] == "ready"


def test_bad_signature_is_401_and_not_answered(bot: Bot) -> None:
    where = channel()
    reply = bot.event(mention_event(BAKU, channel=where), secret="not-the-secret")
    assert reply.status == 401
    time.sleep(QUIET)
    assert bot.slack.find("chat.postMessage", channel=where) == []


def test_stale_signature_is_401(bot: Bot) -> None:
    where = channel()
    six_minutes_ago = int(time.time()) - 6 * 60
    reply = bot.event(mention_event(BAKU, channel=where), timestamp=six_minutes_ago)
    assert reply.status == 401
    assert bot.slack.find("chat.postMessage", channel=where) == []


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


def test_missing_fields_are_4xx(bot: Bot) -> None:
    assert 400 <= bot.post(json.dumps({"type": "event_callback"})).status < 500
    assert 400 <= bot.post(json.dumps({"hello": "world"})).status < 500


def test_unknown_paths_and_methods(bot: Bot) -> None:
    assert request(bot.url + "/nope").status == 404
    assert request(bot.url + "/slack/events").status == 405


# --- mentions and DMs ----------------------------------------------------------------------


def test_mention_is_answered_once_in_its_thread_with_source_and_date(bot: Bot) -> None:
    where = channel()
    event = mention_event(BAKU, channel=where)
    assert bot.event(event).status == 200
    posts = bot.slack.wait_for("chat.postMessage", channel=where)
    assert len(posts) == 1
    params = posts[0].params
    assert params["thread_ts"] == event["ts"]
    assert params["text"]  # the fallback
    blocks = text_of(params)
    assert "000_11112fc514e6e23b.txt" in blocks or "001_cf87b5f311defa2c.txt" in blocks
    assert "undated" in blocks  # both are undated: said so, not guessed
    assert f"<@{BOT_USER_ID}>" not in blocks  # the question is without the mention
    assert any(
        b["type"] == "section" and b["text"]["text"].startswith("> ") for b in params["blocks"]
    )
    time.sleep(QUIET)
    assert len(bot.slack.find("chat.postMessage", channel=where)) == 1


def test_mention_inside_a_thread_replies_in_that_thread(bot: Bot) -> None:
    where, parent = channel(), next_ts()
    bot.event(mention_event(BAKU, channel=where, thread_ts=parent))
    posts = bot.slack.wait_for("chat.postMessage", channel=where)
    assert [p.params["thread_ts"] for p in posts] == [parent]


def test_retried_and_duplicated_events_get_no_second_post(bot: Bot) -> None:
    where = channel()
    event = mention_event(BAKU, channel=where)
    event_id = "Ev" + uuid.uuid4().hex
    assert bot.event(event, event_id=event_id).status == 200
    assert len(bot.slack.wait_for("chat.postMessage", channel=where)) == 1
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert bot.event(event, event_id=event_id, extra=retry).status == 200
    assert bot.event(event, event_id=event_id).status == 200  # a plain duplicate
    time.sleep(QUIET)
    assert len(bot.slack.find("chat.postMessage", channel=where)) == 1


def test_dm_is_answered_in_the_conversation(bot: Bot) -> None:
    where = "D" + uuid.uuid4().hex[:10].upper()
    bot.event(dm_event(BAKU, channel=where))
    posts = bot.slack.wait_for("chat.postMessage", channel=where)
    assert len(posts) == 1
    assert "thread_ts" not in posts[0].params or posts[0].params["thread_ts"] is None
    assert "undated" in text_of(posts[0].params)


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
def test_dms_that_are_not_questions_are_ignored(bot: Bot, extra: dict) -> None:
    where = "D" + uuid.uuid4().hex[:10].upper()
    assert bot.event(dm_event(BAKU, channel=where, **extra)).status == 200
    time.sleep(0.5)
    assert bot.slack.find("chat.postMessage", channel=where) == []


def test_channel_messages_are_acknowledged_not_answered(bot: Bot) -> None:
    where = channel()
    event = {**dm_event(BAKU, channel=where), "channel_type": "channel"}
    assert bot.event(event).status == 200
    time.sleep(0.5)
    assert bot.slack.find("chat.postMessage", channel=where) == []


def test_question_text_cannot_ping_or_forge_links(bot: Bot) -> None:
    where = channel()
    # What Slack sends when someone types "<!channel> is Baku <http://evil|click> & why?".
    typed = "&lt;!channel&gt; is Baku &lt;http://evil|click&gt; &amp; why?"
    bot.event(mention_event(typed, channel=where))
    params = bot.slack.wait_for("chat.postMessage", channel=where)[0].params
    posted = "\n".join([params["text"], *shown(params["blocks"])])  # button values aren't shown
    assert "<!channel>" not in posted and "<http://evil" not in posted
    assert "&lt;!channel&gt;" in posted and "&lt;http://evil|click&gt;" in posted
    assert "&amp;" in posted


def test_off_topic_question_says_nothing_was_found(bot: Bot) -> None:
    where = channel()
    bot.event(mention_event("what is the best recipe for banana bread?", channel=where))
    params = bot.slack.wait_for("chat.postMessage", channel=where)[0].params
    assert NOT_FOUND in text_of(params)
    assert params["text"]


def test_empty_mention_gets_usage_help(bot: Bot) -> None:
    where = channel()
    bot.event(mention_event("", channel=where))
    params = bot.slack.wait_for("chat.postMessage", channel=where)[0].params
    assert "/ask" in params["text"]


# --- slash commands ------------------------------------------------------------------------


def test_ask_acks_fast_and_answers_privately_with_a_share_button(bot: Bot) -> None:
    url = bot.response_url()
    started = time.monotonic()
    reply = bot.command("/ask", BAKU, response_url=url)
    assert reply.status == 200
    assert time.monotonic() - started < 3
    [response] = bot.responses(url)
    assert response.params["response_type"] == "ephemeral"
    assert "undated" in text_of(response.params)
    assert {ACTION_SHARE, ACTION_MORE, ACTION_UP, ACTION_DOWN} <= set(buttons(response.params))


def test_ask_without_text_replies_with_usage(bot: Bot) -> None:
    url = bot.response_url()
    reply = bot.command("/ask", "   ", response_url=url)
    assert reply.status == 200
    assert "/ask" in reply.json()["text"]
    time.sleep(0.5)
    assert bot.responses(url, timeout=0) == []


def test_sources_lists_documents_with_dates(bot: Bot) -> None:
    url = bot.response_url()
    assert bot.command("/sources", "", response_url=url).status == 200
    [response] = bot.responses(url)
    listing = text_of(response.params)
    assert "000_11112fc514e6e23b.txt · undated" in listing
    assert "003_f5d439a893dfd6cf.txt · 2021-10-21" in listing


# --- buttons -------------------------------------------------------------------------------


def private_answer(bot: Bot) -> dict[str, str]:
    url = bot.response_url()
    bot.command("/ask", BAKU, response_url=url)
    return buttons(bot.responses(url)[0].params)


def test_share_posts_the_same_answer_in_the_channel(bot: Bot) -> None:
    values = private_answer(bot)
    url = bot.response_url()
    assert (
        bot.click(ACTION_SHARE, values[ACTION_SHARE], response_url=url, ephemeral=True).status
        == 200
    )
    shared, deleted = bot.responses(url, count=2)
    assert shared.params["response_type"] == "in_channel"
    assert deleted.params.get("delete_original") is True
    assert "Shared by <@U0ASKER>" in text_of(shared.params)
    assert ACTION_SHARE not in buttons(shared.params)
    assert "undated" in text_of(shared.params)


def test_more_quotes_replaces_the_message_with_the_next_page(bot: Bot) -> None:
    values = private_answer(bot)
    first = AnswerState.parse(values[ACTION_UP])
    url = bot.response_url()
    bot.click(ACTION_MORE, values[ACTION_MORE], response_url=url, ephemeral=True)
    [page] = bot.responses(url)
    assert page.params["replace_original"] is True
    after = buttons(page.params)
    second = AnswerState.parse(after[ACTION_UP])
    assert second.offset == first.offset + first.k
    assert not set(second.passages) & set(first.passages)
    assert ACTION_SHARE in after  # still private, still shareable


def test_feedback_is_stored(bot: Bot, seed_desk) -> None:  # type: ignore[no-untyped-def]
    values = private_answer(bot)
    where, url = channel(), bot.response_url()
    bot.click(ACTION_DOWN, values[ACTION_DOWN], response_url=url, channel=where)
    [thanks] = bot.responses(url)
    assert thanks.params["replace_original"] is False
    with Session(seed_desk.store.engine) as session:
        rows = session.scalars(select(FeedbackRow).where(FeedbackRow.channel_id == where)).all()
    assert len(rows) == 1
    row = rows[0]
    assert (row.vote, row.question, row.user_id) == ("down", BAKU, "U0ASKER")
    shown = json.loads(row.quotes)
    assert [q["passage_id"] for q in shown] == list(AnswerState.parse(values[ACTION_DOWN]).passages)
    assert all(q["source"].endswith(".txt") for q in shown)
    assert row.created_at is not None


def test_forged_button_value_gets_an_apology(bot: Bot) -> None:
    url = bot.response_url()
    assert bot.click(ACTION_MORE, "{not json", response_url=url).status == 200
    [apology] = bot.responses(url)
    assert APOLOGY in apology.params["text"]
    assert apology.params["replace_original"] is False  # the answer shown stays


# --- failures ------------------------------------------------------------------------------


class BrokenDesk:
    """A desk whose questions fail, as a database outage would."""

    def __init__(self, desk):  # type: ignore[no-untyped-def]
        self.store = desk.store

    def warm(self) -> None:
        pass

    def ask(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("the database went away")


def test_a_failing_answer_posts_an_apology_and_logs_the_trace(
    seed_desk, slack: StandIn, slack_config: SlackConfig, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    wsgi = create_wsgi_app(config=slack_config, desk=BrokenDesk(seed_desk))  # type: ignore[arg-type]
    assert wsgi.ready.wait(10)
    with serving(wsgi) as url:
        broken = Bot(url=url, wsgi=wsgi, slack=slack)
        where = channel()
        broken.event(mention_event(BAKU, channel=where))
        [post] = slack.wait_for("chat.postMessage", channel=where)
        response_url = broken.response_url()
        broken.command("/ask", BAKU, response_url=response_url)
        [response] = broken.responses(response_url)
    assert post.params["text"] == APOLOGY
    assert response.params["text"] == APOLOGY
    assert "the database went away" in caplog.text
    assert "Traceback" in caplog.text
