"""The bot on hostile and broken input, over HTTP on the fake desk: questions that are empty,
huge, full of control characters or only emoji; requests that are malformed, mislabelled or
missing their headers; events and payloads it has no use for; forged button values; and the
real shapes of Slack's file shares and thread broadcasts."""

from __future__ import annotations

import http.client
import json
import logging
import socket
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.slack.blocks import ACTION_MORE, ACTION_SHARE, ACTION_UP, APOLOGY, CUT, USAGE
from bot.slack.state import MAX_QUESTION, AnswerState
from standins.payloads import (
    FORM,
    JSON,
    USER_ID,
    action_body,
    dm_event,
    event_body,
    mention_event,
    next_ts,
    signed_headers,
)
from standins.workspace import BOT_ID, BOT_USER_ID, TEAM_ID
from tests.slack.helpers import SECRET, WAIT, Bot, channel
from tests.slack.test_http import BAKU, buttons, post_raw, quote_sections, shown

# Anything a client would act on instead of showing: C0/C1 controls and bidi overrides.
RAW_CONTROL = "".join(chr(c) for c in range(0x20) if chr(c) not in "\n") + "\x7f\u202a\u202e\u2066"


def posted_text(params: dict[str, Any]) -> str:
    return "\n".join([params["text"], *shown(params["blocks"])])


# --- questions -----------------------------------------------------------------------------


def ask_by(bot: Bot, kind: str, text: str) -> dict[str, Any]:
    """Ask ``text`` by mention, DM or /ask; the one message the bot answered with."""
    if kind == "ask":
        url = bot.response_url()
        reply = bot.command("/ask", text, response_url=url)
        assert reply.status == 200
        if reply.body:  # acknowledged with the usage help, nothing posted after
            assert bot.responses(url) == []
            return dict(reply.json())
        [response] = bot.responses(url)
        return response.params
    where = channel("C" if kind == "mention" else "D")
    event = (
        mention_event(text, channel=where) if kind == "mention" else dm_event(text, channel=where)
    )
    assert bot.event(event).status == 200
    [post] = bot.posts(where)
    return post.params


KINDS = ["mention", "dm", "ask"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "text", ["", "   \t  ", "\u200b", "🙂🎉👩‍👩‍👧", "\x00\x1b", "<!here> <@U1>"]
)
def test_a_question_without_words_gets_the_usage_help(bot: Bot, kind: str, text: str) -> None:
    assert ask_by(bot, kind, text)["text"] == USAGE


@pytest.mark.parametrize("kind", KINDS)
def test_a_40000_character_question_is_read_in_part_and_says_so(bot: Bot, kind: str) -> None:
    params = ask_by(bot, kind, (BAKU + " ") * 1000)  # some 42,000 characters
    assert CUT in posted_text(params)
    question = params["blocks"][0]["text"]["text"].removeprefix("*Q:* ")
    assert len(question) <= MAX_QUESTION and question.startswith(BAKU)
    assert len(quote_sections(params)) == 3  # answered all the same
    state = AnswerState.parse(buttons(params)[ACTION_UP])
    assert len(state.value()) <= 2000 and len(state.question) <= MAX_QUESTION


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "noise", ["\x00", "\x1b[2J\x1b]0;pwned\x07", "\u202e", "\u2066\u2069", "\x9b31m", "\x7f"]
)
def test_control_characters_in_a_question_are_not_echoed(bot: Bot, kind: str, noise: str) -> None:
    params = ask_by(bot, kind, f"why did Baku{noise} skip the Washington meeting?")
    text = posted_text(params)
    assert not set(RAW_CONTROL) & set(text), repr(text)
    assert len(quote_sections(params)) == 3
    echo = params["blocks"][0]["text"]["text"]
    assert echo.startswith("*Q:* why did Baku") and echo.endswith("skip the Washington meeting?")


def test_a_question_longer_than_a_button_can_hold_still_gets_working_buttons(bot: Bot) -> None:
    # Every character escaped by JSON: the state must still fit Slack's 2,000.
    params = ask_by(bot, "ask", 'Baku "' * 400)
    for value in buttons(params).values():
        assert len(value) <= 2000
        AnswerState.parse(value)


# --- requests ------------------------------------------------------------------------------


