"""The schema's migrations, on SQLite and PostgreSQL: the corpus's history and the bot's, in one
database. A new database is created at head, one behind (on either history) is refused until
``quotedesk db upgrade``, a store of the release before migrations is adopted with every row,
the bot's tables kept by the corpus's revisions 0001-0005 are adopted by the bot's history with
theirs, and each history's revisions agree with its models."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner, Result
from sqlalchemy import MetaData, create_engine, inspect, select, text
from sqlalchemy.engine import Engine

from bot.cli import cli, common
from bot.store import (
    AskedQuestion,
    BotStore,
    ChannelSetting,
    Feedback,
    status_all,
    upgrade_all,
)
from bot.store import migrate as bot_migrate
from bot.store.schema import VERSION_TABLE as BOT_VERSION_TABLE
from bot.store.schema import BotBase, DeliveryRow
from retrieval.errors import SchemaAheadError, SchemaBehindError, SchemaError
from retrieval.ingest import choose_collection
from retrieval.records import CarriedRows, CollectionInfo, SchemaState
from retrieval.store import Store, schema_status, upgrade
from retrieval.store.database import in_utc
from retrieval.store.migrate import alembic_config, head, scripts
from retrieval.store.schema import Base
from tests import legacy
from tests.helpers import FAKE_CONFIG, SEEDS, FakeEncoder, open_desk

QUESTION = "why did Baku skip the Washington meeting?"
BASELINE_DOC = "0001 baseline: the schema as quotedesk made it before migrations"
COLLECTIONS_DOC = (
    "0002 collections: a document is named by (collection, path), not by its path alone"
)
STAGED_DOC = "0003 staged ingest: an ingest writes its documents aside and makes them live at once"
INDEX_DOC = "0004 staged index: the index on ingest_run holds staged documents only"
TEXT_DOC = (
    "0005 documents text and url: the extracted text a document's quotes stand in, its link; "
    "fetches"
)
HANDOVER_DOC = (
    "0006 bot records leave the corpus: its delivery and feedback tables are the bot's "
    "history's now"
)
CORPUS_DOCS = (BASELINE_DOC, COLLECTIONS_DOC, STAGED_DOC, INDEX_DOC, TEXT_DOC, HANDOVER_DOC)
BOT_BASELINE_DOC = "b0001 baseline: the bot's tables as the corpus's revisions 0001-0005 kept them"
BOT_THREADS_DOC = (
    "b0002 threads and channels: the questions answered, channels' collections, feedback as asked"
)
BOT_CLAIMS_DOC = (
    "b0003 claim deadlines: a delivery records when it was done; an unfinished claim may be "
    "taken over"
)
BOT_DOCS = (BOT_BASELINE_DOC, BOT_THREADS_DOC, BOT_CLAIMS_DOC)
BOT_HEAD = "b0003"
BOT_TABLES = frozenset(BotBase.metadata.tables)
# What each history's comparison leaves out: the other history's tables and version table.
NOT_CORPUS = BOT_TABLES | {BOT_VERSION_TABLE}
NOT_BOT = frozenset(Base.metadata.tables) | {"alembic_version"}


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A plain engine on the test's database, for looking under the store."""
    opened = create_engine(database_url)
    yield opened
    opened.dispose()


@pytest.fixture
def news(tmp_path: Path) -> Path:
    """A copy of the seeds in a folder named ``news``."""
    folder = tmp_path / "news"
    shutil.copytree(SEEDS, folder)
    return folder


def migrate_to(engine: Engine, revision: str) -> None:
    """Alembic's own upgrade (or downgrade) to ``revision``, in one transaction."""
    with engine.begin() as connection:
        config = alembic_config(connection=connection)
        current = MigrationContext.configure(connection).get_current_revision()
        if current is not None and revision != "head" and revision < current:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)


def differences(
    engine: Engine,
    metadata: MetaData,
    *,
    leave_out: frozenset[str] = NOT_CORPUS,
    version_table: str = "alembic_version",
) -> list[object]:
    """What Alembic's autogenerate would change to make the database match ``metadata`` (by
    default the corpus's), the other history's tables (``leave_out``) left out."""

    def include(item: object, name: str | None, kind: str, *_: object) -> bool:
        return kind != "table" or name not in leave_out

    opts = {"include_object": include, "version_table": version_table}
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection, opts=opts), metadata))


def bot_differences(engine: Engine) -> list[object]:
    """:func:`differences` for the bot's history: its models against its tables."""
    return differences(engine, BotBase.metadata, leave_out=NOT_BOT, version_table=BOT_VERSION_TABLE)


def states(url: str) -> dict[str, SchemaState]:
    return {name: status.state for name, status in status_all(url).items()}


def open_both(url: str) -> tuple[Store, BotStore]:
    """The corpus store and the bot's on ``url``, as ``quotedesk serve`` opens them."""
    store = Store(url)
    try:
        return store, BotStore(store)
    except BaseException:
        store.close()
        raise


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


