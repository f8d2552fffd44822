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
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bot.slack.payloads import dm_event, event_body, mention_event, signed_headers
from bot.slack.standin import StandIn

ROOT = Path(__file__).resolve().parents[2]
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


class ReplicaError(RuntimeError):
    """A replica died or never became healthy; the message carries its log's tail."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Replica:
    """One ``quotedesk serve`` process (gunicorn's arbiter; its worker is a child)."""

    name: str
    port: int
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]
    _log: IO[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def events_url(self) -> str:
        return self.url + "/slack/events"

    def alive(self) -> bool:
        return self.process.poll() is None

    def health(self) -> int | None:
        """/healthz's status, or None when nothing answers yet."""
        try:
            return get_status(self.port, "/healthz", timeout=5.0)
        except OSError:
            return None

    def pids(self) -> list[int]:
        """The process and its descendants (the gunicorn worker, an ingest child)."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            with contextlib.suppress(OSError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    children = (task / "children").read_text().split()
                    todo.extend(int(child) for child in children)
        return found

    def rss_kib(self) -> int:
        """Resident memory of the process and its descendants, in KiB (VmRSS summed)."""
        return sum(vm_rss_kib(pid) for pid in self.pids())

    def log_tail(self, chars: int = 4000) -> str:
        if self._log is not None:
            with contextlib.suppress(ValueError, OSError):
                self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = STOP_WITHIN) -> None:
        """SIGTERM (gunicorn stops its workers gracefully), SIGKILL after ``timeout``."""
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                for pid in reversed(self.pids()):  # the worker too, if it outlived the arbiter
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None


def vm_rss_kib(pid: int) -> int:
    """``VmRSS`` of ``pid`` from /proc in KiB; 0 for a process gone (or a zombie)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def get_status(port: int, path: str, *, timeout: float) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def replica_env(
    *, port: int, data_dir: Path, database_url: str, api_url: str, secret: str
) -> dict[str, str]:
    return {
        **os.environ,
        "PORT": str(port),
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


def start_replicas(
    count: int,
    *,
    base: Path,
    database_url: str,
    api_url: str,
    secret: str,
    threads: int = 4,
) -> list[Replica]:
    """Start ``count`` ``quotedesk serve`` processes at the same moment (one ``Popen`` right
    after the other, each with its own port and data directory, all on ``database_url``)."""
    prepared = []
    for n in range(1, count + 1):
        folder = base / f"replica{n}"
        folder.mkdir(parents=True, exist_ok=True)
        port = free_port()
        env = replica_env(
            port=port,
            data_dir=folder / "data",
            database_url=database_url,
            api_url=api_url,
            secret=secret,
        )
        prepared.append((f"replica{n}", port, folder, env))
    replicas = []
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1"]
    command += ["--threads", str(threads)]
    for name, port, folder, env in prepared:
        log = open(folder / "serve.log", "w")  # noqa: SIM115 (closed by Replica.stop)
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        replicas.append(Replica(name, port, folder / "data", folder / "serve.log", process, log))
    return replicas


def wait_healthy(replicas: Sequence[Replica], *, timeout: float = HEALTHY_WITHIN) -> float:
    """Wait until every replica's /healthz is 200; the seconds it took.

    Raises:
        ReplicaError: One exited, or ``timeout`` passed first.
    """
    start = time.monotonic()
    deadline = start + timeout
    waiting = list(replicas)
    while waiting:
        for replica in list(waiting):
            if not replica.alive():
                raise ReplicaError(
                    f"{replica.name} exited with code {replica.process.returncode} before it "
                    f"was healthy:\n{replica.log_tail()}"
                )
            if replica.health() == 200:
                waiting.remove(replica)
        if not waiting:
            break
        if time.monotonic() > deadline:
            tails = "\n".join(f"--- {r.name} ---\n{r.log_tail()}" for r in waiting)
            raise ReplicaError(f"not healthy after {timeout:.0f} s:\n{tails}")
        time.sleep(0.25)
    return time.monotonic() - start


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
) -> Iterator[list[Replica]]:
    """Replicas started together and healthy; all stopped at the end, whatever happens."""
    replicas: list[Replica] = []
    try:
        replicas = start_replicas(
            count,
            base=base,
            database_url=database_url,
            api_url=slack.api_url,
            secret=secret,
            threads=threads,
        )
        wait_healthy(replicas, timeout=healthy_within)
        yield replicas
    finally:
        for replica in replicas:
            replica.stop()


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
