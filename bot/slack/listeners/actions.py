"""Buttons: "Share in channel", "More quotes", 👍 and 👎 under answers, "Ask again" on the
Home tab; and the "Find quotes" message shortcut. What a button acts on travels in its value
(:class:`AnswerState`), so any running copy of the bot can handle a click; the collections it
may quote come from where it was clicked (the channel's), never from the value.

Any other interactive request (an unknown button, a view submitted or closed, another
shortcut, a menu's options) is acknowledged and nothing more: the bot offers none of them, and
Bolt's 404 would show the user an error."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.logs import personal
from bot.slack.blocks import (
    ACTION_ASK_AGAIN,
    ACTION_DOWN,
    ACTION_MORE,
    ACTION_SHARE,
    ACTION_UP,
    Message,
    notice,
)
from bot.slack.conversation import context_of, scope
from bot.slack.listeners.events import publish_home
from bot.slack.listeners.replies import (
    Asking,
    answer,
    deliver,
    private_answer,
    read_question,
    reply,
)
from bot.slack.state import AnswerState, InvalidStateError
from bot.store import BotStore, Feedback
from retrieval import QuoteDesk

THANKS = "Thanks for the feedback!"
# The message shortcut's callback id (slack/manifest.yml).
FIND_QUOTES = "find_quotes"
NO_WORDS = "That message has no words to look up: the shortcut quotes what a message says."


def register(app: App, *, desk: QuoteDesk, records: BotStore, k: int) -> None:
    """Add the button and shortcut listeners to ``app``: answers come from ``desk``,
    feedback goes to ``records``."""

    def page(value: object, *, channel: str | None, **shown: Any) -> Message | None:
        # The page a button asks for, read as its first page was: with its thread's earlier
        # questions, from the collections of the channel it was clicked in.
        state = AnswerState.parse(value)
        return answer(
            desk,
            state,
            context=context_of(records, state, channel=channel),
            collections=scope(records, channel),
            **shown,
        )

    def privately(respond: Respond) -> Any:
        # An ephemeral note that leaves the message the button sits on as it is.
        return lambda m: respond(response_type="ephemeral", replace_original=False, **m)

    @app.action(ACTION_SHARE)
    def on_share(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, logger: Any
    ) -> None:
        ack()
        user, channel = _id(body.get("user")), _id(body.get("channel"))

        def share(message: Message) -> None:
            respond(response_type="in_channel", replace_original=False, **message)
            respond(delete_original=True)  # the private copy is no longer needed

        deliver(
            share,
            lambda: page(action.get("value"), channel=channel, shared_by=user),
            logger=logger,
            aside=privately(respond),
        )

    @app.action(ACTION_MORE)
    def on_more(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, logger: Any
    ) -> None:
        ack()
        # A private answer keeps its "Share in channel" button on the next page.
        container = body.get("container")
        private = isinstance(container, dict) and container.get("is_ephemeral") is True
        channel = _id(body.get("channel"))
        deliver(
            lambda m: respond(replace_original=True, **m),
            lambda: page(action.get("value"), channel=channel, shareable=private),
            logger=logger,
            aside=privately(respond),
        )

    @app.action(re.compile(f"^({ACTION_UP}|{ACTION_DOWN})$"))
    def on_feedback(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        logger: logging.Logger,
    ) -> None:
        ack()

        def store() -> Message:
            state = AnswerState.parse(action.get("value"))
            channel = _id(body.get("channel"))
            records.record_feedback(
                Feedback(
                    vote="up" if action["action_id"] == ACTION_UP else "down",
                    question=state.question,
                    quotes=_shown(desk, state.passages),
                    user_id=_id(body.get("user")),
                    channel_id=channel,
                    as_of=state.as_of,
                    context=context_of(records, state, channel=channel),
                    collections=scope(records, channel),
                )
            )
            return notice(THANKS)

        deliver(privately(respond), store, logger=logger)

    @app.shortcut(FIND_QUOTES)
    def on_find_quotes(
        ack: Ack, body: dict[str, Any], respond: Respond, logger: logging.Logger
    ) -> None:
        # A claim someone posted, checked privately against the archive.
        ack()
        message = body.get("message")
        text = message.get("text") if isinstance(message, dict) else None
        question, cut = read_question(text)
        if not question:
            privately(respond)(notice(NO_WORDS))
            return
        private_answer(
            question,
            cut=cut,
            channel=_id(body.get("channel")),
            user=_id(body.get("user")),
            desk=desk,
            records=records,
            k=k,
            respond=respond,
            logger=logger,
        )

    @app.action(ACTION_ASK_AGAIN)
    def on_ask_again(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient, logger: Any
    ) -> None:
        # From the Home tab: the answer goes to the person's messages with the bot, where a
        # thread on it takes follow-ups.
        ack()
        user = _id(body.get("user"))
        if user is None:
            return
        try:
            state = AnswerState.parse(action.get("value"))
        except InvalidStateError as error:
            logger.warning("ignored a button not of this bot's", extra=personal(error))
            return
        today = datetime.now(UTC).date()
        reply(
            # Posted to the user's id: Slack puts it in their messages with the bot.
            Asking(
                question=state.question,
                cut=False,
                channel=user,
                ts="",
                thread_ts=None,
                user=user,
                as_of=today,
            ),
            desk=desk,
            records=records,
            k=k,
            post=lambda m: client.chat_postMessage(channel=user, **m),
            logger=logger,
        )
        publish_home(client, desk=desk, records=records, user=user, k=k, logger=logger)

    # Last: what the bot never offers. Each is acknowledged with an empty 200.
    anything = re.compile(".*")

    @app.action(anything)
    @app.view(anything)
    @app.view_closed(anything)
    @app.shortcut(anything)
    def on_other_interaction(ack: Ack, body: dict[str, Any], logger: logging.Logger) -> None:
        ack()
        logger.debug("acknowledged a %.40r request, which needs no answer", body.get("type"))

    @app.options(anything)
    def on_options(ack: Ack) -> None:
        ack(options=[])


def _shown(desk: QuoteDesk, passages: tuple[int, ...]) -> tuple[dict[str, Any], ...]:
    """The quotes a vote was given on, as they stand in their documents: enough to find the
    same passage again after the corpus is ingested anew (``quotedesk feedback export``)."""
    found = desk.store.passages(passages)
    shown: list[dict[str, Any]] = []
    for passage_id in passages:
        passage = found.get(passage_id)
        if passage is None:
            shown.append({"passage_id": passage_id, "source": None})
            continue
        source = passage.document.source
        shown.append(
            {
                "passage_id": passage_id,
                "source": source.path,
                "collection": source.collection,
                "start": passage.start,
                "end": passage.end,
                "text": passage.text,
            }
        )
    return tuple(shown)


def _id(entity: object) -> str | None:
    """The ``id`` of a payload's ``user`` or ``channel`` object, when it has a string one."""
    value = entity.get("id") if isinstance(entity, dict) else None
    return value if isinstance(value, str) else None
