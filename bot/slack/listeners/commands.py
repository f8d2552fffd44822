"""Slash commands: ``/ask QUESTION`` (a private answer with "Share in channel") and
``/sources``. Both acknowledge at once and answer through the command's ``response_url``;
any other command pointed at the bot gets the usage help."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.blocks import sources_message, usage_message
from bot.slack.listeners.replies import answer, deliver, read_question
from bot.slack.state import AnswerState
from retrieval import QuoteDesk


def register(app: App, *, desk: QuoteDesk, k: int) -> None:
    """Add the command listeners to ``app``."""

    @app.command("/ask")
    def on_ask(ack: Ack, command: dict[str, Any], respond: Respond, logger: logging.Logger) -> None:
        question, cut = read_question(command.get("text"))
        if not question:
            ack(**usage_message())
            return
        ack()
        deliver(
            lambda m: respond(response_type="ephemeral", **m),
            lambda: answer(desk, AnswerState(question, k=k), shareable=True, cut=cut),
            logger=logger,
        )

    @app.command("/sources")
    def on_sources(ack: Ack, respond: Respond, logger: logging.Logger) -> None:
        ack()
        deliver(
            lambda m: respond(response_type="ephemeral", **m),
            lambda: sources_message(desk.sources()),
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
