"""Bounded, polite HTTP(S) GETs: :class:`Fetcher`, how it fetches (:class:`FetchConfig`) and
what it got (:class:`Fetched`).

Every fetch:

- is of an ``http`` or ``https`` URL, at every redirect too (never ``file:``, ``data:``,
  ``ftp:``...), of a public address unless allowed (:mod:`retrieval.web.urls`);
- asks robots.txt first (fetched once per scheme, host and port, kept a day, read as RFC 9309
  says) and waits the host's ``Crawl-delay`` (at most :attr:`FetchConfig.max_crawl_delay`;
  :mod:`retrieval.web.robots`);
- is conditional when a :class:`~retrieval.web.cache.FetchCache` knows the URL
  (``If-None-Match``, ``If-Modified-Since``): an unchanged feed costs one ``304 Not Modified``;
- reads at most :attr:`FetchConfig.max_bytes` of body, decompressed, in bounded memory
  (:mod:`retrieval.web.bounded`), and stops reading past it; takes at most
  :attr:`FetchConfig.timeout` for the whole response;
- fails with one exception type, :class:`FetchError` (``.url``, ``.reason``), whose message
  says what went wrong in words (:class:`RobotsDisallowedError` when robots.txt says no; both
  defined in :mod:`retrieval.web.errors`).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from retrieval.readers.limits import MAX_TEXT_BYTES
from retrieval.web.bounded import BoundedDecoder, TooLargeError
from retrieval.web.cache import CachedResponse, FetchCache
from retrieval.web.errors import FetchError, RobotsDisallowedError
from retrieval.web.robots import Hosts, Robots, robots_url
from retrieval.web.urls import SCHEMES, check_public_address, check_url

__all__ = [
    "FetchConfig",
    "FetchError",
    "Fetched",
    "Fetcher",
    "RobotsDisallowedError",
    "default_user_agent",
]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PROJECT_URL = "https://github.com/quotedesk/quotedesk"


def default_user_agent() -> str:
    """``quotedesk/<version> (+<project URL>)``: names quotedesk, so a site's operator can
    find who fetched and write a robots.txt rule for the ``quotedesk`` token."""
    try:
        version = importlib.metadata.version("quotedesk")
    except importlib.metadata.PackageNotFoundError:
        version = "dev"  # run from a source tree that was never installed
    return f"quotedesk/{version} (+{_PROJECT_URL})"


@dataclass(frozen=True, kw_only=True)
class FetchConfig:
    """How a :class:`Fetcher` fetches.

    Attributes:
        user_agent: The ``User-Agent`` header. Its first word before ``/`` is the product
            token matched against robots.txt's ``User-agent`` lines (``quotedesk``).
        connect_timeout: Seconds to open the connection (DNS, TCP, TLS).
        timeout: Seconds for the whole of one response, headers and body: a server trickling
            a byte a second cannot hold a fetch for long. Also the longest wait for any read.
        max_bytes: The largest body read, after decompression. The body is streamed and the
            fetch stops once past it (a declared ``Content-Length`` over it is refused before
            reading). 10 MB, as the readers' text bound (:mod:`retrieval.readers.limits`).
        max_redirects: Redirects followed; one more is an error.
        schemes: The schemes fetched, at the start and at every redirect: ``http`` and
            ``https``, or only ``https``; never anything else (``file:``, ``data:``, ``ftp:``).
        max_crawl_delay: The longest ``Crawl-delay`` honoured (a robots.txt asking an hour
            between requests is obeyed as this many seconds).
        robots_max_bytes: The part of a robots.txt read (RFC 9309 asks for at least 500 KiB;
            the rest is ignored).
        robots_ttl: Seconds a robots.txt is kept (RFC 9309: no more than 24 hours).
        robots_retry: Seconds an unreachable robots.txt (a 5xx) keeps its host disallowed
            before it is asked again.
        trust_env: Take proxies (``HTTPS_PROXY``, ``NO_PROXY``) and certificates from the
            environment, as httpx does by default.
        allow_private_addresses: Fetch from hosts that resolve to loopback, private,
            link-local or other non-public addresses (``127.0.0.1``, ``10.x``, the cloud
            metadata service ``169.254.169.254``). Off by default: a feed or sitemap names
            the pages fetched next, and a hostile one could point at the host's own network,
            whose pages would then be stored and quoted to anyone in the chat. Turn it on to
            follow an intranet feed. (Checked when each hop is resolved, before its request:
            a DNS answer that changes between the check and the connection is not caught.)
    """

    user_agent: str = field(default_factory=default_user_agent)
    connect_timeout: float = 10.0
    timeout: float = 30.0
    max_bytes: int = MAX_TEXT_BYTES
    max_redirects: int = 5
    schemes: frozenset[str] = SCHEMES
    max_crawl_delay: float = 30.0
    robots_max_bytes: int = 500 * 1024
    robots_ttl: float = 24 * 3600.0
    robots_retry: float = 600.0
    trust_env: bool = True
    allow_private_addresses: bool = False

    def __post_init__(self) -> None:
        for name in ("connect_timeout", "timeout", "max_bytes", "robots_max_bytes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"FetchConfig.{name} must be more than 0")
        for name in ("max_redirects", "max_crawl_delay", "robots_ttl", "robots_retry"):
            if getattr(self, name) < 0:
                raise ValueError(f"FetchConfig.{name} must not be negative")
        if not self.user_agent.strip():
            raise ValueError("FetchConfig.user_agent must not be empty")
        if not self.schemes or not set(self.schemes) <= SCHEMES:
            raise ValueError("FetchConfig.schemes must be http and https, or one of them")

    @property
    def robots_token(self) -> str:
        """The product token matched against robots.txt (``quotedesk``). The whole header is
        not matched: its URL's words (``github``, ``com``) would match other robots' rules."""
        return self.user_agent.strip().split()[0].split("/")[0]


@dataclass(frozen=True)
class Fetched:
    """One fetched URL.

    Attributes:
        url: The URL that answered, after redirects.
        requested_url: The URL asked for.
        status: The final HTTP status (200, or 304 when ``not_modified``).
        content_type: The media type, lowercased, without parameters (``"text/html"``);
            ``None`` when the server sent none.
        charset: The ``charset`` parameter of ``Content-Type``, if any.
        body: The body, decompressed; ``None`` when ``not_modified``.
        etag: The response's ``ETag``.
        last_modified: The response's ``Last-Modified``.
        not_modified: The server answered ``304 Not Modified`` to a conditional request.
        content_hash: SHA-256 of the body, hex (the cached one when ``not_modified``).
        unchanged: ``not_modified``, or a body whose hash is the one cached for this URL.
    """

    url: str
    requested_url: str
    status: int
    content_type: str | None
    charset: str | None
    body: bytes | None
    etag: str | None
    last_modified: str | None
    not_modified: bool
    content_hash: str | None
    unchanged: bool


class Fetcher:
    """Fetches http(s) URLs politely and within bounds; see the module's docstring.

    Thread-safe. Close it (or use it as a context manager) to close its connections.

    Args:
        config: How to fetch (:class:`FetchConfig`).
        cache: Where validators are kept for conditional requests; ``None``: every fetch is
            unconditional.
        sleep: How to wait a Crawl-delay (``threading.Event.wait`` makes the wait end when
            the event is set; tests record the waits).
    """

    def __init__(
        self,
        *,
        config: FetchConfig | None = None,
        cache: FetchCache | None = None,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.config = config or FetchConfig()
        self.cache = cache
        c = self.config
        self._client = httpx.Client(
            headers={
                "User-Agent": c.user_agent,
                # Only codings BoundedDecoder inflates in bounded steps.
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=httpx.Timeout(c.timeout, connect=c.connect_timeout),
            follow_redirects=False,  # followed by hand: each hop's scheme and robots checked
            trust_env=c.trust_env,
        )
        self._hosts = Hosts(sleep)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def fetch(
        self,
        url: str,
        *,
        conditional: bool = True,
        remember: bool = True,
        max_bytes: int | None = None,
    ) -> Fetched:
        """GET ``url``, following redirects.

        Args:
            url: An ``http``/``https`` URL.
            conditional: Send the cached validators (if the cache has the URL).
            remember: Put the response's validators in the cache when it succeeds. Pass
                ``False`` and call :meth:`remember` once the body has been stored, so that a
                body that failed to be ingested is not skipped as unchanged next time.
            max_bytes: This fetch's body limit instead of :attr:`FetchConfig.max_bytes`.

        Returns:
            The response; ``body`` is ``None`` (and ``not_modified`` true) on a 304.

        Raises:
            RobotsDisallowedError: robots.txt disallows the URL (or a redirect's target).
            FetchError: Anything else: not http(s), timed out, too large, connection refused,
                an HTTP error status, a redirect loop or too many redirects.
        """
        limit = max_bytes or self.config.max_bytes
        current = check_url(url, self.config.schemes)
        seen = [str(current)]
        for _ in range(self.config.max_redirects + 1):
            self._check_address(url, current)
            self._check_robots(url, current)
            self._hosts.wait_turn(current)
            cached = (
                self.cache.get(str(current)) if self.cache is not None and conditional else None
            )
            headers = {}
            if cached and cached.etag:
                headers["If-None-Match"] = cached.etag
            if cached and cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
            deadline = time.monotonic() + self.config.timeout
            try:
                with self._client.stream("GET", current, headers=headers) as response:
                    self._hosts.done(current)
                    status = response.status_code
                    if status in _REDIRECTS:
                        current = self._redirect(url, current, response, seen)
                        continue
                    if status == 304:
                        fetched = self._not_modified(url, current, response, cached)
                    elif 200 <= status < 300:
                        body = self._read(url, response, limit, deadline)
                        fetched = self._fetched(url, current, response, body)
                    else:
                        phrase = response.reason_phrase or ""
                        raise FetchError(url, f"HTTP {status} {phrase}".strip(), status=status)
            except httpx.HTTPError as exc:
                raise FetchError(url, self._network_reason(exc)) from exc
            if remember:
                self.remember(fetched)
            return fetched
        raise FetchError(url, f"too many redirects (more than {self.config.max_redirects})")

    def remember(self, fetched: Fetched) -> None:
        """Keep ``fetched``'s validators (under the URL that answered) for the next fetch."""
        if self.cache is None:
            return
        self.cache.put(
            fetched.url,
            CachedResponse(
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                content_hash=fetched.content_hash,
                fetched_at=datetime.now(UTC),
            ),
        )

    # -- one response ------------------------------------------------------------------

    def _redirect(
        self, url: str, current: httpx.URL, response: httpx.Response, seen: list[str]
    ) -> httpx.URL:
        location = response.headers.get("location")
        if not location:
            raise FetchError(url, f"HTTP {response.status_code} redirect without a Location")
        try:
            target = current.join(location.strip())
        except httpx.InvalidURL as exc:
            raise FetchError(url, f"redirected to an invalid URL {location!r} ({exc})") from None
        try:
            nxt = check_url(str(target), self.config.schemes)
        except FetchError as exc:
            raise FetchError(url, f"redirected to {target}: {exc.reason}") from None
        if str(nxt) in seen:
            chain = " -> ".join([*seen[seen.index(str(nxt)) :], str(nxt)])
            raise FetchError(url, f"redirect loop: {chain}")
        seen.append(str(nxt))
        return nxt

    def _not_modified(
        self,
        url: str,
        current: httpx.URL,
        response: httpx.Response,
        cached: CachedResponse | None,
    ) -> Fetched:
        if cached is None:
            raise FetchError(url, "HTTP 304 Not Modified to a request that was not conditional")
        media, charset = _media_type(response.headers.get("content-type"))
        return Fetched(
            url=str(current),
            requested_url=url,
            status=304,
            content_type=media,
            charset=charset,
            body=None,
            # A 304 may carry new validators; otherwise the cached ones still hold.
            etag=response.headers.get("etag") or cached.etag,
            last_modified=response.headers.get("last-modified") or cached.last_modified,
            not_modified=True,
            content_hash=cached.content_hash,
            unchanged=True,
        )

    def _fetched(
        self, url: str, current: httpx.URL, response: httpx.Response, body: bytes
    ) -> Fetched:
        media, charset = _media_type(response.headers.get("content-type"))
        digest = hashlib.sha256(body).hexdigest()
        before = self.cache.get(str(current)) if self.cache is not None else None
        return Fetched(
            url=str(current),
            requested_url=url,
            status=response.status_code,
            content_type=media,
            charset=charset,
            body=body,
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            not_modified=False,
            content_hash=digest,
            unchanged=before is not None and before.content_hash == digest,
        )

    def _read(
        self,
        url: str,
        response: httpx.Response,
        limit: int,
        deadline: float,
        *,
        truncate: bool = False,
    ) -> bytes:
        """The body, decompressed, at most ``limit`` bytes (``truncate``: the first ``limit``
        bytes of a longer one; otherwise a longer one is an error)."""
        too_large = f"too large: more than the limit of {limit:,} bytes"
        declared = response.headers.get("content-length", "").strip()
        if not truncate and declared.isdigit() and int(declared) > limit:
            # Refused on what the server says, before reading any of it.
            raise FetchError(url, f"{too_large} (it declares {int(declared):,})")
        try:
            decoder = BoundedDecoder(response.headers.get("content-encoding", ""), limit)
        except ValueError as exc:
            raise FetchError(url, str(exc)) from None
        parts: list[bytes] = []
        raw = 0
        try:
            for chunk in response.iter_raw():  # as it comes: a chunk size would wait to fill it
                if time.monotonic() > deadline:
                    raise FetchError(
                        url, f"timed out: the response took more than {self.config.timeout:g} s"
                    )
                raw += len(chunk)
                if raw > limit and not truncate:
                    raise TooLargeError  # more compressed bytes than the limit: no need to inflate
                parts.extend(decoder.feed(chunk))
                if raw > limit:
                    break  # truncating: enough read (a compressed body that inflates to little)
        except TooLargeError:
            if not truncate:
                raise FetchError(url, too_large) from None
            return b"".join([*parts, decoder.overflow])
        except zlib.error as exc:
            raise FetchError(url, f"the compressed body is corrupt ({exc})") from None
        if not truncate and not decoder.finish():
            raise FetchError(url, "the compressed body is cut short")
        return b"".join(parts)

    def _network_reason(self, exc: httpx.HTTPError) -> str:
        if isinstance(exc, httpx.ConnectTimeout):
            return f"timed out connecting (after {self.config.connect_timeout:g} s)"
        if isinstance(exc, httpx.TimeoutException):
            return f"timed out: no answer within {self.config.timeout:g} s"
        causes = _causes(exc)
        if any(isinstance(c, ConnectionRefusedError) for c in causes):
            return "connection refused"
        if isinstance(exc, httpx.ConnectError):
            text = str(exc)
            if "Name or service not known" in text or "nodename nor servname" in text:
                return "host not found"
            return f"could not connect ({text or type(exc).__name__})"
        if isinstance(exc, httpx.RemoteProtocolError):
            return f"the server broke off or sent a malformed response ({exc})"
        return f"{type(exc).__name__}: {exc}"

    def _check_address(self, url: str, target: httpx.URL) -> None:
        # A method, called at every hop (robots.txt's redirects too): one place that decides,
        # which a subclass may override.
        if not self.config.allow_private_addresses:
            check_public_address(url, target)

    # -- robots.txt and Crawl-delay ------------------------------------------------------

    def _check_robots(self, url: str, target: httpx.URL) -> None:
        robots = self._hosts.robots(target, lambda: self._fetch_robots(url, target))
        robots.check(url, target, self.config.robots_token)

    def _fetch_robots(self, url: str, target: httpx.URL) -> Robots:
        """robots.txt for ``target``'s host, read as RFC 9309 section 2.3.1 says: 2xx parsed;
        more than five redirects or a 4xx ("unavailable") allows everything; a 5xx
        ("unreachable") disallows everything. 429 Too Many Requests is taken as unreachable
        too: the server is asking us to go away, not saying there are no rules."""
        c = self.config
        now = time.monotonic()
        allow_all = Robots.allow_all(now + c.robots_ttl)
        location = check_url(robots_url(target))
        for _ in range(6):  # the first request and five redirects (RFC 9309 2.3.1.2)
            self._hosts.wait_turn(location)
            deadline = time.monotonic() + c.timeout
            try:
                with self._client.stream("GET", location) as response:
                    self._hosts.done(location)
                    status = response.status_code
                    if status in _REDIRECTS and response.headers.get("location"):
                        try:
                            location = check_url(
                                str(location.join(response.headers["location"].strip()))
                            )
                            self._check_address(url, location)
                        except (FetchError, httpx.InvalidURL):
                            return allow_all  # a redirect nowhere fetchable: unavailable
                        continue
                    if 200 <= status < 300:
                        limit = c.robots_max_bytes
                        body = self._read(url, response, limit, deadline, truncate=True)
                        return Robots.parse(
                            body,
                            c.robots_token,
                            max_delay=c.max_crawl_delay,
                            expires=allow_all.expires,
                        )
                    if 400 <= status < 500 and status != 429:
                        return allow_all
                    return Robots.refuse_all(
                        f"{location} answered HTTP {status}; until it can be read, RFC 9309 "
                        "says to fetch nothing from the host",
                        now + c.robots_retry,
                    )
            except httpx.HTTPError as exc:
                # The host itself cannot be reached: say so, rather than blame robots.txt.
                reason = self._network_reason(exc)
                raise FetchError(url, f"{reason} (fetching {location})") from exc
        return allow_all


def _media_type(header: str | None) -> tuple[str | None, str | None]:
    if not header:
        return None, None
    media, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return media.strip().lower() or None, charset


def _causes(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found and len(found) < 10:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found
