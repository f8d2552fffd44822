"""``quotedesk socket``: Socket Mode, for workspaces where Slack cannot reach a public URL.

The connection runs on ``websocket-client`` (slack_sdk's ``socket_mode.websocket_client``), not
on slack_sdk's built-in client: when the TCP connection is cut without a close frame, the
built-in client loops on ``recv()`` returning nothing, one core at 100 %, until its ping checks
give up about a minute later. Here a closed or reset connection is seen at once (``recv`` says
so and the client reconnects in under a second), and a connection that merely goes silent is
given up when a ping gets no pong within ``PING_TIMEOUT`` (at most about 12 s in all), all
while sleeping in ``select``.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.websocket_client import SocketModeClient as WebSocketClientClient

from bot.slack import metrics
from bot.slack.app import build_app
from bot.slack.config import SWITCH_INTERVAL, SlackConfig
from retrieval import QuoteDesk

# We ping every PING_INTERVAL s; no pong within PING_TIMEOUT s means the connection is dead.
# Worst case for a silent connection: the ping interval, two pong timeouts (the check runs
# every PING_TIMEOUT s) and websocket-client's 3 s wait for a close reply, then a reconnect.
PING_INTERVAL = 4.0
PING_TIMEOUT = 2.0
# Threads handling envelopes (each acks once Bolt has handed the work to its listeners).
CONCURRENCY = 10


class _Client(WebSocketClientClient):
    """slack_sdk's websocket-client Socket Mode client, with a deadline on pongs, opening one
    connection at a time.

    slack_sdk starts ``run_forever`` with ``ping_interval`` only, so a connection that goes
    silent (no FIN, no RST) would hang until TCP gives up, many minutes later.

    slack_sdk counts a session as connected only once its socket exists, which is when the
    session runner (every 0.5 s) has started it: a session just made is "not connected". Its
    monitor, which first looks the moment ``connect()`` starts it, and the old connection's
    ``on_close`` after a refresh then each opened another connection, calling the rate-limited
    ``apps.connections.open`` again. Here a session is connected until it is torn down.
    """

    def __init__(self, *, ping_timeout: float, **kwargs: Any):
        self.ping_timeout = ping_timeout
        self._broken: object | None = None  # a session that failed to run
        super().__init__(**kwargs)

    def is_connected(self) -> bool:
        """Connected, or connecting: the current session is open or not yet run."""
        session = self.current_session
        if session is None or session is self._broken:
            return False
        # websocket-client tears a session down (and sets this) when its connection ends;
        # run_forever clears it when it starts again.
        return session.sock is not None or not getattr(session, "has_done_teardown", True)

    def _run_current_session(self) -> None:
        # slack_sdk's own method, plus ping_timeout; it runs every 0.5 s while not connected.
        session = self.current_session
        if session is None:
            return
        try:
            self.logger.info("Starting to receive messages from a new connection")
            session.run_forever(
                ping_interval=self.ping_interval,
                ping_timeout=self.ping_timeout,
                http_proxy_host=self.http_proxy_host,
                http_proxy_port=self.http_proxy_port,
                http_proxy_auth=self.http_proxy_auth,
                proxy_type=self.proxy_type,
            )
            self.logger.info("Stopped receiving messages from a connection")
        except Exception as e:
            self.logger.exception(f"Failed to start or stop the current session: {e}")
            # Let the monitor see the broken session and reconnect.
            self._broken = session
            session.close()


class SocketModeHandler(BaseSocketModeHandler):
    """Bolt's Socket Mode adapter over :class:`_Client` (the same as
    ``slack_bolt.adapter.socket_mode.websocket_client.SocketModeHandler`` otherwise).

    ``connect()`` returns once connecting has started; ``start()`` blocks; ``close()`` stops.

    Args:
        app: The Bolt app; its ``client`` opens the connections (``apps.connections.open``).
        app_token: The app-level token (``xapp-…``).
        ping_interval: Seconds between pings.
        ping_timeout: Seconds to wait for a pong before reconnecting.
    """

    def __init__(
        self,
        app: App,
        *,
        app_token: str,
        ping_interval: float = PING_INTERVAL,
        ping_timeout: float = PING_TIMEOUT,
        concurrency: int = CONCURRENCY,
        logger: logging.Logger | None = None,
    ):
        self.app = app
        self.app_token = app_token
        self.client = _Client(
            app_token=app_token,
            logger=logger or app.logger,
            web_client=app.client,
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            concurrency=concurrency,
        )
        self.client.socket_mode_request_listeners.append(self.handle)  # type: ignore[arg-type]

    def handle(self, client: Any, req: SocketModeRequest) -> None:
        start = time.time()
        response = run_bolt_app(self.app, req)
        send_response(client, req, response, start)

    def close(self, *, timeout: float = 10.0) -> bool:
        """Disconnect and stop the client's threads; False when that took over ``timeout``
        seconds (slack_sdk joins its threads without a limit, so this waits on a thread)."""
        closer = threading.Thread(target=self.client.close, name="socket-mode-close", daemon=True)
        closer.start()
        closer.join(timeout)
        return not closer.is_alive()


class Health:
    """``/healthz`` in Socket Mode: 503 while loading, 200 while connected to Slack (or
    connecting), 503 while not."""

    def __init__(self) -> None:
        self.handler: SocketModeHandler | None = None

    def __call__(self) -> tuple[int, dict[str, Any]]:
        if self.handler is None:
            return 503, {"ok": False, "status": "loading"}
        if not self.handler.client.is_connected():
            return 503, {"ok": False, "status": "disconnected"}
        return 200, {"ok": True, "status": "connected"}


def run_socket_mode(
    *, config: SlackConfig, desk: QuoteDesk, host: str = "0.0.0.0", port: int | None = None
) -> None:
    """Load the model and index, connect with the app-level token and serve until stopped.

    With ``port``, ``GET /metrics`` (:mod:`bot.slack.metrics`) and ``GET /healthz``
    (:class:`Health`) are served on ``host``:``port`` from the start, in a thread.
    """
    health = Health()
    server = None
    if port is not None:
        corpus = metrics.CorpusCollector(desk)
        server = metrics.serve_metrics(host, port, corpus=corpus, health=health)
    try:
        desk.warm()
        sys.setswitchinterval(SWITCH_INTERVAL)
        app = build_app(config=config, desk=desk)
        # The app's WebClient opens the connections, so SLACK_API_URL and its retries apply.
        health.handler = SocketModeHandler(app, app_token=config.app_token)
        health.handler.start()
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
