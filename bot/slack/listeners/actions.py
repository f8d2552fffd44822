"""Buttons: "Share in channel", "More quotes", 👍 and 👎. What they act on travels in the
button's value (:class:`AnswerState`), so any running copy of the bot can handle a click.

Any other interactive request (an unknown button, a view submitted or closed, a shortcut, a
menu's options) is acknowledged and nothing more: the bot offers none of them, and Bolt's 404
would show the user an error."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.blocks import ACTION_DOWN, ACTION_MORE, ACTION_SHARE, ACTION_UP, Message, notice
from bot.slack.listeners.replies import answer, deliver
from bot.slack.state import AnswerState
from bot.store import BotStore, Feedback
from retrieval import QuoteDesk

THANKS = "Thanks for the feedback!"


def register(app: App, *, desk: QuoteDesk, records: BotStore) -> None:
    """Add the button listeners to ``app``: answers come from ``desk``, feedback goes to
    ``records``."""

    def privately(respond: Respond) -> Any:
        # An ephemeral note that leaves the message the button sits on as it is.
        return lambda m: respond(response_type="ephemeral", replace_original=False, **m)

    @app.action(ACTION_SHARE)
    def on_share(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, logger: Any
    ) -> None:
        ack()
        user = _id(body.get("user"))

        def share(message: Message) -> None:
            respond(response_type="in_channel", replace_original=False, **message)
            respond(delete_original=True)  # the private copy is no longer needed

        deliver(
            share,
            lambda: answer(desk, AnswerState.parse(action.get("value")), shared_by=user),
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
        deliver(
            lambda m: respond(replace_original=True, **m),
            lambda: answer(desk, AnswerState.parse(action.get("value")), shareable=private),
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
            shown = desk.store.passages(state.passages)
            records.record_feedback(
                Feedback(
                    vote="up" if action["action_id"] == ACTION_UP else "down",
                    question=state.question,
                    quotes=tuple(
                        {"passage_id": p, "source": shown[p].document.path if p in shown else None}
                        for p in state.passages
                    ),
                    user_id=_id(body.get("user")),
                    channel_id=_id(body.get("channel")),
                )
            )
            return notice(THANKS)

        deliver(privately(respond), store, logger=logger)

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


def _id(entity: object) -> str | None:
    """The ``id`` of a payload's ``user`` or ``channel`` object, when it has a string one."""
    value = entity.get("id") if isinstance(entity, dict) else None
    return value if isinstance(value, str) else None
