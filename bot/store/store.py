"""The bot's store: the deliveries it handled and the feedback it was given, and forgetting them
after the retention.

It lives in the corpus's database and runs on the corpus store's engine (:attr:`Store.engine`):
one database, one connection pool per process. Every method returns plain records
(:mod:`bot.store.records`), never ORM rows.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from bot.store.migrate import check, open_schema
from bot.store.records import Feedback
from bot.store.schema import DeliveryRow, FeedbackRow
from retrieval.store import Store
from retrieval.store.migrate import database_error, is_command_error


class BotStore:
    """The bot's records, in the database of ``store``.

    Opening it creates the bot's tables at the newest revision of their history when the
    database has none of them (safe when several processes open it at once), and refuses a
    database whose bot schema is behind or ahead, as :class:`Store` does for the corpus's:
    ``quotedesk db upgrade`` upgrades both. It owns no connection of its own: closing ``store``
    closes it too.

    Args:
        store: The corpus store, open on the database; its engine is shared.

    Raises:
        SchemaBehindError: The bot's schema is older than this release's (or its tables were
            made before they had a history of their own).
        SchemaAheadError: A newer release upgraded it.
        DataDirError: The database cannot be read or written.

    Example:
        >>> records = BotStore(Store("sqlite:///:memory:"))
        >>> records.claim_delivery("Ev1"), records.claim_delivery("Ev1")
        (True, False)
    """

    def __init__(self, store: Store):
        self.url = store.url
        self.engine = store.engine
        try:
            check(self.url, open_schema(self.engine))
        except SQLAlchemyError as exc:
            raise database_error(self.url, exc) from exc
        except Exception as exc:
            if is_command_error(exc):
                raise database_error(self.url, exc) from exc
            raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def claim_delivery(self, delivery_id: str) -> bool:
        """Record ``delivery_id``; False when it was recorded before (a retry or a duplicate).

        Example:
            >>> records = BotStore(Store("sqlite:///:memory:"))
            >>> records.claim_delivery("Ev1"), records.claim_delivery("Ev1")
            (True, False)
        """
        try:
            with self._sessions.begin() as session:
                session.add(DeliveryRow(delivery_id=delivery_id))
        except IntegrityError:
            return False
        return True

    def record_feedback(self, feedback: Feedback) -> None:
        with self._sessions.begin() as session:
            session.add(
                FeedbackRow(
                    vote=feedback.vote,
                    question=feedback.question,
                    quotes=json.dumps(list(feedback.quotes), ensure_ascii=False),
                    user_id=feedback.user_id,
                    channel_id=feedback.channel_id,
                )
            )

    def feedback(self, *, channel_id: str | None = None) -> list[Feedback]:
        """The feedback recorded (in a channel, when given), oldest first."""
        query = select(FeedbackRow).order_by(FeedbackRow.id)
        if channel_id is not None:
            query = query.where(FeedbackRow.channel_id == channel_id)
        with self._sessions() as session:
            return [
                Feedback(
                    vote=row.vote,
                    question=row.question,
                    quotes=tuple(json.loads(row.quotes)),
                    user_id=row.user_id,
                    channel_id=row.channel_id,
                )
                for row in session.scalars(query)
            ]

    def prune_history(self, *, before: datetime) -> int:
        """Forget handled deliveries and feedback older than ``before``; returns rows removed."""
        with self._sessions.begin() as session:
            removed = 0
            for table, column in (
                (DeliveryRow, DeliveryRow.received_at),
                (FeedbackRow, FeedbackRow.created_at),
            ):
                result = session.execute(delete(table).where(column < before))
                removed += int(getattr(result, "rowcount", 0) or 0)
            return removed
