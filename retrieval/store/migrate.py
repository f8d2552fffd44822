"""The schema's revisions (Alembic, configured here in code: no alembic.ini).

* :func:`open_schema` is what :class:`~retrieval.store.Store` does on opening: a database with
  no quotedesk table is created at head, through the revisions (safe when several processes
  open it at once); any other database is only looked at, and its :class:`SchemaStatus` says
  whether the store may use it.
* :func:`upgrade` (``quotedesk db upgrade``) brings a database to head. A store made before
  migrations (quotedesk tables, no ``alembic_version``) is *adopted* first: the tables of the
  baseline it lacks are created, the Slack tables of the release before are carried over to
  their successors, and it is stamped at the baseline revision.
* :func:`schema_status` (``quotedesk db status``) tells where a database stands.

Every step that writes holds a lock for its whole transaction: PostgreSQL's advisory lock, or
SQLite's write lock (``BEGIN IMMEDIATE``); the second process then finds the work done.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, MetaData, Table, func, insert, inspect, select, text
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import DropTable

from retrieval.errors import DataDirError, SchemaAheadError, SchemaBehindError, SchemaError
from retrieval.records import CarriedRows, SchemaState, SchemaStatus, SchemaUpgrade
from retrieval.store.database import open_engine, redact
from retrieval.store.schema import SCHEMA_REVISION, Base

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

# Alembic is imported where a revision is read, applied or stamped, not on opening a database
# already at head: that is every start of a command, and Alembic takes a quarter of a second
# to import.

MIGRATIONS = Path(__file__).resolve().with_name("migrations")
VERSION_TABLE = "alembic_version"
# The revision a store made before migrations is stamped at, once it matches it.
BASELINE = "0001"
# Advisory lock key for changing the schema on PostgreSQL (any constant of the application's).
SCHEMA_LOCK = 0x71756F7465  # "quote"


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
UPGRADE_HINT = "run `quotedesk db upgrade` (with the same --data-dir or DATABASE_URL)"


def alembic_config(*, url: str | None = None, connection: Connection | None = None) -> Config:
    """Alembic's configuration for quotedesk's migrations, made in code.

    Args:
        url: The database, for Alembic's own command line (``sqlalchemy.url``).
        connection: A connection in a transaction, for ``env.py`` to run the revisions on.

    Example:
        >>> alembic_config().get_main_option("script_location").endswith("migrations")
        True
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        # ConfigParser reads "%" as interpolation: a password may hold one.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def scripts() -> ScriptDirectory:
    """The revisions this release knows (read once per process)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision: the one the models define (a test holds it to the newest script).

    Example:
        >>> head()
        '0005'
    """
    return SCHEMA_REVISION


def open_schema(engine: Engine) -> SchemaStatus:
    """Create the schema at head when the database has no quotedesk table; the status after.

    Two processes opening a new database together create it once between them: each looks
    again under the lock, and the second finds it done.
    """
    with engine.connect() as connection:
        status = _status(connection)
    if status.state is not SchemaState.EMPTY:
        return status
    with _locked(engine) as connection:
        status = _status(connection)
        if status.state is SchemaState.EMPTY:
            _create_at_head(connection)
            status = _status(connection)
    return status


def schema_status(url: str) -> SchemaStatus:
    """Where the database at ``url`` stands against this release's head; it is not changed
    (a SQLite file that does not exist is not created).

    Raises:
        DataDirError: The database cannot be opened.
    """
    try:
        if _missing_sqlite_file(url):
            return _empty_status()
    except SQLAlchemyError as exc:  # not a URL at all
        raise database_error(url, exc) from exc
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            return _status(connection)
    except SQLAlchemyError as exc:
        raise database_error(url, exc) from exc
    finally:
        engine.dispose()


def upgrade(url: str) -> SchemaUpgrade:
    """Bring the database at ``url`` to head, adopting a store made before migrations.

    All of it is one transaction: an error leaves the database as it was.

    Example:
        >>> upgrade("sqlite:////tmp/old.db").applied
        ('0002 collections: a document is named by (collection, path), not by its path alone',)

    Raises:
        SchemaAheadError: A newer release upgraded the database beyond what this one knows.
        SchemaError: The tables made before migrations are not the ones it can adopt.
        DataDirError: The database cannot be opened or written.
    """
    engine = _engine(url)
    try:
        with _locked(engine) as connection:
            before = _status(connection)
            if before.state is SchemaState.AHEAD:
                raise _ahead(url, before)
            created: tuple[str, ...] = ()
            carried: tuple[CarriedRows, ...] = ()
            start, applied = before.current, before.pending
            if before.state is SchemaState.UNVERSIONED:
                created, carried = _adopt(connection)
                start, applied = BASELINE, _pending(BASELINE)
            _run_to_head(connection)
            after = _status(connection)
    except SQLAlchemyError as exc:
        raise database_error(url, exc, doing="upgrade") from exc
    except Exception as exc:
        if is_command_error(exc):
            raise database_error(url, exc, doing="upgrade") from exc
        raise
    finally:
        engine.dispose()
    return SchemaUpgrade(
        before=before,
        after=after.head,
        start=start,
        applied=applied,
        adopted=before.state is SchemaState.UNVERSIONED,
        carried=carried,
        created=created,
    )


