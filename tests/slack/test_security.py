"""Security of the Slack side: every request's signature is checked, whatever Bolt is told;
HTTP never runs without a signing secret; stale requests are refused; no token or secret
reaches a log, in process or under gunicorn at DEBUG; chunked bodies are bounded under
gunicorn; the manifest asks for the scopes the code uses and no more; old deliveries and
feedback are forgotten."""

from __future__ import annotations

import functools
import io
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.blocks import ACTION_ASK_AGAIN, ACTION_MORE, ACTION_SHARE, ACTION_UP
from bot.slack.config import DEFAULT_RETENTION_DAYS, SlackConfig, SlackConfigError
from bot.slack.listeners.actions import FIND_QUOTES
from bot.slack.retention import HistoryPruner
from bot.slack.server import MAX_BODY, SlackWsgi, create_wsgi_app
from bot.slack.state import AnswerState
from bot.store import BotStore, Feedback
from retrieval import QuoteDesk
from standins.calls import Call
from standins.payloads import (
    FORM,
    action_body,
    command_body,
    dm_event,
    event_body,
    home_action_body,
    mention_event,
    message_event,
    shortcut_body,
    signed_headers,
)
from standins.processes import serve_process
from standins.web_api import RESPONSE_METHOD, StandIn
from tests.helpers import ROOT
from tests.slack.helpers import (
    SECRET,
    WAIT,
    Bot,
    call,
    channel,
    fake_desk_at,
    request,
    running,
)
from tests.slack.served import DEBUG_LOGGERS
from tests.slack.test_http import BAKU, buttons

# Distinctive, so that finding one in a log cannot be a coincidence.
BOT_TOKEN = "xoxb-1111-2222-S3CR3TB0TT0KENVALUE"
APP_TOKEN = "xapp-1-A0QD-3333-S3CR3TAPPT0KENVALUE"
SIGNING_SECRET = "s3cr3t-s1gn1ng-v4lue-for-the-log-test"
SECRETS = {
    "bot token": BOT_TOKEN,
    "bot token (its secret part)": "S3CR3TB0TT0KENVALUE",
    "app token": APP_TOKEN,
    "app token (its secret part)": "S3CR3TAPPT0KENVALUE",
    "signing secret": SIGNING_SECRET,
}


def leaked(text: str) -> list[str]:
    return [name for name, secret in SECRETS.items() if secret in text]


# --- the signing secret ----------------------------------------------------------------------


def test_http_refuses_to_start_without_a_signing_secret(
    fake_desk: QuoteDesk, slack: StandIn
) -> None:
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET is not set"):
        SlackConfig.from_env("http", {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": " "})
    for secret in ("", "   "):
        config = SlackConfig(bot_token="xoxb-1", signing_secret=secret, api_url=slack.api_url)
        calls = len(slack.calls)
        with pytest.raises(SlackConfigError, match="will not start without it"):
            create_wsgi_app(config=config, desk=fake_desk)
        assert len(slack.calls) == calls  # refused before Bolt called Slack
    app = App(token="xoxb-1", signing_secret="s", token_verification_enabled=False)
    with pytest.raises(SlackConfigError):
        SlackWsgi(app, ready=__import__("threading").Event(), signing_secret="")


def test_signatures_are_checked_even_if_bolt_is_told_not_to(slack: StandIn) -> None:
    # Socket Mode builds its app without verification; the HTTP server checks every request
    # itself, so no setting of Bolt's can open it.
    app = App(
        client=WebClient(token="xoxb-1", base_url=slack.api_url),
        signing_secret="",
        request_verification_enabled=False,
    )
    wsgi = SlackWsgi(app, ready=__import__("threading").Event(), signing_secret=SIGNING_SECRET)
    body = json.dumps({"type": "url_verification", "challenge": "c"}).encode()
    assert call(wsgi, body, {"Content-Type": "application/json"})[0] == 401
    forged = signed_headers(body.decode(), secret="not-the-secret")
    assert call(wsgi, body, forged)[0] == 401
    status, reply = call(wsgi, body, signed_headers(body.decode(), secret=SIGNING_SECRET))
    assert (status, json.loads(reply)) == (200, {"challenge": "c"})


@pytest.mark.parametrize(
    ("offset", "status"),
    [(0, 200), (-299, 200), (299, 200), (-301, 401), (301, 401), (-3600, 401), (-86400, 401)],
)
def test_requests_more_than_five_minutes_old_or_ahead_are_401(
    bot: Bot, offset: int, status: int
) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "c"})
    assert bot.post(body, timestamp=int(time.time()) + offset).status == status


