"""Mentions in channels (answered in the thread), direct messages, and every other event
(acknowledged, not answered)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.listeners.replies import answer, deliver, read_question
from bot.slack.state import AnswerState, day_of
from retrieval import QuoteDesk

# Direct messages a person writes that carry a question: a plain message, one with a file
# attached, and a thread reply also sent to the conversation. Every other subtype (edits,
# deletions, joins, bot messages, the bot's own posts) is not a question.
QUESTION_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})
# Events worth a line in the log when they come: the bot stops working after them.
NOTEWORTHY = frozenset({"app_uninstalled", "tokens_revoked"})


def register(app: App, *, desk: QuoteDesk, k: int) -> None:
    """Add the event listeners to ``app``, the catch-all last."""

    @app.event("app_mention")
    def on_mention(
        event: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger
    ) -> None:
        channel, ts = event.get("channel"), event.get("ts")
        # Direct messages are answered by on_message; edits would answer a second time.
        if not isinstance(channel, str) or not isinstance(ts, str):
            return
        if channel.startswith("D") or event.get("edited"):
            return
        thread_ts = event.get("thread_ts")
        thread_ts = thread_ts if isinstance(thread_ts, str) and thread_ts else ts
        question, cut = read_question(event.get("text"), bot_user_id=context.bot_user_id)
        deliver(
            lambda m: client.chat_postMessage(channel=channel, thread_ts=thread_ts, **m),
            lambda: answer(desk, AnswerState(question, k=k, as_of=day_of(ts)), cut=cut),
            logger=logger,
        )

    @app.event("message")
    def on_message(
        event: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger
    ) -> None:
        # Every message event is acknowledged here (an unhandled one would make Slack retry);
        # only a person's new direct message is answered.
        if not is_question_dm(event, bot_user_id=context.bot_user_id):
            return
        channel, thread_ts = event["channel"], event.get("thread_ts")
        thread_ts = thread_ts if isinstance(thread_ts, str) and thread_ts else None
        question, cut = read_question(event.get("text"), bot_user_id=context.bot_user_id)
        as_of = day_of(event.get("ts"))
        deliver(
            lambda m: client.chat_postMessage(channel=channel, thread_ts=thread_ts, **m),
            lambda: answer(desk, AnswerState(question, k=k, as_of=as_of), cut=cut),
            logger=logger,
        )

    # Last: any other event (app_home_opened, member_joined_channel, tokens_revoked, ...).
    # Without it Bolt answers 404, which Slack counts as a failed delivery: it retries, and
    # disables the subscription after enough failures.
    @app.event(re.compile(".*"))
    def on_other_event(event: dict[str, Any], logger: logging.Logger) -> None:
        kind = event.get("type")
        if kind in NOTEWORTHY:
            logger.info("Slack sent %s: the bot's token no longer works", kind)
        else:
            logger.debug("acknowledged a %.40r event, which needs no answer", kind)


def is_question_dm(event: dict[str, Any], *, bot_user_id: str | None) -> bool:
    """A direct message written by a person: not a bot's, not the bot's own, not an edit,
    a deletion or any other subtype but a file shared with it or a thread reply sent to the
    conversation too (:data:`QUESTION_SUBTYPES`).

    Example:
        >>> is_question_dm({"channel_type": "im", "channel": "D1", "user": "U1", "text": "hi"},
        ...                bot_user_id="U0BOT")
        True
    """
    user, subtype = event.get("user"), event.get("subtype")
    return (
        event.get("channel_type") == "im"
        and isinstance(event.get("channel"), str)
        and bool(event.get("channel"))
        and (subtype is None or isinstance(subtype, str))
        and subtype in QUESTION_SUBTYPES
        and not event.get("bot_id")
        and not event.get("edited")
        and isinstance(user, str)
        and bool(user)
        and user != bot_user_id
    )
