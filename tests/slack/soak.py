"""A bounded load run on 127.0.0.1: signed events against two ``quotedesk serve`` replicas
sharing one PostgreSQL database, answered to a stand-in of Slack.

    python -m tests.slack.soak --events 2000 --concurrency 32

It starts a throwaway PostgreSQL server (``tests/postgres.py``; or uses ``--database-url``),
the stand-in and two replicas (together, on the fresh database), then sends the events at the
given concurrency: each to one replica in turn, and a tenth of them (``--retry-fraction``)
again to the other replica as Slack's retry (``X-Slack-Retry-Num: 1``), close behind the first
delivery. The first tenth of the events warm the replicas up; resident memory is read then and
at the end, once every answer has come.

It reports HTTP errors (not 2xx, or no answer), replies, duplicates (an event answered more
than once), lost events (no reply once the run has settled), apologies, events per second,
the time to each HTTP answer (p50, p99) and each replica's resident memory (VmRSS of
``quotedesk serve`` and its gunicorn worker). Exit code 0 when there were no errors,
duplicates, losses or apologies and memory grew by less than ``--max-rss-growth`` percent; 1
otherwise; 2 when the run could not be set up.

Everything is bounded: each request (20 s), the start of the replicas, the wait for the
answers, and the run as a whole (``--time-limit``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from standins.processes import ServeError
from standins.web_api import StandIn
from tests.slack.replicas import (
    Event,
    Replica,
    Sent,
    make_events,
    percentile,
    post_event,
    running_replicas,
    settle,
)

SECRET = "soak-signing-secret"
REPLICAS = 2
MAX_RSS_GROWTH = 10.0  # percent, the bound
# Errors shown in the report, at most.
ERROR_SAMPLES = 5


class SetupError(RuntimeError):
    """The run could not be set up: PostgreSQL is missing."""


@dataclass
class Memory:
    """One replica's resident memory, in MiB: after the warm-up and at the end."""

    replica: str
    warm_mib: float
    end_mib: float

    @property
    def growth_pct(self) -> float:
        return 100.0 * (self.end_mib - self.warm_mib) / self.warm_mib if self.warm_mib else 0.0


