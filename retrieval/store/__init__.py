"""The only package that speaks SQL: :class:`Store`, its schema and the schema's migrations.

Everything outside it works with the plain records of :mod:`retrieval.records`.
"""

from __future__ import annotations

from retrieval.store.database import redact
from retrieval.store.migrate import schema_status, upgrade
from retrieval.store.store import Store, bytes_vector, new_run, vector_bytes

__all__ = [
    "Store",
    "bytes_vector",
    "new_run",
    "redact",
    "schema_status",
    "upgrade",
    "vector_bytes",
]
