"""The bot's Home tab: what it knows (its collections, their dates, when each was last
ingested), how to ask it, and the person's recent questions, each with "Ask again".

Built with ``slack_sdk.models`` like the messages of :mod:`bot.slack.blocks`, so Slack's limits
are checked before the view is published: every collection name and question is escaped (a
``<!channel>`` in either is shown, never sent) and cut to fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.slack.blocks import ACTION_ASK_AGAIN, ELLIPSIS, MAX_TEXT, clipped
from bot.slack.state import AnswerState
from bot.store.records import AskedQuestion
from retrieval.records import CollectionSummary

TITLE = "quotedesk"
# Slack's limit on the blocks of a Home tab (a message has 50).
MAX_HOME_BLOCKS = 100
# Collections listed, one line each; the rest are counted.
MAX_COLLECTIONS = 20
# Recent questions shown, each with its button.
MAX_RECENT = 5
# Characters of a collection's name on its line (its figures follow it).
MAX_NAME = 100
# Characters of a question on its line (a question is at most 450 when read anyway).
MAX_RECENT_QUESTION = 500
# "N days ago" up to this; the date itself beyond.
RELATIVE_DAYS = 30

INTRO = (
    "I answer questions about the documents by quoting the passages that answer them, "
    "with their source and date."
)
EMPTY = "No documents yet: an operator runs `quotedesk ingest FOLDER`."
HOW_TO_ASK = "\n".join(
    (
        "*How to ask*",
        "• Mention *@quotedesk* in a channel with your question; to follow up, reply in the "
        "thread: no new mention needed.",
        "• Write to me here, in *Messages*.",
        "• `/ask QUESTION`: a private answer, which you can share in the channel.",
        "• To check a claim, use *Find quotes* on any message (⋯ → *Find quotes*).",
        "• `/sources` lists the documents.",
    )
)
NO_QUESTIONS = "Nothing yet: questions you ask me show up here."
ASK_AGAIN = "Ask again"


def home_view(
    *,
    collections: Sequence[CollectionSummary],
    recent: Sequence[AskedQuestion],
    k: int = 3,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The Home tab for one person, ready for ``views.publish``.

    Args:
        collections: What each collection holds (:meth:`QuoteDesk.summary`), by name.
        recent: The person's recent questions (:meth:`BotStore.recent_questions`); the newest
            :data:`MAX_RECENT` are shown, newest first.
        k: Quotes per page of an answer "Ask again" asks for.
        now: The moment "5 minutes ago" counts from (now when omitted).

    Raises:
        SlackObjectFormationError: The view breaks one of Slack's limits (a bug here).

    Example:
        >>> view = home_view(collections=[], recent=[])
        >>> view["type"], view["blocks"][0]["text"]["text"]
        ('home', 'quotedesk')
    """
    moment = _utc(now or datetime.now(UTC))
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=TITLE, emoji=False)),
        _context(INTRO),
        DividerBlock(),
        *_knowledge(collections, moment),
        DividerBlock(),
        _section(HOW_TO_ASK),
        DividerBlock(),
        *_recent(recent, k=k, now=moment),
    ]
    # Bounded by construction (about 20 blocks); the view's own check is the backstop.
    view = View(type="home", blocks=blocks[:MAX_HOME_BLOCKS])
    view.validate_json()
    return view.to_dict()  # validates every block too


def _knowledge(collections: Sequence[CollectionSummary], now: datetime) -> list[Block]:
    """ "What I know": the totals, then one line per collection (the first 20)."""
    documents = sum(c.documents for c in collections)
    if not documents:
        return [_section(f"*What I know*\n{EMPTY}")]
    held = [c for c in collections if c.documents]
    many = "collection" if len(held) == 1 else "collections"
    blocks: list[Block] = [
        _section(f"*What I know*\n{_count(documents, 'document')} in {len(held):,} {many}")
    ]
    lines = [_collection_line(c, now) for c in held[:MAX_COLLECTIONS]]
    chunk: list[str] = []
    for line in lines:
        if chunk and sum(len(x) + 1 for x in chunk) + len(line) > MAX_TEXT:
            blocks.append(_section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(_section("\n".join(chunk)))
    if len(held) > MAX_COLLECTIONS:
        rest = len(held) - MAX_COLLECTIONS
        blocks.append(_context(f"{ELLIPSIS} and {rest:,} more collection{'s' * (rest != 1)}"))
    return blocks


def _collection_line(summary: CollectionSummary, now: datetime) -> str:
    """``• *news* · 1,204 documents · 2022-01-03 – 2022-12-30 (12 undated) · last ingested
    5 minutes ago``"""
    name = clipped(" ".join(summary.name.split()) or "?", limit=MAX_NAME)
    parts = [f"• *{name}*", _count(summary.documents, "document")]
    if summary.first is None or summary.last is None:
        parts.append("all undated" if summary.documents > 1 else "undated")
    else:
        span = summary.first.isoformat()
        if summary.last != summary.first:
            span += f" – {summary.last.isoformat()}"
        if summary.undated:
            span += f" ({summary.undated:,} undated)"
        parts.append(span)
    if summary.ingested is not None:
        parts.append(f"last ingested {ago(summary.ingested, now)}")
    return " · ".join(parts)


def _recent(recent: Sequence[AskedQuestion], *, k: int, now: datetime) -> list[Block]:
    """ "Your recent questions", each with "Ask again"."""
    heading = _section("*Your recent questions*")
    if not recent:
        return [heading, _context(NO_QUESTIONS)]
    # Newest first (the store's order already): by when each was asked, then by its id.
    newest = sorted(
        recent,
        key=lambda q: (_utc(q.asked_at) if q.asked_at else _EPOCH, q.id or 0),
        reverse=True,
    )
    blocks: list[Block] = [heading]
    for asked in newest[:MAX_RECENT]:
        when = f"\n_asked {ago(asked.asked_at, now)}_" if asked.asked_at else ""
        text = clipped(asked.question, limit=MAX_RECENT_QUESTION) + when
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text=text),
                accessory=ButtonElement(
                    text=PlainTextObject(text=ASK_AGAIN, emoji=False),
                    action_id=ACTION_ASK_AGAIN,
                    value=AnswerState(asked.question, k=k).value(),
                ),
            )
        )
    return blocks


def ago(moment: datetime, now: datetime) -> str:
    """How long before ``now`` ``moment`` was, in words; the date itself beyond 30 days.

    A time without a zone is read as UTC (SQLite returns stored times without one).

    Example:
        >>> from datetime import timedelta
        >>> now = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
        >>> [ago(now - timedelta(**{unit: n}), now) for unit, n in
        ...     [("seconds", 20), ("minutes", 1), ("hours", 5), ("days", 2), ("days", 45)]]
        ['just now', '1 minute ago', '5 hours ago', '2 days ago', 'on 2024-01-25']
    """
    moment, now = _utc(moment), _utc(now)
    seconds = (now - moment).total_seconds()
    if seconds < 60:  # or in the future: another machine's clock
        return "just now"
    if seconds < 3600:
        return f"{_count(int(seconds // 60), 'minute')} ago"
    if seconds < 86400:
        return f"{_count(int(seconds // 3600), 'hour')} ago"
    if seconds < RELATIVE_DAYS * 86400:
        return f"{_count(int(seconds // 86400), 'day')} ago"
    return f"on {moment.date().isoformat()}"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'s' * (n != 1)}"


def _section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=mrkdwn))


def _context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=mrkdwn)])
