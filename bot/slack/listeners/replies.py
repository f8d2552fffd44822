"""What every listener does: read the question, answer it, and never leave the user waiting
on nothing (an error becomes a short apology and a logged stack trace)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from bot.slack.blocks import Message, answer_message, apology_message, usage_message
from bot.slack.state import MAX_QUESTION, AnswerState
from retrieval import QuoteDesk
from retrieval.errors import EmptyQuestionError

Post = Callable[[Message], Any]

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")


def question_from(text: str, *, bot_user_id: str | None = None) -> str:
    """The question in a Slack message: without the bot's mention, Slack's escaping undone
    (the renderer escapes again), whitespace collapsed, cut to ``MAX_QUESTION`` characters.

    Example:
        >>> question_from("<@U0BOT> why &amp; how?", bot_user_id="U0BOT")
        'why & how?'
    """
    if bot_user_id:
        text = _MENTION.sub(lambda m: " " if m.group(1) == bot_user_id else m.group(0), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())[:MAX_QUESTION]


def answer(
    desk: QuoteDesk, state: AnswerState, *, shareable: bool = False, shared_by: str | None = None
) -> Message:
    """The message answering ``state``'s question (its page), or the usage help when it has
    no words."""
    try:
        result = desk.ask(state.question, k=state.k, offset=state.offset)
    except EmptyQuestionError:
        return usage_message()
    return answer_message(result, k=state.k, shareable=shareable, shared_by=shared_by)


def deliver(
    post: Post,
    build: Callable[[], Message],
    *,
    logger: logging.Logger,
    apologize: Post | None = None,
) -> None:
    """Post what ``build`` makes; when building or posting fails, log the stack trace and
    post an apology instead (through ``apologize`` when given, e.g. so as not to replace an
    answer already shown)."""
    apologize = apologize or post
    try:
        message = build()
    except Exception:
        logger.exception("could not answer")
        _apologize(apologize, logger)
        return
    try:
        post(message)
    except Exception:
        logger.exception("could not post the answer")
        _apologize(apologize, logger)


def _apologize(post: Post, logger: logging.Logger) -> None:
    try:
        post(apology_message())
    except Exception:
        logger.exception("could not post the apology either")
