"""Slash commands: ``/ask QUESTION`` (a private answer with "Share in channel") and
``/sources``. Both acknowledge at once and answer through the command's ``response_url``;
any other command pointed at the bot gets the usage help."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.blocks import sources_message, usage_message
from bot.slack.conversation import scope
from bot.slack.listeners.replies import deliver, private_answer, read_question
from bot.store import BotStore
from retrieval import QuoteDesk


def register(app: App, *, desk: QuoteDesk, records: BotStore, k: int) -> None:
    """Add the command listeners to ``app``."""

    @app.command("/ask")
    def on_ask(ack: Ack, command: dict[str, Any], respond: Respond, logger: logging.Logger) -> None:
        question, cut = read_question(command.get("text"))
        if not question:
            ack(**usage_message())
            return
        ack()
        private_answer(
            question,
            cut=cut,
            channel=_text(command.get("channel_id")),
            user=_text(command.get("user_id")),
            desk=desk,
            records=records,
            k=k,
            respond=respond,
            logger=logger,
        )

    @app.command("/sources")
    def on_sources(
        ack: Ack, command: dict[str, Any], respond: Respond, logger: logging.Logger
    ) -> None:
        ack()
        # A mapped channel lists only the collections it answers from.
        deliver(
            lambda m: respond(response_type="ephemeral", **m),
            lambda: sources_message(
                desk.sources(collections=scope(records, _text(command.get("channel_id"))))
            ),
            logger=logger,
        )

    # A command the manifest does not name (renamed in the app's settings, say): the usage
    # help, privately, rather than Bolt's 404, which the user sees as "dispatch_failed".
    @app.command(re.compile(".*"))
    def on_other_command(ack: Ack, command: dict[str, Any], logger: logging.Logger) -> None:
        logger.info(
            "answered the unknown command %.40r with the usage help", command.get("command")
        )
        ack(**usage_message())


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