# --- new, current, behind, ahead ---------------------------------------------------------------


def test_the_models_revision_is_the_newest_script() -> None:
    # head() is read from the models (no Alembic import on opening a store at head).
    assert scripts().get_current_head() == head()
    assert bot_migrate.scripts().get_current_head() == bot_migrate.head()


def test_the_histories_keep_to_their_own_tables() -> None:
    """The corpus's models define no table of the bot's, and each history has its own
    version table and revisions."""
    assert not set(Base.metadata.tables) & BOT_TABLES
    assert {
        "handled_deliveries",
        "answer_feedback",
        "answered_questions",
        "channel_collections",
    } == BOT_TABLES
    corpus_revisions = {s.revision for s in scripts().walk_revisions()}
    bot_revisions = {s.revision for s in bot_migrate.scripts().walk_revisions()}
    assert corpus_revisions.isdisjoint(bot_revisions)


@pytest.mark.slow  # a fresh interpreter: the only way to see what an import pulls in
def test_opening_a_store_at_head_does_not_import_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'q.db'}"
    store, _ = open_both(url)
    store.close()
    probe = (
        "import sys; from retrieval.store import Store; from bot.store import BotStore; "
        f"store = Store({url!r}); BotStore(store); store.close(); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_new_database_is_created_at_head(database_url: str, engine: Engine) -> None:
    assert schema_status(database_url).state is SchemaState.EMPTY
    assert states(database_url) == {"corpus": SchemaState.EMPTY, "bot": SchemaState.EMPTY}
    store = Store(database_url)
    status = schema_status(database_url)
    assert (status.state, status.current, status.head, status.pending) == (
        SchemaState.CURRENT,
        head(),
        "0006",
        (),
    )
    assert "alembic_version" in tables(engine)
    # The corpus store makes the corpus's tables alone; the bot's store makes its own.
    assert not tables(engine) & (BOT_TABLES | {BOT_VERSION_TABLE})
    assert states(database_url)["bot"] is SchemaState.EMPTY
    BotStore(store)
    store.close()
    bot = status_all(database_url)["bot"]
    assert (bot.state, bot.current, bot.head, bot.pending) == (
        SchemaState.CURRENT,
        bot_migrate.head(),
        BOT_HEAD,
        (),
    )
    assert BOT_VERSION_TABLE in tables(engine)
    # The revisions make exactly the models' schema: nothing left for autogenerate.
    assert differences(engine, Base.metadata) == []
    assert bot_differences(engine) == []
    store, _ = open_both(database_url)  # an up-to-date database opens and is not changed
    store.close()
    assert states(database_url) == {"corpus": SchemaState.CURRENT, "bot": SchemaState.CURRENT}


def test_revision_0001_is_the_schema_create_all_made(engine: Engine) -> None:
    migrate_to(engine, "0001")
    assert tables(engine) - {"alembic_version"} == set(legacy.Unreleased.metadata.tables)
    assert differences(engine, legacy.Unreleased.metadata, leave_out=frozenset()) == []


def test_a_missing_sqlite_file_is_reported_empty_and_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    status = schema_status(url)
    assert status.state is SchemaState.EMPTY and status.pending == CORPUS_DOCS
    both = status_all(url)
    assert both["corpus"] == status
    assert (both["bot"].state, both["bot"].pending) == (SchemaState.EMPTY, BOT_DOCS)
    assert not (tmp_path / "none.db").exists()


def test_a_database_behind_is_refused_then_upgraded(database_url: str, engine: Engine) -> None:
    """At 0001 with documents of three folders, two of the same name: each gets a collection
    of its own, and the next ingest of each folder finds it by its root."""
    migrate_to(engine, "0001")
    roots = {"a.txt": "/srv/app/seeds", "b.txt": "/a/docs", "c.txt": "/b/docs"}
    with engine.begin() as connection:
        for path, root in roots.items():
            connection.execute(
                text(
                    "INSERT INTO documents (path, root, content_hash, ingested_at) "
                    "VALUES (:path, :root, 'h', CURRENT_TIMESTAMP)"
                ),
                {"path": path, "root": root},
            )
    with pytest.raises(SchemaBehindError, match=r"revision 0001.*`quotedesk db upgrade`"):
        Store(database_url)
    status = schema_status(database_url)
    assert (status.state, status.current, status.pending) == (
        SchemaState.BEHIND,
        "0001",
        CORPUS_DOCS[1:],
    )
    done = upgrade(database_url)
    assert (done.adopted, done.start, done.applied, done.after) == (
        False,
        "0001",
        CORPUS_DOCS[1:],
        "0006",
    )
    assert differences(engine, Base.metadata) == []
    store = Store(database_url)
    found = store.collections()
    assert [(c.name, c.roots) for c in found] == [
        ("/a/docs", ("/a/docs",)),
        ("/b/docs", ("/b/docs",)),
        ("seeds", ("/srv/app/seeds",)),
    ]
    assert choose_collection(Path("/a/docs"), found) == "/a/docs"
    assert choose_collection(Path("/srv/app/seeds"), found) == "seeds"
    store.close()


def test_a_database_upgraded_by_a_newer_release_is_refused(
    database_url: str, engine: Engine
) -> None:
    Store(database_url).close()
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    assert schema_status(database_url).state is SchemaState.AHEAD
    with pytest.raises(SchemaAheadError, match="0099.*newer release"):
        Store(database_url)
    with pytest.raises(SchemaAheadError):
        upgrade(database_url)
    with pytest.raises(SchemaAheadError):
        upgrade_all(database_url)


def test_a_bot_schema_upgraded_by_a_newer_release_is_refused(
    database_url: str, engine: Engine
) -> None:
    store, _ = open_both(database_url)
    store.close()
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version_bot SET version_num = 'b0099'"))
    assert states(database_url) == {"corpus": SchemaState.CURRENT, "bot": SchemaState.AHEAD}
    store = Store(database_url)  # the corpus is the corpus's: it opens
    with pytest.raises(SchemaAheadError, match="bot's revision b0099.*newer release"):
        BotStore(store)
    store.close()
    with pytest.raises(SchemaAheadError, match="b0099"):
        upgrade_all(database_url)


def test_nothing_to_upgrade_at_head(database_url: str) -> None:
    store, _ = open_both(database_url)
    store.close()
    done = upgrade(database_url)
    assert (done.adopted, done.applied, done.before.state) == (False, (), SchemaState.CURRENT)
    for name, both in upgrade_all(database_url).items():
        assert (both.adopted, both.applied, both.before.state) == (
            False,
            (),
            SchemaState.CURRENT,
        ), name


def test_an_empty_database_upgraded_is_created_at_head_through_the_revisions(
    database_url: str, engine: Engine
) -> None:
    done = upgrade(database_url)
    assert done.start is None and done.applied == CORPUS_DOCS
    assert schema_status(database_url).state is SchemaState.CURRENT
    # The revisions make exactly the models' schema, which a new store is created from.
    assert differences(engine, Base.metadata) == []


def test_an_empty_database_upgraded_gets_both_histories_from_nothing(
    database_url: str, engine: Engine
) -> None:
    """The corpus's baseline makes the bot's tables on the way; the bot's baseline keeps them,
    and reads as applied from nothing (there was nothing to adopt)."""
    done = upgrade_all(database_url)
    assert list(done) == ["corpus", "bot"]
    assert (done["corpus"].start, done["corpus"].applied) == (None, CORPUS_DOCS)
    bot = done["bot"]
    assert (bot.adopted, bot.start, bot.applied, bot.after) == (
        False,
        None,
        BOT_DOCS,
        BOT_HEAD,
    )
    assert states(database_url) == {"corpus": SchemaState.CURRENT, "bot": SchemaState.CURRENT}
    assert differences(engine, Base.metadata) == []
    assert bot_differences(engine) == []


# --- adopting a store of the release before migrations ----------------------------------------


def test_a_store_of_the_previous_release_is_adopted_with_every_row(
    database_url: str, engine: Engine, news: Path, tmp_path: Path
) -> None:
    old = legacy.build_previous_release(database_url, [news])
    assert len(old.documents) == 5 and old.passages and old.titles

    # Refused, and left exactly as it was.
    with pytest.raises(SchemaBehindError, match="made before migrations.*quotedesk db upgrade"):
        Store(database_url)
    assert "alembic_version" not in tables(engine)
    status = schema_status(database_url)
    assert (status.state, status.pending) == (SchemaState.UNVERSIONED, CORPUS_DOCS)
    assert states(database_url)["bot"] is SchemaState.UNVERSIONED  # its slack_* tables

    done = upgrade_all(database_url)
    corpus, bot = done["corpus"], done["bot"]
    assert (corpus.adopted, corpus.start, corpus.applied, corpus.after) == (
        True,
        "0001",
        CORPUS_DOCS[1:],
        "0006",
    )
    assert (corpus.created, corpus.carried) == ((), ())
    # The bot's history adopts the bot's records: its tables made, the old rows carried, the
    # baseline stamped, then the revisions after it applied.
    assert (bot.adopted, bot.start, bot.applied, bot.after) == (
        True,
        "b0001",
        BOT_DOCS[1:],
        BOT_HEAD,
    )
    assert bot.created == ("handled_deliveries", "answer_feedback")
    assert bot.carried == (
        CarriedRows("slack_events", "handled_deliveries", 3),
        CarriedRows("slack_feedback", "answer_feedback", 2),
    )
    assert states(database_url) == {"corpus": SchemaState.CURRENT, "bot": SchemaState.CURRENT}
    assert not tables(engine) & {"slack_events", "slack_feedback"}
    assert differences(engine, Base.metadata) == []
    assert bot_differences(engine) == []

    # Every corpus row, byte for byte.
    assert legacy.read_corpus(engine) == {
        "documents": old.documents,
        "passages": old.passages,
        "titles": old.titles,
    }

    # And the app reads them: records, the bot's memory, answers.
    store, records = open_both(database_url)
    assert store.collections() == [CollectionInfo("news", (str(news),), 5)]
    assert store.corpus_version() == "v-old"
    assert [i.source.path for i in store.sources()] == [d[0] for d in old.documents]
    assert all(not records.claim_delivery(event) for event in old.events)
    assert records.claim_delivery("EvNew")
    assert [(f.vote, f.question, f.user_id, f.channel_id) for f in records.feedback()] == [
        (vote, question, user, channel) for vote, question, _, user, channel in old.feedback
    ]
    assert records.feedback()[0].quotes == ({"passage_id": 1, "source": "a.txt"},)
    records.record_feedback(Feedback("up", "new?", ()))
    assert len(records.feedback()) == 3
    store.close()

    fake = FakeEncoder()
    desk = open_desk(tmp_path / "data", fake, FAKE_CONFIG, url=database_url)
    answer = desk.ask(QUESTION)
    assert answer.quotes and answer.quotes[0].source.collection == "news"
    again = desk.ingest(news)
    assert (again.collection, again.unchanged, again.added, again.encoded) == ("news", 5, 0, 0)
    assert desk.store.corpus_version() == "v-old"  # nothing changed: the index stays
    desk.store.close()

    assert [d.applied for d in upgrade_all(database_url).values()] == [(), ()]


def test_the_corpus_alone_adopts_only_its_own_tables(
    database_url: str, engine: Engine, news: Path
) -> None:
    """The corpus's upgrade leaves the old Slack tables to the bot's history, which carries
    them later: nothing is lost in between."""
    legacy.build_previous_release(database_url, [news])
    done = upgrade(database_url)
    assert (done.adopted, done.created, done.carried) == (True, (), ())
    assert {"slack_events", "slack_feedback"} <= tables(engine)
    assert not tables(engine) & BOT_TABLES
    assert states(database_url) == {
        "corpus": SchemaState.CURRENT,
        "bot": SchemaState.UNVERSIONED,
    }
    store = Store(database_url)
    with pytest.raises(SchemaBehindError, match="bot's tables from before.*quotedesk db upgrade"):
        BotStore(store)
    store.close()
    bot = upgrade_all(database_url)["bot"]
    assert [c.rows for c in bot.carried] == [3, 2]
    assert bot_differences(engine) == []


def test_a_store_from_before_title_vectors_gains_the_table(
    database_url: str, engine: Engine, news: Path
) -> None:
    old = legacy.build_previous_release(database_url, [news], title_vectors=False)
    done = upgrade_all(database_url)
    assert done["corpus"].created == ("title_vectors",)
    assert done["bot"].created == ("handled_deliveries", "answer_feedback")
    assert legacy.read_corpus(engine)["passages"] == old.passages
    assert differences(engine, Base.metadata) == []
    assert bot_differences(engine) == []


def test_a_store_made_just_before_migrations_is_adopted(database_url: str, engine: Engine) -> None:
    """The tables as the code just before migrations made them (the bot's already renamed)."""
    legacy.Unreleased.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO documents (path, root, content_hash, ingested_at) "
                "VALUES ('a.txt', '/srv/notes', 'h', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO handled_deliveries (delivery_id, received_at) "
                "VALUES ('Ev1', CURRENT_TIMESTAMP)"
            )
        )
    done = upgrade_all(database_url)
    for name, history in done.items():
        assert (history.adopted, history.created, history.carried) == (True, (), ()), name
    store, records = open_both(database_url)
    assert [c.name for c in store.collections()] == ["notes"]
    assert not records.claim_delivery("Ev1")
    store.close()


