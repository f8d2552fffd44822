"""No event lost: the claim a replica makes on an event (and on its message) is finished once
the event is handled, and one left unfinished (the replica died before answering) is taken
over by Slack's retry after the claim deadline; an event handled is never answered again.

In process, over HTTP on the fake desk (a replica's death is a claim made in the database and
never finished); then with real ``quotedesk serve`` replicas on PostgreSQL, one killed while
its answer is on its way to Slack.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, select, update

from bot.slack.blocks import APOLOGY
from bot.slack.config import SlackConfig
from bot.slack.listeners import events
from bot.slack.listeners.events import message_key
from bot.store import BotStore
from bot.store.schema import DeliveryRow
from retrieval import QuoteDesk
from retrieval.store.database import in_utc
from standins.faults import Fault
from standins.payloads import dm_event, event_body, mention_event, message_event
from standins.web_api import StandIn
from tests.postgres import PostgresServer
from tests.slack.helpers import SECRET, Bot, DeskDouble, channel, running
from tests.slack.replicas import Event, Replica, post_event, running_replicas

BAKU = "why did Baku skip the Washington meeting?"
FOLLOW_UP = "who made those remarks?"
# Long past the default claim deadline (45 s), well within the retention (30 days).
EXPIRED = timedelta(hours=1)


def retry(number: int) -> dict[str, str]:
    """The headers of Slack's retry ``number`` of a delivery it got no answer for."""
    return {"X-Slack-Retry-Num": str(number), "X-Slack-Retry-Reason": "http_timeout"}


def new_event_id() -> str:
    return "Ev" + uuid.uuid4().hex[:16].upper()


@pytest.fixture
def records(fake_desk: QuoteDesk) -> BotStore:
    """The bot's records, in the fake desk's database (the one the ``bot`` fixture uses)."""
    return BotStore(fake_desk.store)


def claim_of(records: BotStore, delivery_id: str) -> tuple[datetime | None, datetime | None]:
    """When ``delivery_id`` was claimed and when its handling finished (None: not yet)."""
    with records.engine.connect() as connection:
        row = connection.execute(
            select(DeliveryRow.received_at, DeliveryRow.done_at).where(
                DeliveryRow.delivery_id == delivery_id
            )
        ).one()
    return in_utc(row.received_at), in_utc(row.done_at)


def claimed_ago(records: BotStore, ago: timedelta, *delivery_ids: str) -> None:
    """Make the claims on ``delivery_ids`` ``ago`` old."""
    with records.engine.begin() as connection:
        connection.execute(
            update(DeliveryRow)
            .where(DeliveryRow.delivery_id.in_(delivery_ids))
            .values(received_at=datetime.now(UTC) - ago)
        )


def asked(kind: str, bot: Bot) -> tuple[dict[str, Any], str]:
    """An event asking a question, and the channel its answer goes to: a mention, a direct
    message, or a follow-up in a thread the bot answered (that answer posted first)."""
    if kind == "dm":
        where = channel("D")
        return dm_event(BAKU, channel=where), where
    where = channel("C")
    mention = mention_event(BAKU, channel=where)
    if kind == "mention":
        return mention, where
    assert bot.event(mention).status == 200
    assert len(bot.posts(where)) == 1
    return message_event(FOLLOW_UP, channel=where, thread_ts=mention["ts"]), where


# --- in process ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["mention", "dm", "follow-up"])
def test_a_handled_event_is_finished_and_never_answered_again(
    bot: Bot, records: BotStore, kind: str
) -> None:
    event, where = asked(kind, bot)
    before = len(bot.posts(where))
    event_id = new_event_id()
    assert bot.event(event, event_id=event_id).status == 200
    assert len(bot.posts(where)) == before + 1
    claims = (event_id, message_key(where, event["ts"]))
    assert all(claim_of(records, claim)[1] is not None for claim in claims)
    claimed_ago(records, EXPIRED, *claims)
    assert bot.event(event, event_id=event_id, extra=retry(2)).status == 200
    assert len(bot.posts(where)) == before + 1


