"""Opening a database: the engine every part of the store uses, and URLs safe to print."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url

# Switching a new file to WAL needs it alone; two processes opening it together may be told
# "locked" at once, without the busy timeout's wait (SQLite's way out of a deadlock).
WAL_ATTEMPTS = 40


def open_engine(url: str) -> Engine:
    """An engine on ``url``; on SQLite, with foreign keys on, WAL, and a wait when locked.

    Example:
        >>> open_engine("sqlite:///:memory:").dialect.name
        'sqlite'
    """
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def in_utc(moment: datetime | None) -> datetime | None:
    """A time read from the database, in UTC: SQLite gives back what was stored without its
    zone (PostgreSQL keeps it).

    Example:
        >>> in_utc(datetime(2026, 12, 5, 9, 30)).isoformat()
        '2026-12-05T09:30:00+00:00'
    """
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def redact(url: str) -> str:
    """``url`` without its password, for messages and logs.

    Example:
        >>> redact("postgresql://app:secret@db/quotedesk")
        'postgresql://app:***@db/quotedesk'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<invalid url>"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    # First: the pragmas below may have to wait for a process creating the same new file.
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets a running bot read while an ingest writes.
    for attempt in range(WAL_ATTEMPTS):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == WAL_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1))
    # Under WAL, NORMAL syncs at checkpoints, not at every commit: a crash of the process
    # loses nothing, a power cut may lose the last commits but never corrupts the file.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