def test_the_bot_tables_of_revision_0005_are_adopted_with_their_rows(
    database_url: str, engine: Engine
) -> None:
    """A database the release before made (corpus at 0005, the bot's tables among the
    corpus's): refused by both stores until ``quotedesk db upgrade``; then the bot's history
    owns the same tables, with every row."""
    migrate_to(engine, "0005")
    with engine.begin() as connection:
        for event in ("Ev1", "Ev2"):
            connection.execute(
                text(
                    "INSERT INTO handled_deliveries (delivery_id, received_at) "
                    "VALUES (:event, CURRENT_TIMESTAMP)"
                ),
                {"event": event},
            )
        connection.execute(
            text(
                "INSERT INTO answer_feedback (vote, question, quotes, user_id, channel_id, "
                "created_at) VALUES ('down', 'who?', '[]', 'U1', 'C1', CURRENT_TIMESTAMP)"
            )
        )
    with pytest.raises(SchemaBehindError, match="revision 0005.*`quotedesk db upgrade`"):
        Store(database_url)
    found = status_all(database_url)
    assert (found["corpus"].state, found["corpus"].pending) == (
        SchemaState.BEHIND,
        (HANDOVER_DOC,),
    )
    assert (found["bot"].state, found["bot"].pending) == (SchemaState.UNVERSIONED, BOT_DOCS)

    done = upgrade_all(database_url)
    assert (done["corpus"].start, done["corpus"].applied) == ("0005", (HANDOVER_DOC,))
    bot = done["bot"]
    assert (bot.adopted, bot.start, bot.created, bot.carried) == (True, "b0001", (), ())
    assert (bot.applied, bot.after) == (BOT_DOCS[1:], BOT_HEAD)
    assert differences(engine, Base.metadata) == []
    assert bot_differences(engine) == []
    store, records = open_both(database_url)
    assert not records.claim_delivery("Ev1") and not records.claim_delivery("Ev2")
    [kept] = records.feedback()
    assert kept.created_at is not None
    assert replace(kept, created_at=None) == Feedback("down", "who?", (), "U1", "C1")
    store.close()


