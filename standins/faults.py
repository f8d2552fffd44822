"""How the stand-in of the Web API misbehaves on purpose, one :class:`Fault` per call: rate
limits, server errors, dropped connections, late answers (``StandIn.fail`` scripts them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    """How the stand-in misbehaves for one call; build one with the class methods.

    Attributes:
        status: Answer with this HTTP status (and ``Retry-After`` for 429); 0 for none.
        retry_after: ``Retry-After`` in seconds, for 429.
        drop: Close the connection without answering.
        delay: Answer this many seconds late (meant to be past the client's timeout).
        applied: Whether the call takes effect all the same: a server that did the work and
            then failed to say so, the case where a retry would post twice.
    """

    status: int = 0
    retry_after: int | None = None
    drop: bool = False
    delay: float = 0.0
    applied: bool = False

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Fault:
        """429 ``ratelimited``: Slack did nothing and says when to come back."""
        return cls(status=429, retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500, *, applied: bool = False) -> Fault:
        """A 5xx answer."""
        return cls(status=status, applied=applied)

    @classmethod
    def dropped(cls, *, applied: bool = True) -> Fault:
        """The request is read, then the connection is closed without an answer."""
        return cls(drop=True, applied=applied)

    @classmethod
    def late(cls, delay: float, *, applied: bool = True) -> Fault:
        """The answer comes ``delay`` seconds late; by default the work was done."""
        return cls(delay=delay, applied=applied)
