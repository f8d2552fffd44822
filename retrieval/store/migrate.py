"""The corpus schema's revisions (Alembic, configured here in code: no alembic.ini).

* :func:`open_schema` is what :class:`~retrieval.store.Store` does on opening: a database with
  no corpus table is created at head, through the revisions (safe when several processes open
  it at once); any other database is only looked at, and its :class:`SchemaStatus` says
  whether the store may use it.
* :func:`upgrade` brings a database's corpus schema to head. A store made before migrations
  (corpus tables, no ``alembic_version``) is *adopted* first: the corpus tables of the baseline
  it lacks are created, and it is stamped at the baseline revision.
* :func:`schema_status` tells where a database's corpus schema stands.

The database may hold other histories beside this one, each with its own tables and version
table: the bot's (``bot/store/migrate.py``, ``alembic_version_bot``) keeps the bot's records.
This module knows nothing of them; it only leaves alone the tables its models do not define.
``quotedesk db status`` and ``quotedesk db upgrade`` cover both, through :func:`status_on`,
:func:`upgrade_on` and :func:`locked` (one lock and one transaction for the two).

Every step that writes holds a lock for its whole transaction: PostgreSQL's advisory lock, or
SQLite's write lock (``BEGIN IMMEDIATE``); the second process then finds the work done.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, MetaData, create_engine, inspect, select, text
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from retrieval.errors import DataDirError, SchemaAheadError, SchemaBehindError, SchemaError
from retrieval.records import SchemaState, SchemaStatus, SchemaUpgrade
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


UPGRADE_HINT = "run `quotedesk db upgrade` (with the same --data-dir or DATABASE_URL)"


def alembic_config(
    *,
    url: str | None = None,
    connection: Connection | None = None,
    location: Path = MIGRATIONS,
) -> Config:
    """Alembic's configuration for the corpus's migrations (or another history's, at
    ``location``: the bot's), made in code.

    Args:
        url: The database, for Alembic's own command line (``sqlalchemy.url``).
        connection: A connection in a transaction, for ``env.py`` to run the revisions on.
        location: The history's folder (its ``env.py`` and ``versions/``).

    Example:
        >>> alembic_config().get_main_option("script_location").endswith("migrations")
        True
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(location))
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
        '0006'
    """
    return SCHEMA_REVISION


def open_schema(engine: Engine) -> SchemaStatus:
    """Create the schema at head when the database has no corpus table; the status after.

    Two processes opening a new database together create it once between them: each looks
    again under the lock, and the second finds it done.
    """
    return create_once(engine, status_on, _create_at_head)


def run_environment(
    metadata: MetaData,
    include_object: Callable[..., bool],
    *,
    version_table: str = "alembic_version",
) -> None:
    """What a history's ``env.py`` does (the corpus's and the bot's alike): run the revisions
    on the connection :func:`upgrade` locked and began (``config.attributes["connection"]``),
    else, from Alembic's own command line, on one opened to ``sqlalchemy.url``."""
    from alembic import context

    if context.is_offline_mode():
        # The revisions read the data they carry over (e.g. the collection of each root).
        raise SystemExit("quotedesk's migrations run against a database, not as an SQL script")

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            version_table=version_table,
            include_object=include_object,
            # SQLite alters a table by copying it: autogenerate writes batch operations for it.
            render_as_batch=True,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    given = context.config.attributes.get("connection")
    if given is not None:
        run(given)
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.connect() as connection:
            run(connection)
    finally:
        engine.dispose()


def create_once(
    engine: Engine,
    status_on: Callable[[Connection], SchemaStatus],
    create: Callable[[Connection], object],
) -> SchemaStatus:
    """A history's status on ``engine``, after ``create`` made its tables at head if it found
    the database empty of them: looked at again under :func:`locked`, so processes opening a
    new database together create them once (the corpus's history and the bot's alike)."""
    with engine.connect() as connection:
        status = status_on(connection)
    if status.state is not SchemaState.EMPTY:
        return status
    with locked(engine) as connection:
        status = status_on(connection)
        if status.state is SchemaState.EMPTY:
            create(connection)
            status = status_on(connection)
    return status


def schema_status(url: str) -> SchemaStatus:
    """Where the database at ``url`` stands against this release's head; it is not changed
    (a SQLite file that does not exist is not created).

    Raises:
        DataDirError: The database cannot be opened.
    """
    if missing_sqlite_file(url):
        return _empty_status()
    engine = engine_for(url)
    try:
        with engine.connect() as connection:
            return status_on(connection)
    except SQLAlchemyError as exc:
        raise database_error(url, exc) from exc
    finally:
        engine.dispose()


def upgrade(url: str) -> SchemaUpgrade:
    """Bring the corpus schema of the database at ``url`` to head, adopting a store made before
    migrations. (``quotedesk db upgrade`` upgrades the bot's history too, in the same
    transaction, through :func:`upgrade_on`.)

    All of it is one transaction: an error leaves the database as it was.

    A database of an older release gets the revisions it lacks (``tests/test_migrations.py``
    upgrades one); an empty one, every revision:

    Example:
        >>> done = upgrade("sqlite://")  # in memory: empty
        >>> done.before.state, done.after == head()
        (<SchemaState.EMPTY: 'empty'>, True)
        >>> done.applied[1]
        '0002 collections: a document is named by (collection, path), not by its path alone'

    Raises:
        SchemaAheadError: A newer release upgraded the database beyond what this one knows.
        SchemaError: The tables made before migrations are not the ones it can adopt.
        DataDirError: The database cannot be opened or written.
    """
    engine = engine_for(url)
    try:
        with locked(engine) as connection:
            return upgrade_on(connection, url)
    except SQLAlchemyError as exc:
        raise database_error(url, exc, doing="upgrade") from exc
    except Exception as exc:
        if is_command_error(exc):
            raise database_error(url, exc, doing="upgrade") from exc
        raise
    finally:
        engine.dispose()