def test_two_upgrades_at_once_adopt_once(database_url: str, engine: Engine, news: Path) -> None:
    legacy.build_previous_release(database_url, [news])
    results: list[object] = []

    def run() -> None:
        try:
            results.append(upgrade_all(database_url))
        except Exception as exc:  # pragma: no cover - reported below
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [r for r in results if isinstance(r, Exception)], results
    for name in ("corpus", "bot"):
        assert sorted(r[name].adopted for r in results) == [False, True]  # type: ignore[index]
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM handled_deliveries")) == 3
        assert connection.scalar(text("SELECT count(*) FROM answer_feedback")) == 2


# --- revision 0002 down and up ------------------------------------------------------------------


def test_revision_0002_down_and_up_keeps_every_row(
    database_url: str, engine: Engine, news: Path, tmp_path: Path
) -> None:
    desk = open_desk(tmp_path / "data", config=FAKE_CONFIG, url=database_url)
    desk.ingest(news)
    desk.store.close()
    before = legacy.read_corpus(engine)
    migrate_to(engine, "0001")
    assert legacy.read_corpus(engine) == before
    assert differences(engine, legacy.Unreleased.metadata) == []
    upgrade(database_url)
    assert legacy.read_corpus(engine) == before
    assert differences(engine, Base.metadata) == []


