"""The bot's store: the deliveries it handled, the questions it answered (and where), the
channels mapped to collections, the feedback it was given, and forgetting what is personal
after the retention.

It lives in the corpus's database and runs on the corpus store's engine (:attr:`Store.engine`):
one database, one connection pool per process. Every method returns plain records
(:mod:`bot.store.records`), never ORM rows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from bot.store.migrate import check, open_schema
from bot.store.records import AskedQuestion, ChannelSetting, Feedback
from bot.store.schema import ChannelRow, DeliveryRow, FeedbackRow, QuestionRow, utcnow
from retrieval.store import Store, in_utc
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

    def claim_delivery(self, delivery_id: str, *, deadline: timedelta | None = None) -> bool:
        """Claim ``delivery_id`` for handling; True when this caller is to handle it.

        True when it was never claimed. Claimed before (a retry, a duplicate), it is False,
        unless ``deadline`` is given and that claim is older than it without its handling
        ever finished (:meth:`finish_delivery`): whoever claimed it died, and this caller
        takes it over, counted from now. Of callers taking over one claim at once (threads,
        replicas), exactly one wins: the update's condition is checked again under the
        row's lock (PostgreSQL) or the database's (SQLite). A finished delivery is never
        claimed again.

        Example:
            >>> records = BotStore(Store("sqlite:///:memory:"))
            >>> records.claim_delivery("Ev1"), records.claim_delivery("Ev1")
            (True, False)
            >>> records.claim_delivery("Ev1", deadline=timedelta(0))  # its claim expired
            True
            >>> records.finish_delivery("Ev1")
            >>> records.claim_delivery("Ev1", deadline=timedelta(0))  # done: never again
            False
        """
        try:
            with self._sessions.begin() as session:
                session.add(DeliveryRow(delivery_id=delivery_id))
        except IntegrityError:
            if deadline is None:
                return False
        else:
            return True
        now = utcnow()
        expired = (
            update(DeliveryRow)
            .where(
                DeliveryRow.delivery_id == delivery_id,
                DeliveryRow.done_at.is_(None),
                DeliveryRow.received_at < now - deadline,
            )
            .values(received_at=now)
        )
        with self.engine.begin() as connection:
            return connection.execute(expired).rowcount == 1

    def finish_delivery(self, delivery_id: str) -> None:
        """Note that the handling of ``delivery_id`` is over (answered, or acknowledged with
        nothing to answer): no retry takes it over any more."""
        finished = (
            update(DeliveryRow)
            .where(DeliveryRow.delivery_id == delivery_id, DeliveryRow.done_at.is_(None))
            .values(done_at=utcnow())
        )
        with self.engine.begin() as connection:
            connection.execute(finished)

    def record_feedback(self, feedback: Feedback) -> None:
        with self._sessions.begin() as session:
            session.add(
                FeedbackRow(
                    vote=feedback.vote,
                    question=feedback.question,
                    quotes=json.dumps(list(feedback.quotes), ensure_ascii=False),
                    user_id=feedback.user_id,
                    channel_id=feedback.channel_id,
                    as_of=feedback.as_of,
                    context=json.dumps(list(feedback.context), ensure_ascii=False)
                    if feedback.context
                    else None,
                    collections=None
                    if feedback.collections is None
                    else json.dumps(list(feedback.collections), ensure_ascii=False),
                )
            )

    def feedback(
        self, *, channel_id: str | None = None, since: datetime | None = None
    ) -> list[Feedback]:
        """The feedback recorded (in a channel, from a moment on, when given), oldest first."""
        query = select(FeedbackRow).order_by(FeedbackRow.id)
        if channel_id is not None:
            query = query.where(FeedbackRow.channel_id == channel_id)
        if since is not None:
            query = query.where(FeedbackRow.created_at >= since)
        with self._sessions() as session:
            return [
                Feedback(
                    vote=row.vote,
                    question=row.question,
                    quotes=tuple(json.loads(row.quotes)),
                    user_id=row.user_id,
                    channel_id=row.channel_id,
                    as_of=row.as_of,
                    context=tuple(json.loads(row.context)) if row.context else (),
                    collections=None
                    if row.collections is None
                    else tuple(json.loads(row.collections)),
                    created_at=in_utc(row.created_at),
                )
                for row in session.scalars(query)
            ]

    def record_question(self, asked: AskedQuestion) -> int:
        """Remember a question the bot answered and where; returns its id.

        Example:
            >>> records = BotStore(Store("sqlite:///:memory:"))
            >>> _ = records.record_question(AskedQuestion("C1", "why?", thread_ts="1.1"))
            >>> records.thread_questions("C1", "1.1")
            ['why?']
        """
        with self._sessions.begin() as session:
            row = QuestionRow(
                channel_id=asked.channel_id,
                thread_ts=asked.thread_ts,
                answer_ts=asked.answer_ts,
                user_id=asked.user_id,
                question=asked.question,
                as_of=asked.as_of,
            )
            session.add(row)
            session.flush()
            return int(row.id)

    def answered_in(self, question_id: int, answer_ts: str, *, channel: str | None = None) -> None:
        """Note where the answer to question ``question_id`` was posted: its message's ts,
        and the conversation when it is known only now (a DM opened by posting to a user)."""
        with self._sessions.begin() as session:
            row = session.get(QuestionRow, question_id)
            if row is not None:
                row.answer_ts = answer_ts
                if channel:
                    row.channel_id = channel

    def forget_question(self, question_id: int) -> None:
        """Forget a question recorded before its answer, when no answer was posted after all."""
        with self._sessions.begin() as session:
            session.execute(delete(QuestionRow).where(QuestionRow.id == question_id))

    def thread_questions(
        self, channel_id: str, thread_ts: str, *, before: int | None = None
    ) -> list[str]:
        """The questions the bot answered in the thread ``thread_ts`` of ``channel_id``
        (started on a question or on an answer), oldest first; ``before``: only those recorded
        before that question id. Empty: the bot never answered in that thread."""
        query = (
            select(QuestionRow.question)
            .where(
                QuestionRow.channel_id == channel_id,
                or_(QuestionRow.thread_ts == thread_ts, QuestionRow.answer_ts == thread_ts),
            )
            .order_by(QuestionRow.id)
        )
        if before is not None:
            query = query.where(QuestionRow.id < before)
        with self._sessions() as session:
            return list(session.scalars(query))

    def question(self, question_id: int) -> AskedQuestion | None:
        """The question recorded with this id, if it is still kept."""
        with self._sessions() as session:
            row = session.get(QuestionRow, question_id)
            return None if row is None else _asked(row)

    def recent_questions(self, user_id: str, *, limit: int = 5) -> list[AskedQuestion]:
        """The newest ``limit`` different questions ``user_id`` asked, newest first.

        Example:
            >>> records = BotStore(Store("sqlite:///:memory:"))
            >>> for q in ["a?", "b?", "a?"]:
            ...     _ = records.record_question(AskedQuestion("D1", q, user_id="U1"))
            >>> [q.question for q in records.recent_questions("U1")]
            ['a?', 'b?']
        """
        query = (
            select(QuestionRow)
            .where(QuestionRow.user_id == user_id)
            .order_by(QuestionRow.id.desc())
            # Enough rows to find ``limit`` different ones among repeats, never the whole
            # history of a person who asks the same thing all day.
            .limit(limit * 10)
        )
        found: dict[str, AskedQuestion] = {}
        with self._sessions() as session:
            for row in session.scalars(query):
                if row.question not in found:
                    found[row.question] = _asked(row)
                if len(found) == limit:
                    break
        return list(found.values())

    def set_channel(self, setting: ChannelSetting) -> None:
        """Map a channel to its collections (replacing what it had)."""
        with self._sessions.begin() as session:
            session.merge(
                ChannelRow(
                    channel_id=setting.channel_id,
                    collections=json.dumps(sorted(set(setting.collections)), ensure_ascii=False),
                    answer_questions=setting.answer_questions,
                    updated_at=datetime.now(UTC),
                )
            )

    def unset_channel(self, channel_id: str) -> bool:
        """Let a channel answer from every collection again; False when it was not mapped."""
        with self._sessions.begin() as session:
            result = session.execute(delete(ChannelRow).where(ChannelRow.channel_id == channel_id))
            return bool(getattr(result, "rowcount", 0))

    def channel(self, channel_id: str | None) -> ChannelSetting | None:
        """What ``channel_id`` is mapped to; ``None`` when it is not (it answers from all).

        Example:
            >>> records = BotStore(Store("sqlite:///:memory:"))
            >>> records.set_channel(ChannelSetting("C1", ("news", "archive")))
            >>> records.channel("C1").collections, records.channel("C2")
            (('archive', 'news'), None)
        """
        if not channel_id:
            return None
        with self._sessions() as session:
            row = session.get(ChannelRow, channel_id)
            return None if row is None else _setting(row)

    def channels(self) -> list[ChannelSetting]:
        """Every mapped channel, by id."""
        with self._sessions() as session:
            rows = session.scalars(select(ChannelRow).order_by(ChannelRow.channel_id))
            return [_setting(row) for row in rows]

    def prune_history(self, *, before: datetime) -> int:
        """Forget handled deliveries, answered questions and feedback older than ``before``;
        returns rows removed. Channel settings are the operator's, not personal: kept."""
        with self._sessions.begin() as session:
            removed = 0
            for table, column in (
                (DeliveryRow, DeliveryRow.received_at),
                (QuestionRow, QuestionRow.asked_at),
                (FeedbackRow, FeedbackRow.created_at),
            ):
                result = session.execute(delete(table).where(column < before))
                removed += int(getattr(result, "rowcount", 0) or 0)
            return removed


def _asked(row: QuestionRow) -> AskedQuestion:
    return AskedQuestion(
        channel_id=row.channel_id,
        question=row.question,
        thread_ts=row.thread_ts,
        answer_ts=row.answer_ts,
        user_id=row.user_id,
        as_of=row.as_of,
        id=row.id,
        asked_at=in_utc(row.asked_at),
    )


def _setting(row: ChannelRow) -> ChannelSetting:
    return ChannelSetting(
        channel_id=row.channel_id,
        collections=tuple(json.loads(row.collections)),
        answer_questions=bool(row.answer_questions),
    )
