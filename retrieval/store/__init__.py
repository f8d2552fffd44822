"""The only package that speaks SQL: :class:`Store` and its schema.

Everything outside it works with the plain records of :mod:`retrieval.records`.
"""

from __future__ import annotations

from retrieval.store.store import Store, bytes_vector, redact, vector_bytes

__all__ = ["Store", "bytes_vector", "redact", "vector_bytes"]
