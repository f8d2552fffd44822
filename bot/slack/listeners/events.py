"""Events: mentions in channels, messages (direct messages, later messages in threads the bot
answered, questions in help channels), the Home tab, and every other event (acknowledged, not
answered).

Which message is answered, where and from which collections is :mod:`bot.slack.conversation`'s
to say; a message reaching the bot twice (its mention and its message event) is answered
once: each claims the message first, and finishes the claim once answered. A claim left
unfinished (its replica died) may be taken over after the claim deadline, as an event's is.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient

from bot.slack.conversation import (
    addressed_elsewhere,
    is_direct,
    is_question,
    mentioned,
    scope,
    written_by_a_person,
)
from bot.slack.home import home_view
from bot.slack.listeners.replies import Asking, read_question, reply
from bot.slack.state import day_of
from bot.store import BotStore
from retrieval import QuoteDesk

# Events worth a line in the log when they come: the bot stops working after them.
NOTEWORTHY = frozenset({"app_uninstalled", "tokens_revoked"})
# The conversations whose later messages and help-channel questions the bot may answer
# unasked: public and private channels (``message.channels``, ``message.groups``).
CHANNEL_TYPES = frozenset({"channel", "group"})
# Recent questions the Home tab lists.
HOME_RECENT = 5


def register(
    app: App,
    *,
    desk: QuoteDesk,
    records: BotStore,
    k: int,
    claim_deadline: timedelta | None = None,
) -> None:
    """Add the event listeners to ``app``, the catch-all last. A message's claim that was
    never finished is taken over after ``claim_deadline`` (never, without one)."""

    def answer_message(
        event: dict[str, Any],
        *,
        thread_ts: str | None,
        earlier: Sequence[str],
        quiet: bool,
        context: BoltContext,
        client: WebClient,
        logger: logging.Logger,
    ) -> None:
        # ``earlier``: the thread's questions the bot answered, which the caller has read.
        channel, ts = event["channel"], event["ts"]
        # The message's mention and its message event both reach the bot: one answers.
        key = message_key(channel, ts)
        if not records.claim_delivery(key, deadline=claim_deadline):
            return
        try:
            question, cut = read_question(event.get("text"), bot_user_id=context.bot_user_id)
            asking = Asking(
                question=question,
                cut=cut,
                channel=channel,
                ts=ts,
                thread_ts=thread_ts,
                user=event.get("user"),
                as_of=day_of(ts),
                context=tuple(earlier),
                collections=scope(records, channel),
                quiet=quiet,
            )
            reply(
                asking,
                desk=desk,
                records=records,
                k=k,
                post=lambda m: client.chat_postMessage(channel=channel, thread_ts=thread_ts, **m),
                logger=logger,
            )
        finally:
            # Answered, or failed and apologised: either way done, never to be taken over.
            records.finish_delivery(key)

    @app.event("app_mention")
    def on_mention(
        event: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger
    ) -> None:
        channel, ts = event.get("channel"), event.get("ts")
        # Direct messages are answered by on_message; edits would answer a second time.
        if not isinstance(channel, str) or not isinstance(ts, str):
            return
        if is_direct(channel) or event.get("edited"):
            return
        thread_ts = event.get("thread_ts")
        thread_ts = thread_ts if isinstance(thread_ts, str) and thread_ts else ts
        answer_message(
            event,
            thread_ts=thread_ts,
            earlier=records.thread_questions(channel, thread_ts),
            quiet=False,
            context=context,
            client=client,
            logger=logger,
        )

    @app.event("message")
    def on_message(
        event: dict[str, Any], context: BoltContext, client: WebClient, logger: logging.Logger
    ) -> None:
        # Every message event is acknowledged here (an unhandled one would make Slack retry);
        # only some are answered.
        bot = context.bot_user_id
        if not written_by_a_person(event, bot_user_id=bot) or not isinstance(event.get("ts"), str):
            return
        channel, ts, text = event["channel"], event["ts"], event.get("text")
        thread_ts = event.get("thread_ts")
        thread_ts = thread_ts if isinstance(thread_ts, str) and thread_ts != ts else None
        kind = event.get("channel_type")
        if kind == "im":
            # Every message a person writes to the bot, in its thread when it is in one.
            answer_message(
                event,
                thread_ts=thread_ts,
                earlier=records.thread_questions(channel, thread_ts) if thread_ts else (),
                quiet=False,
                context=context,
                client=client,
                logger=logger,
            )
            return
        if kind not in CHANNEL_TYPES:
            return  # a group DM (mpim): not a place the bot answers unasked
        if bot in mentioned(text):
            return  # on_mention answers it
        if addressed_elsewhere(text, bot_user_id=bot):
            return
        if thread_ts is not None:
            # A later message in a thread the bot answered: a follow-up.
            if earlier := records.thread_questions(channel, thread_ts):
                answer_message(
                    event,
                    thread_ts=thread_ts,
                    earlier=earlier,
                    quiet=True,
                    context=context,
                    client=client,
                    logger=logger,
                )
            return
        setting = records.channel(channel)
        if setting is not None and setting.answer_questions:
            question, _ = read_question(text, bot_user_id=bot)
            if is_question(question):
                answer_message(
                    event,
                    thread_ts=ts,
                    earlier=(),  # a new thread
                    quiet=True,
                    context=context,
                    client=client,
                    logger=logger,
                )

    @app.event("app_home_opened")
    def on_home_opened(event: dict[str, Any], client: WebClient, logger: logging.Logger) -> None:
        user = event.get("user")
        if event.get("tab") != "home" or not isinstance(user, str) or not user:
            return  # the Messages tab needs nothing
        publish_home(client, desk=desk, records=records, user=user, k=k, logger=logger)

    # Last: any other event (member_joined_channel, tokens_revoked, ...). Without it Bolt
    # answers 404, which Slack counts as a failed delivery: it retries, and disables the
    # subscription after enough failures.
    @app.event(re.compile(".*"))
    def on_other_event(event: dict[str, Any], logger: logging.Logger) -> None:
        kind = event.get("type")
        if kind in NOTEWORTHY:
            logger.info("Slack sent %s: the bot's token no longer works", kind)
        else:
            logger.debug("acknowledged a %.40r event, which needs no answer", kind)


def message_key(channel: str, ts: str) -> str:
    """The key a message is claimed by, within the 64 characters a delivery id has.

    Example:
        >>> message_key("C1", "1701302400.000100")
        'message:97a190db9956a43445af10dae5a151c9a49cdf04'
    """
    return "message:" + hashlib.sha1(f"{channel}:{ts}".encode()).hexdigest()


def publish_home(
    client: WebClient,
    *,
    desk: QuoteDesk,
    records: BotStore,
    user: str,
    k: int,
    logger: logging.Logger,
) -> None:
    """Publish ``user``'s Home tab: what the bot knows, how to ask, their recent questions.
    Cheap: a summary kept per corpus version and one indexed query."""
    try:
        view = home_view(
            collections=desk.summary(),
            recent=records.recent_questions(user, limit=HOME_RECENT),
            k=k,
        )
        client.views_publish(user_id=user, view=view)
    except Exception:
        logger.exception("could not publish the Home tab")
