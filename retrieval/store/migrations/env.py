"""Alembic's environment for the corpus's schema (version table ``alembic_version``).

:mod:`retrieval.store.migrate` runs the revisions on a connection it has already locked and
begun a transaction on (``config.attributes["connection"]``): the revisions then run inside
that transaction, and it commits. From Alembic's own command line (``python -m
retrieval.store.migrations ...``, for developers) there is no such connection: one is opened on
``sqlalchemy.url``.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine

from retrieval.store.schema import Base

config = context.config


def corpus_only(item: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate's filter: a table of the database that the models do not define belongs to
    another history in the same database (the bot's, with its version table) and is left out,
    not proposed for dropping. (Dropping a corpus table is written into a revision by hand.)"""
    return not (kind == "table" and reflected and compare_to is None)


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=corpus_only,
        # SQLite alters a table by copying it: autogenerate writes batch operations for it.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    # The revisions read the data they carry over (e.g. the collection of each root).
    raise SystemExit("quotedesk's migrations run against a database, not as an SQL script")

given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            run(connection)
    finally:
        engine.dispose()