def test_revision_0002_is_not_undone_when_two_collections_share_a_path(
    database_url: str, engine: Engine, tmp_path: Path
) -> None:
    desk = open_desk(tmp_path / "data", config=FAKE_CONFIG, url=database_url)
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.txt").write_text(f"Report of {name}.")
        desk.ingest(tmp_path / name)
    desk.store.close()
    with pytest.raises(RuntimeError, match="1 paths are held by more than one collection"):
        migrate_to(engine, "0001")
    assert schema_status(database_url).current == head()  # nothing undone


# --- the bot's revision b0002 -------------------------------------------------------------------

# What a database at the bot's revision b0001 holds: deliveries handled and feedback given.
OLD_DELIVERIES: list[dict[str, Any]] = [
    {"delivery_id": "Ev1", "received_at": datetime(2026, 11, 30, 9, 0, tzinfo=UTC)},
    {"delivery_id": "Ev2", "received_at": datetime(2026, 12, 1, 10, 30, tzinfo=UTC)},
]
OLD_FEEDBACK: list[dict[str, Any]] = [
    {
        "vote": "up",
        "question": "why did Baku skip the meeting?",
        "quotes": '[{"passage_id": 1, "source": "a.txt"}, {"passage_id": 7, "source": "b.txt"}]',
        "user_id": "U1",
        "channel_id": "C1",
        "created_at": datetime(2026, 11, 30, 9, 1, tzinfo=UTC),
    },
    {
        "vote": "down",
        "question": "who?",
        "quotes": "[]",
        "user_id": None,
        "channel_id": None,
        "created_at": datetime(2026, 12, 1, 10, 31, tzinfo=UTC),
    },
]
NEW_FEEDBACK_COLUMNS = ("as_of", "context", "collections")


def bot_migrate_to(engine: Engine, revision: str) -> None:
    """Alembic's own upgrade (or downgrade) of the bot's history to ``revision``."""
    with engine.begin() as connection:
        config = bot_migrate.alembic_config(connection=connection)
        context = MigrationContext.configure(connection, opts={"version_table": BOT_VERSION_TABLE})
        current = context.get_current_revision()
        if current is not None and revision != "head" and revision < current:
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)


def at_bot_baseline(database_url: str, engine: Engine) -> None:
    """A database as the release of the bot's revision b0001 left it: the corpus at head, the
    bot's tables at b0001 with :data:`OLD_DELIVERIES` and :data:`OLD_FEEDBACK` in them."""
    Store(database_url).close()
    bot_migrate_to(engine, "b0001")
    baseline = bot_migrate._baseline_tables()
    with engine.begin() as connection:
        connection.execute(baseline.tables["handled_deliveries"].insert(), OLD_DELIVERIES)
        connection.execute(baseline.tables["answer_feedback"].insert(), OLD_FEEDBACK)


