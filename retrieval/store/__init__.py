"""The corpus store, the core's only code that speaks SQL: :class:`Store`, the corpus's schema
and its migrations.

Everything else in the core works with the plain records of :mod:`retrieval.records`. (The
bot's records live in the same database, in tables and a migration history of the bot's own,
which this package knows nothing of.)
"""

from __future__ import annotations

from retrieval.store.database import in_utc, redact
from retrieval.store.migrate import schema_status, upgrade
from retrieval.store.store import Store, bytes_vector, new_run, vector_bytes

__all__ = [
    "Store",
    "bytes_vector",
    "in_utc",
    "new_run",
    "redact",
    "schema_status",
    "upgrade",
    "vector_bytes",
]