def raw(bot: Bot, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    return post_raw(bot, body, headers)


def test_wrong_content_types(bot: Bot) -> None:
    challenge = json.dumps({"type": "url_verification", "challenge": "c-type"})
    # JSON labelled as something else is still read as what it is.
    for label in ("text/plain", "application/json; charset=utf-8", "application/xml", ""):
        reply = bot.post(challenge, content_type=label)
        assert (reply.status, reply.json()) == (200, {"challenge": "c-type"}), label
    # A form labelled as JSON is not JSON.
    form = urlencode({"payload": challenge})
    assert bot.post(form, content_type=JSON).status == 400


@pytest.mark.parametrize(
    "drop", ["X-Slack-Signature", "X-Slack-Request-Timestamp", "Content-Type", "all"]
)
def test_missing_headers(bot: Bot, drop: str) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c-headers"})
    headers = signed_headers(body, secret=SECRET)
    headers = {} if drop == "all" else {k: v for k, v in headers.items() if k != drop}
    status, _ = raw(bot, body.encode(), headers)
    assert status == (200 if drop == "Content-Type" else 401)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Slack-Request-Timestamp", "not-a-number"),
        ("X-Slack-Request-Timestamp", "9" * 5000),
        ("X-Slack-Request-Timestamp", "-1"),
        ("X-Slack-Request-Timestamp", " 1"),
        ("X-Slack-Signature", "v0=ÿÿÿ"),
        ("X-Slack-Signature", ""),
    ],
)
def test_garbled_signature_headers_are_401_not_500(bot: Bot, name: str, value: str) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c"})
    headers = {**signed_headers(body, secret=SECRET), name: value}
    status, _ = raw(bot, body.encode(), headers)  # http.client sends them as latin-1
    assert status == 401


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "99999999999999999999"])
def test_a_content_length_that_is_no_length_is_400(bot: Bot, length: str) -> None:
    host, port = bot.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=WAIT)
    try:
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Length", length)
        connection.endheaders()
        response = connection.getresponse()
        assert response.status in (400, 413)
    finally:
        connection.close()


def test_a_chunked_body_on_a_server_that_cannot_end_it_is_411(bot: Bot) -> None:
    # wsgiref (the tests' in-process server) hands over the raw socket: reading a chunked
    # body from it would wait for the client to hang up. gunicorn ends it: test_security.
    host, port = bot.url.removeprefix("http://").split(":")
    body = json.dumps({"type": "url_verification", "challenge": "c"}).encode()
    headers = {**signed_headers(body.decode(), secret=SECRET), "Transfer-Encoding": "chunked"}
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "content-length")
    request = (
        f"POST /slack/events HTTP/1.1\r\nHost: {host}\r\n{head}\r\n".encode()
        + f"{len(body):x}\r\n".encode()
        + body
        + b"\r\n0\r\n\r\n"
    )
    # One write: the server answers before reading the body, and a body still arriving
    # after it closes would reset the connection before the answer is read.
    with socket.create_connection((host, int(port)), timeout=WAIT) as connection:
        connection.sendall(request)
        status_line = connection.makefile("rb").readline()
    assert status_line.split()[1] == b"411", status_line


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00 not utf-8",
        b'{"type": "block_actions", "actions": []}',
        b'{"type": "block_actions", "actions": null}',
        b'{"type": "event_callback", "event": null}',
        b'{"type": "event_callback", "event": {"type": 5}}',
        b'{"type": "view_submission"}',
        b'{"type": "view_submission", "view": null}',
        b'{"type": "shortcut"}',
        b'{"type": ["event_callback"]}',
        b'{"type": "event_callback", "authorizations": [1]}',
        b'{"team": 5, "type": "block_actions", "actions": [{"action_id": "x"}]}',
        b"payload=%5B1%2C2%5D",
        # Longer than the database keeps (PostgreSQL would refuse them: a 500, or a failed vote).
        json.dumps({"type": "event_callback", "event_id": "Ev" + "x" * 63}).encode(),
        json.dumps(
            {"type": "block_actions", "user": {"id": "U" * 65}, "actions": [{"action_id": "x"}]}
        ).encode(),
        b"[" * 100_000,
    ],
)
def test_signed_bodies_not_shaped_like_slacks_are_400(bot: Bot, body: bytes) -> None:
    headers = signed_headers(body.decode("utf-8", "replace"), secret=SECRET)
    if not body.isascii():  # signed over the exact bytes sent
        import hashlib
        import hmac

        stamp = headers["X-Slack-Request-Timestamp"]
        mac = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
        headers["X-Slack-Signature"] = "v0=" + mac.hexdigest()
    if body.startswith(b"payload="):
        headers["Content-Type"] = FORM
    assert raw(bot, body, headers)[0] == 400


# --- events and payloads the bot has no use for ---------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        {"type": "app_home_opened", "user": USER_ID, "channel": "D0HOME", "tab": "messages"},
        {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [BOT_USER_ID]}},
        {"type": "app_uninstalled"},
        {"type": "member_joined_channel", "user": USER_ID, "channel": "C0JOIN", "team": TEAM_ID},
        {"type": "reaction_added", "user": USER_ID, "reaction": "thumbsup", "item": {}},
        {"type": "team_join", "user": {"id": "U0NEW"}},
        {"type": "something_slack_invents_next_year"},
    ],
)
def test_events_without_a_listener_are_acknowledged_with_200(
    bot: Bot, event: dict[str, Any]
) -> None:
    before = len(bot.slack.calls)
    reply = bot.event({**event, "event_ts": next_ts()})
    assert (reply.status, reply.body) == (200, "")
    bot.settle()
    assert len(bot.slack.calls) == before  # nothing said