@dataclass
class SoakResult:
    events: int
    concurrency: int
    requests: int = 0
    retries: int = 0
    http_errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    replies: int = 0
    answered: int = 0
    duplicates: int = 0
    lost: int = 0
    apologies: int = 0
    replicas_died: int = 0
    startup_s: float = 0.0
    send_s: float = 0.0
    answer_s: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    memory: list[Memory] = field(default_factory=list)
    max_rss_growth_pct: float = MAX_RSS_GROWTH
    # What the replicas' /metrics counted during the run (the sum of both, end minus start):
    # events handled and dropped as duplicates, questions answered or abstained, messages
    # posted. Each must equal what was sent and seen.
    counted: dict[str, float] = field(default_factory=dict)

    @property
    def acks_per_s(self) -> float:
        """Events acknowledged per second while sending (retries not counted)."""
        return self.events / self.send_s if self.send_s else 0.0

    @property
    def answers_per_s(self) -> float:
        """Events answered per second, from the first request to the last reply."""
        return self.answered / self.answer_s if self.answer_s else 0.0

    def problems(self) -> list[str]:
        found = []
        if self.http_errors:
            found.append(f"{self.http_errors} HTTP errors")
        if self.duplicates:
            found.append(f"{self.duplicates} events answered more than once")
        if self.lost:
            found.append(f"{self.lost} events never answered")
        if self.apologies:
            found.append(f"{self.apologies} apologies instead of answers")
        if self.replicas_died:
            found.append(f"{self.replicas_died} replicas died during the run")
        for m in self.memory:
            if m.growth_pct >= self.max_rss_growth_pct:
                found.append(f"{m.replica}: resident memory grew {m.growth_pct:.1f} %")
        if self.counted:
            expected = {
                "events handled": self.events,
                "duplicates dropped": self.retries,
                "questions": self.answered,
                "messages posted": self.replies,
            }
            for name, value in expected.items():
                if self.counted.get(name) != value:
                    found.append(f"/metrics counted {self.counted.get(name)} {name}, not {value}")
        return found

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["memory"] = [{**asdict(m), "growth_pct": round(m.growth_pct, 2)} for m in self.memory]
        data.update(
            acks_per_s=round(self.acks_per_s, 1),
            answers_per_s=round(self.answers_per_s, 1),
            ok=not self.problems(),
            problems=self.problems(),
        )
        return data

    def table(self) -> str:
        rows = [
            ("events (distinct event_id)", f"{self.events}"),
            ("concurrency", f"{self.concurrency}"),
            ("requests (with retries)", f"{self.requests}"),
            ("retries to the other replica", f"{self.retries}"),
            ("HTTP errors", f"{self.http_errors}"),
            ("replies posted", f"{self.replies}"),
            ("events answered", f"{self.answered}"),
            ("duplicate replies", f"{self.duplicates}"),
            ("lost events", f"{self.lost}"),
            ("apologies", f"{self.apologies}"),
            ("sending took", f"{self.send_s:.1f} s ({self.acks_per_s:.1f} events/s acknowledged)"),
            (
                "first request to last reply",
                f"{self.answer_s:.1f} s ({self.answers_per_s:.1f} events/s answered)",
            ),
            (
                "time to HTTP response",
                f"p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, max {self.max_ms:.1f} ms",
            ),
        ]
        if self.startup_s:
            rows.insert(10, ("both replicas healthy after", f"{self.startup_s:.1f} s"))
        rows += [
            (
                f"RSS {m.replica}",
                f"{m.warm_mib:.1f} MiB after warm-up, {m.end_mib:.1f} MiB at the end "
                f"({m.growth_pct:+.1f} %)",
            )
            for m in self.memory
        ]
        rows += [(f"/metrics: {name}", f"{value:g}") for name, value in self.counted.items()]
        width = max(len(name) for name, _ in rows)
        across = max(len(value) for _, value in rows)
        lines = [
            f"| {'measure'.ljust(width)} | {'value'.ljust(across)} |",
            f"|{'-' * (width + 2)}|{'-' * (across + 2)}|",
        ]
        lines += [f"| {name.ljust(width)} | {value.ljust(across)} |" for name, value in rows]
        return "\n".join(lines)


@dataclass(frozen=True)
class Delivery:
    event: Event
    replica: int
    retry: int


def plan(
    events: Sequence[Event], *, retry_fraction: float, window: int, rng: random.Random
) -> list[Delivery]:
    """Each event to replica ``n % 2``; a ``retry_fraction`` of them also to the other one as a
    retry, placed within ``window`` deliveries after the first (so the two overlap)."""
    deliveries = [Delivery(event, n % REPLICAS, 0) for n, event in enumerate(events)]
    chosen = [n for n in range(len(events)) if rng.random() < retry_fraction]
    for offset, n in enumerate(chosen):
        at = min(len(deliveries), n + offset + 1 + rng.randrange(max(1, window)))
        deliveries.insert(at, Delivery(events[n], (n + 1) % REPLICAS, 1))
    return deliveries


