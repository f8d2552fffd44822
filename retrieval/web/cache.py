"""Where a :class:`~retrieval.web.fetch.Fetcher` keeps validators (``ETag``,
``Last-Modified``, a hash of the body) by URL, to ask conditionally next time:
:class:`CachedResponse`, the :class:`FetchCache` protocol, and its implementations
:class:`MemoryCache` (a dict), :class:`JsonFileCache` (a JSON Lines file) and
:class:`StoreFetchCache` (the corpus database).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from retrieval.store import Store

__all__ = [
    "CachedResponse",
    "FetchCache",
    "JsonFileCache",
    "MemoryCache",
    "StoreFetchCache",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedResponse:
    """What is remembered of a URL's last response, to ask for it conditionally next time.

    Attributes:
        etag: Its ``ETag`` (sent back as ``If-None-Match``).
        last_modified: Its ``Last-Modified`` (sent back as ``If-Modified-Since``), verbatim.
        content_hash: SHA-256 of its body, hex: a server without validators that sends the
            same bytes again is still seen to be unchanged
            (:attr:`~retrieval.web.fetch.Fetched.unchanged`).
        fetched_at: When it was fetched (or last confirmed unchanged), aware, UTC.
    """

    etag: str | None
    last_modified: str | None
    content_hash: str | None
    fetched_at: datetime


class FetchCache(Protocol):
    """Where a :class:`~retrieval.web.fetch.Fetcher` keeps validators, by URL (the URL that
    answered, after redirects). Implementations: :class:`MemoryCache`, :class:`JsonFileCache`,
    :class:`StoreFetchCache`."""

    def get(self, url: str) -> CachedResponse | None: ...

    def put(self, url: str, response: CachedResponse) -> None: ...


class MemoryCache:
    """A :class:`FetchCache` in a dict: for tests and one process's life."""

    def __init__(self) -> None:
        self._entries: dict[str, CachedResponse] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> CachedResponse | None:
        with self._lock:
            return self._entries.get(url)

    def put(self, url: str, response: CachedResponse) -> None:
        with self._lock:
            self._entries[url] = response


class JsonFileCache:
    """A :class:`FetchCache` in a JSON Lines file, one entry a line, the last line of a URL
    winning.

    A put appends one line (a sitemap of 10,000 pages is 10,000 short appends, not 10,000
    rewrites of the whole file); the file is compacted, atomically, when opened with many
    superseded lines. A torn last line (a crash mid-write) or a corrupt file costs only the
    validators: the next fetch is unconditional.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._entries: dict[str, CachedResponse] = {}
        self._lock = threading.Lock()
        lines = self._load()
        if lines > 2 * len(self._entries) + 100:
            self._rewrite()

    def get(self, url: str) -> CachedResponse | None:
        with self._lock:
            return self._entries.get(url)

    def put(self, url: str, response: CachedResponse) -> None:
        line = json.dumps(_entry_json(url, response), ensure_ascii=False) + "\n"
        with self._lock:
            self._entries[url] = response
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # 0600: the URLs followed may themselves be confidential.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as out:
                out.write(line)

    def _load(self) -> int:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return 0
        lines = text.splitlines()
        bad = 0
        for line in lines:
            try:
                url, response = _entry_from_json(json.loads(line))
            except (ValueError, TypeError, KeyError):
                bad += 1
                continue
            self._entries[url] = response
        if bad:
            log.warning("%s: %d unreadable line(s) ignored", self.path, bad)
        return len(lines)

    def _rewrite(self) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".fetch-cache-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                for url, response in self._entries.items():
                    out.write(json.dumps(_entry_json(url, response), ensure_ascii=False) + "\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _entry_json(url: str, response: CachedResponse) -> dict[str, str | None]:
    return {
        "url": url,
        "etag": response.etag,
        "last_modified": response.last_modified,
        "content_hash": response.content_hash,
        "fetched_at": response.fetched_at.isoformat(),
    }


def _entry_from_json(data: dict[str, str | None]) -> tuple[str, CachedResponse]:
    url, fetched_at = data["url"], data["fetched_at"]
    if not isinstance(url, str) or not isinstance(fetched_at, str):
        raise ValueError("url and fetched_at must be strings")
    when = datetime.fromisoformat(fetched_at)
    return url, CachedResponse(
        etag=data.get("etag"),
        last_modified=data.get("last_modified"),
        content_hash=data.get("content_hash"),
        fetched_at=when if when.tzinfo else when.replace(tzinfo=UTC),
    )


class StoreFetchCache:
    """The fetcher's validators kept in the corpus database (``fetched_urls``), so that a
    restarted ``follow`` or another replica asks conditionally too."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, url: str) -> CachedResponse | None:
        record = self.store.fetch_record(url)
        if record is None:
            return None
        return CachedResponse(
            etag=record.etag,
            last_modified=record.last_modified,
            content_hash=record.content_hash,
            fetched_at=datetime.now(UTC),
        )

    def put(self, url: str, response: CachedResponse) -> None:
        # Imported here: retrieval.records pulls in numpy, which the fetcher itself (and a
        # cache in memory or in a file) does without.
        from retrieval.records import FetchRecord

        self.store.record_fetch(
            FetchRecord(url, response.etag, response.last_modified, response.content_hash)
        )
