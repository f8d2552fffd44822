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

from bot.store.schema import VERSION_TABLE, BotBase
from retrieval.store.migrate import run_environment


def bot_only(item: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    """Autogenerate's filter: the bot's tables (those its models define) and nothing else."""
    return kind != "table" or name in BotBase.metadata.tables


run_environment(BotBase.metadata, bot_only, version_table=VERSION_TABLE)