def test_an_event_whose_answer_failed_is_finished_after_the_apology(
    fake_desk: QuoteDesk, slack: StandIn, slack_config: SlackConfig, records: BotStore
) -> None:
    desk = DeskDouble(fake_desk, ask_error=RuntimeError("the index is on fire"))
    with running(desk, slack=slack, config=slack_config) as failing:
        where = channel("D")
        event, event_id = dm_event(BAKU, channel=where), new_event_id()
        assert failing.event(event, event_id=event_id).status == 200
        [apology] = failing.posts(where)
        assert apology.params["text"] == APOLOGY
        claims = (event_id, message_key(where, event["ts"]))
        assert all(claim_of(records, claim)[1] is not None for claim in claims)
        claimed_ago(records, EXPIRED, *claims)
        assert failing.event(event, event_id=event_id, extra=retry(1)).status == 200
        assert len(failing.posts(where)) == 1
        assert desk.asked == [BAKU]


def test_an_event_whose_listener_raised_is_finished_too(
    bot: Bot, records: BotStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error no listener caught: Bolt logs it; the event and its message are done all the
    same (only a process that dies leaves a claim open)."""
    raised: list[str] = []

    def broken(text: object, **_: object) -> Any:
        raised.append(str(text))
        raise RuntimeError("a bug")

    monkeypatch.setattr(events, "read_question", broken)
    where = channel("D")
    event, event_id = dm_event(BAKU, channel=where), new_event_id()
    assert bot.event(event, event_id=event_id).status == 200
    assert bot.posts(where) == [] and raised == [BAKU]
    claims = (event_id, message_key(where, event["ts"]))
    assert all(claim_of(records, claim)[1] is not None for claim in claims)
    claimed_ago(records, EXPIRED, *claims)
    assert bot.event(event, event_id=event_id, extra=retry(1)).status == 200
    assert bot.posts(where) == [] and raised == [BAKU]


@pytest.mark.parametrize("kind", ["mention", "dm", "follow-up"])
def test_claims_left_by_a_replica_that_died_are_taken_over_after_the_deadline(
    bot: Bot, records: BotStore, kind: str
) -> None:
    """Another replica claimed the event and its message, then died before answering: Slack's
    retry within the deadline is dropped (that replica may still be answering), the one after
    it is answered, once."""
    event, where = asked(kind, bot)
    before = len(bot.posts(where))
    event_id = new_event_id()
    claims = (event_id, message_key(where, event["ts"]))
    assert all(records.claim_delivery(claim) for claim in claims)
    assert bot.event(event, event_id=event_id, extra=retry(1)).status == 200
    assert len(bot.posts(where)) == before
    claimed_ago(records, EXPIRED, *claims)
    assert bot.event(event, event_id=event_id, extra=retry(2)).status == 200
    posts = bot.posts(where)
    assert len(posts) == before + 1 and posts[-1].params["text"] != APOLOGY
    assert all(claim_of(records, claim)[1] is not None for claim in claims)
    claimed_ago(records, EXPIRED, *claims)
    assert bot.event(event, event_id=event_id, extra=retry(3)).status == 200
    assert len(bot.posts(where)) == before + 1


def test_a_message_claimed_by_a_replica_that_died_is_answered_on_its_other_event(
    bot: Bot, records: BotStore
) -> None:
    """A mention comes as two events (``app_mention``, ``message``); the replica that claimed
    the message through one of them died: the other event answers it once the claim expired,
    and not before."""
    where = channel("C")
    mention = mention_event(BAKU, channel=where)
    assert records.claim_delivery(message_key(where, mention["ts"]))
    assert bot.event(mention).status == 200
    assert bot.posts(where) == []
    claimed_ago(records, EXPIRED, message_key(where, mention["ts"]))
    assert bot.event(mention).status == 200  # a new event id: its other delivery
    assert len(bot.posts(where)) == 1


# --- real replicas ------------------------------------------------------------------------------

# The replicas' claim deadline: short, for the test to wait it out, and long enough for a
# retry sent right after the first delivery to come before it.
REPLICA_DEADLINE = 5.0
# A replica's answer with the real model, on a busy machine.
ANSWER_WITHIN = 90.0
# How long the stand-in holds the doomed replica's post: past everything that follows.
HOLD = 600.0


@pytest.fixture(scope="module")
def dying_replicas(
    postgres_server: PostgresServer, slack: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[list[Replica], str]]:
    """Two ``quotedesk serve`` on a new PostgreSQL database with a short claim deadline, and
    the database's URL; stopped (those still alive) and dropped at the end."""
    name = postgres_server.create_database()
    url = postgres_server.url(name)
    try:
        with running_replicas(
            2,
            base=tmp_path_factory.mktemp("dying"),
            database_url=url,
            slack=slack,
            secret=SECRET,
            env={"QUOTEDESK_CLAIM_DEADLINE": str(REPLICA_DEADLINE)},
        ) as started:
            yield started, url
    finally:
        postgres_server.drop_database(name)


def kill(replica: Replica) -> None:
    """SIGKILL the replica: gunicorn's arbiter first (it would start a new worker), then its
    worker, which dies with its claims open and its post unanswered."""
    for pid in replica.pids():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    replica.process.wait(timeout=30)


def done_at(url: str, event_id: str) -> datetime | None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(
                select(DeliveryRow.done_at).where(DeliveryRow.delivery_id == event_id)
            )
    finally:
        engine.dispose()


def wait_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


@pytest.mark.postgres
def test_an_event_whose_replica_died_before_answering_is_answered_by_the_retry(
    dying_replicas: tuple[list[Replica], str], slack: StandIn
) -> None:
    """The first replica claims a mention and dies while posting its answer (the stand-in
    holds the post, and refuses it). Slack's retry before the deadline, to the second
    replica, is dropped; the retry after it is answered there; a retry after that answer is
    dropped: one answer in all."""
    (first, second), url = dying_replicas
    where = "C" + uuid.uuid4().hex[:10].upper()
    event_id = new_event_id()
    body = event_body(mention_event(BAKU, channel=where), event_id=event_id)
    event = Event(event_id, where, "mention", body)
    deadline = REPLICA_DEADLINE + 1.0  # and a second for the clocks of two processes
    slack.fail("chat.postMessage", Fault.late(HOLD, applied=False))
    try:
        claimed = time.monotonic()
        assert post_event(first, event, secret=SECRET).status == 200
        assert post_event(second, event, secret=SECRET, retry=1).status == 200
        assert time.monotonic() - claimed < REPLICA_DEADLINE, "too slow to retry in time"
        [held] = slack.wait_for("chat.postMessage", channel=where, timeout=ANSWER_WITHIN)
        kill(first)  # before its Web API call gives up (10 s) and it apologises
        assert not held.applied
    finally:
        while slack.next_fault("chat.postMessage") is not None:
            pass  # never held: no other test's post may be

    wait_until(claimed + deadline)
    assert slack.find("chat.postMessage", channel=where, applied=True) == []
    assert done_at(url, event_id) is None  # the claim the dead replica left open

    taken = time.monotonic()
    assert post_event(second, event, secret=SECRET, retry=2).status == 200
    calls = slack.wait_for("chat.postMessage", channel=where, count=2, timeout=ANSWER_WITHIN)
    assert len(calls) == 2, "the retry after the deadline was not answered"
    assert calls[1].applied and calls[1].params.get("text") != APOLOGY

    wait_until(taken + deadline)
    assert post_event(second, event, secret=SECRET, retry=3).status == 200
    slack.wait_idle(quiet=3.0, timeout=30.0)
    assert len(slack.find("chat.postMessage", channel=where)) == 2
    assert len(slack.find("chat.postMessage", channel=where, applied=True)) == 1
    assert done_at(url, event_id) is not None
    assert second.alive()