def upgrade_on(connection: Connection, url: str) -> SchemaUpgrade:
    """:func:`upgrade` on a connection :func:`locked` holds, in its transaction (the caller
    commits, or rolls back on an error); ``url`` names the database in errors."""
    before = status_on(connection)
    if before.state is SchemaState.AHEAD:
        raise _ahead(url, before)
    created: tuple[str, ...] = ()
    start, applied = before.current, before.pending
    if before.state is SchemaState.UNVERSIONED:
        created = _adopt(connection)
        start, applied = BASELINE, _pending(BASELINE)
    _run_to_head(connection)
    after = status_on(connection)
    return SchemaUpgrade(
        before=before,
        after=after.head,
        start=start,
        applied=applied,
        adopted=before.state is SchemaState.UNVERSIONED,
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


def engine_for(url: str) -> Engine:
    """An engine on ``url`` for a migration command (the caller disposes of it).

    Raises:
        DataDirError: ``url`` is not a database URL the engine can open.
    """
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


def missing_sqlite_file(url: str) -> bool:
    """Whether ``url`` names a SQLite file that does not exist (a status must not create it).

    Raises:
        DataDirError: ``url`` is not a URL at all.
    """
    try:
        parsed = make_url(url)
    except SQLAlchemyError as exc:
        raise database_error(url, exc) from exc
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return False
    return not Path(parsed.database).exists()


def _empty_status() -> SchemaStatus:
    return SchemaStatus(SchemaState.EMPTY, None, head(), _pending(None))


@functools.cache
def _known_tables() -> frozenset[str]:
    """The corpus tables of the baseline: one of them without ``alembic_version`` is a store
    made before migrations (read once per process: the baseline script builds a ``MetaData``
    each time it is asked)."""
    return frozenset(table.name for table in _corpus_baseline(_baseline_tables()))


def _baseline_tables() -> Any:
    """The tables of the baseline revision (a ``MetaData``), as its script defines them."""
    return scripts().get_revision(BASELINE).module.baseline()


def _corpus_baseline(baseline: Any) -> list[Any]:
    """The baseline's tables that the corpus owns (those its models define), in creation
    order. The baseline also made the bot's two tables; since revision 0006 the bot's own
    history adopts those, and the Slack tables of the release before with them."""
    return [t for t in baseline.tables.values() if t.name in Base.metadata.tables]


@functools.cache
def _known_revisions() -> frozenset[str]:
    return frozenset(s.revision for s in scripts().walk_revisions())


def _pending(current: str | None) -> tuple[str, ...]:
    """``"<revision> <doc>"`` of each revision from ``current`` (exclusive) to head, oldest
    first."""
    steps = scripts().iterate_revisions(head(), current or "base")
    return tuple(f"{s.revision} {s.doc}" for s in reversed(list(steps)))


def status_on(connection: Connection) -> SchemaStatus:
    """Where the corpus schema of the database behind ``connection`` stands; nothing changed."""
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
def locked(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that no other quotedesk process changes the schema
    beside (either history: one lock for both); committed when the block ends, rolled back on
    an error."""
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
    """A new database: the corpus models' tables, stamped at head. The same schema as every
    revision applied in turn (a test compares them), in a few milliseconds instead of a tenth
    of a second: every replica, test and evaluation opens new databases."""
    from alembic.runtime.migration import MigrationContext

    Base.metadata.create_all(connection)
    MigrationContext.configure(connection).stamp(scripts(), "head")


def _run_to_head(connection: Connection) -> None:
    """Apply every revision the database lacks, in the caller's transaction (``env.py`` runs
    them on the connection it is handed)."""
    from alembic import command

    command.upgrade(alembic_config(connection=connection), "head")


def _adopt(connection: Connection) -> tuple[str, ...]:
    """Bring a store made before migrations to the baseline and stamp it there.

    Only the corpus's tables are looked at and created: the bot's history adopts its own.

    Returns:
        The tables created (the old release had not made them).
    """
    baseline = _baseline_tables()
    tables = _corpus_baseline(baseline)
    present = set(inspect(connection).get_table_names())
    for table in tables:
        if table.name in present:
            columns = {c["name"] for c in inspect(connection).get_columns(table.name)}
            if missing := sorted(set(table.columns.keys()) - columns):
                raise SchemaError(
                    f"cannot adopt this database: its table {table.name} lacks "
                    f"{', '.join(missing)}; ingest the corpus into a new database instead"
                )
    created = tuple(table.name for table in tables if table.name not in present)
    baseline.create_all(connection, tables=tables, checkfirst=True)
    from alembic import command

    command.stamp(alembic_config(connection=connection), BASELINE)
    return created
