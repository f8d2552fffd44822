"""Mentions in channels (answered in the thread) and direct messages."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.listeners.replies import answer, deliver, question_from
from bot.slack.state import AnswerState, day_of
from retrieval import QuoteDesk


def register(app: App, *, desk: QuoteDesk, k: int) -> None:
    """Add the event listeners to ``app``."""

    @app.event("app_mention")
    def on_mention(
        event: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger
    ) -> None:
        channel, ts = event.get("channel"), event.get("ts")
        # Direct messages are answered by on_message; edits would answer a second time.
        if not channel or not ts or channel.startswith("D") or event.get("edited"):
            return
        thread_ts = event.get("thread_ts") or ts
        question = question_from(event.get("text", ""), bot_user_id=context.bot_user_id)
        deliver(
            lambda m: client.chat_postMessage(channel=channel, thread_ts=thread_ts, **m),
            lambda: answer(desk, AnswerState(question, k=k, as_of=day_of(event.get("ts")))),
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
        question = question_from(event.get("text", ""), bot_user_id=context.bot_user_id)
        deliver(
            lambda m: client.chat_postMessage(channel=channel, thread_ts=thread_ts, **m),
            lambda: answer(desk, AnswerState(question, k=k, as_of=day_of(event.get("ts")))),
            logger=logger,
        )


def is_question_dm(event: dict[str, Any], *, bot_user_id: str | None) -> bool:
    """A direct message written by a person: not a bot's, not the bot's own, not an edit,
    a deletion or any other subtype.

    Example:
        >>> is_question_dm({"channel_type": "im", "channel": "D1", "user": "U1", "text": "hi"},
        ...                bot_user_id="U0BOT")
        True
    """
    return (
        event.get("channel_type") == "im"
        and bool(event.get("channel"))
        and not event.get("subtype")
        and not event.get("bot_id")
        and not event.get("edited")
        and bool(event.get("user"))
        and event.get("user") != bot_user_id
    )
