"""Slack's Web API and ``response_url``s misbehaving: the bot retries what is safe to retry
(bot/slack/retry.py), apologises when it gives up, and never posts a message twice.

The stand-in follows a script of faults per method (``StandIn.fail``); each call it receives
is recorded with the status it answered and whether it took effect (``applied``), so a test
counts the messages a person would see, not the attempts.
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.client import RemoteDisconnected
from urllib.error import URLError

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import HttpRequest

from bot.slack.app import build_app, web_client
from bot.slack.blocks import ACTION_MORE, APOLOGY
from bot.slack.config import SlackConfig
from bot.slack.retry import BACKOFF, MAX_RETRIES, ConnectionRetry, ServerErrorRetry, idempotent
from bot.slack.server import ListenerPool
from bot.slack.state import AnswerState
from retrieval import QuoteDesk
from standins.calls import Call
from standins.faults import Fault
from standins.payloads import (
    FORM,
    JSON,
    action_body,
    command_body,
    event_body,
    mention_event,
    signed_headers,
)
from standins.web_api import RESPONSE_METHOD, StandIn
from tests.slack.helpers import SECRET, WAIT, channel

# Real time passes here (reconnects, backoff): not in the fast tier.
pytestmark = pytest.mark.slow

BAKU = "why did Baku skip the Washington meeting?"
# The client's timeout here (production: retry.TIMEOUT); a late answer comes after it.
TIMEOUT = 1.0
LATE = 2.5
ATTEMPTS = 1 + MAX_RETRIES
POST = "chat.postMessage"


def is_apology(call: Call) -> bool:
    return call.params.get("text") == APOLOGY


@dataclass
class Flaky:
    """The bot (its Bolt app, requests dispatched as the WSGI server would) and a stand-in of
    its own, whose faults each test scripts."""

    slack: StandIn
    app: App
    pool: ListenerPool

    def mention(self, where: str) -> float:
        """Mention the bot in ``where``; returns how long it took to finish everything."""
        body = event_body(mention_event(BAKU, channel=where))
        return self._dispatch(body, JSON)

    def ask(self, response_url: str) -> float:
        return self._dispatch(command_body("/ask", BAKU, response_url=response_url), FORM)

    def more(self, response_url: str) -> float:
        value = AnswerState(BAKU, offset=3).value()
        return self._dispatch(action_body(ACTION_MORE, value, response_url=response_url), FORM)

    def _dispatch(self, body: str, content_type: str) -> float:
        start = time.monotonic()
        headers = signed_headers(body, secret=SECRET, content_type=content_type)
        response = self.app.dispatch(BoltRequest(body=body, headers=dict(headers)))
        assert response.status == 200, response.body
        assert self.pool.wait_idle(timeout=WAIT), "the bot was still busy"
        return time.monotonic() - start

    def posts(self, where: str) -> list[Call]:
        """Every attempt to post in ``where``."""
        return self.slack.find(POST, channel=where)

    def responses(self, url: str) -> list[Call]:
        return self.slack.find(RESPONSE_METHOD, path=url[len(self.slack.url) :])


@pytest.fixture
def flaky(fake_desk: QuoteDesk) -> Iterator[Flaky]:
    with StandIn() as slack:
        config = SlackConfig(bot_token="xoxb-test", signing_secret=SECRET, api_url=slack.api_url)
        pool = ListenerPool(max_workers=2)
        app = build_app(config=config, desk=fake_desk, listener_executor=pool, api_timeout=TIMEOUT)
        try:
            yield Flaky(slack, app, pool)
        finally:
            pool.shutdown(wait=True)


def response_url(slack: StandIn) -> str:
    return slack.response_url(uuid.uuid4().hex)


# --- failures that say nothing was done: retried for every call ----------------------------


def test_a_rate_limited_post_waits_retry_after_and_posts_once(flaky: Flaky) -> None:
    where = channel()
    flaky.slack.fail(POST, Fault.rate_limited(retry_after=1))
    took = flaky.mention(where)
    first, second = flaky.posts(where)
    assert (first.status, first.applied) == (429, False)
    assert (second.status, second.applied) == (200, True)
    assert not is_apology(second)
    assert second.at - first.at >= 1.0  # Retry-After honoured
    assert took < 5


def test_503s_are_retried_with_backoff_and_post_once(flaky: Flaky) -> None:
    where = channel()
    flaky.slack.fail(POST, Fault.server_error(503), Fault.server_error(503))
    took = flaky.mention(where)
    attempts = flaky.posts(where)
    assert [c.status for c in attempts] == [503, 503, 200]
    assert [c for c in attempts if c.applied] == [attempts[-1]]
    assert not is_apology(attempts[-1])
    gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps[0] >= BACKOFF and gaps[1] >= 2 * BACKOFF  # exponential
    assert took < 5


def test_a_post_that_keeps_failing_gets_one_apology(flaky: Flaky) -> None:
    where = channel()
    flaky.slack.fail(POST, *[Fault.server_error(503)] * ATTEMPTS)
    took = flaky.mention(where)
    attempts = flaky.posts(where)
    assert len(attempts) == ATTEMPTS + 1  # the answer's tries, then the apology
    [seen] = [c for c in attempts if c.applied]
    assert is_apology(seen)
    assert took < 10


def test_a_post_that_always_fails_gives_up_in_bounded_time(flaky: Flaky) -> None:
    where = channel()
    flaky.slack.fail(POST, *[Fault.server_error(503)] * 20)
    took = flaky.mention(where)
    attempts = flaky.posts(where)
    assert len(attempts) == 2 * ATTEMPTS  # the answer's tries, the apology's tries
    assert not any(c.applied for c in attempts)
    assert took < 10


def test_a_retry_after_too_long_to_wait_is_not_waited_for(flaky: Flaky) -> None:
    where = channel()
    flaky.slack.fail(POST, Fault.rate_limited(retry_after=60))
    took = flaky.mention(where)
    first, apology = flaky.posts(where)
    assert first.status == 429 and is_apology(apology) and apology.applied
    assert took < 5


def test_connection_refused_is_retried_with_backoff() -> None:
    # Nothing listens: the request never left, so even a post is retried.
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    config = SlackConfig(bot_token="xoxb-test", api_url=f"http://127.0.0.1:{port}/api/")
    start = time.monotonic()
    with pytest.raises(URLError):
        web_client(config, timeout=TIMEOUT).chat_postMessage(channel="C1", text="hi")
    took = time.monotonic() - start
    assert BACKOFF + 2 * BACKOFF <= took < 5  # two backoffs: three attempts


# --- failures after the request arrived: a new message is never sent twice -----------------


@pytest.mark.parametrize(
    "fault",
    [
        Fault.late(LATE),
        Fault.dropped(),
        Fault.server_error(500, applied=True),
        Fault.server_error(504, applied=True),
    ],
    ids=["timeout", "dropped", "500", "504"],
)
def test_a_post_that_may_have_gone_through_is_not_sent_again(flaky: Flaky, fault: Fault) -> None:
    where = channel()
    flaky.slack.fail(POST, fault)
    took = flaky.mention(where)
    attempts = flaky.posts(where)
    # The server posted the answer but the bot could not know: no second answer, an apology.
    answers = [c for c in attempts if not is_apology(c)]
    assert len(answers) == 1 and answers[0].applied
    assert [is_apology(c) for c in attempts] == [False, True]
    assert took < TIMEOUT + 5


@pytest.mark.parametrize(
    "fault",
    [Fault.dropped(applied=False), Fault.server_error(500)],
    ids=["dropped", "500"],
)
def test_a_post_that_failed_without_effect_gets_an_apology(flaky: Flaky, fault: Fault) -> None:
    where = channel()
    flaky.slack.fail(POST, fault)
    flaky.mention(where)
    [seen] = [c for c in flaky.posts(where) if c.applied]
    assert is_apology(seen)


def test_slack_sdks_default_retry_would_post_twice() -> None:
    # Why the bot replaces slack_sdk's default handler: it retries a connection closed while
    # waiting for the answer, when Slack may well have posted already.
    with StandIn() as slack:
        slack.fail(POST, Fault.dropped())
        WebClient(token="xoxb-test", base_url=slack.api_url).chat_postMessage(
            channel="C1", text="hi"
        )
        assert len(slack.find(POST, applied=True)) == 2


# --- idempotent calls are retried after any failure -----------------------------------------


@pytest.mark.parametrize(
    ("method", "fault"),
    [
        pytest.param("auth.test", Fault.late(LATE), id="auth.test-timeout"),
        pytest.param("auth.test", Fault.dropped(), id="auth.test-dropped"),
        pytest.param("auth.test", Fault.server_error(500), id="auth.test-500"),
        pytest.param("chat.update", Fault.late(LATE), id="chat.update-timeout"),
        pytest.param("chat.update", Fault.dropped(), id="chat.update-dropped"),
        pytest.param("chat.update", Fault.server_error(502), id="chat.update-502"),
        pytest.param("apps.connections.open", Fault.dropped(), id="connections.open-dropped"),
    ],
)
def test_idempotent_calls_are_retried_after_any_failure(
    flaky: Flaky, method: str, fault: Fault
) -> None:
    flaky.slack.clear()  # the app's own auth.test at start
    flaky.slack.fail(method, fault)
    client = flaky.app.client
    start = time.monotonic()
    if method == "auth.test":
        assert client.auth_test()["ok"]
    elif method == "chat.update":
        assert client.chat_update(channel="C1", ts="1.000001", text="new")["ok"]
    else:
        with pytest.raises(SlackApiError, match="socket_mode_not_enabled"):
            client.apps_connections_open(app_token="xapp-test")  # answered: so retried
    assert len(flaky.slack.find(method)) == 2
    assert time.monotonic() - start < TIMEOUT + 5


# --- response_url (Bolt's respond, given the same handlers) ---------------------------------


def test_a_rate_limited_response_url_is_retried_once(flaky: Flaky) -> None:
    url = response_url(flaky.slack)
    flaky.slack.fail(RESPONSE_METHOD, Fault.rate_limited(retry_after=1))
    flaky.ask(url)
    first, second = flaky.responses(url)
    assert first.status == 429 and second.applied and second.params["text"] != APOLOGY


def test_a_late_response_url_reply_is_not_sent_again(flaky: Flaky) -> None:
    url = response_url(flaky.slack)
    flaky.slack.fail(RESPONSE_METHOD, Fault.late(LATE))
    took = flaky.ask(url)
    answer, apology = flaky.responses(url)
    assert answer.applied and answer.params["text"] != APOLOGY
    assert apology.params["text"] == APOLOGY
    assert took < TIMEOUT + 5


def test_a_late_replace_original_is_retried(flaky: Flaky) -> None:
    # "More quotes" replaces the message: sending it twice shows the same message.
    url = response_url(flaky.slack)
    flaky.slack.fail(RESPONSE_METHOD, Fault.late(LATE))
    flaky.more(url)
    first, second = flaky.responses(url)
    assert first.params == second.params and first.params["replace_original"] is True
    assert second.status == 200


def test_a_response_url_that_keeps_failing_is_logged_not_ignored(
    flaky: Flaky, caplog: pytest.LogCaptureFixture
) -> None:
    url = response_url(flaky.slack)
    flaky.slack.fail(RESPONSE_METHOD, *[Fault.server_error(503)] * (2 * ATTEMPTS))
    flaky.ask(url)
    assert len(flaky.responses(url)) == 2 * ATTEMPTS  # the answer's tries, the apology's
    assert "could not post the answer" in caplog.text


# --- the policy itself ----------------------------------------------------------------------


def request_to(method: str) -> HttpRequest:
    return HttpRequest(method="POST", url=f"https://slack.com/api/{method}", headers={})


@pytest.mark.parametrize(
    ("error", "post", "read"),
    [
        (URLError(ConnectionRefusedError()), True, True),
        (URLError(TimeoutError()), True, True),  # connecting timed out
        (TimeoutError(), False, True),  # no answer in time
        (RemoteDisconnected("Remote end closed connection without response"), False, True),
        (ConnectionResetError(), False, True),
    ],
)
def test_connection_errors_retry_a_post_only_when_it_was_never_sent(
    error: Exception, post: bool, read: bool
) -> None:
    handler = ConnectionRetry()
    assert handler._can_retry(state=None, request=request_to(POST), error=error) is post  # type: ignore[arg-type]
    assert handler._can_retry(state=None, request=request_to("auth.test"), error=error) is read  # type: ignore[arg-type]


def test_response_url_posts_are_idempotent_only_when_they_replace_or_delete() -> None:
    def body(data: bytes) -> HttpRequest:
        return HttpRequest(method="POST", url="https://hooks.slack.com/x", headers={}, data=data)

    assert idempotent(body(b'{"text": "a", "replace_original": true}'), webhook=True)
    assert idempotent(body(b'{"delete_original": true}'), webhook=True)
    assert not idempotent(body(b'{"text": "a", "response_type": "ephemeral"}'), webhook=True)
    assert not idempotent(body(b'{"text": "a", "replace_original": false}'), webhook=True)
    assert ServerErrorRetry(webhook=True).webhook
