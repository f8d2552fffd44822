"""robots.txt and Crawl-delay, per host: what a :class:`~retrieval.web.fetch.Fetcher` may
fetch, and how long it waits between two requests to the same host.

- :class:`Robots`: one host's robots.txt as read (RFC 9309): its rules, or everything allowed
  (none, or a 4xx), or everything refused (the server failed); its Crawl-delay; until when it
  holds;
- :class:`Hosts`: the :class:`Robots` known per scheme, host and port, and when each host was
  last asked, so that its Crawl-delay is waited.

The requests for robots.txt themselves are the fetcher's: its client, its bounded reads, its
address checks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx
from protego import Protego

from retrieval.web.errors import RobotsDisallowedError

__all__ = ["HostKey", "Hosts", "Robots", "host_key", "robots_url"]

HostKey = tuple[str, str, int | None]


def host_key(url: httpx.URL) -> HostKey:
    # robots.txt rules apply per scheme, host and port (RFC 9309 2.3).
    return (url.scheme, url.host, url.port)


def robots_url(url: httpx.URL) -> str:
    """The robots.txt that rules ``url``."""
    return str(url.copy_with(path="/robots.txt", query=None, fragment=None))


@dataclass
class Robots:
    """One host's robots.txt, as read.

    Attributes:
        parser: Its rules; ``None``: everything allowed (no robots.txt, or a 4xx).
        refusal: Set: everything disallowed (the server failed), saying why.
        delay: Seconds to wait between two requests to the host (its Crawl-delay, bounded).
        expires: When to ask again (``time.monotonic()``).
    """

    parser: Protego | None
    refusal: str | None
    delay: float
    expires: float

    @classmethod
    def allow_all(cls, expires: float) -> Robots:
        """No rules: no robots.txt, or one that is "unavailable" (RFC 9309 2.3.1.3)."""
        return cls(None, None, 0.0, expires)

    @classmethod
    def refuse_all(cls, reason: str, expires: float) -> Robots:
        """Everything disallowed: robots.txt is "unreachable" (RFC 9309 2.3.1.4)."""
        return cls(None, reason, 0.0, expires)

    @classmethod
    def parse(cls, body: bytes, token: str, *, max_delay: float, expires: float) -> Robots:
        """The rules of ``body`` for the product ``token``; its Crawl-delay at most
        ``max_delay`` seconds (an hour between requests is obeyed as ``max_delay``)."""
        parser = Protego.parse(body.decode("utf-8", errors="replace"))
        delay = parser.crawl_delay(token) or 0.0
        return cls(parser, None, min(max(delay, 0.0), max_delay), expires)

    def check(self, url: str, target: httpx.URL, token: str) -> None:
        """Refuse ``target`` (asked for as ``url``, maybe through redirects) unless allowed.

        Raises:
            RobotsDisallowedError: Disallowed for ``token``, or everything is.
        """
        if self.refusal:
            raise RobotsDisallowedError(url, self.refusal)
        if self.parser is not None and not self.parser.can_fetch(str(target), token):
            where = "" if str(target) == url else f" (redirected to {target})"
            raise RobotsDisallowedError(
                url, f"disallowed by {robots_url(target)} for {token!r}{where}"
            )


class Hosts:
    """What is known of each host: its :class:`Robots`, and when it was last asked.

    Thread-safe.

    Args:
        sleep: How to wait a Crawl-delay.
    """

    def __init__(self, sleep: Callable[[float], object] = time.sleep) -> None:
        self._sleep = sleep
        self._robots: dict[HostKey, Robots] = {}
        self._last_request: dict[HostKey, float] = {}
        self._lock = threading.Lock()
        self._robots_lock = threading.Lock()

    def robots(self, target: httpx.URL, load: Callable[[], Robots]) -> Robots:
        """``target``'s host's robots.txt; ``load`` fetches it when unknown or expired."""
        key = host_key(target)
        # One lock for every host: two threads never fetch the same robots.txt at once.
        # (``load`` waits its turn: wait_turn and done take only the other lock.)
        with self._robots_lock:
            known = self._robots.get(key)
            if known is not None and known.expires > time.monotonic():
                return known
            robots = load()
            self._robots[key] = robots
            return robots

    def wait_turn(self, target: httpx.URL) -> None:
        """Sleep until ``target``'s host's Crawl-delay has passed since its last request."""
        key = host_key(target)
        with self._lock:
            robots = self._robots.get(key)
            last = self._last_request.get(key)
        if robots is None or last is None or robots.delay <= 0:
            return
        wait = last + robots.delay - time.monotonic()
        if wait > 0:
            self._sleep(wait)

    def done(self, target: httpx.URL) -> None:
        """Note a request to ``target``'s host (its response has begun)."""
        with self._lock:
            self._last_request[host_key(target)] = time.monotonic()
