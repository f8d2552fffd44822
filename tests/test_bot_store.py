"""The bot's store on its own (SQLite, no model): the questions it answered and where, the
channels mapped to collections, feedback as it was asked, forgetting what is personal, and
claims on deliveries that expire unfinished (on SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.store import AskedQuestion, BotStore, ChannelSetting, Feedback
from bot.store.schema import ChannelRow, DeliveryRow, FeedbackRow, QuestionRow
from retrieval.store import Store
from retrieval.store.database import in_utc

LONG_AGO = datetime.now(UTC) - timedelta(days=90)


@pytest.fixture
def records(tmp_path: Path) -> Iterator[BotStore]:
    """The bot's store on a new SQLite database."""
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    yield BotStore(store)
    store.close()


def backdate(records: BotStore, row: Any, column: Any, moment: datetime) -> None:
    """Set ``column`` of every row of the table ``row`` to ``moment`` (the store stamps its rows
    with the time of recording)."""
    with records.engine.begin() as connection:
        connection.execute(update(row).values({column: moment}))


def ask(records: BotStore, question: str, **where: Any) -> int:
    return records.record_question(AskedQuestion(where.pop("channel_id", "C1"), question, **where))


# --- questions and threads ---------------------------------------------------------------------


def test_a_thread_started_on_the_question_has_its_questions_oldest_first(
    records: BotStore,
) -> None:
    ask(records, "why?", thread_ts="1.0", answer_ts="1.1")
    ask(records, "and then?", thread_ts="1.0", answer_ts="1.5")
    ask(records, "elsewhere?", thread_ts="2.0", answer_ts="2.1")
    ask(records, "other channel?", channel_id="C2", thread_ts="1.0", answer_ts="1.1")
    assert records.thread_questions("C1", "1.0") == ["why?", "and then?"]
    assert records.thread_questions("C2", "1.0") == ["other channel?"]
    assert records.thread_questions("C1", "9.9") == []
    assert records.thread_questions("C3", "1.0") == []


def test_a_thread_started_on_the_answer_is_found_by_the_answers_ts(records: BotStore) -> None:
    """In a DM the answer is posted at the top: a reply thread on it starts at the answer's
    ts, and the follow-ups answered there are recorded in that thread."""
    ask(records, "why?", channel_id="D1", thread_ts="5.0", answer_ts="5.1")
    assert records.thread_questions("D1", "5.1") == ["why?"]
    ask(records, "and then?", channel_id="D1", thread_ts="5.1", answer_ts="5.2")
    assert records.thread_questions("D1", "5.1") == ["why?", "and then?"]
    assert records.thread_questions("D1", "5.0") == ["why?"]
    assert records.thread_questions("D1", "5.2") == ["and then?"]


def test_before_keeps_the_questions_recorded_before_that_one(records: BotStore) -> None:
    first = ask(records, "one?", thread_ts="1.0")
    second = ask(records, "two?", thread_ts="1.0")
    third = ask(records, "three?", thread_ts="1.0")
    assert first < second < third
    assert records.thread_questions("C1", "1.0", before=third) == ["one?", "two?"]
    assert records.thread_questions("C1", "1.0", before=second) == ["one?"]
    assert records.thread_questions("C1", "1.0", before=first) == []


def test_a_question_round_trips_and_learns_where_its_answer_went(records: BotStore) -> None:
    asked = AskedQuestion(
        "C1", "what changed?", thread_ts="1.0", user_id="U1", as_of=date(2026, 12, 1)
    )
    moment = datetime.now(UTC)
    question_id = records.record_question(asked)
    found = records.question(question_id)
    assert found is not None and found.asked_at is not None
    assert found.asked_at.tzinfo is not None
    assert abs(found.asked_at - moment) < timedelta(minutes=1)
    assert found == AskedQuestion(
        "C1",
        "what changed?",
        thread_ts="1.0",
        user_id="U1",
        as_of=date(2026, 12, 1),
        id=question_id,
        asked_at=found.asked_at,
    )
    records.answered_in(question_id, "1.7", channel="D9")
    moved = records.question(question_id)
    assert moved is not None and (moved.channel_id, moved.answer_ts) == ("D9", "1.7")
    assert records.thread_questions("D9", "1.7") == ["what changed?"]
    records.forget_question(question_id)
    assert records.question(question_id) is None
    assert records.question(question_id + 100) is None