# --- tokens and secrets never logged -----------------------------------------------------------


def full_flow(bot: Bot, *, secret: str, wait: Callable[[str], list[Call]]) -> None:
    """Everything a workspace does to the bot, good and bad, over HTTP."""
    post = functools.partial(bot.post, secret=secret)
    challenge = json.dumps({"type": "url_verification", "challenge": "c"})
    assert post(challenge).status == 200
    assert post(event_body(mention_event(BAKU, channel=channel()))).status == 200
    assert post(event_body(dm_event(BAKU, channel=channel("D")))).status == 200
    home = {"type": "app_home_opened", "user": "U0ASKER", "channel": "D0HOME", "tab": "home"}
    assert post(event_body(home)).status == 200
    url = bot.response_url()
    assert post(command_body("/ask", BAKU, response_url=url), content_type=FORM).status == 200
    values = buttons(wait(url)[0].params)
    for action in (ACTION_MORE, ACTION_UP, ACTION_SHARE):
        clicked = bot.response_url()
        body = action_body(action, values[action], response_url=clicked, ephemeral=True)
        assert post(body, content_type=FORM).status == 200
        wait(clicked)
    forged = bot.response_url()
    body = action_body(ACTION_MORE, "{forged", response_url=forged)
    assert post(body, content_type=FORM).status == 200
    wait(forged)
    listed = bot.response_url()
    assert post(command_body("/sources", "", response_url=listed), content_type=FORM).status == 200
    wait(listed)
    where = channel()
    asked = mention_event(BAKU, channel=where)
    assert post(event_body(asked)).status == 200
    follow_up = message_event("who made those remarks?", channel=where, thread_ts=asked["ts"])
    assert post(event_body(follow_up)).status == 200
    found = bot.response_url()
    assert post(shortcut_body(BAKU, response_url=found), content_type=FORM).status == 200
    wait(found)
    again = AnswerState(BAKU).value()
    assert post(home_action_body(ACTION_ASK_AGAIN, again), content_type=FORM).status == 200
    assert post(challenge, secret="not-the-secret").status == 401
    assert post(challenge, timestamp=int(time.time()) - 3600).status == 401
    assert post("{not json").status == 400


@pytest.fixture
def everything_logged() -> Iterator[io.StringIO]:
    """Every log record of this process, at DEBUG, into one buffer."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in DEBUG_LOGGERS)]
    levels = [logger.level for logger in loggers]
    root.addHandler(handler)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@pytest.mark.slow  # a whole conversation at DEBUG, waiting for the bot to go idle
def test_no_token_or_secret_is_logged_in_process_at_debug(
    fake_desk: QuoteDesk, slack: StandIn, everything_logged: io.StringIO
) -> None:
    config = SlackConfig(
        bot_token=BOT_TOKEN,
        signing_secret=SIGNING_SECRET,
        app_token=APP_TOKEN,
        api_url=slack.api_url,
    )
    with running(fake_desk, slack=slack, config=config) as bot:
        full_flow(bot, secret=SIGNING_SECRET, wait=bot.responses)
    # Socket Mode's use of the app token: asking Slack for a websocket URL.
    from slack_sdk.socket_mode.builtin import SocketModeClient

    client = SocketModeClient(
        app_token=APP_TOKEN, web_client=WebClient(token=BOT_TOKEN, base_url=slack.api_url)
    )
    try:
        client.issue_new_wss_url()
    except Exception as exc:  # the stand-in has no websocket: what matters is the log
        logging.getLogger("tests").debug("no websocket from the stand-in: %r", exc)
    finally:
        client.close()
    logged = everything_logged.getvalue()
    assert "chat.postMessage" in logged and "DEBUG slack_bolt" in logged  # it did log
    assert leaked(logged) == []


@pytest.fixture
def gunicorn_bot(tmp_path: Path, slack: StandIn) -> Iterator[tuple[Bot, Callable[[], str]]]:
    """``quotedesk serve``'s gunicorn on the fake desk, every logger at DEBUG; yields the bot
    and a function that stops the server and returns everything it printed."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "QUOTEDESK_DATA_DIR": str(tmp_path / "data"),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": slack.api_url,
        "PYTHONPATH": str(ROOT),
    }
    with serve_process(
        log=tmp_path / "gunicorn.log",
        env=env,
        command=[sys.executable, "-m", "tests.slack.served"],
        cwd=ROOT,
        name="gunicorn",
        healthy_within=90,
    ) as served:

        def stop() -> str:
            served.stop()
            return served.log_path.read_text()

        yield Bot(url=served.url, slack=slack), stop