def baseline_rows(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of the bot's baseline tables, in the baseline's columns, in id order."""
    baseline = bot_migrate._baseline_tables()
    with engine.connect() as connection:
        return {
            name: [tuple(row) for row in connection.execute(table.select().order_by(table.c.id))]
            for name, table in baseline.tables.items()
        }


def shape(engine: Engine) -> dict[str, dict[str, Any]]:
    """The bot's tables as the database has them: columns, keys, indexes."""
    found = inspect(engine)
    return {
        name: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(name)
            ],
            "primary_key": found.get_pk_constraint(name)["constrained_columns"],
            "unique": sorted(
                (u["column_names"], u["name"] or "") for u in found.get_unique_constraints(name)
            ),
            "indexes": sorted(
                (i["name"] or "", i["column_names"], bool(i["unique"]))
                for i in found.get_indexes(name)
            ),
        }
        for name in sorted(BOT_TABLES)
    }


def test_the_bot_revisions_make_the_models_schema(database_url: str, engine: Engine) -> None:
    """The bot's tables made from its models (a new database, at head) and made by its
    revisions from nothing are the same, new tables and indexes included."""
    store, _ = open_both(database_url)
    store.close()
    from_models = shape(engine)
    assert {index[0] for index in from_models["answered_questions"]["indexes"]} == {
        "ix_answered_questions_thread",
        "ix_answered_questions_answer",
        "ix_answered_questions_user",
        "ix_answered_questions_asked_at",
    }
    BotBase.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {BOT_VERSION_TABLE}"))
    assert states(database_url)["bot"] is SchemaState.EMPTY
    bot_migrate_to(engine, "head")
    assert shape(engine) == from_models
    assert bot_differences(engine) == []
    assert status_all(database_url)["bot"].current == BOT_HEAD


def test_bot_revision_b0002_down_and_up_keeps_every_row(database_url: str, engine: Engine) -> None:
    """Down to b0001 drops the new tables and columns and keeps every older row; up again
    brings them back."""
    at_bot_baseline(database_url, engine)
    before = baseline_rows(engine)
    assert [len(rows) for rows in before.values()] == [2, 2]
    upgrade_all(database_url)
    assert baseline_rows(engine) == before
    store, records = open_both(database_url)
    records.record_question(AskedQuestion("C1", "why?", thread_ts="1.1"))
    records.set_channel(ChannelSetting("C1", ("news",)))
    store.close()

    bot_migrate_to(engine, "b0001")
    assert not tables(engine) & {"answered_questions", "channel_collections"}
    columns = {c["name"] for c in inspect(engine).get_columns("answer_feedback")}
    assert not columns & set(NEW_FEEDBACK_COLUMNS)
    assert baseline_rows(engine) == before
    assert (
        differences(
            engine,
            bot_migrate._baseline_tables(),
            leave_out=NOT_BOT,
            version_table=BOT_VERSION_TABLE,
        )
        == []
    )
    upgrade_all(database_url)
    assert baseline_rows(engine) == before
    assert bot_differences(engine) == []


# --- the bot's revision b0003 -------------------------------------------------------------------


def delivery_ends(engine: Engine) -> dict[str, datetime | None]:
    """When each delivery's handling finished (``done_at``, in UTC), by delivery id."""
    with engine.connect() as connection:
        rows = connection.execute(select(DeliveryRow.delivery_id, DeliveryRow.done_at))
        return {row.delivery_id: in_utc(row.done_at) for row in rows}


def test_bot_revision_b0003_marks_the_deliveries_it_finds_done(
    database_url: str, engine: Engine
) -> None:
    """The deliveries claimed before b0003 were handled by a release that did not record
    their end: they are marked done when they were received, so no retry ever takes them
    over. Down to b0002 drops the column and keeps every row; up again marks done what was
    claimed meanwhile."""
    at_bot_baseline(database_url, engine)
    bot_migrate_to(engine, "b0002")
    before = baseline_rows(engine)
    upgrade_all(database_url)
    assert baseline_rows(engine) == before
    assert delivery_ends(engine) == {d["delivery_id"]: d["received_at"] for d in OLD_DELIVERIES}
    store, records = open_both(database_url)
    expired = timedelta(0)  # every claim is older than that
    assert not records.claim_delivery("Ev1", deadline=expired)
    assert records.claim_delivery("EvNew") and records.claim_delivery("EvNew", deadline=expired)
    store.close()

    bot_migrate_to(engine, "b0002")
    assert "done_at" not in {c["name"] for c in inspect(engine).get_columns("handled_deliveries")}
    assert baseline_rows(engine)["handled_deliveries"][:2] == before["handled_deliveries"]
    assert status_all(database_url)["bot"].current == "b0002"
    upgrade_all(database_url)
    assert bot_differences(engine) == []
    assert set(delivery_ends(engine)) == {"Ev1", "Ev2", "EvNew"}
    assert all(delivery_ends(engine).values())
    store, records = open_both(database_url)
    assert not records.claim_delivery("EvNew", deadline=expired)
    store.close()


# --- the command line -------------------------------------------------------------------------

