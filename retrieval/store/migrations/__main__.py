"""Alembic's own command line on quotedesk's migrations, for developers.

The database is ``DATABASE_URL`` (or the data directory's SQLite file), as for quotedesk::

    python -m retrieval.store.migrations history
    python -m retrieval.store.migrations check        # do the models match the revisions?
    python -m retrieval.store.migrations revision --autogenerate --rev-id 0003 -m "add x"

To upgrade a deployment, use ``quotedesk db upgrade``: it also adopts stores made before
migrations, and holds the lock that keeps two upgrades from running at once.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from alembic.config import CommandLine

from retrieval.settings import Settings
from retrieval.store.migrate import alembic_config


def main(argv: Sequence[str] | None = None) -> None:
    command_line = CommandLine(prog="python -m retrieval.store.migrations")
    options = command_line.parser.parse_args(argv)
    if not hasattr(options, "cmd"):
        command_line.parser.error("too few arguments")
    command_line.run_cmd(alembic_config(url=Settings.resolve().database_url), options)


if __name__ == "__main__":
    main(sys.argv[1:])
