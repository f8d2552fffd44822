"""``quotedesk db``: where the database's schema stands (``status``), and bringing it to the
newest revision this release knows (``upgrade``)."""

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
    """The database's schema: see where it stands, bring it up to date.

    Commands that use the database (ask, chat, ingest, sources, eval, serve, socket) refuse
    one whose schema is behind; `quotedesk db upgrade` upgrades it (stop the copies of an
    older release first). A new, empty database needs nothing: it is created when first
    opened.
    """


@db.command()
@common.data_dir_option
def status(data_dir: Path | None) -> None:
    """Print the database's revision, the newest this release knows, and what to do."""
    from retrieval.config import Settings
    from retrieval.store import redact, schema_status

    with common.user_errors():
        url = Settings.resolve(data_dir=data_dir).database_url
        found = schema_status(url)
    for line in status_lines(redact(url), found):
        click.echo(line)


@db.command()
@common.data_dir_option
def upgrade(data_dir: Path | None) -> None:
    """Upgrade the database to the newest revision; adopt one made before migrations."""
    from retrieval.config import Settings
    from retrieval.store import redact
    from retrieval.store import upgrade as run_upgrade

    with common.user_errors():
        settings = Settings.resolve(data_dir=data_dir)
        settings.ensure_data_dir()
        done = run_upgrade(settings.database_url)
    for line in upgrade_lines(redact(settings.database_url), done):
        click.echo(line)


STATES = {
    "empty": "empty: the schema is created at head when quotedesk first opens it",
    "current": "up to date",
    "behind": f"behind: run `{UPGRADE}`",
    "unversioned": f"made before migrations: run `{UPGRADE}` to adopt it",
    "ahead": "ahead: a newer quotedesk upgraded it; this one cannot use it",
}


def status_lines(database: str, found: SchemaStatus) -> list[str]:
    """``quotedesk db status`` as lines.

    Example:
        >>> status_lines("sqlite:///q.db", SchemaStatus(SchemaState.CURRENT, "0002", "0002"))
        ['database  sqlite:///q.db', 'current   0002', 'head      0002', 'state     up to date']
    """
    lines = [
        f"database  {database}",
        f"current   {found.current or 'none'}",
        f"head      {found.head}",
        f"state     {STATES[found.state.value]}",
    ]
    lines += [f"pending   {step}" for step in found.pending]
    return lines


def upgrade_lines(database: str, done: SchemaUpgrade) -> list[str]:
    """``quotedesk db upgrade`` as lines: what was adopted, carried and applied."""
    lines = []
    if done.adopted:
        lines.append(f"adopted {database}, made before migrations: stamped at {done.start}")
        lines += [f"  created {table}" for table in done.created]
        lines += [f"  carried {c.rows} rows from {c.source} to {c.target}" for c in done.carried]
    if not done.applied:
        lines.append(f"{database} is at {done.after} (head): nothing to upgrade")
        return lines
    lines.append(f"upgraded {database} from {done.start or 'nothing'} to {done.after}:")
    lines += [f"  {step}" for step in done.applied]
    return lines
