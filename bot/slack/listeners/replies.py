"""What every listener does: read the question, answer it, and never leave the user waiting
on nothing. Something the asker can fix (a :class:`UserError`) gets its hint, an empty question
the usage help, a button value this bot did not write one warning line and an apology, and any
other error a short apology and a logged stack trace. A question asked in a conversation is
remembered with where its answer went (:func:`reply`, :func:`private_answer`), so that its
thread's follow-ups and its asker's Home tab can find it."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bot.logs import personal
from bot.slack import metrics
from bot.slack.blocks import (
    Message,
    answer_message,
    apology_message,
    hint_message,
    usage_message,
)
from bot.slack.conversation import scope
from bot.slack.state import MAX_QUESTION, AnswerState, InvalidStateError
from bot.store import AskedQuestion, BotStore
from retrieval import QuoteDesk
from retrieval.errors import EmptyQuestionError, UserError
from retrieval.query import clean_question
from retrieval.settings import available_cores

Post = Callable[[Message], Any]


@dataclass(frozen=True)
class Delivered:
    """What :func:`deliver` did: ``posted`` whether the answer went out (not a hint, an
    apology or nothing), and ``response`` what posting it returned (the Web API's reply)."""

    posted: bool
    response: Any = None


# Answers built at once in a process: one a core. Building one is CPU work (the encoder, the
# searches, ranking, the message); a third at once on two cores only slows the other two and
# the threads acknowledging Slack. Posting is left outside: a listener waiting on Slack's Web
# API (a slow post, a retry) holds up no other answer.
ANSWERING = threading.BoundedSemaphore(available_cores())

# Slack's markup: <@U…>, <#C…>, <!…>, <url>, each optionally with "|label". Text a person
# typed never matches: Slack sends its "<" and ">" as "&lt;" and "&gt;".
_MARKUP = re.compile(r"<([^<>]*)>")
_ENTITY = re.compile(r"&(lt|gt|amp);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&"}


def question_from(
    text: object, *, bot_user_id: str | None = None, limit: int | None = MAX_QUESTION
) -> str:
    """The question in a Slack message, as plain words.

    Slack's markup becomes what it shows: a mention of the bot, of a user without a label, of
    a channel without a name and the broadcasts (``<!channel>``, ``<!here>``, ``<!everyone>``)
    become nothing; a labelled user, channel, user group or date becomes its label; a link
    becomes its label, or its address when it has none. Then Slack's escaping is undone (the
    renderer escapes again, so typed ``<!channel>`` is echoed, never sent as a ping),
    control characters made spaces and bidirectional overrides dropped
    (:func:`~retrieval.query.clean_question`), whitespace collapsed and the result cut to
    ``limit`` characters.

    Args:
        text: The message text as Slack sends it (event ``text``, command ``text``); anything
            but a string (a payload without text) is no question.
        bot_user_id: The bot's own user id: its mention is dropped even with a label.
        limit: Characters kept (``MAX_QUESTION``); ``None`` keeps all, to tell whether a
            question was cut.

    Example:
        >>> question_from(
        ...     "<@U0BOT> <!here> did <@U1|alice> post <http://x.example|this> in "
        ...     "<#C1|general>? &lt;b&gt; &amp; <mailto:a@b.c|a@b.c>",
        ...     bot_user_id="U0BOT",
        ... )
        'did alice post this in general? <b> & a@b.c'
    """

    def words(match: re.Match[str]) -> str:
        inner, _, label = match.group(1).partition("|")
        if inner.startswith("@"):
            return "" if inner[1:] == bot_user_id else label
        if inner.startswith(("#", "!")):  # channels, broadcasts, user groups, dates
            return label
        # A link: what it shows; an e-mail address without its scheme.
        return label or inner.removeprefix("mailto:")

    if not isinstance(text, str):
        return ""
    text = _MARKUP.sub(words, text)
    # One pass, so "&amp;lt;" (a typed "&lt;") becomes "&lt;", not "<".
    text = _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)
    question = " ".join(clean_question(text).split())
    return question if limit is None else question[:limit]