def test_unknown_events_still_need_a_signature(bot: Bot) -> None:
    assert bot.event({"type": "app_home_opened", "user": USER_ID}, secret="forged").status == 401
    old = int(time.time()) - 301
    assert bot.event({"type": "app_uninstalled"}, timestamp=old).status == 401


def interactive(kind: str, **fields: Any) -> str:
    payload = {
        "type": kind,
        "user": {"id": USER_ID, "team_id": TEAM_ID},
        "team": {"id": TEAM_ID},
        "api_app_id": "A0QUOTEDESK",
        "trigger_id": "1.trigger",
        **fields,
    }
    return urlencode({"payload": json.dumps(payload)})


@pytest.mark.parametrize(
    "body",
    [
        action_body("someone_elses_button", "x", response_url="http://127.0.0.1:9/x"),
        interactive("view_submission", view={"id": "V1", "callback_id": "form", "type": "modal"}),
        interactive("view_closed", view={"id": "V1", "callback_id": "form", "type": "modal"}),
        interactive("shortcut", callback_id="quote_this"),
        interactive("message_action", callback_id="quote_message", message={"ts": "1.1"}),
        interactive("block_suggestion", action_id="picker", block_id="b", value="ba"),
        interactive("interactive_message", callback_id="legacy", actions=[{"name": "x"}]),
        interactive("dialog_submission", callback_id="legacy", submission={}),
    ],
)
def test_interactive_payloads_without_a_listener_are_acknowledged(bot: Bot, body: str) -> None:
    before = len(bot.slack.calls)
    reply = bot.post(body, content_type=FORM)
    assert reply.status == 200
    assert reply.body in ("", '{"options": []}')
    bot.settle()
    assert len(bot.slack.calls) == before


def test_an_unknown_command_gets_the_usage_help(bot: Bot) -> None:
    reply = bot.command("/quote", BAKU, response_url=bot.response_url())
    assert (reply.status, reply.json()["text"]) == (200, USAGE)


# --- forged button values ------------------------------------------------------------------

FORGED = [
    "{not json",
    "",
    "null",
    "[]",
    '"a string"',
    '{"q": "x"}',
    '{"q": "x", "o": -1, "k": 3}',
    '{"q": "x", "o": 0, "k": 0}',
    '{"q": "x", "o": 0, "k": 51}',
    '{"q": "x", "o": 1e300, "k": 3}',
    '{"q": "x", "o": "3", "k": 3}',
    '{"q": "x", "o": 100000000000000000000, "k": 3}',
    '{"q": "x", "o": 0, "k": 3, "p": [1, 2, "three"]}',
    '{"q": "x", "o": 0, "k": 3, "p": ' + json.dumps(list(range(1000))) + "}",
    '{"q": "x", "o": 0, "k": 3, "d": "yesterday"}',
    '{"q": "x", "o": 0, "k": 3, "d": 20231130}',
    "[" * 5000 + "]" * 5000,
]


@pytest.mark.parametrize("action", [ACTION_MORE, ACTION_SHARE, ACTION_UP])
@pytest.mark.parametrize("value", FORGED)
def test_a_forged_button_value_logs_one_warning_and_apologises(
    bot: Bot, caplog: pytest.LogCaptureFixture, action: str, value: str
) -> None:
    url = bot.response_url()
    with caplog.at_level(logging.DEBUG):
        assert bot.click(action, value, response_url=url).status == 200
        [apology] = bot.responses(url)
    assert apology.params["text"] == APOLOGY
    assert apology.params["replace_original"] is False
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.levelname, r.exc_info) for r in warnings] == [("WARNING", None)], caplog.text
    # The value (a question, here "x") only where questions may be logged (bot.logs).
    assert warnings[0].getMessage() == "ignored a button not of this bot's"
    assert str(getattr(warnings[0], "quotedesk_personal", "")).startswith("not a quotedesk")
    assert "\n" not in warnings[0].getMessage() and "Traceback" not in caplog.text


def test_a_button_without_a_value_gets_the_apology(bot: Bot) -> None:
    url = bot.response_url()
    payload = {
        "type": "block_actions",
        "user": {"id": USER_ID},
        "response_url": url,
        "actions": [{"type": "button", "action_id": ACTION_MORE, "block_id": "b"}],
    }
    assert bot.post(urlencode({"payload": json.dumps(payload)}), content_type=FORM).status == 200
    [apology] = bot.responses(url)
    assert apology.params["text"] == APOLOGY


