"""What the stand-in of Slack heard: one :class:`Call` per request, kept in a :class:`CallLog`
that tests search and wait on."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Call:
    """One request the stand-in received.

    Attributes:
        method: The Web API method (``chat.postMessage``), or ``response_url``.
        params: The arguments, from a JSON or form body (JSON-encoded form fields decoded).
        path: The request path.
        at: When it arrived (``time.monotonic()``).
        status: The HTTP status answered; 0 for a connection closed without an answer.
        applied: Whether it took effect (a message was posted). False for the attempts a
            :class:`~standins.faults.Fault` refused; true for one that did the work and then
            failed to say so.
        reply: What the stand-in answered a Web API call (its ``ts``, ``channel``), when
            it answered.
    """

    method: str
    params: dict[str, Any]
    path: str
    at: float = field(default_factory=time.monotonic)
    status: int = 200
    applied: bool = True
    reply: dict[str, Any] | None = None


class CallLog:
    """The calls received, in order (``calls``), safe to record from many threads and to wait
    on from another."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._lock = threading.Condition()
        self._last = time.monotonic()  # when the last call arrived (or the log was made)

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._last = time.monotonic()
            self._lock.notify_all()

    def find(
        self,
        method: str | None = None,
        *,
        path: str | None = None,
        applied: bool | None = None,
        **where: Any,
    ) -> list[Call]:
        """The calls to ``method`` (any, without one), at ``path`` if given, that took effect
        or not as ``applied`` says (either, without it), whose params include ``where``."""
        with self._lock:
            return [
                c
                for c in self.calls
                if (method is None or c.method == method)
                and (path is None or c.path == path)
                and (applied is None or c.applied == applied)
                and all(c.params.get(key) == value for key, value in where.items())
            ]

    def wait_for(
        self,
        method: str | None = None,
        *,
        count: int = 1,
        timeout: float = 15.0,
        path: str | None = None,
        **where: Any,
    ) -> list[Call]:
        """Wait (at most ``timeout`` seconds) until ``count`` matching calls arrived."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = self.find(method, path=path, **where)
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    return found
                self._lock.wait(left)

    def wait_idle(self, *, quiet: float = 1.0, timeout: float = 15.0) -> bool:
        """Wait until no call has arrived for ``quiet`` seconds, counted from now at the
        earliest; False when ``timeout`` seconds passed first.

        For a bot out of reach (another process). In this process, waiting for the bot's
        listeners (``ListenerPool.wait_idle``) is exact; this is only a quiet spell.
        """
        start = time.monotonic()
        deadline = start + timeout
        with self._lock:
            while True:
                now = time.monotonic()
                calm_at = max(self._last, start) + quiet
                if now >= calm_at:
                    return True
                if now >= deadline:
                    return False
                self._lock.wait(min(calm_at, deadline) - now)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()