def read_question(text: object, *, bot_user_id: str | None = None) -> tuple[str, bool]:
    """The question in a Slack message (see :func:`question_from`), and whether it was cut to
    ``MAX_QUESTION`` characters (the answer then says so).

    Example:
        >>> read_question("why? " * 200)[1]
        True
    """
    whole = question_from(text, bot_user_id=bot_user_id, limit=None)
    return whole[:MAX_QUESTION], len(whole) > MAX_QUESTION


def answer(
    desk: QuoteDesk,
    state: AnswerState,
    *,
    shareable: bool = False,
    shared_by: str | None = None,
    cut: bool = False,
    context: Sequence[str] = (),
    collections: Sequence[str] | None = None,
    quiet: bool = False,
) -> Message | None:
    """The message answering ``state``'s question (its page); ``cut``: the question was cut
    to ``MAX_QUESTION`` characters, and the message says so. ``context``: the thread's
    earlier questions it is read with; ``collections``: the only ones it may quote (its
    channel's). ``quiet``: nothing (``None``) rather than "nothing found", for a message
    the bot answers unasked (a help channel's question, a thread's later message).

    Raises:
        UserError: The question can't be answered as asked (no words, an unreadable filter);
            :func:`deliver` turns it into the usage help or its hint.
    """
    started = time.perf_counter()
    with metrics.answering():
        result = desk.ask(
            state.question,
            k=state.k,
            offset=state.offset,
            as_of=state.as_of,
            context=context,
            collections=collections,
        )
    metrics.observe_answer(result, time.perf_counter() - started)
    if quiet and not result.answered:
        return None
    return answer_message(
        result,
        k=state.k,
        shareable=shareable,
        shared_by=shared_by,
        cut=cut,
        asked=state.asked,
    )


def deliver(
    post: Post,
    build: Callable[[], Message | None],
    *,
    logger: logging.Logger,
    aside: Post | None = None,
    quiet: bool = False,
) -> Delivered:
    """Post what ``build`` makes (nothing when it makes ``None``). Anything else goes through
    ``aside`` when given (e.g. a private note that leaves an answer already shown, or not yet
    shared, as it is), or nowhere when ``quiet`` (a message the bot answers unasked gets an
    answer or silence, never a hint or the usage help):

    - a :class:`UserError` from ``build``: its hint, or the usage help for an empty question;
    - an :class:`InvalidStateError` (a forged or outdated button value): one line logged at
      WARNING, no stack trace (it is not a bug here), and the apology;
    - any other error from building or posting: the stack trace is logged, an apology posted.
    """
    aside = aside or post
    if quiet:
        aside = _nowhere
    try:
        with ANSWERING:
            message = build()
    except EmptyQuestionError:
        _post(aside, usage_message(), logger)
        return Delivered(False)
    except InvalidStateError as error:
        # The value, which holds a question, only where questions may be logged (bot.logs).
        logger.warning("ignored a button not of this bot's", extra=personal(error))
        _post(aside, apology_message(), logger)
        return Delivered(False)
    except UserError as error:  # the whole family: the asker can act on its message
        logger.info(
            "not answered, the asker can fix it (%s)", type(error).__name__, extra=personal(error)
        )
        _post(aside, hint_message(str(error)), logger)
        return Delivered(False)
    except Exception:
        logger.exception("could not answer")
        _post(aside, apology_message(), logger)
        return Delivered(False)
    if message is None:
        return Delivered(False)
    try:
        response = post(message)
    except Exception:
        logger.exception("could not post the answer")
        _post(aside, apology_message(), logger)
        return Delivered(False)
    return Delivered(True, response)


def _nowhere(message: Message) -> None:
    """Where nothing is posted."""


def _post(post: Post, message: Message, logger: logging.Logger) -> None:
    try:
        post(message)
    except Exception:
        text = str(message.get("text", ""))
        logger.exception(
            "could not post this either (%d characters)", len(text), extra=personal(text[:80])
        )


# --- answering in a conversation, and remembering it ---------------------------------------


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