def send_all(
    deliveries: Sequence[Delivery],
    replicas: Sequence[Replica],
    *,
    secret: str,
    concurrency: int,
    deadline: float,
) -> list[Sent]:
    """Send ``deliveries`` over ``concurrency`` threads; those still waiting at ``deadline``
    are not sent (and count as errors)."""

    def one(delivery: Delivery) -> Sent:
        replica = replicas[delivery.replica]
        if time.monotonic() > deadline:
            return Sent(delivery.event.event_id, replica.name, delivery.retry, 0, 0.0, "not sent")
        return post_event(replica, delivery.event, secret=secret, retry=delivery.retry)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="soak") as pool:
        return list(pool.map(one, deliveries, timeout=max(1.0, deadline - time.monotonic())))


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    """``url``, or a new database on a throwaway PostgreSQL server (stopped at the end)."""
    if url:
        yield url
        return
    from tests.postgres import find_bindir, running_server

    bindir = find_bindir()
    if bindir is None:
        raise SetupError(
            "PostgreSQL's initdb/pg_ctl were not found (set QUOTEDESK_PG_BINDIR, or pass "
            "--database-url)"
        )
    with running_server(bindir) as server:
        yield server.url(server.create_database())


def run_soak(
    events: int,
    concurrency: int,
    *,
    database_url: str | None = None,
    threads: int = 4,
    time_limit: float = 1800.0,
    log: Callable[[str], None] | None = None,
    **options: Any,
) -> SoakResult:
    """Set up the run (a throwaway PostgreSQL server unless ``database_url`` is given, the
    stand-in, two replicas started together), :func:`soak` them, stop everything.

    Raises:
        SetupError: PostgreSQL is missing.
        ServeError: A replica did not come up.
    """
    say = log or (lambda _message: None)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="quotedesk-soak-") as base,
        database(database_url) as url,
        StandIn() as slack,
    ):
        say("starting two replicas on one fresh database…")
        with running_replicas(
            REPLICAS, base=Path(base), database_url=url, slack=slack, secret=SECRET, threads=threads
        ) as replicas:
            startup = time.monotonic() - started
            say(f"both healthy after {startup:.1f} s")
            result = soak(
                replicas,
                slack,
                events,
                concurrency,
                deadline=started + time_limit,
                log=say,
                **options,
            )
    result.startup_s = startup
    return result


def soak(
    replicas: Sequence[Replica],
    slack: StandIn,
    events: int,
    concurrency: int,
    *,
    secret: str = SECRET,
    retry_fraction: float = 0.1,
    warmup_fraction: float = 0.1,
    deadline: float | None = None,
    max_rss_growth: float = MAX_RSS_GROWTH,
    seed: int = 1,
    log: Callable[[str], None] | None = None,
) -> SoakResult:
    """Send ``events`` new events to ``replicas`` (healthy, answering to ``slack``, signed with
    ``secret``) as the module's docstring says, and measure. Stops sending at ``deadline``
    (``time.monotonic()``; by default in half an hour)."""
    say = log or (lambda _message: None)
    deadline = deadline if deadline is not None else time.monotonic() + 1800.0
    rng = random.Random(seed)
    result = SoakResult(events=events, concurrency=concurrency, max_rss_growth_pct=max_rss_growth)
    batch = make_events(events, tag=uuid.uuid4().hex[:8].upper())
    warm_count = max(1, math.ceil(events * warmup_fraction))
    phases = (batch[:warm_count], batch[warm_count:])
    deliveries = [
        plan(p, retry_fraction=retry_fraction, window=concurrency, rng=rng) for p in phases
    ]

    def send(phase: Sequence[Delivery]) -> list[Sent]:
        start = time.monotonic()
        sent = send_all(phase, replicas, secret=secret, concurrency=concurrency, deadline=deadline)
        result.send_s += time.monotonic() - start  # the sending only, not the settling
        return sent

    say(f"warming up with {warm_count} events")
    before = scrape(replicas)
    first_request = time.monotonic()
    sent = send(deliveries[0])
    settle(slack, phases[0], timeout=max(0.0, deadline - time.monotonic()))
    warm = [replica.rss_kib() for replica in replicas]
    say(f"sending {len(phases[1])} more events at concurrency {concurrency}…")
    sent += send(deliveries[1])
    say("waiting for the answers…")
    seen = settle(slack, batch, timeout=max(0.0, deadline - time.monotonic()))
    end = [replica.rss_kib() for replica in replicas]
    after = scrape(replicas)
    result.counted = {name: after[name] - before.get(name, 0.0) for name in after}

    for replica in replicas:
        if not replica.alive():
            result.replicas_died += 1
            result.error_samples.append(f"{replica.name} died:\n{replica.log_tail(1500)}")
    latencies = [s.seconds * 1000 for s in sent if s.status]
    errors = [s for s in sent if not s.ok]
    result.requests = len(sent)
    result.retries = sum(1 for s in sent if s.retry)
    result.http_errors = len(errors)
    result.error_samples += [
        f"{s.replica} {s.event_id} retry={s.retry}: {s.status or s.error}"
        for s in errors[:ERROR_SAMPLES]
    ]
    result.replies = seen.posted
    result.answered = seen.answered
    result.duplicates = len(seen.doubled)
    result.lost = len(seen.lost)
    result.apologies = seen.apologies
    result.answer_s = (seen.last_at - first_request) if seen.last_at else 0.0
    result.p50_ms = percentile(latencies, 0.50)
    result.p99_ms = percentile(latencies, 0.99)
    result.max_ms = max(latencies, default=0.0)
    result.memory = [
        Memory(r.name, w / 1024, e / 1024) for r, w, e in zip(replicas, warm, end, strict=True)
    ]
    return result


