"""The bot in Socket Mode against the stand-in's WebSocket: hello, envelopes acked and answered
once, and back answering soon after the connection breaks in any of the ways it does, without
burning CPU while it waits.

The ack proves Bolt has handed the event to its listeners, so once it has arrived, waiting for
the listener pool to be idle covers the whole answer, as over HTTP.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs

import pytest
from slack_bolt import App

from bot.slack import socket_mode
from bot.slack.app import build_app
from bot.slack.config import SlackConfig
from bot.slack.retry import MAX_RETRIES
from bot.slack.server import ListenerPool
from bot.slack.socket_mode import SocketModeHandler, run_socket_mode
from retrieval import QuoteDesk
from standins.calls import Call
from standins.faults import Fault
from standins.payloads import (
    event_body,
    home_opened_event,
    mention_event,
    message_event,
    shortcut_body,
)
from standins.socket_mode import SocketModeStandIn
from standins.web_api import RESPONSE_METHOD, StandIn
from tests.slack.helpers import WAIT, channel

# Real time passes here (reconnects, backoff): not in the fast tier.
pytestmark = pytest.mark.slow

BAKU = "why did Baku skip the Washington meeting?"
# The promise: back and answering within this many seconds of any break.
RECOVER = 15.0
# CPU is measured over at least this many seconds from the break.
WINDOW = 1.5
# Process CPU time over wall time while the bot waits; a spinning thread shows ~0.5–1.
MAX_CPU_SHARE = 0.2


@dataclass
class SocketBot:
    slack: StandIn
    socket: SocketModeStandIn
    app: App
    pool: ListenerPool
    handler: SocketModeHandler

    def mention(self, where: str, *, event_id: str | None = None) -> str:
        """Deliver a mention in ``where`` and wait for its ack and its answer; returns the
        event's envelope body for a redelivery."""
        body = json.loads(event_body(mention_event(BAKU, channel=where), event_id=event_id))
        self.deliver(body)
        return json.dumps(body)

    def deliver(self, body: dict[str, object], *, retry_attempt: int = 0) -> None:
        envelope_id = self.socket.send_event(body, retry_attempt=retry_attempt)
        ack = self.socket.wait_ack(envelope_id, timeout=WAIT)
        assert ack is not None, "the app did not ack the envelope"
        assert ack.message == {"envelope_id": envelope_id}
        assert self.pool.wait_idle(timeout=WAIT), "the bot was still busy"

    def posts(self, where: str) -> list[Call]:
        return self.slack.find("chat.postMessage", channel=where)


@pytest.fixture
def bot(fake_desk: QuoteDesk) -> Iterator[SocketBot]:
    """The bot connected in Socket Mode (production ping settings) to a stand-in of its own."""
    with StandIn(socket_mode=True) as slack:
        assert slack.socket is not None
        config = SlackConfig(bot_token="xoxb-test", app_token="xapp-test", api_url=slack.api_url)
        pool = ListenerPool(max_workers=2)
        app = build_app(config=config, desk=fake_desk, listener_executor=pool)
        handler = SocketModeHandler(app, app_token=config.app_token)
        try:
            handler.connect()
            assert slack.socket.wait_links(1, timeout=WAIT), "the app did not connect"
            yield SocketBot(slack, slack.socket, app, pool, handler)
        finally:
            closed = handler.close(timeout=WAIT)
            pool.shutdown(wait=True)
        assert closed, "the Socket Mode client did not stop"


def test_a_mention_is_acked_and_answered_once_in_its_thread(bot: SocketBot) -> None:
    where = channel()
    body = json.loads(bot.mention(where))
    [post] = bot.posts(where)
    assert post.params["thread_ts"] == body["event"]["ts"]
    assert post.params["blocks"][0]["text"]["text"] == f"*Q:* {BAKU}"
    # Slack redelivers an envelope it thinks was not acked: acked again, not answered again.
    bot.deliver(body, retry_attempt=1)
    assert len(bot.posts(where)) == 1


def test_an_idle_connection_costs_no_cpu(bot: SocketBot) -> None:
    wall, cpu = time.monotonic(), time.process_time()
    time.sleep(WINDOW)
    assert time.process_time() - cpu < MAX_CPU_SHARE * (time.monotonic() - wall)


def cut(reset: bool) -> Callable[[SocketModeStandIn], None]:
    return lambda socket: socket.cut(reset=reset)


BREAKS: dict[str, Callable[[SocketModeStandIn], object]] = {
    # Slack asks for a reconnect every few hours; the old connection stays open meanwhile.
    "refresh_requested": SocketModeStandIn.refresh,
    "close_frame": SocketModeStandIn.close,
    "tcp_fin": cut(reset=False),  # the server's socket closed without a close frame
    "tcp_rst": cut(reset=True),  # the connection reset
    "silent": SocketModeStandIn.go_silent,  # nothing more comes, not even a FIN
}


