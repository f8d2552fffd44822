"""The bot's plain, frozen records: what :class:`~bot.store.BotStore` takes and returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Feedback:
    """A 👍 or 👎 on an answer, with the quotes the user saw.

    Attributes:
        vote: ``"up"`` or ``"down"``.
        question: The question answered.
        quotes: ``{"passage_id", "source"}`` of each quote shown, in order.
        user_id: Who voted (a Slack user id), when known.
        channel_id: Where (a Slack channel id), when known.
    """

    vote: str
    question: str
    quotes: tuple[dict[str, Any], ...]
    user_id: str | None = None
    channel_id: str | None = None
