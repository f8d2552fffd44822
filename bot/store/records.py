"""The bot's plain, frozen records: what :class:`~bot.store.BotStore` takes and returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Feedback:
    """A 👍 or 👎 on an answer, with the quotes the user saw.

    Attributes:
        vote: ``"up"`` or ``"down"``.
        question: The question answered.
        quotes: Each quote shown, in order: ``{"passage_id", "source"}``, and for votes
            recorded since the bot's revision b0002 also ``"collection"``, ``"start"``,
            ``"end"`` (its span in the document's stored text) and ``"text"``.
        user_id: Who voted (a Slack user id), when known.
        channel_id: Where (a Slack channel id), when known.
        as_of: The day the question was asked on, when known.
        context: The earlier questions of its thread it was read with.
        collections: The collections its channel answered from; ``None`` for all.
        created_at: When the vote was recorded (set by the store).
    """

    vote: str
    question: str
    quotes: tuple[dict[str, Any], ...]
    user_id: str | None = None
    channel_id: str | None = None
    as_of: date | None = None
    context: tuple[str, ...] = ()
    collections: tuple[str, ...] | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class AskedQuestion:
    """A question the bot answered, and where its answer went.

    Attributes:
        channel_id: The conversation (channel, private channel or DM).
        question: The question as read (cleaned, cut).
        thread_ts: The thread the answer was posted in; for an answer at the top of a DM,
            the question's own ts. ``None`` for private answers (``/ask``, the shortcut).
        answer_ts: The answer message's ts, when it is a message of its own.
        user_id: Who asked.
        as_of: The day it was asked on.
        id: Its id in the store (set by the store).
        asked_at: When it was recorded (set by the store).
    """

    channel_id: str
    question: str
    thread_ts: str | None = None
    answer_ts: str | None = None
    user_id: str | None = None
    as_of: date | None = None
    id: int | None = None
    asked_at: datetime | None = None


@dataclass(frozen=True)
class ChannelSetting:
    """What a channel answers from.

    Attributes:
        channel_id: The Slack channel id.
        collections: The collections its answers quote (sorted).
        answer_questions: A help channel: a top-level message that is a question is answered
            in its thread without a mention.
    """

    channel_id: str
    collections: tuple[str, ...]
    answer_questions: bool = False
