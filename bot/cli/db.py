"""``quotedesk db``: where the database's schemas stand (``status``), and bringing them to the
newest revisions this release knows (``upgrade``).

A quotedesk database holds two schemas, each with its own migration history: the corpus's
(documents, passages, collections; ``alembic_version``) and the bot's (handled deliveries,
feedback; ``alembic_version_bot``). Both commands cover both, corpus first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli import common

if TYPE_CHECKING:
    from retrieval.records import SchemaStatus, SchemaUpgrade

UPGRADE = "quotedesk db upgrade"


@click.group()
def db() -> None:
    """The database's schemas (the corpus's and the bot's): see where they stand, bring them
    up to date.

    Commands that use the database (ask, chat, ingest, sources, eval) refuse one whose corpus
    schema is behind, and serve and socket one whose corpus or bot schema is; `quotedesk db
    upgrade` upgrades both (stop the copies of an older release first). A new, empty database
    needs nothing: each schema is created when first opened.
    """


@db.command()
@common.data_dir_option
def status(data_dir: Path | None) -> None:
    """Print each schema's revision, the newest this release knows, and what to do."""
    from bot.store import status_all
    from retrieval.settings import Settings
    from retrieval.store import redact

    with common.user_errors():
        url = Settings.resolve(data_dir=data_dir).database_url
        found = status_all(url)
    for line in status_lines(redact(url), found):
        click.echo(line)


@db.command()
@common.data_dir_option
def upgrade(data_dir: Path | None) -> None:
    """Upgrade both schemas to the newest revisions; adopt what was made before migrations."""
    from bot.store import upgrade_all
    from retrieval.settings import Settings
    from retrieval.store import redact

    with common.user_errors():
        settings = Settings.resolve(data_dir=data_dir)
        settings.ensure_data_dir()
        done = upgrade_all(settings.database_url)
    for line in upgrade_lines(redact(settings.database_url), done):
        click.echo(line)


STATES = {
    "empty": "empty: the schema is created at head when quotedesk first opens it",
    "current": "up to date",
    "behind": f"behind: run `{UPGRADE}`",
    "unversioned": f"made before migrations: run `{UPGRADE}` to adopt it",
    "ahead": "ahead: a newer quotedesk upgraded it; this one cannot use it",
}
# Where the bot's schema differs: its tables are made when the bot (serve, socket) first
# opens the database, and "unversioned" tables were kept by the corpus's revisions before.
BOT_STATES = {
    **STATES,
    "empty": "empty: the schema is created at head when the bot first opens it",
    "unversioned": f"made before it had a history of its own: run `{UPGRADE}` to adopt it",
}
SCHEMAS = {"corpus": STATES, "bot": BOT_STATES}
# What an adopted schema's tables were made by.
ADOPTED = {"corpus": "made before migrations", "bot": "made before it had a history of its own"}


def status_lines(database: str, found: dict[str, SchemaStatus]) -> list[str]:
    """``quotedesk db status`` as lines: the database, then each schema's revisions and state.

    Example:
        >>> from retrieval.records import SchemaState, SchemaStatus
        >>> current = SchemaStatus(SchemaState.CURRENT, "0006", "0006")
        >>> print(*status_lines("sqlite:///q.db", {"corpus": current}), sep="\\n")
        database  sqlite:///q.db
        schema    corpus
        current   0006
        head      0006
        state     up to date
    """
    lines = [f"database  {database}"]
    for name, status in found.items():
        lines += [
            f"schema    {name}",
            f"current   {status.current or 'none'}",
            f"head      {status.head}",
            f"state     {SCHEMAS[name][status.state.value]}",
        ]
        lines += [f"pending   {step}" for step in status.pending]
    return lines


def upgrade_lines(database: str, done: dict[str, SchemaUpgrade]) -> list[str]:
    """``quotedesk db upgrade`` as lines: for each schema, what was adopted, carried and
    applied."""
    lines = []
    for name, upgraded in done.items():
        what = database if name == "corpus" else f"the {name} schema of {database}"
        lines += _upgrade_lines(what, upgraded, made=ADOPTED[name])
    return lines


def _upgrade_lines(what: str, done: SchemaUpgrade, *, made: str) -> list[str]:
    lines = []
    if done.adopted:
        lines.append(f"adopted {what}, {made}: stamped at {done.start}")
        lines += [f"  created {table}" for table in done.created]
        lines += [f"  carried {c.rows} rows from {c.source} to {c.target}" for c in done.carried]
    if not done.applied:
        lines.append(f"{what} is at {done.after} (head): nothing to upgrade")
        return lines
    lines.append(f"upgraded {what} from {done.start or 'nothing'} to {done.after}:")
    lines += [f"  {step}" for step in done.applied]
    return lines
