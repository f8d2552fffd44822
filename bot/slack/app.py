"""The Bolt app: the same for HTTP (``server``), Socket Mode (``socket``) and ``simulate``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot.slack.config import SlackConfig
from bot.slack.listeners import actions, commands, events
from bot.slack.retry import TIMEOUT, retry_handlers, with_retrying_respond
from bot.store import BotStore
from retrieval import QuoteDesk

# Quotes per Slack message; "More quotes" shows the next ones.
DEFAULT_K = 3


def build_app(
    *,
    config: SlackConfig,
    desk: QuoteDesk,
    k: int = DEFAULT_K,
    listener_executor: Executor | None = None,
    api_timeout: float = TIMEOUT,
    records: BotStore | None = None,
) -> App:
    """A Bolt app answering from ``desk``; it calls ``auth.test`` on ``config.api_url`` now.

    Its Web API and ``response_url`` calls wait ``api_timeout`` seconds for an answer and are
    retried as :mod:`bot.slack.retry` says (never a message posted twice). What it handled and
    the feedback it is given go to ``records``, by default the bot's store opened on the
    desk's (which refuses a database whose bot schema is behind).

    The bot calls it as ``build_app(config=SlackConfig.from_env(), desk=QuoteDesk())``; that
    needs Slack's credentials and Slack itself, so there is no example to run here:
    ``tests/slack/test_socket_mode.py`` builds one against the stand-in of Slack.
    """
    # Before App() calls Slack: a database the bot cannot use is refused first.
    records = records if records is not None else BotStore(desk.store)
    app = App(
        name="quotedesk",
        client=web_client(config, timeout=api_timeout),
        signing_secret=config.signing_secret,
        # Always on: Bolt skips it for Socket Mode requests (nothing to verify there), so no
        # HTTP request can ever be served unverified.
        request_verification_enabled=True,
        listener_executor=listener_executor,
    )
    app.use(with_retrying_respond(timeout=api_timeout))
    app.use(once_per_event(records))
    events.register(app, desk=desk, records=records, k=k)
    commands.register(app, desk=desk, records=records, k=k)
    actions.register(app, desk=desk, records=records, k=k)
    app.error(log_error)
    return app


def web_client(config: SlackConfig, *, timeout: float = TIMEOUT) -> WebClient:
    """The bot's Web API client, with the retry handlers of :mod:`bot.slack.retry`."""
    return WebClient(
        token=config.bot_token,
        base_url=config.api_url,
        timeout=int(max(1, timeout)),
        retry_handlers=retry_handlers(),
    )


def once_per_event(store: BotStore) -> Callable[..., BoltResponse | None]:
    """Middleware: an event whose ``event_id`` was handled before (Slack's retries, duplicate
    deliveries) is acknowledged and dropped. The database's unique key decides, so this holds
    across threads, workers and hosts."""

    def middleware(
        body: dict[str, Any], next: Callable[[], None], logger: logging.Logger
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not store.claim_delivery(str(event_id)):
            logger.info("event %s was already handled: not answering again", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return middleware


def log_error(error: Exception, body: dict[str, Any], logger: logging.Logger) -> None:
    """Bolt's last resort (listeners catch their own errors and apologise)."""
    logger.error("unhandled error for a %s request", body.get("type"), exc_info=error)