@pytest.mark.parametrize("how", list(BREAKS))
def test_after_a_break_it_reconnects_soon_without_spinning(bot: SocketBot, how: str) -> None:
    bot.mention(channel())  # connected and answering
    links = len(bot.socket.links)
    start, cpu = time.monotonic(), time.process_time()
    BREAKS[how](bot.socket)
    assert bot.socket.wait_links(links + 1, timeout=RECOVER), f"no reconnect in {RECOVER} s"
    recovered = time.monotonic() - start
    # Measure over a whole window, so a quick reconnect's own work weighs little.
    time.sleep(max(0.0, start + WINDOW - time.monotonic()))
    busy, wall = time.process_time() - cpu, time.monotonic() - start
    where = channel()
    bot.mention(where)
    assert len(bot.posts(where)) == 1
    answered = time.monotonic() - start
    assert recovered <= RECOVER and answered <= RECOVER + WINDOW
    assert busy < MAX_CPU_SHARE * wall, f"{busy:.2f} s of CPU in {wall:.2f} s"
    if how == "refresh_requested":  # the app closes the connection it was asked to leave
        old = bot.socket.links[links - 1]
        deadline = time.monotonic() + WAIT
        while old.open and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not old.open


def test_reconnects_when_opening_a_connection_fails_for_a_while(bot: SocketBot) -> None:
    # apps.connections.open keeps failing through the WebClient's own retries: the client's
    # monitor tries again later.
    bot.slack.fail("apps.connections.open", *[Fault.server_error(503)] * (1 + MAX_RETRIES))
    links = len(bot.socket.links)
    start = time.monotonic()
    bot.socket.cut(reset=True)
    assert bot.socket.wait_links(links + 1, timeout=RECOVER)
    assert time.monotonic() - start <= RECOVER
    opened = [c.status for c in bot.slack.find("apps.connections.open")]
    assert opened[-(2 + MAX_RETRIES) :] == [503] * (1 + MAX_RETRIES) + [200]
    where = channel()
    bot.mention(where)
    assert len(bot.posts(where)) == 1


def test_run_socket_mode_serves_with_this_handler(
    fake_desk: QuoteDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `quotedesk socket` calls run_socket_mode, which blocks in start(): here start() connects,
    # answers one mention and stops.
    answered: list[Call] = []
    with StandIn(socket_mode=True) as slack:
        assert slack.socket is not None
        standin = slack.socket

        def start(handler: SocketModeHandler) -> None:
            handler.connect()
            try:
                assert standin.wait_links(1, timeout=WAIT)
                where = channel()
                body = json.loads(event_body(mention_event(BAKU, channel=where)))
                assert standin.wait_ack(standin.send_event(body), timeout=WAIT)
                answered.extend(slack.wait_for("chat.postMessage", channel=where, timeout=WAIT))
            finally:
                assert handler.close(timeout=WAIT)

        monkeypatch.setattr(socket_mode.SocketModeHandler, "start", start)
        config = SlackConfig(bot_token="xoxb-test", app_token="xapp-test", api_url=slack.api_url)
        run_socket_mode(config=config, desk=fake_desk)
    assert len(answered) == 1


# --- conversations: follow-ups, the shortcut, the Home tab ---------------------------------


def test_a_follow_up_shortcut_and_home_tab_work_over_socket_mode(bot: SocketBot) -> None:
    where = channel()
    body = json.loads(bot.mention(where))
    root = body["event"]["ts"]
    bot.deliver(
        json.loads(
            event_body(message_event("who made those remarks?", channel=where, thread_ts=root))
        )
    )
    first, second = bot.posts(where)
    assert second.params["thread_ts"] == root
    assert any(
        element["text"].startswith("🧵 Read with this thread’s earlier question")
        for block in second.params["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
    )
    url = bot.slack.response_url("socket-shortcut")
    payload = json.loads(parse_qs(shortcut_body(BAKU, response_url=url))["payload"][0])
    envelope = bot.socket.send_interactive(payload)
    assert bot.socket.wait_ack(envelope, timeout=WAIT) is not None
    assert bot.pool.wait_idle(timeout=WAIT)
    [private] = bot.slack.wait_for(RESPONSE_METHOD, path="/response/socket-shortcut", timeout=WAIT)
    assert private.params["response_type"] == "ephemeral"
    bot.deliver(json.loads(event_body(home_opened_event(user="U0SOCKET"))))
    assert bot.slack.find("views.publish", user_id="U0SOCKET")
