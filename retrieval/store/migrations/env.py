"""Alembic's environment for the corpus's schema (version table ``alembic_version``).

:mod:`retrieval.store.migrate` runs the revisions on a connection it has already locked and
begun a transaction on (``config.attributes["connection"]``): the revisions then run inside
that transaction, and it commits. From Alembic's own command line (``python -m
retrieval.store.migrations ...``, for developers) there is no such connection: one is opened on
``sqlalchemy.url``.
"""

from __future__ import annotations

from typing import Any

from retrieval.store.migrate import run_environment
from retrieval.store.schema import Base


def corpus_only(item: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate's filter: a table of the database that the models do not define belongs to
    another history in the same database (the bot's, with its version table) and is left out,
    not proposed for dropping. (Dropping a corpus table is written into a revision by hand.)"""
    return not (kind == "table" and reflected and compare_to is None)


run_environment(Base.metadata, corpus_only)
