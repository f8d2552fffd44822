"""What a fetch fails with: :class:`FetchError`, or :class:`RobotsDisallowedError` when
robots.txt says no.

A module of their own, below the others: the URL checks (:mod:`retrieval.web.urls`) and the
robots.txt rules (:mod:`retrieval.web.robots`) raise them, and the fetcher imports both.
:mod:`retrieval.web.fetch` exports them too, as what :meth:`Fetcher.fetch
<retrieval.web.fetch.Fetcher.fetch>` raises.
"""

from __future__ import annotations

from retrieval.errors import FetchFailedError

__all__ = ["FetchError", "RobotsDisallowedError"]


class FetchError(FetchFailedError):
    """A URL that could not be fetched; ``reason`` says why in words.

    Attributes:
        url: The URL asked for (not the redirect that failed; the reason names that one).
        reason: ``"timed out ..."``, ``"too large ..."``, ``"HTTP 404 Not Found"``,
            ``"not an http(s) URL ..."``, ``"connection refused"``, ``"redirect loop ..."``.
        status: The HTTP status when the server answered with an error, else ``None``: a
            404 or 410 means gone, a 5xx may pass.
    """

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
        self.status = status


class RobotsDisallowedError(FetchError):
    """The site's robots.txt does not let quotedesk fetch the URL (or could not be read
    because the server failed: RFC 9309 then says to fetch nothing)."""