def check(url: str, status: SchemaStatus) -> None:
    """Raise unless a store may use a database of this ``status``.

    Raises:
        SchemaBehindError: It is behind, or made before migrations.
        SchemaAheadError: A newer release upgraded it.
    """
    if status.state is SchemaState.AHEAD:
        raise _ahead(url, status)
    if status.needs_upgrade:
        where = (
            "was made before migrations"
            if status.state is SchemaState.UNVERSIONED
            else f"is at revision {status.current}"
        )
        raise SchemaBehindError(
            f"the database {redact(url)} {where}; this quotedesk needs revision {status.head}: "
            + UPGRADE_HINT
        )


# --- inside ------------------------------------------------------------------------------------


def is_command_error(exc: BaseException) -> bool:
    """Whether ``exc`` is Alembic's CommandError (a revision missing, a bad script), checked
    without importing Alembic when nothing did."""
    module = sys.modules.get("alembic.util")
    return module is not None and isinstance(exc, module.CommandError)


def _engine(url: str) -> Engine:
    try:
        return open_engine(url)
    except SQLAlchemyError as exc:
        raise database_error(url, exc) from exc


def database_error(url: str, exc: Exception, *, doing: str = "open") -> DataDirError:
    """The error a front end shows for a database that failed: its URL without the password,
    and the driver's own words."""
    return DataDirError(
        f"cannot {doing} the database {redact(url)}: {exc.__class__.__name__}: "
        f"{getattr(exc, 'orig', None) or exc}"
    )


def _ahead(url: str, status: SchemaStatus) -> SchemaAheadError:
    return SchemaAheadError(
        f"the database {redact(url)} is at revision {status.current}, which this quotedesk "
        f"does not know (its newest is {status.head}): a newer release upgraded it; run that one"
    )


def _missing_sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    return not Path(parsed.database).exists()


def _empty_status() -> SchemaStatus:
    return SchemaStatus(SchemaState.EMPTY, None, head(), _pending(None))


@functools.cache
def _known_tables() -> frozenset[str]:
    """Every table name a quotedesk store has had (read once per process: the baseline
    script builds a ``MetaData`` each time it is asked)."""
    return frozenset(_baseline_tables().tables) | {table.old for table in RENAMED}


def _baseline_tables() -> Any:
    """The tables of the baseline revision (a ``MetaData``), as its script defines them."""
    return scripts().get_revision(BASELINE).module.baseline()


@functools.cache
def _known_revisions() -> frozenset[str]:
    return frozenset(s.revision for s in scripts().walk_revisions())


def _pending(current: str | None) -> tuple[str, ...]:
    """``"<revision> <doc>"`` of each revision from ``current`` (exclusive) to head, oldest
    first."""
    steps = scripts().iterate_revisions(head(), current or "base")
    return tuple(f"{s.revision} {s.doc}" for s in reversed(list(steps)))


def _status(connection: Connection) -> SchemaStatus:
    tables = set(inspect(connection).get_table_names())
    current: str | None = None
    if VERSION_TABLE in tables:
        # What Alembic's MigrationContext.get_current_heads reads, without importing Alembic.
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


@contextmanager
def _locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other quotedesk process changes the schema
    beside; committed when the block ends, rolled back on an error."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # SQLite alters a table by copying it and dropping the old one; with foreign keys
            # on, that drop would delete every passage. The pragma does nothing inside a
            # transaction, so it comes first.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            # The write lock now, not at the first write: a second process waits here.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        try:
            yield connection
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                if broken:
                    raise SchemaError(f"the migration would break foreign keys: {broken[:3]}")
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            if sqlite:
                try:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()
                except SQLAlchemyError:
                    # Never back into the pool without its foreign keys.
                    connection.invalidate()


def _create_at_head(connection: Connection) -> None:
    """A new database: the models' tables, stamped at head. The same schema as every revision
    applied in turn (a test compares them), in a few milliseconds instead of a tenth of a
    second: every replica, test and evaluation opens new databases."""
    from alembic.runtime.migration import MigrationContext

    Base.metadata.create_all(connection)
    MigrationContext.configure(connection).stamp(scripts(), "head")


def _run_to_head(connection: Connection) -> None:
    """Apply every revision the database lacks, in the caller's transaction (``env.py`` runs
    them on the connection it is handed)."""
    from alembic import command

    command.upgrade(alembic_config(connection=connection), "head")


def _adopt(connection: Connection) -> tuple[tuple[str, ...], tuple[CarriedRows, ...]]:
    """Bring a store made before migrations to the baseline and stamp it there.

    Returns:
        The tables created (the old release had not made them) and the rows carried over.
    """
    baseline = _baseline_tables()
    present = set(inspect(connection).get_table_names())
    for name, table in baseline.tables.items():
        if name in present:
            columns = {c["name"] for c in inspect(connection).get_columns(name)}
            if missing := sorted(set(table.columns.keys()) - columns):
                raise SchemaError(
                    f"cannot adopt this database: its table {name} lacks {', '.join(missing)}; "
                    "ingest the corpus into a new database instead"
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
