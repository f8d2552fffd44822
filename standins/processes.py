"""``quotedesk serve`` in a process of its own on 127.0.0.1, for the tests, the soak and the
bench: :func:`serve_process` starts it, waits (bounded) until ``/healthz`` answers 200, and
stops it whatever happens; :func:`free_port` finds it a port.

The process writes everything it prints (stdout and stderr) into a log file of the caller's
choosing; a :class:`ServeError` carries the end of that log.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"
HEALTH_PATH = "/healthz"
# `quotedesk serve` loads the model before its first healthy answer (and ingests the seeds
# first into an empty corpus): generous, the wait ends as soon as it answers.
HEALTHY_WITHIN = 180.0
# SIGTERM lets gunicorn stop its workers gracefully; SIGKILL after this long.
STOP_WITHIN = 30.0
# How often /healthz is asked while waiting (the bench times the start to this), and how long
# one answer may take (a starting server is busy).
POLL = 0.05
PROBE_TIMEOUT = 5.0
# Of a log, what an error shows.
TAIL = 4000


class ServeError(RuntimeError):
    """A served process exited, or did not answer 200 on ``/healthz`` in time; the message
    ends with the end of its log."""


def free_port(host: str = HOST) -> int:
    """A TCP port free on ``host`` now (the OS's pick; another process could take it later)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def http_status(port: int, path: str = HEALTH_PATH, *, timeout: float = PROBE_TIMEOUT) -> int:
    """The HTTP status of ``GET path`` on 127.0.0.1:``port``, or 0 when nothing answers."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        conn.close()


@dataclass(eq=False)
class ServedProcess:
    """A process serving HTTP on 127.0.0.1:``port`` (``quotedesk serve``: gunicorn's arbiter,
    its workers children of it).

    Attributes:
        name: What errors call it.
        port: Its port (also in its environment as ``PORT``).
        process: The process.
        log_path: Where its output goes.
        started: When it was launched (``time.perf_counter()``).
        ready_seconds: Seconds from launch to the first 200 on ``/healthz``; None until then.
    """

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started: float
    ready_seconds: float | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def events_url(self) -> str:
        return self.url + "/slack/events"

    def alive(self) -> bool:
        return self.process.poll() is None

    def health(self, *, timeout: float = PROBE_TIMEOUT) -> int:
        """``/healthz``'s status, 0 while nothing answers."""
        return http_status(self.port, HEALTH_PATH, timeout=timeout)

    def pids(self) -> list[int]:
        """The process and its descendants (the gunicorn workers, an ingest child)."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            with contextlib.suppress(OSError, ValueError):
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo.extend(int(child) for child in (task / "children").read_text().split())
        return found

    def rss_kib(self) -> int:
        """Resident memory of the process and its descendants, in KiB (``VmRSS`` summed)."""
        return sum(vm_rss_kib(pid) for pid in self.pids())

    def log_tail(self, chars: int = TAIL) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def wait_healthy(self, *, timeout: float = HEALTHY_WITHIN) -> float:
        """See :func:`wait_healthy`."""
        return wait_healthy([self], timeout=timeout)

    def stop(self, *, timeout: float = STOP_WITHIN) -> None:
        """SIGTERM, then SIGKILL to it and its descendants after ``timeout`` seconds; closes
        the log. Stopping a stopped process does nothing."""
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                for pid in reversed(self.pids()):  # the workers too, if they outlive it
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


def wait_healthy(served: Sequence[ServedProcess], *, timeout: float = HEALTHY_WITHIN) -> float:
    """Wait until each of ``served`` answers 200 on ``/healthz`` (setting its
    ``ready_seconds``); the seconds the wait took.

    Raises:
        ServeError: One exited first, or ``timeout`` seconds passed first.
    """
    start = time.perf_counter()
    waiting = list(served)
    while waiting:
        for one in list(waiting):
            if not one.alive():
                raise ServeError(
                    f"{one.name} exited with code {one.process.returncode} before /healthz "
                    f"answered 200; its log ({one.log_path}) ends:\n{one.log_tail()}"
                )
            if one.health() == 200:
                one.ready_seconds = time.perf_counter() - one.started
                waiting.remove(one)
        if not waiting:
            break
        if time.perf_counter() - start > timeout:
            tails = "\n".join(
                f"--- {one.name} ({one.log_path}) ---\n{one.log_tail()}" for one in waiting
            )
            raise ServeError(f"not healthy after {timeout:.0f} s:\n{tails}")
        time.sleep(POLL)
    return time.perf_counter() - start


@contextlib.contextmanager
def serve_process(
    *,
    log: Path,
    env: Mapping[str, str] | None = None,
    args: Sequence[str] = (),
    command: Sequence[str] | None = None,
    port: int | None = None,
    cwd: Path | None = None,
    name: str = "quotedesk serve",
    healthy_within: float | None = HEALTHY_WITHIN,
    stop_within: float = STOP_WITHIN,
) -> Iterator[ServedProcess]:
    """``quotedesk serve --host 127.0.0.1 ARGS`` in a process of its own, healthy; stopped at
    the end, whatever happens.

    Args:
        log: The file its output (stdout and stderr) goes to.
        env: Its whole environment (default: this process's); ``PORT`` is set to its port.
        args: More arguments for ``quotedesk serve`` (``--threads 2``, ``--data-dir D``).
        command: Another command to run instead of ``quotedesk serve --host 127.0.0.1``
            (``args`` follow it), serving ``/healthz`` on ``PORT``: e.g.
            ``[sys.executable, "-m", "tests.slack.served"]``.
        port: The port (default: a free one).
        cwd: Its working directory (default: this process's).
        name: What errors call it.
        healthy_within: Seconds it has to answer 200 on ``/healthz``; None not to wait (to
            start several at once, then :func:`wait_healthy` them together).
        stop_within: Seconds it has to stop after SIGTERM before it is killed.

    Raises:
        ServeError: It exited, or was not healthy in time.

    Used as ``with serve_process(log=tmp / "serve.log", env=env) as served:``, then requests
    to ``served.url`` (``/healthz`` answers 200). It starts quotedesk, which loads the model,
    so there is no example to run here: ``tests/slack/test_commands.py`` serves the bot so.
    """
    port = free_port() if port is None else port
    argv = [*(command or [sys.executable, "-m", "bot", "serve", "--host", HOST]), *args]
    environment = {**(os.environ if env is None else env), "PORT": str(port)}
    output = log.open("wb")
    try:
        started = time.perf_counter()
        process = subprocess.Popen(
            argv, stdout=output, stderr=subprocess.STDOUT, env=environment, cwd=cwd
        )
    except BaseException:
        output.close()
        raise
    served = ServedProcess(name, port, process, log, started, _log=output)
    try:
        if healthy_within is not None:
            wait_healthy([served], timeout=healthy_within)
        yield served
    finally:
        served.stop(timeout=stop_within)