# --- recent questions --------------------------------------------------------------------------


def test_recent_questions_are_different_newest_first(records: BotStore) -> None:
    for question in ["a?", "b?", "a?", "c?", "b?"]:
        ask(records, question, user_id="U1")
    ask(records, "someone else's?", user_id="U2")
    ask(records, "nobody's?")
    recent = records.recent_questions("U1")
    assert [q.question for q in recent] == ["b?", "c?", "a?"]
    # Each is its newest asking.
    ids = [q.id or 0 for q in recent]
    assert ids == sorted(ids, reverse=True)
    assert all(q.user_id == "U1" for q in recent)
    assert [q.question for q in records.recent_questions("U2")] == ["someone else's?"]
    assert records.recent_questions("U3") == []


def test_recent_questions_keep_to_the_limit(records: BotStore) -> None:
    for n in range(8):
        ask(records, f"question {n}?", user_id="U1")
    assert [q.question for q in records.recent_questions("U1", limit=3)] == [
        "question 7?",
        "question 6?",
        "question 5?",
    ]
    assert len(records.recent_questions("U1")) == 5
    assert [q.question for q in records.recent_questions("U1", limit=1)] == ["question 7?"]


# --- channels ----------------------------------------------------------------------------------


def test_channel_settings_round_trip_and_are_replaced(records: BotStore) -> None:
    assert records.channels() == [] and records.channel("C1") is None
    records.set_channel(ChannelSetting("C1", ("news", "archive", "news")))
    records.set_channel(ChannelSetting("C0HELP", ("sports",), answer_questions=True))
    assert records.channel("C1") == ChannelSetting("C1", ("archive", "news"), False)
    assert records.channels() == [
        ChannelSetting("C0HELP", ("sports",), True),
        ChannelSetting("C1", ("archive", "news"), False),
    ]
    records.set_channel(ChannelSetting("C1", ("sports",), answer_questions=True))
    assert records.channel("C1") == ChannelSetting("C1", ("sports",), True)
    assert len(records.channels()) == 2
    assert records.channel(None) is None and records.channel("") is None


def test_unset_channel_says_whether_it_was_mapped(records: BotStore) -> None:
    records.set_channel(ChannelSetting("C1", ("news",)))
    assert records.unset_channel("C1")
    assert records.channel("C1") is None and records.channels() == []
    assert not records.unset_channel("C1")
    assert not records.unset_channel("C2")


# --- feedback ----------------------------------------------------------------------------------


def test_feedback_round_trips_with_how_it_was_asked(records: BotStore) -> None:
    quotes = (
        {
            "passage_id": 3,
            "source": "a.txt",
            "collection": "news",
            "start": 10,
            "end": 52,
            "text": "Baku — « withdrew » from the talks",
        },
    )
    asked = Feedback(
        "down",
        "and then?",
        quotes,
        user_id="U1",
        channel_id="C1",
        as_of=date(2026, 11, 30),
        context=("why did Baku skip the meeting?", "who went?"),
        collections=("archive", "news"),
    )
    everywhere = Feedback("up", "who?", (), channel_id="D1")
    nowhere = Feedback("up", "what?", (), channel_id="C2", collections=())
    moment = datetime.now(UTC)
    for feedback in (asked, everywhere, nowhere):
        records.record_feedback(feedback)
    found = records.feedback()
    assert all(f.created_at is not None and f.created_at.tzinfo is not None for f in found)
    assert all(abs(f.created_at - moment) < timedelta(minutes=1) for f in found if f.created_at)
    assert [_timeless(f) for f in found] == [asked, everywhere, nowhere]
    # No collections (every one) and an empty list of them are told apart.
    assert (found[1].collections, found[2].collections) == (None, ())
    assert found[1].context == () and found[1].as_of is None
    assert [_timeless(f) for f in records.feedback(channel_id="C1")] == [asked]