Run = Callable[..., Result]


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The CLI on the fake encoder, its database the test's (``DATABASE_URL``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUOTEDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(
        common, "open_desk", functools.partial(common.open_desk, encoder=FakeEncoder())
    )

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def test_db_status_and_upgrade_of_a_new_database(run: Run, database_url: str) -> None:
    status = run("db", "status")
    assert status.exit_code == 0, status.output
    assert "state     empty: the schema is created at head" in status.stdout
    assert "state     empty: the schema is created at head when the bot" in status.stdout
    assert f"pending   {COLLECTIONS_DOC}" in status.stdout
    assert f"pending   {BOT_BASELINE_DOC}" in status.stdout
    assert f"pending   {BOT_THREADS_DOC}" in status.stdout
    assert f"pending   {BOT_CLAIMS_DOC}" in status.stdout
    done = run("db", "upgrade")
    assert done.exit_code == 0, done.output
    assert "from nothing to 0006:" in done.stdout
    assert "upgraded the bot schema of " in done.stdout and "from nothing to b0003:" in done.stdout
    lines = run("db", "status").stdout.splitlines()
    assert lines[1:] == [
        "schema    corpus",
        "current   0006",
        "head      0006",
        "state     up to date",
        "schema    bot",
        "current   b0003",
        "head      b0003",
        "state     up to date",
    ]
    again = run("db", "upgrade").stdout.splitlines()
    assert len(again) == 2 and all(line.endswith("nothing to upgrade") for line in again)


def test_db_upgrade_of_bot_revision_b0001_keeps_every_row(
    run: Run, database_url: str, engine: Engine
) -> None:
    """A database of the release before b0002: refused by the bot until `quotedesk db
    upgrade`, which adds the new tables and columns and keeps every row; the old feedback
    reads with none of the new fields."""
    at_bot_baseline(database_url, engine)
    before = baseline_rows(engine)
    bot = status_all(database_url)["bot"]
    assert (bot.state, bot.current, bot.pending) == (
        SchemaState.BEHIND,
        "b0001",
        BOT_DOCS[1:],
    )
    store = Store(database_url)
    with pytest.raises(SchemaBehindError, match="bot's revision b0001.*needs the bot's revision"):
        BotStore(store)
    store.close()
    status = run("db", "status")
    assert status.stdout.splitlines()[5:] == [
        "schema    bot",
        "current   b0001",
        "head      b0003",
        "state     behind: run `quotedesk db upgrade`",
        f"pending   {BOT_THREADS_DOC}",
        f"pending   {BOT_CLAIMS_DOC}",
    ]

    done = run("db", "upgrade")
    assert done.exit_code == 0, done.output
    database = done.stdout.split(" is at ")[0]
    assert done.stdout.splitlines() == [
        f"{database} is at 0006 (head): nothing to upgrade",
        f"upgraded the bot schema of {database} from b0001 to b0003:",
        f"  {BOT_THREADS_DOC}",
        f"  {BOT_CLAIMS_DOC}",
    ]
    assert states(database_url) == {"corpus": SchemaState.CURRENT, "bot": SchemaState.CURRENT}
    assert {"answered_questions", "channel_collections"} <= tables(engine)
    assert bot_differences(engine) == []

    # Every row, byte for byte; the new columns empty.
    assert baseline_rows(engine) == before
    columns = ", ".join(NEW_FEEDBACK_COLUMNS)
    with engine.connect() as connection:
        added = connection.execute(text(f"SELECT {columns} FROM answer_feedback ORDER BY id"))
        assert [tuple(row) for row in added] == [(None, None, None)] * len(OLD_FEEDBACK)

    # And the bot reads them: the old feedback with none of the new fields.
    store, records = open_both(database_url)
    assert records.feedback() == [
        Feedback(
            vote=row["vote"],
            question=row["question"],
            quotes=quotes,
            user_id=row["user_id"],
            channel_id=row["channel_id"],
            as_of=None,
            context=(),
            collections=None,
            created_at=row["created_at"],
        )
        for row, quotes in zip(
            OLD_FEEDBACK,
            [
                (
                    {"passage_id": 1, "source": "a.txt"},
                    {"passage_id": 7, "source": "b.txt"},
                ),
                (),
            ],
            strict=True,
        )
    ]
    assert not records.claim_delivery("Ev1") and not records.claim_delivery("Ev2")
    # The new records work beside the old ones.
    new = Feedback("up", "and then?", (), "U2", "C2", date(2026, 12, 2), ("why?",), ("news",))
    records.record_feedback(new)
    assert replace(records.feedback()[-1], created_at=None) == new
    store.close()


