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

from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# The newest revision in migrations/, which these models define; a new database gets them
# from the models, stamped with it. A test holds the two together.
BOT_REVISION = "b0001"
# Where the bot's history records its revision (the corpus's is Alembic's default,
# alembic_version).
VERSION_TABLE = "alembic_version_bot"


def utcnow() -> datetime:
    return datetime.now(UTC)


class BotBase(DeclarativeBase):
    """Declarative base of the bot's tables (the corpus's models never see them)."""


class DeliveryRow(BotBase):
    """One row per delivery handled (a Slack ``event_id``): the unique key makes replies
    exactly-once across threads, workers and hosts sharing the database."""

    __tablename__ = "handled_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


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