def test_feedback_since_a_moment(records: BotStore) -> None:
    records.record_feedback(Feedback("up", "old?", (), channel_id="C1"))
    backdate(records, FeedbackRow, "created_at", LONG_AGO)
    records.record_feedback(Feedback("down", "new?", (), channel_id="C1"))
    records.record_feedback(Feedback("up", "elsewhere?", (), channel_id="C2"))
    week_ago = datetime.now(UTC) - timedelta(days=7)
    assert [f.question for f in records.feedback(since=week_ago)] == ["new?", "elsewhere?"]
    assert [f.question for f in records.feedback(since=week_ago, channel_id="C1")] == ["new?"]
    assert [f.question for f in records.feedback(since=LONG_AGO)] == [
        "old?",
        "new?",
        "elsewhere?",
    ]
    assert records.feedback(since=datetime.now(UTC) + timedelta(minutes=1)) == []


# --- forgetting --------------------------------------------------------------------------------


def test_prune_history_forgets_old_questions_and_keeps_channel_settings(
    records: BotStore,
) -> None:
    old = ask(records, "long ago?", thread_ts="1.0", user_id="U1")
    records.claim_delivery("EvOld")
    records.record_feedback(Feedback("up", "long ago?", ()))
    backdate(records, QuestionRow, "asked_at", LONG_AGO)
    backdate(records, DeliveryRow, "received_at", LONG_AGO)
    backdate(records, FeedbackRow, "created_at", LONG_AGO)
    records.set_channel(ChannelSetting("C1", ("news",), answer_questions=True))
    backdate(records, ChannelRow, "updated_at", LONG_AGO)
    new = ask(records, "today?", thread_ts="1.0", user_id="U1")
    records.claim_delivery("EvNew")
    records.record_feedback(Feedback("down", "today?", ()))

    assert records.prune_history(before=datetime.now(UTC) - timedelta(days=30)) == 3
    assert records.question(old) is None and records.question(new) is not None
    assert records.thread_questions("C1", "1.0") == ["today?"]
    assert [q.question for q in records.recent_questions("U1")] == ["today?"]
    assert [f.question for f in records.feedback()] == ["today?"]
    assert records.claim_delivery("EvOld") and not records.claim_delivery("EvNew")
    assert records.channels() == [ChannelSetting("C1", ("news",), True)]
    assert records.prune_history(before=datetime.now(UTC) - timedelta(days=30)) == 0


def _timeless(feedback: Feedback) -> Feedback:
    """``feedback`` without the moment the store recorded it at."""
    return replace(feedback, created_at=None)


# --- claims on deliveries ----------------------------------------------------------------------

DEADLINE = timedelta(seconds=45)
# Threads taking over one claim at once.
RACERS = 8


@pytest.fixture
def claims(database_url: str) -> Iterator[BotStore]:
    """The bot's store on a new database: SQLite and PostgreSQL in turn."""
    store = Store(database_url)
    yield BotStore(store)
    store.close()


def claimed_at(records: BotStore, delivery_id: str, moment: datetime) -> None:
    """Set when ``delivery_id`` was claimed (as if a replica claimed it then)."""
    with records.engine.begin() as connection:
        connection.execute(
            update(DeliveryRow)
            .where(DeliveryRow.delivery_id == delivery_id)
            .values(received_at=moment)
        )


def claim_of(records: BotStore, delivery_id: str) -> tuple[datetime | None, datetime | None]:
    """When ``delivery_id`` was claimed and when it was done."""
    with records.engine.connect() as connection:
        row = connection.execute(
            select(DeliveryRow.received_at, DeliveryRow.done_at).where(
                DeliveryRow.delivery_id == delivery_id
            )
        ).one()
    return in_utc(row.received_at), in_utc(row.done_at)


