"""The bot's tables, on the core's declarative base: delivered events and feedback."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from retrieval.store import Base, utcnow


class SlackEventRow(Base):
    """One row per Slack event handled: the unique ``event_id`` makes replies exactly-once,
    across threads, workers and hosts sharing the database."""

    __tablename__ = "slack_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class FeedbackRow(Base):
    """A 👍 or 👎 on an answer."""

    __tablename__ = "slack_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vote: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    # JSON list of {"passage_id", "source"}: the quotes the user saw.
    quotes: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


def create_tables(engine: Engine) -> None:
    tables = [Base.metadata.tables[name] for name in ("slack_events", "slack_feedback")]
    Base.metadata.create_all(engine, tables=tables)


def claim_event(engine: Engine, event_id: str) -> bool:
    """Record ``event_id``; False when it was recorded before (a retry or a duplicate).

    Example:
        >>> claim_event(engine, "Ev1"), claim_event(engine, "Ev1")
        (True, False)
    """
    try:
        with Session(engine) as session, session.begin():
            session.add(SlackEventRow(event_id=event_id))
    except IntegrityError:
        return False
    return True


def record_feedback(
    engine: Engine,
    *,
    vote: str,
    question: str,
    quotes: Sequence[dict[str, object]],
    user_id: str | None,
    channel_id: str | None,
) -> None:
    with Session(engine) as session, session.begin():
        session.add(
            FeedbackRow(
                vote=vote,
                question=question,
                quotes=json.dumps(list(quotes), ensure_ascii=False),
                user_id=user_id,
                channel_id=channel_id,
            )
        )