@pytest.mark.slow  # a gunicorn process
def test_no_token_or_secret_is_logged_by_gunicorn_at_debug(
    gunicorn_bot: tuple[Bot, Callable[[], str]],
) -> None:
    bot, stop = gunicorn_bot

    def wait(url: str) -> list[Call]:
        found = bot.slack.wait_for(RESPONSE_METHOD, path=url[len(bot.slack.url) :], timeout=WAIT)
        assert found, f"nothing posted to {url}"
        return found

    full_flow(bot, secret=SIGNING_SECRET, wait=wait)
    bot.slack.wait_idle(quiet=0.5, timeout=WAIT)
    logged = stop()
    assert "[DEBUG]" in logged and "DEBUG slack_bolt" in logged, logged[-2000:]  # it did log
    assert "POST /slack/events" in logged  # the access log too
    assert leaked(logged) == []


@pytest.mark.slow  # a gunicorn process
def test_chunked_bodies_are_read_bounded_under_gunicorn(
    gunicorn_bot: tuple[Bot, Callable[[], str]],
) -> None:
    import http.client

    bot, _ = gunicorn_bot
    host, port = bot.url.removeprefix("http://").split(":")

    def chunked(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(host, int(port), timeout=WAIT)
        try:
            pieces = (body[i : i + 65536] for i in range(0, len(body), 65536))
            connection.request(
                "POST", "/slack/events", body=pieces, headers=headers, encode_chunked=True
            )
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    small = json.dumps({"type": "url_verification", "challenge": "c-chunked"})
    status, reply = chunked(small.encode(), signed_headers(small, secret=SIGNING_SECRET))
    assert (status, json.loads(reply)) == (200, {"challenge": "c-chunked"})
    # Signed and valid, only too big, and without a Content-Length to say so beforehand.
    big = json.dumps({"type": "url_verification", "challenge": "c", "pad": "x" * MAX_BODY})
    status, reply = chunked(big.encode(), signed_headers(big, secret=SIGNING_SECRET))
    assert (status, reply) == (413, b"Payload Too Large")
    assert request(bot.url + "/healthz").status == 200  # and the server is fine


# --- the manifest's scopes ---------------------------------------------------------------------

# Why each scope is asked for: the Web API methods the code calls, the events it subscribes
# to, the commands it registers. Nothing else: every other scope is one a leaked token would
# lend to whoever holds it.
METHOD_SCOPES = {
    "auth.test": None,  # any token may call it
    "chat.postMessage": "chat:write",  # replies in channels, threads and DMs
    "views.publish": None,  # the Home tab: no scope
    RESPONSE_METHOD: None,  # response_url: needs no token at all
    # Socket Mode, with the app-level token (its connections:write scope, not a bot scope).
    "apps.connections.open": None,
}
EVENT_SCOPES = {
    "app_home_opened": None,
    "app_mention": "app_mentions:read",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
    "message.im": "im:history",
}
COMMAND_SCOPE = "commands"


def test_the_manifest_asks_for_the_scopes_the_code_uses_and_no_more(
    bot: Bot, slack: StandIn
) -> None:
    full_flow(bot, secret=SECRET, wait=bot.responses)
    manifest = yaml.safe_load((ROOT / "slack" / "manifest.yml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    commands = manifest["features"]["slash_commands"]
    # Every Web API method the bot called, in that flow and every test before, is known.
    called = {c.method for c in slack.calls}
    assert called <= set(METHOD_SCOPES), f"a method without a known scope: {called}"
    needed = {METHOD_SCOPES[m] for m in called} | {EVENT_SCOPES[e] for e in events}
    needed |= {COMMAND_SCOPE} if commands else set()
    assert (
        scopes
        == needed - {None}
        == {
            "app_mentions:read",
            "channels:history",
            "chat:write",
            "commands",
            "groups:history",
            "im:history",
        }
    )
    # The one shortcut, by the callback id its listener answers.
    [shortcut] = manifest["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", FIND_QUOTES)
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    # DMs reach the bot through the Messages tab; it never opens one (no im:write) nor lists
    # conversations (no im:read).
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    assert manifest["features"]["app_home"]["messages_tab_read_only_enabled"] is False
    # The code calls only chat.postMessage and views.publish through its client (and
    # respond(), response_url): no history method, no conversations.* at all.
    listeners = "".join(p.read_text() for p in (ROOT / "bot" / "slack" / "listeners").glob("*.py"))
    assert {"client.chat_postMessage", "client.views_publish"} == {
        "client." + word.split("(")[0]
        for word in listeners.split("client.")[1:]
        if word[:1].islower()
    }


# --- retention ---------------------------------------------------------------------------------


@pytest.fixture
def history(tmp_path: Path, seeded_data: Path) -> BotStore:
    """The bot's store of a desk of its own, with a delivery handled and a vote recorded."""
    records = BotStore(fake_desk_at(tmp_path / "data", template=seeded_data).store)
    records.claim_delivery("EvOld")
    records.record_feedback(Feedback("up", "why?", (), "U1", "C1"))
    return records


def test_history_older_than_the_retention_is_pruned(history: BotStore) -> None:
    later = datetime.now(UTC)
    pruner = HistoryPruner(history, days=30, now=lambda: later)
    later += timedelta(days=29)
    assert pruner.prune() == 0  # 29 days old: kept
    assert history.feedback() and not history.claim_delivery("EvOld")
    later += timedelta(days=2)
    assert pruner.prune() == 2  # 31 days old: forgotten
    assert history.feedback() == [] and history.claim_delivery("EvOld")
    assert (pruner.runs, pruner.removed) == (2, 2)


def test_the_pruner_runs_at_start_and_then_periodically(history: BotStore) -> None:
    later = datetime.now(UTC) + timedelta(days=31)
    pruner = HistoryPruner(
        history, days=30, interval=timedelta(seconds=0.05), now=lambda: later
    ).start()
    try:
        assert pruner.wait_runs(3, timeout=WAIT)
        assert pruner.removed == 2 and history.feedback() == []
    finally:
        pruner.stop()


def test_a_failing_prune_is_logged_and_tried_again(
    history: BotStore, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(**_: Any) -> int:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(history, "prune_history", fail)
    pruner = HistoryPruner(history, days=30)
    assert pruner.prune() == 0 and pruner.runs == 1
    assert "could not prune" in caplog.text


def test_serve_prunes_at_start_up_with_the_configured_retention(
    tmp_path: Path,
    seeded_data: Path,
    slack: StandIn,
    slack_config: SlackConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUOTEDESK_RETENTION_DAYS", "7")
    monkeypatch.setenv("SLACK_BOT_TOKEN", slack_config.bot_token)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", slack_config.signing_secret)
    monkeypatch.setenv("SLACK_API_URL", slack_config.api_url)
    config = SlackConfig.from_env("http")
    assert config.retention_days == 7
    desk = fake_desk_at(tmp_path / "data", template=seeded_data)
    with running(desk, slack=slack, config=config) as bot:
        assert bot.wsgi is not None and bot.wsgi.pruner is not None
        assert bot.wsgi.pruner.retention == timedelta(days=7)
        assert bot.wsgi.pruner.wait_runs(1, timeout=WAIT)
        bot.wsgi.pruner.stop()


def test_the_retention_is_a_month_unless_set() -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assert SlackConfig.from_env("http", env).retention_days == DEFAULT_RETENTION_DAYS == 30
    blank = {**env, "QUOTEDESK_RETENTION_DAYS": " "}
    assert SlackConfig.from_env("http", blank).retention_days == 30
    assert SlackConfig(bot_token="xoxb-1").retention_days == 30


@pytest.mark.parametrize("value", ["0", "-3", "thirty", "1.5"])
def test_a_retention_that_is_no_number_of_days_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    from retrieval import Settings
    from retrieval.errors import InvalidArgumentError

    monkeypatch.setenv("QUOTEDESK_RETENTION_DAYS", value)
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    with pytest.raises(InvalidArgumentError, match="QUOTEDESK_RETENTION_DAYS must be"):
        SlackConfig.from_env("http", {**env, "QUOTEDESK_RETENTION_DAYS": value})
    for name, token in (("SLACK_BOT_TOKEN", "xoxb-1"), ("SLACK_APP_TOKEN", "xapp-1")):
        monkeypatch.setenv(name, token)
    with pytest.raises(InvalidArgumentError, match="QUOTEDESK_RETENTION_DAYS must be"):
        SlackConfig.from_env("socket")  # from the process's environment
    Settings.resolve()  # the bot's setting: the core does not read it
