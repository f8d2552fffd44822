"""The Bolt app: the same for HTTP (``server``), Socket Mode (``socket``) and ``simulate``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.listener.listener_completion_handler import ListenerCompletionHandler
from slack_sdk import WebClient

from bot.slack import metrics
from bot.slack.config import SlackConfig
from bot.slack.listeners import actions, commands, events
from bot.slack.log_context import LoggedApp, log_context
from bot.slack.retry import TIMEOUT, retry_handlers, with_retrying_respond
from bot.store import BotStore
from retrieval import QuoteDesk

# Quotes per Slack message; "More quotes" shows the next ones.
DEFAULT_K = 3
# The context key under which once_per_event leaves the event it claimed, for
# finish_claimed_events to finish once the listener has run.
CLAIMED_EVENT = "quotedesk_claimed_event"


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
    deadline = timedelta(seconds=config.claim_deadline)
    app = LoggedApp(  # an App whose log lines name the request (bot.slack.log_context)
        name="quotedesk",
        client=web_client(config, timeout=api_timeout),
        signing_secret=config.signing_secret,
        # Always on: Bolt skips it for Socket Mode requests (nothing to verify there), so no
        # HTTP request can ever be served unverified.
        request_verification_enabled=True,
        listener_executor=listener_executor,
    )
    app.use(log_context(desk))
    app.use(with_retrying_respond(timeout=api_timeout))
    app.use(once_per_event(records, deadline=deadline))
    app.use(metrics.count_handled)  # what once_per_event let through
    finish_claimed_events(app, records)
    events.register(app, desk=desk, records=records, k=k, claim_deadline=deadline)
    commands.register(app, desk=desk, records=records, k=k)
    actions.register(app, desk=desk, records=records, k=k)
    app.error(log_error)
    return app


def web_client(config: SlackConfig, *, timeout: float = TIMEOUT) -> WebClient:
    """The bot's Web API client, with the retry handlers of :mod:`bot.slack.retry`."""
    return metrics.CountingWebClient(  # counts each call for /metrics
        token=config.bot_token,
        base_url=config.api_url,
        timeout=int(max(1, timeout)),
        retry_handlers=retry_handlers(),
    )


def once_per_event(
    store: BotStore, *, deadline: timedelta | None = None
) -> Callable[..., BoltResponse | None]:
    """Middleware: an event (``event_id``) is handled once. Its first delivery claims it in the
    database (a unique key decides, across threads, workers and hosts); Slack's retries and
    duplicate deliveries are acknowledged and dropped, unless the claim is older than
    ``deadline`` and was never finished (:func:`finish_claimed_events`): the process that
    claimed it died before answering, and the retry takes it over. An event whose handling
    finished is never handled again."""

    def middleware(
        body: dict[str, Any],
        context: BoltContext,
        next: Callable[[], None],
        logger: logging.Logger,
    ) -> BoltResponse | None:
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            if not store.claim_delivery(str(event_id), deadline=deadline):
                logger.info("event %s was already handled: not answering again", event_id)
                metrics.count_event(metrics.event_type(body), "duplicate")
                return BoltResponse(status=200, body="")
            context[CLAIMED_EVENT] = str(event_id)
        next()
        return None

    return middleware


def finish_claimed_events(app: App, store: BotStore) -> None:
    """Mark the event :func:`once_per_event` claimed for a request finished once its listener
    has run, whether it answered, had nothing to answer or raised (listeners apologise for
    their errors): no retry takes it over then. Only a process that dies first leaves its
    claim open.

    Bolt acknowledges a request and runs its listener afterwards, in its listener executor,
    so the middleware never sees the listener end; Bolt's listener completion handler runs
    right after it, in its thread, whatever happened: this wraps the app's.
    """
    runner = app.listener_runner
    runner.listener_completion_handler = _FinishClaimedEvent(
        store, runner.listener_completion_handler
    )


class _FinishClaimedEvent(ListenerCompletionHandler):
    """The app's listener completion handler, then :meth:`BotStore.finish_delivery` of the
    request's claimed event."""

    def __init__(self, store: BotStore, inner: ListenerCompletionHandler):
        self.store = store
        self.inner = inner

    def handle(self, request: BoltRequest, response: BoltResponse | None) -> None:
        try:
            self.inner.handle(request=request, response=response)
        finally:
            event_id = request.context.get(CLAIMED_EVENT)
            if event_id:
                try:
                    self.store.finish_delivery(event_id)
                except Exception:
                    request.context.logger.exception(
                        "could not record event %s as handled: a retry may answer it again",
                        event_id,
                    )


def log_error(error: Exception, body: dict[str, Any], logger: logging.Logger) -> None:
    """Bolt's last resort (listeners catch their own errors and apologise)."""
    logger.error("unhandled error for a %s request", body.get("type"), exc_info=error)
    metrics.count_event(metrics.event_type(body), "error")