def test_a_replayed_button_is_refused_once_its_signature_is_stale(bot: Bot) -> None:
    url = bot.response_url()
    value = AnswerState(BAKU).value()
    body = action_body(ACTION_UP, value, response_url=url)
    old = int(time.time()) - 6 * 60
    assert bot.post(body, content_type=FORM, timestamp=old).status == 401
    assert bot.responses(url) == []


# --- the real shapes of Slack's payloads (as in bolt-python's own test fixtures) ---------------


def file_share_dm(where: str, text: str, **extra: Any) -> dict[str, Any]:
    """A DM sent with a file attached, trimmed from a real ``file_share`` message event."""
    ts = next_ts()
    return {
        "type": "message",
        "subtype": "file_share",
        "text": text,
        "files": [
            {
                "id": "F0FILE",
                "name": "notes.png",
                "mimetype": "image/png",
                "filetype": "png",
                "user": USER_ID,
                "size": 92582,
                "mode": "hosted",
                "url_private": "https://files.slack.com/files-pri/T0-F0FILE/notes.png",
            }
        ],
        "upload": False,
        "user": USER_ID,
        "display_as_bot": False,
        "ts": ts,
        "blocks": [
            {
                "type": "rich_text",
                "block_id": "ba4",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}
                ],
            }
        ],
        "client_msg_id": "ca088267-717f-41a8-9db8-c98ae14ad6a0",
        "channel": where,
        "event_ts": ts,
        "channel_type": "im",
        **extra,
    }


def thread_broadcast_dm(where: str, text: str, thread_ts: str) -> dict[str, Any]:
    """A thread reply also sent to the conversation, trimmed from a real one."""
    ts = next_ts()
    return {
        "type": "message",
        "subtype": "thread_broadcast",
        "text": text,
        "user": USER_ID,
        "ts": ts,
        "thread_ts": thread_ts,
        "root": {
            "type": "message",
            "text": "an earlier question",
            "user": USER_ID,
            "ts": thread_ts,
            "thread_ts": thread_ts,
            "reply_count": 2,
        },
        "client_msg_id": "111-222-333-444-666",
        "channel": where,
        "event_ts": ts,
        "channel_type": "im",
    }


def test_a_dm_with_a_file_attached_is_answered(bot: Bot) -> None:
    where = channel("D")
    assert bot.event(file_share_dm(where, BAKU)).status == 200
    [post] = bot.posts(where)
    assert post.params.get("thread_ts") is None
    assert len(quote_sections(post.params)) == 3


def test_a_file_alone_gets_the_usage_help(bot: Bot) -> None:
    where = channel("D")
    bot.event(file_share_dm(where, ""))
    [post] = bot.posts(where)
    assert post.params["text"] == USAGE


def test_a_thread_reply_sent_to_the_conversation_is_answered_in_its_thread(bot: Bot) -> None:
    where, parent = channel("D"), next_ts()
    assert bot.event(thread_broadcast_dm(where, BAKU, parent)).status == 200
    [post] = bot.posts(where)
    assert post.params["thread_ts"] == parent
    assert len(quote_sections(post.params)) == 3


@pytest.mark.parametrize(
    "extra",
    [
        {"bot_id": "B0OTHER"},
        {"user": BOT_USER_ID, "bot_id": BOT_ID},
        {"channel_type": "channel"},
        {"edited": {"user": USER_ID, "ts": "1.0"}},
    ],
)
def test_file_shares_that_are_not_questions_are_ignored(bot: Bot, extra: dict[str, Any]) -> None:
    where = channel("D")
    assert bot.event(file_share_dm(where, BAKU, **extra)).status == 200
    assert bot.posts(where) == []


def test_a_broadcast_of_the_bots_own_reply_is_ignored(bot: Bot) -> None:
    where = channel("D")
    event = {**thread_broadcast_dm(where, BAKU, next_ts()), "user": BOT_USER_ID, "bot_id": BOT_ID}
    assert bot.event(event).status == 200
    assert bot.posts(where) == []


def test_payload_shapes_of_slack_are_not_refused(bot: Bot) -> None:
    # The shape check lets through what Slack really sends: the envelope's authorizations,
    # nulls where Slack sends them, a user object on interactive payloads.
    where = channel("D")
    body = json.loads(event_body(file_share_dm(where, BAKU)))
    body.update(enterprise_id=None, is_ext_shared_channel=False, event_context="4-xxx")
    body["authorizations"][0].update(enterprise_id=None, is_enterprise_install=False)
    assert bot.post(json.dumps(body)).status == 200
    assert len(bot.posts(where)) == 1
