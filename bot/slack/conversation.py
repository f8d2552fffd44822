"""The bot as a member of a conversation: which messages it answers, where, from which
collections, and what it remembers of a thread.

Everything the bot knows of a thread comes from its own records (:class:`~bot.store.BotStore`:
the questions it answered and where the answers went), never from reading a channel's history.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bot.slack.blocks import Message
from bot.slack.listeners.replies import Delivered, answer, deliver
from bot.slack.state import AnswerState
from bot.store import AskedQuestion, BotStore
from retrieval import QuoteDesk

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


@dataclass(frozen=True)
class Asking:
    """A question asked in a conversation, and where its answer goes.

    Attributes:
        question: The question as read (:func:`~bot.slack.listeners.replies.read_question`).
        cut: It was cut to ``MAX_QUESTION`` characters.
        channel: The conversation.
        ts: The message that asked it.
        thread_ts: The thread the answer is posted in; ``None`` for the top of a DM.
        user: Who asked.
        as_of: The day it was asked on.
        context: The thread's earlier questions it is read with, oldest first.
        collections: The collections it may quote (its channel's); ``None`` for all.
        quiet: Not addressed to the bot (a help channel's question, a thread's later
            message): answered only when something answers it, else left alone.
    """

    question: str
    cut: bool
    channel: str
    ts: str
    thread_ts: str | None
    user: str | None
    as_of: date | None
    context: tuple[str, ...] = ()
    collections: tuple[str, ...] | None = None
    quiet: bool = False


def reply(
    asking: Asking,
    *,
    desk: QuoteDesk,
    records: BotStore,
    k: int,
    post: Callable[[Message], Any],
    logger: logging.Logger,
) -> Delivered:
    """Answer ``asking`` through ``post`` and remember it, with where its answer went.

    The question is recorded first (its record's id goes into the answer's buttons, so their
    next page is read with the same thread) and forgotten again when no answer was posted:
    the bot keeps only questions it answered.
    """
    asked = records.record_question(
        AskedQuestion(
            channel_id=asking.channel,
            question=asking.question,
            # An answer at the top of a DM: a reply thread may start on the question.
            thread_ts=asking.thread_ts or asking.ts or None,
            user_id=asking.user,
            as_of=asking.as_of,
        )
    )
    state = AnswerState(asking.question, k=k, as_of=asking.as_of, asked=asked)
    done = deliver(
        post,
        lambda: answer(
            desk,
            state,
            cut=asking.cut,
            context=asking.context,
            collections=asking.collections,
            quiet=asking.quiet,
        ),
        logger=logger,
        quiet=asking.quiet,
    )
    if not done.posted:
        records.forget_question(asked)
    elif (ts := _field(done.response, "ts")) is not None:
        # Posted to a user's id, the answer lands in a DM whose id Slack tells only now.
        records.answered_in(asked, ts, channel=_field(done.response, "channel"))
    return done


def private_answer(
    question: str,
    *,
    cut: bool,
    channel: str | None,
    user: str | None,
    desk: QuoteDesk,
    records: BotStore,
    k: int,
    respond: Callable[..., Any],
    logger: logging.Logger,
) -> Delivered:
    """Answer privately (``/ask``, the "Find quotes" shortcut) through a ``response_url``,
    with "Share in channel", from ``channel``'s collections; remembered for the asker's Home
    tab."""
    today = datetime.now(UTC).date()
    asked = records.record_question(
        AskedQuestion(channel_id=channel or "", question=question, user_id=user, as_of=today)
    )
    state = AnswerState(question, k=k, as_of=today, asked=asked)
    done = deliver(
        lambda m: respond(response_type="ephemeral", **m),
        lambda: answer(desk, state, shareable=True, cut=cut, collections=scope(records, channel)),
        logger=logger,
    )
    if not done.posted:
        records.forget_question(asked)
    return done


def _field(response: object, name: str) -> str | None:
    """A string field of a Web API call's reply (``ts``, ``channel``), if it has one."""
    try:
        value = response.get(name) if response is not None else None  # type: ignore[attr-defined]
    except Exception:
        return None
    return value if isinstance(value, str) and value else None