def test_commands_refuse_a_store_behind_until_db_upgrade(
    run: Run, database_url: str, news: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    legacy.build_previous_release(database_url, [news])
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")

    def never(**_: object) -> None:
        raise AssertionError("the bot started on a database behind")

    monkeypatch.setattr("bot.slack.server.serve", never)
    monkeypatch.setattr("bot.slack.socket_mode.run_socket_mode", never)

    status = run("db", "status")
    assert "made before migrations: run `quotedesk db upgrade` to adopt it" in status.stdout
    for args in (
        ("ask", QUESTION),
        ("chat",),
        ("ingest", str(news)),
        ("sources",),
        ("serve",),
        ("socket",),
    ):
        result = run(*args, input="quit\n")
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith("error: the database "), (args, result.stderr)
        assert "run `quotedesk db upgrade`" in result.stderr, args

    done = run("db", "upgrade")
    assert done.exit_code == 0, done.output
    database = done.stdout.split("upgraded ")[1].split(" from ")[0]
    assert done.stdout.splitlines() == [
        f"adopted {database}, made before migrations: stamped at 0001",
        f"upgraded {database} from 0001 to 0006:",
        *(f"  {step}" for step in CORPUS_DOCS[1:]),
        f"adopted the bot schema of {database}, made before it had a history of its own: "
        "stamped at b0001",
        "  created handled_deliveries",
        "  created answer_feedback",
        "  carried 3 rows from slack_events to handled_deliveries",
        "  carried 2 rows from slack_feedback to answer_feedback",
        f"upgraded the bot schema of {database} from b0001 to b0003:",
        f"  {BOT_THREADS_DOC}",
        f"  {BOT_CLAIMS_DOC}",
    ]
    asked = run("ask", "--json", QUESTION)
    assert asked.exit_code == 0, asked.output
    assert '"collection": "news"' in asked.stdout


def test_serve_and_socket_refuse_a_bot_schema_behind(
    run: Run, database_url: str, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The corpus at head, the bot's tables not yet adopted by their history (a corpus-only
    upgrade of a database of revision 0005): the corpus's commands work, the bot refuses."""
    migrate_to(engine, "0005")
    upgrade(database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-test")

    def never(**_: object) -> None:
        raise AssertionError("the bot started on a database behind")

    monkeypatch.setattr("bot.slack.server.serve", never)
    monkeypatch.setattr("bot.slack.socket_mode.run_socket_mode", never)
    monkeypatch.setattr("bot.cli.slack.ingest_seeds_first", lambda *_: None)

    status = run("db", "status")
    assert status.stdout.splitlines()[1:5] == [
        "schema    corpus",
        "current   0006",
        "head      0006",
        "state     up to date",
    ]
    assert (
        "state     made before it had a history of its own: run `quotedesk db upgrade` "
        "to adopt it" in status.stdout
    )
    assert run("sources").exit_code == 0
    for args in (("serve",), ("socket",)):
        result = run(*args)
        assert result.exit_code == 1, (args, result.output)
        assert result.stderr.startswith("error: the database "), (args, result.stderr)
        assert "the bot's revision b0003: run `quotedesk db upgrade`" in result.stderr, args
    done = run("db", "upgrade")
    assert done.exit_code == 0, done.output
    assert "adopted the bot schema of " in done.stdout
    assert states(database_url) == {"corpus": SchemaState.CURRENT, "bot": SchemaState.CURRENT}


def test_an_adoption_that_fails_leaves_the_store_as_it_was(
    database_url: str, engine: Engine, news: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Adopting and upgrading are one transaction, DDL included (also on SQLite)."""
    legacy.build_previous_release(database_url, [news])
    before = tables(engine)

    def broken(_connection: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr("retrieval.store.migrate._run_to_head", broken)
    with pytest.raises(RuntimeError, match="power cut"):
        upgrade(database_url)
    assert tables(engine) == before
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM slack_events")) == 3
    assert schema_status(database_url).state is SchemaState.UNVERSIONED


def test_both_histories_upgrade_in_one_transaction(
    database_url: str, engine: Engine, news: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot's step failing after the corpus's undoes the corpus's too."""
    legacy.build_previous_release(database_url, [news])
    before = tables(engine)

    def broken(_connection: object) -> None:
        raise RuntimeError("power cut")

    monkeypatch.setattr("bot.store.migrate._run_to_head", broken)
    with pytest.raises(RuntimeError, match="power cut"):
        upgrade_all(database_url)
    assert tables(engine) == before
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM slack_events")) == 3
    assert states(database_url) == {
        "corpus": SchemaState.UNVERSIONED,
        "bot": SchemaState.UNVERSIONED,
    }


def test_tables_it_cannot_adopt_are_named(database_url: str, engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT)"))
    with pytest.raises(SchemaError, match="table documents lacks content_hash, date"):
        upgrade(database_url)
    assert "alembic_version" not in tables(engine)


def test_bot_tables_it_cannot_adopt_are_named(database_url: str, engine: Engine) -> None:
    Store(database_url).close()
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE handled_deliveries (id INTEGER PRIMARY KEY, delivery_id TEXT)")
        )
    with pytest.raises(SchemaError, match="table handled_deliveries lacks received_at"):
        upgrade_all(database_url)
    assert BOT_VERSION_TABLE not in tables(engine)
