"""Alembic's own command line on the bot's migrations, for developers.

The database is ``DATABASE_URL`` (or the data directory's SQLite file), as for quotedesk::

    python -m bot.store.migrations history
    python -m bot.store.migrations check        # do the bot's models match its revisions?
    python -m bot.store.migrations revision --autogenerate --rev-id b0002 -m "add x"

To upgrade a deployment, use ``quotedesk db upgrade``: it upgrades the corpus's history and
the bot's together, adopts tables made before each had one, and holds the lock that keeps two
upgrades from running at once.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from alembic.config import CommandLine

from bot.store.migrate import alembic_config
from retrieval.settings import Settings


def main(argv: Sequence[str] | None = None) -> None:
    command_line = CommandLine(prog="python -m bot.store.migrations")
    options = command_line.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        command_line.parser.error("too few arguments")
    command_line.run_cmd(alembic_config(url=Settings.resolve().database_url), options)


if __name__ == "__main__":
    main(sys.argv[1:])
