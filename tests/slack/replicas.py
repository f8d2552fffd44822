"""Real ``quotedesk serve`` replicas for the multi-replica test and the soak: started together
on one database against one stand-in of Slack, waited for (bounded), measured, always stopped.

Also the traffic both send: distinct signed events (mentions and direct messages, each in a
channel of its own, so a reply names its event), posted as Slack posts them, retries included.
Nothing here waits without a bound.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import math
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from standins.payloads import dm_event, event_body, mention_event, signed_headers
from standins.processes import ServedProcess, serve_process, wait_healthy
from standins.web_api import StandIn
from tests.helpers import ROOT

# Two replicas load torch and the model at once, and one ingests the seeds: on two busy cores
# this has taken a minute; the bound is generous, the wait ends as soon as both are healthy.
HEALTHY_WITHIN = 240.0
# One HTTP request to a replica: it acknowledges before answering, in milliseconds.
REQUEST_TIMEOUT = 20.0
STOP_WITHIN = 30.0

# Questions the seeds answer, asked in many wordings so that the replicas see varied text.
QUESTIONS = (
    "why did Baku skip the Washington meeting?",
    "what did Blinken ask Aliyev on the phone?",
    "what did Zakharova accuse the United States of?",
    "what agreement did Putin and Aliyev sign?",
    "what did Matthew Miller say about the peace talks?",
    "who is Aleksashenko?",
    "what will the Russian Supreme Court hear?",
    "which visit did Aliyev agree to?",
    "what did Russia say about the West and Armenia?",
    "what is Russia ready to take part in?",
)
LEADS = ("", "quick question: ", "do you know ", "tell me ", "please, ")
TAILS = ("", " thanks", " any quotes?", " sources please")


# A replica is a ``quotedesk serve`` process (gunicorn's arbiter; its worker is a child).
Replica = ServedProcess


def replica_env(*, data_dir: Path, database_url: str, api_url: str, secret: str) -> dict[str, str]:
    return {
        **os.environ,
        "QUOTEDESK_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-replica",
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": api_url,
        "WEB_CONCURRENCY": "1",
        # The replicas share the machine: one torch thread each, as on a small dyno.
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1"),
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p
        ),
    }


@contextlib.contextmanager
def running_replicas(
    count: int,
    *,
    base: Path,
    database_url: str,
    slack: StandIn,
    secret: str,
    threads: int = 4,
    healthy_within: float = HEALTHY_WITHIN,
    env: Mapping[str, str] | None = None,
) -> Iterator[list[Replica]]:
    """``count`` ``quotedesk serve`` processes started at the same moment (one right after the
    other, each with its own port and data directory, all on ``database_url``, ``env`` added
    to their environment), then waited for together until all are healthy; all stopped at the
    end, whatever happens.

    Raises:
        ServeError: One exited, or they were not all healthy in ``healthy_within`` seconds.
    """
    with contextlib.ExitStack() as stack:
        replicas: list[Replica] = []
        for n in range(1, count + 1):
            folder = base / f"replica{n}"
            folder.mkdir(parents=True, exist_ok=True)
            environment = replica_env(
                data_dir=folder / "data",
                database_url=database_url,
                api_url=slack.api_url,
                secret=secret,
            )
            started = serve_process(
                log=folder / "serve.log",
                env={**environment, **(env or {})},
                args=["--threads", str(threads)],
                cwd=ROOT,
                name=f"replica{n}",
                healthy_within=None,  # not one by one: together, below
                stop_within=STOP_WITHIN,
            )
            replicas.append(stack.enter_context(started))
        wait_healthy(replicas, timeout=healthy_within)
        yield replicas


# --- traffic -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One distinct event: its ``event_id``, the channel of its own the reply goes to, and its
    body (signed anew at each send: the signature carries the time)."""

    event_id: str
    channel: str
    kind: str
    body: str