def test_an_unfinished_claim_is_taken_over_after_its_deadline_only(claims: BotStore) -> None:
    assert claims.claim_delivery("Ev1", deadline=DEADLINE)
    assert not claims.claim_delivery("Ev1", deadline=DEADLINE)  # under way: a retry waits
    assert not claims.claim_delivery("Ev1")  # no deadline: never taken over
    claimed_at(claims, "Ev1", datetime.now(UTC) - DEADLINE + timedelta(seconds=5))
    assert not claims.claim_delivery("Ev1", deadline=DEADLINE)
    # Its replica died: past the deadline, a retry takes it over, counted from now.
    claimed_at(claims, "Ev1", datetime.now(UTC) - DEADLINE - timedelta(seconds=1))
    assert not claims.claim_delivery("Ev1")
    before = datetime.now(UTC)
    assert claims.claim_delivery("Ev1", deadline=DEADLINE)
    taken, done = claim_of(claims, "Ev1")
    assert taken is not None and taken >= before and done is None
    assert not claims.claim_delivery("Ev1", deadline=DEADLINE)  # the new claim holds


def test_a_finished_claim_is_never_taken_over(claims: BotStore) -> None:
    assert claims.claim_delivery("Ev1", deadline=DEADLINE)
    before = datetime.now(UTC)
    claims.finish_delivery("Ev1")
    _, done = claim_of(claims, "Ev1")
    assert done is not None and done >= before
    claimed_at(claims, "Ev1", LONG_AGO)
    assert not claims.claim_delivery("Ev1", deadline=DEADLINE)
    assert not claims.claim_delivery("Ev1", deadline=timedelta(0))
    claims.finish_delivery("Ev1")  # again: it stays done when it was first done
    assert claim_of(claims, "Ev1")[1] == done
    claims.finish_delivery("EvNever")  # never claimed: nothing to finish, nothing made
    assert claims.claim_delivery("EvNever")


def race(claims: BotStore, delivery_id: str) -> list[bool]:
    """:data:`RACERS` threads claiming ``delivery_id`` at the same moment, each with its own
    copy of the bot's store (its own connections); what each got."""
    stores = [BotStore(Store(claims.url)) for _ in range(RACERS)]
    start = threading.Barrier(RACERS)
    won: list[bool] = []
    errors: list[BaseException] = []

    def claim(records: BotStore) -> None:
        try:
            start.wait(timeout=30)
            won.append(records.claim_delivery(delivery_id, deadline=DEADLINE))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=claim, args=(records,)) for records in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        for records in stores:
            records.engine.dispose()
    assert not errors, errors
    assert len(won) == RACERS
    return won


def test_of_replicas_taking_over_one_stale_claim_exactly_one_wins(claims: BotStore) -> None:
    """Slack's retry reaching several replicas at once (and a duplicate delivery): one
    handles it, every time."""
    for n in range(3):
        delivery = f"Ev{n}"
        assert claims.claim_delivery(delivery)
        claimed_at(claims, delivery, datetime.now(UTC) - DEADLINE - timedelta(minutes=1))
        assert sorted(race(claims, delivery)) == [False] * (RACERS - 1) + [True]
        assert claim_of(claims, delivery)[1] is None  # taken, not finished
        claims.finish_delivery(delivery)
        claimed_at(claims, delivery, LONG_AGO)
        assert not any(race(claims, delivery))  # done: no one


def test_of_replicas_claiming_a_new_delivery_at_once_exactly_one_wins(claims: BotStore) -> None:
    assert sorted(race(claims, "EvNew")) == [False] * (RACERS - 1) + [True]


def test_history_pruning_counts_from_the_last_claim(claims: BotStore) -> None:
    """A claim taken over is as new as its takeover; an open claim older than the retention
    is forgotten like a finished one."""
    for delivery in ("EvTaken", "EvOpen", "EvDone"):
        claims.claim_delivery(delivery)
        claimed_at(claims, delivery, LONG_AGO)
    claims.finish_delivery("EvDone")
    assert claims.claim_delivery("EvTaken", deadline=DEADLINE)
    assert claims.prune_history(before=datetime.now(UTC) - timedelta(days=30)) == 2
    assert not claims.claim_delivery("EvTaken")
    assert claims.claim_delivery("EvOpen") and claims.claim_delivery("EvDone")
