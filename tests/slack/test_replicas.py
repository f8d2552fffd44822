"""Several replicas (the issue's item 4) and a reduced soak (item 10), with real processes: two
``quotedesk serve`` started at the same moment on one fresh PostgreSQL database, against one
stand-in of Slack. The full soak is ``python -m tests.slack.soak`` (see BENCHMARKS.md).

Both tests share the two replicas (starting them takes most of a minute); the burst runs first.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from bot.cli import slack as slack_cli
from standins.payloads import event_body, mention_event, message_event
from standins.web_api import StandIn
from standins.workspace import BOT_USER_ID
from tests.postgres import PostgresServer
from tests.slack.helpers import SECRET
from tests.slack.replicas import (
    REQUEST_TIMEOUT,
    Event,
    Replica,
    make_events,
    post_event,
    running_replicas,
    settle,
)
from tests.slack.soak import soak

BURST = 40
BAKU = "why did Baku skip the Washington meeting?"


@pytest.fixture(scope="module")
def replicas(
    postgres_server: PostgresServer, slack: StandIn, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Replica]]:
    """Two ``quotedesk serve`` started at the same moment on a new, empty database (neither
    finds a corpus: both ingest the seeds), both healthy; stopped and dropped at the end."""
    name = postgres_server.create_database()
    try:
        with running_replicas(
            2,
            base=tmp_path_factory.mktemp("replicas"),
            database_url=postgres_server.url(name),
            slack=slack,
            secret=SECRET,
        ) as started:
            yield started
    finally:
        postgres_server.drop_database(name)


@pytest.mark.postgres
def test_two_replicas_started_together_answer_each_event_once(
    replicas: list[Replica], slack: StandIn
) -> None:
    """Both came up on the fresh database; every event is delivered to both, and retried to
    both, all at once: each is answered exactly once."""
    events = make_events(BURST, tag=uuid.uuid4().hex[:8].upper())
    # The four deliveries of an event one after the other: they race each other.
    deliveries = [
        (replica, event, retry) for event in events for retry in (0, 1) for replica in replicas
    ]
    with ThreadPoolExecutor(max_workers=16) as pool:
        futures = [
            pool.submit(post_event, replica, event, secret=SECRET, retry=retry)
            for replica, event, retry in deliveries
        ]
        sent = [future.result(timeout=4 * REQUEST_TIMEOUT) for future in futures]
    assert len(sent) == 4 * BURST
    refused = [s for s in sent if s.status != 200]
    assert not refused, refused[:5]

    seen = settle(slack, events, quiet=3.0, stall=60.0, timeout=240.0)
    assert seen.lost == [], f"{len(seen.lost)} of {BURST} events never answered"
    assert seen.doubled == [], {event_id: seen.counts[event_id] for event_id in seen.doubled}
    assert seen.posted == BURST
    assert seen.apologies == 0
    assert all(replica.alive() for replica in replicas)


@pytest.mark.postgres
def test_reduced_soak_has_no_errors_duplicates_or_losses(
    replicas: list[Replica], slack: StandIn
) -> None:
    """The soak of BENCHMARKS.md, smaller: 200 events at concurrency 16, each to one replica
    in turn and a tenth retried to the other. Nothing is asserted about time or memory here
    (shared CI machines); the full run checks memory."""
    result = soak(replicas, slack, 200, 16, secret=SECRET)
    assert result.http_errors == 0, result.error_samples
    assert result.duplicates == 0
    assert result.lost == 0
    assert result.apologies == 0
    assert result.replicas_died == 0
    assert result.answered == result.replies == result.events == 200
    assert result.retries > 0 and result.requests == 200 + result.retries
    # What the replicas' /metrics counted agrees with what was sent and seen, exactly.
    assert result.counted == {
        "events handled": 200,
        "duplicates dropped": result.retries,
        "questions": 200,
        "messages posted": 200,
    }


# --- serve's first ingest, when replicas start together (no processes) ---------------------


def scripted_ingests(monkeypatch: pytest.MonkeyPatch, codes: list[int]) -> list[list[str]]:
    """``subprocess.run`` in ``bot.cli.slack`` answers with ``codes`` in turn; the commands."""
    commands: list[list[str]] = []
    left = iter(codes)

    def run(command: list[str], **_kw: Any) -> SimpleNamespace:
        commands.append(command)
        return SimpleNamespace(returncode=next(left))

    monkeypatch.setattr(slack_cli.subprocess, "run", run)
    return commands


def desk(*, empty: bool) -> Any:
    return SimpleNamespace(is_empty=lambda: empty)


def test_serve_ingests_again_after_losing_the_race(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ingest failed, but the corpus is there now: another replica wrote it. Again, once."""
    commands = scripted_ingests(monkeypatch, [1, 0])
    slack_cli.ingest_seeds_first(desk(empty=False), None)
    assert len(commands) == 2 and commands[0] == commands[1]
    assert commands[0][-2:] == ["ingest", str(slack_cli.common.default_seeds())]


def test_serve_stops_when_the_ingest_failed_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed, and the corpus is still empty: no race, a real error; its exit code is passed."""
    commands = scripted_ingests(monkeypatch, [2])
    with pytest.raises(SystemExit) as stopped:
        slack_cli.ingest_seeds_first(desk(empty=True), None)
    assert stopped.value.code == 2 and len(commands) == 1


def test_serve_gives_up_after_a_few_ingests(monkeypatch: pytest.MonkeyPatch) -> None:
    commands = scripted_ingests(monkeypatch, [1] * slack_cli.SEED_ATTEMPTS)
    with pytest.raises(SystemExit) as stopped:
        slack_cli.ingest_seeds_first(desk(empty=False), None)
    assert stopped.value.code == 1 and len(commands) == slack_cli.SEED_ATTEMPTS


@pytest.mark.postgres
def test_a_follow_up_reaching_both_replicas_is_answered_once_with_its_thread(
    replicas: list[Replica], slack: StandIn
) -> None:
    """A thread answered by one replica; its follow-up (and the same message's mention event)
    delivered to both, retried too: one answer, read with the thread, by one of them."""
    tag = uuid.uuid4().hex[:8].upper()
    where = f"C{tag}THREAD"
    first = mention_event(BAKU, channel=where)
    sent = post_event(
        replicas[0],
        Event(f"Ev{tag}1", where, "mention", event_body(first, event_id=f"Ev{tag}1")),
        secret=SECRET,
    )
    assert sent.ok
    assert slack.wait_for("chat.postMessage", channel=where, timeout=60)
    later = message_event("who made those remarks?", channel=where, thread_ts=str(first["ts"]))
    as_mention = {**later, "type": "app_mention", "text": f"<@{BOT_USER_ID}> " + later["text"]}
    deliveries = [
        Event(f"Ev{tag}2", where, "message", event_body(later, event_id=f"Ev{tag}2")),
        Event(f"Ev{tag}3", where, "mention", event_body(as_mention, event_id=f"Ev{tag}3")),
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [
            pool.submit(post_event, replica, event, secret=SECRET, retry=retry)
            for event in deliveries
            for replica in replicas
            for retry in (0, 1)
        ]
        assert all(future.result(timeout=4 * REQUEST_TIMEOUT).ok for future in futures)
    slack.wait_for("chat.postMessage", channel=where, count=2, timeout=60)
    slack.wait_idle(quiet=3.0, timeout=60)
    posts = slack.find("chat.postMessage", channel=where)
    assert len(posts) == 2
    assert posts[1].params["thread_ts"] == first["ts"]
    assert "Read with this thread’s earlier question" in json.dumps(
        posts[1].params["blocks"], ensure_ascii=False
    )
