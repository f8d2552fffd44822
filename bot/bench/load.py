"""Requests fired at ``quotedesk serve`` on 127.0.0.1 from a number of threads at once, bounded
in count and in time: signed Slack events (as Slack sends them), or health checks as the
baseline of the HTTP stack alone."""

from __future__ import annotations

import http.client
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from standins.payloads import event_body, mention_event, signed_headers

# A request is given up on after this long (and counted as failed).
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True)
class Load:
    """What a load run measured: requests answered per second and the time to each answer."""

    sent: int
    ok: int
    seconds: float
    latencies_ms: tuple[float, ...]

    @property
    def per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q)) if self.latencies_ms else float("nan")


Request = tuple[str, str, bytes, dict[str, str]]  # method, path, body, headers


def fire(
    port: int,
    make: Callable[[int], Request],
    *,
    concurrency: int,
    count: int,
    seconds: float,
) -> Load:
    """Send up to ``count`` requests made by ``make(n)`` from ``concurrency`` threads, each on
    its own kept-alive connection, stopping early after ``seconds``."""
    numbers = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []
    ok = 0
    started = time.perf_counter()
    deadline = started + seconds

    def worker() -> None:
        nonlocal ok
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        try:
            while time.perf_counter() < deadline:
                with lock:
                    n = next(numbers)
                if n >= count:
                    return
                method, path, body, headers = make(n)
                sent = time.perf_counter()
                try:
                    conn.request(method, path, body=body, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    status = response.status
                except (OSError, http.client.HTTPException):
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
                    status = 0
                took = (time.perf_counter() - sent) * 1000
                with lock:
                    latencies.append(took)
                    ok += status == 200
        finally:
            conn.close()

    with ThreadPoolExecutor(concurrency, thread_name_prefix="bench-load") as pool:
        for future in [pool.submit(worker) for _ in range(concurrency)]:
            future.result()
    elapsed = time.perf_counter() - started
    return Load(len(latencies), ok, elapsed, tuple(latencies))


def mention_requests(questions: Sequence[str], *, secret: str) -> Callable[[int], Request]:
    """Signed ``app_mention`` events, one per question in turn, each with an event id of its
    own (the bot answers an event id once)."""
    run = uuid.uuid4().hex[:12]

    def make(n: int) -> Request:
        event = mention_event(questions[n % len(questions)])
        body = event_body(event, event_id=f"EvBench{run}{n:08d}")
        return "POST", "/slack/events", body.encode(), signed_headers(body, secret=secret)

    return make


def health_requests() -> Callable[[int], Request]:
    def make(_: int) -> Request:
        return "GET", "/healthz", b"", {}

    return make
