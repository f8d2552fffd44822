"""The bot as a member of a conversation: which messages it answers, from which collections,
and with which of a thread's earlier questions (answering and posting are
:mod:`bot.slack.listeners.replies`').

Everything the bot knows of a thread comes from its own records (:class:`~bot.store.BotStore`:
the questions it answered and where the answers went), never from reading a channel's history.
"""

from __future__ import annotations

import re
from typing import Any

from bot.slack.state import AnswerState
from bot.store import BotStore

# Messages a person writes that may carry a question: a plain message, one with a file
# attached, and a thread reply also sent to the conversation. Every other subtype (edits,
# deletions, joins, bot messages, the bot's own posts) is not a question.
QUESTION_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})

_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^<>]*)?>")
# How a question starts when it has no question mark ("how do I ...", "is there ...").
_ASKING = re.compile(
    r"^(who|whom|whose|what|when|where|why|how|which|is|are|was|were|do|does|did|can|could|"
    r"should|would|will|has|have|had|any|anyone|anybody)\b",
    re.IGNORECASE,
)


def written_by_a_person(event: dict[str, Any], *, bot_user_id: str | None) -> bool:
    """A message a person wrote in a conversation: not a bot's, not the bot's own, not an
    edit, a deletion or any other subtype but a file shared or a thread reply sent to the
    conversation too (:data:`QUESTION_SUBTYPES`).

    Example:
        >>> written_by_a_person({"channel": "C1", "user": "U1", "text": "hi"}, bot_user_id="UB")
        True
        >>> written_by_a_person({"channel": "C1", "user": "U1", "subtype": "message_changed"},
        ...                     bot_user_id="UB")
        False
    """
    user, subtype = event.get("user"), event.get("subtype")
    return (
        isinstance(event.get("channel"), str)
        and bool(event.get("channel"))
        and (subtype is None or isinstance(subtype, str))
        and subtype in QUESTION_SUBTYPES
        and not event.get("bot_id")
        and not event.get("edited")
        and isinstance(user, str)
        and bool(user)
        and user != bot_user_id
    )


def is_direct(channel: str) -> bool:
    """Whether ``channel`` is a direct message with the bot (Slack's ids start with ``D``)."""
    return channel.startswith("D")


def mentioned(text: object) -> set[str]:
    """The user ids a message's text mentions.

    Example:
        >>> sorted(mentioned("<@U1> and <@U2|bob>, see this"))
        ['U1', 'U2']
    """
    return set(_MENTION.findall(text)) if isinstance(text, str) else set()


def addressed_elsewhere(text: object, *, bot_user_id: str | None) -> bool:
    """Whether a message mentions someone and not the bot: it is for them, not for the bot.

    Example:
        >>> addressed_elsewhere("<@U2> what do you think?", bot_user_id="UB")
        True
        >>> addressed_elsewhere("<@U2> <@UB> who said it?", bot_user_id="UB")
        False
    """
    people = mentioned(text)
    return bool(people) and bot_user_id not in people


def is_question(question: str) -> bool:
    """Whether the words of a message (as :func:`~bot.slack.listeners.replies.question_from`
    reads them) ask something: they end with a question mark, or start as a question does.

    Example:
        >>> [is_question(t) for t in ["Why did Baku skip the talks?", "how many fled",
        ...                           "thanks, that helps", "lunch at noon"]]
        [True, True, False, False]
    """
    words = question.strip()
    return words.endswith("?") or bool(_ASKING.match(words))


def scope(records: BotStore, channel: str | None) -> tuple[str, ...] | None:
    """The collections answers in ``channel`` may quote: a mapped channel's; ``None`` (all)
    for direct messages and channels no operator mapped."""
    if not channel or is_direct(channel):
        return None
    setting = records.channel(channel)
    return None if setting is None else setting.collections


def context_of(records: BotStore, state: AnswerState, *, channel: str | None) -> tuple[str, ...]:
    """The earlier questions the question behind a button was read with: those of its thread
    recorded before it. A button naming a question of another conversation (a forged value)
    gets none, so no other conversation's questions are ever shown."""
    if state.asked is None:
        return ()
    asked = records.question(state.asked)
    if asked is None or asked.channel_id != channel or asked.thread_ts is None:
        return ()
    return tuple(records.thread_questions(asked.channel_id, asked.thread_ts, before=asked.id))
