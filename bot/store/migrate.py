"""The bot's schema history (Alembic, configured here in code), beside the corpus's in the same
database, and ``quotedesk db status`` / ``quotedesk db upgrade`` over both.

Two histories, one database:

* The corpus's (``retrieval/store/migrations/``) records its revision in ``alembic_version``;
  its models define the corpus's tables only.
* The bot's (``bot/store/migrations/``) records its revision in ``alembic_version_bot``
  (:data:`~bot.store.schema.VERSION_TABLE`); its models (:mod:`bot.store.schema`) define the
  bot's tables. Each history's environment leaves the other's tables alone.

The bot's tables were the corpus's until corpus revision 0006: revisions 0001-0005 created and
kept ``handled_deliveries`` and ``answer_feedback``, and the corpus adopted the Slack tables of
the release before migrations (``slack_events``, ``slack_feedback``) into them. Now:

* A database whose bot tables (or those older Slack tables) are there without
  ``alembic_version_bot`` is *unversioned* for the bot: the bot's store refuses it, and
  :func:`upgrade_all` adopts it. The adoption checks the tables present against the bot's
  baseline (``b0001``, the tables as revision 0001 made them), creates those missing, carries
  the older Slack tables' rows into their successors (and drops them), and stamps the
  baseline. No row is lost.
* A database with none of them is *empty* for the bot: :func:`open_schema` (the bot's store,
  on opening) creates its tables at head, under the same lock as the corpus's
  (:func:`retrieval.store.migrate.locked`), so several processes opening a new database
  together create them once.
* :func:`upgrade_all` (``quotedesk db upgrade``) brings both histories to head in one
  transaction, under that lock: the corpus's first (its revisions may make the bot's tables,
  on an empty database), then the bot's. An error leaves the database as it was.
* :func:`status_all` (``quotedesk db status``) tells where each stands.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, MetaData, Table, func, insert, inspect, select
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import DropTable

from bot.store.schema import BOT_REVISION, VERSION_TABLE, BotBase
from retrieval.errors import SchemaAheadError, SchemaBehindError, SchemaError
from retrieval.records import CarriedRows, SchemaState, SchemaStatus, SchemaUpgrade
from retrieval.store import migrate as corpus
from retrieval.store import redact

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

# Alembic is imported where a revision is read, applied or stamped, not on opening a database
# already at head (see retrieval/store/migrate.py).

MIGRATIONS = Path(__file__).resolve().with_name("migrations")
# The revision a database whose bot tables have no version of their own is stamped at.
BASELINE = "b0001"
# The histories of a quotedesk database, in the order they are upgraded.
HISTORIES = ("corpus", "bot")


@dataclass(frozen=True)
class _Renamed:
    """A table of the release before migrations (60d4740) and the one that took its place.

    Attributes:
        old: Its name then.
        new: The successor's name.
        columns: For each of the successor's columns, the old column that fills it.
        unique: The successor's column whose values are unique: rows already there are
            not copied again.
    """

    old: str
    new: str
    columns: dict[str, str]
    unique: str | None = None


RENAMED = (
    _Renamed(
        "slack_events",
        "handled_deliveries",
        {"delivery_id": "event_id", "received_at": "received_at"},
        unique="delivery_id",
    ),
    _Renamed(
        "slack_feedback",
        "answer_feedback",
        {c: c for c in ("vote", "question", "quotes", "user_id", "channel_id", "created_at")},
    ),
)


def alembic_config(*, url: str | None = None, connection: Connection | None = None) -> Config:
    """Alembic's configuration for the bot's migrations: the corpus's, at the bot's folder
    (the version table is set in ``env.py``).

    Example:
        >>> alembic_config().get_main_option("script_location").endswith("migrations")
        True
    """
    return corpus.alembic_config(url=url, connection=connection, location=MIGRATIONS)


@functools.cache
def scripts() -> ScriptDirectory:
    """The bot's revisions this release knows (read once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The bot's newest revision: the one its models define.

    Example:
        >>> head()
        'b0003'
    """
    return BOT_REVISION


def open_schema(engine: Engine) -> SchemaStatus:
    """Create the bot's tables at head when the database has none of them; the status after.

    Two processes opening a new database together create them once between them: each looks
    again under the lock, and the second finds it done.
    """
    return corpus.create_once(engine, status_on, _create_at_head)


def check(url: str, status: SchemaStatus) -> None:
    """Raise unless the bot's store may use a database whose bot schema has this ``status``.

    Raises:
        SchemaBehindError: It is behind, or its tables have no version of their own yet.
        SchemaAheadError: A newer release upgraded it.
    """
    if status.state is SchemaState.AHEAD:
        raise _ahead(url, status)
    if status.needs_upgrade:
        where = (
            "keeps the bot's tables from before they had a history of their own"
            if status.state is SchemaState.UNVERSIONED
            else f"is at the bot's revision {status.current}"
        )
        raise SchemaBehindError(
            f"the database {redact(url)} {where}; this quotedesk needs the bot's revision "
            f"{status.head}: " + corpus.UPGRADE_HINT
        )


def status_all(url: str) -> dict[str, SchemaStatus]:
    """Where each history of the database at ``url`` stands (``"corpus"``, ``"bot"``); it is
    not changed (a SQLite file that does not exist is not created).

    Raises:
        DataDirError: The database cannot be opened.
    """
    if corpus.missing_sqlite_file(url):
        return {"corpus": corpus.schema_status(url), "bot": _empty_status()}
    engine = corpus.engine_for(url)
    try:
        with engine.connect() as connection:
            return {"corpus": corpus.status_on(connection), "bot": status_on(connection)}
    except SQLAlchemyError as exc:
        raise corpus.database_error(url, exc) from exc
    finally:
        engine.dispose()


def upgrade_all(url: str) -> dict[str, SchemaUpgrade]:
    """Bring both histories of the database at ``url`` to head (``"corpus"``, then ``"bot"``),
    adopting what was made before each had a history; one transaction under the schema lock.

    Raises:
        SchemaAheadError: A newer release upgraded either history beyond what this one knows
            (nothing is changed).
        SchemaError: Tables made before migrations are not the ones it can adopt.
        DataDirError: The database cannot be opened or written.
    """
    engine = corpus.engine_for(url)
    try:
        with corpus.locked(engine) as connection:
            before = status_on(connection)
            if before.state is SchemaState.AHEAD:
                raise _ahead(url, before)
            done = {"corpus": corpus.upgrade_on(connection, url)}
            done["bot"] = upgrade_on(connection, url, before=before)
    except SQLAlchemyError as exc:
        raise corpus.database_error(url, exc, doing="upgrade") from exc
    except Exception as exc:
        if corpus.is_command_error(exc):
            raise corpus.database_error(url, exc, doing="upgrade") from exc
        raise
    finally:
        engine.dispose()
    return done


def upgrade_on(
    connection: Connection, url: str, *, before: SchemaStatus | None = None
) -> SchemaUpgrade:
    """The bot's history to head on a connection :func:`~retrieval.store.migrate.locked`
    holds, in its transaction.

    Args:
        connection: The locked connection.
        url: The database, for errors.
        before: The bot's status before the corpus's revisions ran in this transaction (they
            make the bot's tables on an empty database): what the upgrade reports as its
            start. Read now when not given.
    """
    if before is None:
        before = status_on(connection)
    if before.state is SchemaState.AHEAD:
        raise _ahead(url, before)
    created: tuple[str, ...] = ()
    carried: tuple[CarriedRows, ...] = ()
    if status_on(connection).state is SchemaState.UNVERSIONED:
        created, carried = _adopt(connection)
    _run_to_head(connection)
    after = status_on(connection)
    adopted = before.state is SchemaState.UNVERSIONED
    return SchemaUpgrade(
        before=before,
        after=after.head,
        # An empty database reads as upgraded from nothing, also when the corpus's baseline
        # made the tables a moment before (the bot's baseline only adopted them).
        start=BASELINE if adopted else before.current,
        applied=_pending(BASELINE) if adopted else before.pending,
        adopted=adopted,
        carried=carried,
        created=created,
    )


def status_on(connection: Connection) -> SchemaStatus:
    """Where the bot's schema of the database behind ``connection`` stands; nothing changed."""
    tables = set(inspect(connection).get_table_names())
    current: str | None = None
    if VERSION_TABLE in tables:
        version = sql_table(VERSION_TABLE, sql_column("version_num"))
        heads = connection.execute(select(version.c.version_num)).scalars()
        current = next(iter(heads), None)
    newest = head()
    if current is None:
        if tables & _known_tables():
            return SchemaStatus(SchemaState.UNVERSIONED, None, newest, _pending(None))
        return SchemaStatus(SchemaState.EMPTY, None, newest, _pending(None))
    if current == newest:
        return SchemaStatus(SchemaState.CURRENT, current, newest)
    if current not in _known_revisions():  # made by a newer release
        return SchemaStatus(SchemaState.AHEAD, current, newest)
    return SchemaStatus(SchemaState.BEHIND, current, newest, _pending(current))


# --- inside ------------------------------------------------------------------------------------


def _ahead(url: str, status: SchemaStatus) -> SchemaAheadError:
    return SchemaAheadError(
        f"the database {redact(url)} is at the bot's revision {status.current}, which this "
        f"quotedesk does not know (its newest is {status.head}): a newer release upgraded it; "
        "run that one"
    )


def _empty_status() -> SchemaStatus:
    return SchemaStatus(SchemaState.EMPTY, None, head(), _pending(None))


@functools.cache
def _known_tables() -> frozenset[str]:
    """Every table name the bot's records have had: one of them without a bot version is a
    database to adopt."""
    return frozenset(_baseline_tables().tables) | {table.old for table in RENAMED}


def _baseline_tables() -> Any:
    """The tables of the bot's baseline (a ``MetaData``), as its script defines them."""
    return scripts().get_revision(BASELINE).module.baseline()


@functools.cache
def _known_revisions() -> frozenset[str]:
    return frozenset(s.revision for s in scripts().walk_revisions())


def _pending(current: str | None) -> tuple[str, ...]:
    """``"<revision> <doc>"`` of each bot revision from ``current`` (exclusive) to head,
    oldest first."""
    steps = scripts().iterate_revisions(head(), current or "base")
    return tuple(f"{s.revision} {s.doc}" for s in reversed(list(steps)))


def _create_at_head(connection: Connection) -> None:
    """A database without the bot's tables: the models' tables, stamped at head (the same
    schema as the revisions make: a test compares them)."""
    from alembic.runtime.migration import MigrationContext

    BotBase.metadata.create_all(connection)
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    context.stamp(scripts(), "head")


def _run_to_head(connection: Connection) -> None:
    """Apply every bot revision the database lacks, in the caller's transaction."""
    from alembic import command

    command.upgrade(alembic_config(connection=connection), "head")


def _adopt(connection: Connection) -> tuple[tuple[str, ...], tuple[CarriedRows, ...]]:
    """Bring bot tables without a version to the bot's baseline and stamp it there.

    Returns:
        The tables created (missing before) and the rows carried over from the Slack tables
        of the release before migrations.
    """
    baseline = _baseline_tables()
    present = set(inspect(connection).get_table_names())
    for name, table in baseline.tables.items():
        if name in present:
            columns = {c["name"] for c in inspect(connection).get_columns(name)}
            if missing := sorted(set(table.columns.keys()) - columns):
                raise SchemaError(
                    f"cannot adopt this database: its table {name} lacks {', '.join(missing)}"
                )
    created = tuple(name for name in baseline.tables if name not in present)
    baseline.create_all(connection, checkfirst=True)
    carried = tuple(_carry(connection, table) for table in RENAMED if table.old in present)
    from alembic import command

    command.stamp(alembic_config(connection=connection), BASELINE)
    return created, carried


def _carry(connection: Connection, table: _Renamed) -> CarriedRows:
    """Copy the old table's rows into its successor (in id order) and drop it.

    The old table goes in the same transaction: left behind, it would be a second record
    that nothing reads, and a copy of the old release still running would go on writing to
    it unseen (it fails instead, and shows it must be stopped).
    """
    old = sql_table(table.old, *(sql_column(c) for c in {*table.columns.values(), "id"}))
    new = sql_table(table.new, *(sql_column(c) for c in table.columns))
    rows = select(*(old.c[c] for c in table.columns.values())).order_by(old.c.id)
    if table.unique:
        rows = rows.where(old.c[table.columns[table.unique]].not_in(select(new.c[table.unique])))
    count = select(func.count()).select_from(new)
    before = int(connection.scalar(count) or 0)
    connection.execute(insert(new).from_select(list(table.columns), rows))
    # Counted, not rowcount: some drivers report -1 for INSERT ... SELECT.
    carried = int(connection.scalar(count) or 0) - before
    connection.execute(DropTable(Table(table.old, MetaData())))
    return CarriedRows(table.old, table.new, carried)
