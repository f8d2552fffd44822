"""Alembic's environment for the bot's schema (version table ``alembic_version_bot``).

:mod:`bot.store.migrate` runs the revisions on a connection it has already locked and begun a
transaction on (``config.attributes["connection"]``): the revisions then run inside that
transaction, and it commits. From Alembic's own command line (``python -m
bot.store.migrations ...``, for developers) there is no such connection: one is opened on
``sqlalchemy.url``.

The database also holds the corpus's tables and its ``alembic_version``: autogenerate looks at
the bot's tables alone.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine

from bot.store.schema import VERSION_TABLE, BotBase

config = context.config


def bot_only(item: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate's filter: the bot's tables (those its models define) and nothing else."""
    return kind != "table" or name in BotBase.metadata.tables


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=BotBase.metadata,
        version_table=VERSION_TABLE,
        include_object=bot_only,
        # SQLite alters a table by copying it: autogenerate writes batch operations for it.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
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
