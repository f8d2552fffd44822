"""Slash commands: ``/ask QUESTION`` (a private answer with "Share in channel") and
``/sources``. Both acknowledge at once and answer through the command's ``response_url``."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.slack.blocks import sources_message, usage_message
from bot.slack.listeners.replies import answer, deliver, question_from
from bot.slack.state import AnswerState
from retrieval import QuoteDesk


def register(app: App, *, desk: QuoteDesk, k: int) -> None:
    """Add the command listeners to ``app``."""

    @app.command("/ask")
    def on_ask(ack: Ack, command: dict[str, Any], respond: Respond, logger: logging.Logger) -> None:
        question = question_from(command.get("text", ""))
        if not question:
            ack(**usage_message())
            return
        ack()
        deliver(
            lambda m: respond(response_type="ephemeral", **m),
            lambda: answer(desk, AnswerState(question, k=k), shareable=True),
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
