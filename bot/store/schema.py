"""The bot's tables: what it must remember across replicas (handled deliveries, feedback on
answers), in the corpus's database but on a ``DeclarativeBase`` of their own.

The table and column names are the ones the corpus's revisions 0001-0005 gave them, so a
database made before the bot had a history of its own keeps its rows: the bot's baseline
revision adopts the tables as they are.

These models are the bot's schema at head; the database gets there only through the revisions
of ``bot/store/migrations/versions/`` (a test checks the two agree), recorded in a version table
of their own (:data:`VERSION_TABLE`) beside the corpus's ``alembic_version``. Changing a model
means writing a revision: ``python -m bot.store.migrations revision --autogenerate --rev-id
b0002 -m "..."``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The newest revision in migrations/, which these models define; a new database gets them
# from the models, stamped with it. A test holds the two together.
BOT_REVISION = "b0003"
# Where the bot's history records its revision (the corpus's is Alembic's default,
# alembic_version).
VERSION_TABLE = "alembic_version_bot"


def utcnow() -> datetime:
    return datetime.now(UTC)


class BotBase(DeclarativeBase):
    """Declarative base of the bot's tables (the corpus's models never see them)."""


class DeliveryRow(BotBase):
    """One row per delivery claimed (a Slack ``event_id``, a message): the unique key makes
    replies exactly-once across threads, workers and hosts sharing the database.

    A claim whose handling never finished (``done_at`` still NULL: its process died) may be
    taken over once it is older than a deadline (:meth:`~bot.store.BotStore.claim_delivery`).
    """

    __tablename__ = "handled_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    # When it was claimed: first received, or taken over since. Claim deadlines and the
    # retention are counted from it.
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    # When its handling finished (answered, or acknowledged with nothing to answer); NULL
    # while it is under way, or when the process handling it died.
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class FeedbackRow(BotBase):
    """A 👍 or 👎 on an answer."""

    __tablename__ = "answer_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vote: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    # JSON list of {"passage_id", "source"}: the quotes the user saw.
    quotes: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    # The day it was asked on, the earlier questions of its thread it was read with (JSON
    # list) and the collections its channel answered from (JSON list; NULL: all), so that
    # `quotedesk feedback export` can ask it again as it was asked.
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    context: Mapped[str | None] = mapped_column(Text, nullable=True)
    collections: Mapped[str | None] = mapped_column(Text, nullable=True)


class QuestionRow(BotBase):
    """A question the bot answered, where its answer was posted: a thread's earlier questions
    (for reading a follow-up) and a person's recent ones (the Home tab) come from here, never
    from reading a channel's history."""

    __tablename__ = "answered_questions"
    __table_args__ = (
        Index("ix_answered_questions_thread", "channel_id", "thread_ts"),
        Index("ix_answered_questions_answer", "channel_id", "answer_ts"),
        Index("ix_answered_questions_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64))
    # The thread the answer was posted in (its root's ts); for an answer posted at the top of
    # a DM, the question's own ts, where a reply thread on the question starts.
    thread_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # The answer's own ts, where a reply thread on the answer starts.
    answer_ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    question: Mapped[str] = mapped_column(Text)
    as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class ChannelRow(BotBase):
    """A channel an operator mapped to collections (``quotedesk channels set``)."""

    __tablename__ = "channel_collections"

    channel_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # JSON list of collection names, sorted.
    collections: Mapped[str] = mapped_column(Text)
    # A help channel: its top-level questions are answered without a mention.
    answer_questions: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