# What the soak reads from /metrics: (name, its sample's family and labels).
COUNTED = {
    "events handled": ("quotedesk_slack_events_total", {"outcome": "handled"}),
    "duplicates dropped": ("quotedesk_slack_events_total", {"outcome": "duplicate"}),
    "questions": ("quotedesk_questions_total", {}),
    "messages posted": (
        "quotedesk_slack_api_calls_total",
        {"method": "chat.postMessage", "outcome": "ok"},
    ),
}


def scrape(replicas: Sequence[Replica]) -> dict[str, float]:
    """The counters of :data:`COUNTED`, summed over every replica's ``/metrics``."""
    from prometheus_client.parser import text_string_to_metric_families

    totals = dict.fromkeys(COUNTED, 0.0)
    for replica in replicas:
        with urllib.request.urlopen(replica.url + "/metrics", timeout=20) as response:
            text = response.read().decode()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                for name, (metric, labels) in COUNTED.items():
                    wanted = sample.name == metric and all(
                        sample.labels.get(k) == v for k, v in labels.items()
                    )
                    if wanted:
                        totals[name] += sample.value
    return totals


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.slack.soak",
        description="Soak two quotedesk serve replicas sharing PostgreSQL (see BENCHMARKS.md).",
    )
    parser.add_argument("--events", type=int, default=2000, help="distinct events (2000)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (32)")
    parser.add_argument(
        "--retry-fraction", type=float, default=0.1, help="share retried to the other replica"
    )
    parser.add_argument(
        "--warmup-fraction", type=float, default=0.1, help="share sent before the first RSS"
    )
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per replica")
    parser.add_argument("--database-url", help="use this database instead of a throwaway one")
    parser.add_argument("--time-limit", type=float, default=1800.0, help="seconds, at most")
    parser.add_argument("--max-rss-growth", type=float, default=MAX_RSS_GROWTH, help="percent")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    if args.events < 1 or args.concurrency < 1:
        parser.error("--events and --concurrency must be at least 1")

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        result = run_soak(
            args.events,
            args.concurrency,
            database_url=args.database_url,
            retry_fraction=args.retry_fraction,
            warmup_fraction=args.warmup_fraction,
            threads=args.threads,
            time_limit=args.time_limit,
            max_rss_growth=args.max_rss_growth,
            log=say,
        )
    except (SetupError, ServeError) as error:
        say(f"soak: could not set up the run: {error}")
        return 2
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        print(result.table())
        for sample in result.error_samples:
            print(f"  error: {sample}")
    problems = result.problems()
    say("soak: " + ("; ".join(problems) if problems else "no errors, duplicates or losses"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