def make_events(count: int, *, tag: str) -> list[Event]:
    """``count`` distinct events, mentions and direct messages in turn; ``tag`` keeps the
    event ids and channels of one run apart from another's."""
    wordings = itertools.cycle(
        f"{lead}{question}{tail}" for tail in TAILS for lead in LEADS for question in QUESTIONS
    )
    events = []
    for n, question in zip(range(count), wordings, strict=False):
        event_id = f"Ev{tag}{n:06d}"
        if n % 2:
            channel = f"D{tag}{n:06d}"
            event = dm_event(question, channel=channel)
            kind = "dm"
        else:
            channel = f"C{tag}{n:06d}"
            event = mention_event(question, channel=channel)
            kind = "mention"
        events.append(Event(event_id, channel, kind, event_body(event, event_id=event_id)))
    return events


@dataclass(frozen=True)
class Sent:
    """One POST to a replica: its status (0 for none), how long until the answer, and the
    error when there was no answer."""

    event_id: str
    replica: str
    retry: int
    status: int
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def post_event(
    replica: Replica,
    event: Event,
    *,
    secret: str,
    retry: int = 0,
    timeout: float = REQUEST_TIMEOUT,
) -> Sent:
    """POST ``event`` to ``replica`` as Slack does (a retry carries ``X-Slack-Retry-Num``);
    never raises."""
    headers = signed_headers(event.body, secret=secret)
    if retry:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", replica.port, timeout=timeout)
    try:
        conn.request("POST", "/slack/events", body=event.body.encode(), headers=headers)
        response = conn.getresponse()
        response.read()
        status, error = response.status, ""
    except (OSError, http.client.HTTPException) as exc:
        status, error = 0, f"{exc.__class__.__name__}: {exc}"
    finally:
        conn.close()
    return Sent(event.event_id, replica.name, retry, status, time.perf_counter() - start, error)


@dataclass(frozen=True)
class Replies:
    """What the stand-in received for a set of events: ``counts`` maps each event id to the
    number of ``chat.postMessage`` calls in its channel; ``apologies`` are the replies that
    said the bot could not answer."""

    counts: dict[str, int]
    apologies: int
    last_at: float | None

    @property
    def posted(self) -> int:
        return sum(self.counts.values())

    @property
    def answered(self) -> int:
        return sum(1 for n in self.counts.values() if n >= 1)

    @property
    def lost(self) -> list[str]:
        return [event_id for event_id, n in self.counts.items() if n == 0]

    @property
    def doubled(self) -> list[str]:
        return [event_id for event_id, n in self.counts.items() if n > 1]


def replies(slack: StandIn, events: Iterable[Event]) -> Replies:
    """Count the replies to ``events`` recorded so far."""
    from bot.slack.blocks import APOLOGY

    by_channel = {event.channel: event.event_id for event in events}
    counts = dict.fromkeys(by_channel.values(), 0)
    apologies, last_at = 0, None
    for call in slack.find("chat.postMessage"):
        event_id = by_channel.get(str(call.params.get("channel")))
        if event_id is None:
            continue
        counts[event_id] += 1
        last_at = call.at if last_at is None else max(last_at, call.at)
        if call.params.get("text") == APOLOGY:
            apologies += 1
    return Replies(counts, apologies, last_at)


def settle(
    slack: StandIn,
    events: Sequence[Event],
    *,
    quiet: float = 3.0,
    stall: float = 60.0,
    timeout: float = 600.0,
) -> Replies:
    """Wait until every event has a reply and the stand-in has then heard nothing for
    ``quiet`` seconds (a late duplicate would show), or until replies stop coming for
    ``stall`` seconds with events still unanswered (lost), or ``timeout``: the replies then."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        seen = replies(slack, events)
        now = time.monotonic()
        if now >= deadline:
            return seen
        if not seen.lost:
            slack.wait_idle(quiet=quiet, timeout=deadline - now)
            return replies(slack, events)
        # Unanswered ones remain: go on while replies keep coming.
        if now - max(start, seen.last_at or start) >= stall:
            return seen  # nothing for `stall` seconds: what is missing is lost
        time.sleep(0.25)


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]
