"""The schema's migrations, on SQLite and PostgreSQL: a new database is created at head, one
behind is refused until ``quotedesk db upgrade``, a store of the release before migrations is
adopted with every row, and the revisions agree with the models."""

from __future__ import annotations

import functools
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner, Result
from sqlalchemy import MetaData, create_engine, inspect, text
from sqlalchemy.engine import Engine

from bot.cli import cli, common
from retrieval import QuoteDesk, RetrievalConfig, Settings
from retrieval.errors import SchemaAheadError, SchemaBehindError, SchemaError
from retrieval.ingest import choose_collection
from retrieval.records import CarriedRows, CollectionInfo, Feedback, SchemaState
from retrieval.store import Store, schema_status, upgrade
from retrieval.store.migrate import alembic_config, head, scripts
from retrieval.store.schema import Base
from tests import legacy
from tests.helpers import SEEDS, FakeEmbedder

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
FAKE_CONFIG = RetrievalConfig(min_similarity=0.0)


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


def differences(engine: Engine, metadata: MetaData) -> list[object]:
    """What Alembic's autogenerate would change to make the database match ``metadata``."""
    with engine.connect() as connection:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def open_desk(url: str, data: Path) -> tuple[QuoteDesk, FakeEmbedder]:
    fake = FakeEmbedder()
    settings = Settings.resolve(data_dir=data, database_url=url)
    return QuoteDesk(settings, config=FAKE_CONFIG, embedder=fake), fake  # type: ignore[arg-type]


# --- new, current, behind, ahead ---------------------------------------------------------------


def test_the_models_revision_is_the_newest_script() -> None:
    # head() is read from the models (no Alembic import on opening a store at head).
    assert scripts().get_current_head() == head()


@pytest.mark.slow  # a fresh interpreter: the only way to see what an import pulls in
def test_opening_a_store_at_head_does_not_import_alembic(tmp_path: Path) -> None:
    import subprocess
    import sys

    url = f"sqlite:///{tmp_path / 'q.db'}"
    Store(url).close()
    probe = (
        "import sys; from retrieval.store import Store; "
        f"Store({url!r}).close(); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_new_database_is_created_at_head(database_url: str, engine: Engine) -> None:
    assert schema_status(database_url).state is SchemaState.EMPTY
    Store(database_url).close()
    status = schema_status(database_url)
    assert (status.state, status.current, status.head, status.pending) == (
        SchemaState.CURRENT,
        head(),
        "0005",
        (),
    )
    assert "alembic_version" in tables(engine)
    # The revisions make exactly the models' schema: nothing left for autogenerate.
    assert differences(engine, Base.metadata) == []
    Store(database_url).close()  # an up-to-date database opens and is not changed
    assert schema_status(database_url).current == head()


def test_revision_0001_is_the_schema_create_all_made(engine: Engine) -> None:
    migrate_to(engine, "0001")
    assert tables(engine) - {"alembic_version"} == set(legacy.Unreleased.metadata.tables)
    assert differences(engine, legacy.Unreleased.metadata) == []


def test_a_missing_sqlite_file_is_reported_empty_and_not_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    status = schema_status(url)
    assert status.state is SchemaState.EMPTY and status.pending == (
        BASELINE_DOC,
        COLLECTIONS_DOC,
        STAGED_DOC,
        INDEX_DOC,
        TEXT_DOC,
    )
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
        (COLLECTIONS_DOC, STAGED_DOC, INDEX_DOC, TEXT_DOC),
    )
    done = upgrade(database_url)
    assert (done.adopted, done.start, done.applied, done.after) == (
        False,
        "0001",
        (COLLECTIONS_DOC, STAGED_DOC, INDEX_DOC, TEXT_DOC),
        "0005",
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


def test_nothing_to_upgrade_at_head(database_url: str) -> None:
    Store(database_url).close()
    done = upgrade(database_url)
    assert (done.adopted, done.applied, done.before.state) == (False, (), SchemaState.CURRENT)


def test_an_empty_database_upgraded_is_created_at_head_through_the_revisions(
    database_url: str, engine: Engine
) -> None:
    done = upgrade(database_url)
    assert done.start is None and done.applied == (
        BASELINE_DOC,
        COLLECTIONS_DOC,
        STAGED_DOC,
        INDEX_DOC,
        TEXT_DOC,
    )
    assert schema_status(database_url).state is SchemaState.CURRENT
    # The revisions make exactly the models' schema, which a new store is created from.
    assert differences(engine, Base.metadata) == []


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
    assert (status.state, status.pending) == (
        SchemaState.UNVERSIONED,
        (BASELINE_DOC, COLLECTIONS_DOC, STAGED_DOC, INDEX_DOC, TEXT_DOC),
    )

    done = upgrade(database_url)
    assert (done.adopted, done.start, done.applied, done.after) == (
        True,
        "0001",
        (COLLECTIONS_DOC, STAGED_DOC, INDEX_DOC, TEXT_DOC),
        "0005",
    )
    assert done.created == ("handled_deliveries", "answer_feedback")
    assert done.carried == (
        CarriedRows("slack_events", "handled_deliveries", 3),
        CarriedRows("slack_feedback", "answer_feedback", 2),
    )
    assert schema_status(database_url).state is SchemaState.CURRENT
    assert not tables(engine) & {"slack_events", "slack_feedback"}
    assert differences(engine, Base.metadata) == []

    # Every corpus row, byte for byte.
    assert legacy.read_corpus(engine) == {
        "documents": old.documents,
        "passages": old.passages,
        "titles": old.titles,
    }

    # And the app reads them: records, the bot's memory, answers.
    store = Store(database_url)
    assert store.collections() == [CollectionInfo("news", (str(news),), 5)]
    assert store.corpus_version() == "v-old"
    assert [i.source.path for i in store.sources()] == [d[0] for d in old.documents]
    assert all(not store.claim_delivery(event) for event in old.events)
    assert store.claim_delivery("EvNew")
    assert [(f.vote, f.question, f.user_id, f.channel_id) for f in store.feedback()] == [
        (vote, question, user, channel) for vote, question, _, user, channel in old.feedback
    ]
    assert store.feedback()[0].quotes == ({"passage_id": 1, "source": "a.txt"},)
    store.record_feedback(Feedback("up", "new?", ()))
    assert len(store.feedback()) == 3
    store.close()

    desk, fake = open_desk(database_url, tmp_path / "data")
    answer = desk.ask(QUESTION)
    assert answer.quotes and answer.quotes[0].source.collection == "news"
    again = desk.ingest(news)
    assert (again.collection, again.unchanged, again.added, again.encoded) == ("news", 5, 0, 0)
    assert desk.store.corpus_version() == "v-old"  # nothing changed: the index stays
    desk.store.close()

    assert upgrade(database_url).applied == ()


def test_a_store_from_before_title_vectors_gains_the_table(
    database_url: str, engine: Engine, news: Path
) -> None:
    old = legacy.build_previous_release(database_url, [news], title_vectors=False)
    done = upgrade(database_url)
    assert done.created == ("title_vectors", "handled_deliveries", "answer_feedback")
    assert legacy.read_corpus(engine)["passages"] == old.passages
    assert differences(engine, Base.metadata) == []


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
    done = upgrade(database_url)
    assert (done.adopted, done.created, done.carried) == (True, (), ())
    store = Store(database_url)
    assert [c.name for c in store.collections()] == ["notes"]
    assert not store.claim_delivery("Ev1")
    store.close()


def test_two_upgrades_at_once_adopt_once(database_url: str, engine: Engine, news: Path) -> None:
    legacy.build_previous_release(database_url, [news])
    results: list[object] = []

    def run() -> None:
        try:
            results.append(upgrade(database_url))
        except Exception as exc:  # pragma: no cover - reported below
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(getattr(r, "adopted", None) for r in results) == [False, True]
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM handled_deliveries")) == 3
        assert connection.scalar(text("SELECT count(*) FROM answer_feedback")) == 2


# --- revision 0002 down and up ------------------------------------------------------------------


def test_revision_0002_down_and_up_keeps_every_row(
    database_url: str, engine: Engine, news: Path, tmp_path: Path
) -> None:
    desk, _ = open_desk(database_url, tmp_path / "data")
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
    desk, _ = open_desk(database_url, tmp_path / "data")
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "report.txt").write_text(f"Report of {name}.")
        desk.ingest(tmp_path / name)
    desk.store.close()
    with pytest.raises(RuntimeError, match="1 paths are held by more than one collection"):
        migrate_to(engine, "0001")
    assert schema_status(database_url).current == head()  # nothing undone


# --- the command line -------------------------------------------------------------------------

Run = Callable[..., Result]


@pytest.fixture
def run(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The CLI on the fake embedder, its database the test's (``DATABASE_URL``)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUOTEDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", database_url)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(
        common, "open_desk", functools.partial(common.open_desk, embedder=FakeEmbedder())
    )

    def invoke(*args: str, input: str | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def test_db_status_and_upgrade_of_a_new_database(run: Run, database_url: str) -> None:
    status = run("db", "status")
    assert status.exit_code == 0, status.output
    assert "state     empty: the schema is created at head" in status.stdout
    assert f"pending   {COLLECTIONS_DOC}" in status.stdout
    done = run("db", "upgrade")
    assert done.exit_code == 0, done.output
    assert "from nothing to 0005:" in done.stdout
    lines = run("db", "status").stdout.splitlines()
    assert lines[1:] == ["current   0005", "head      0005", "state     up to date"]
    assert "nothing to upgrade" in run("db", "upgrade").stdout


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
    assert done.stdout.splitlines()[1:] == [
        "  created handled_deliveries",
        "  created answer_feedback",
        "  carried 3 rows from slack_events to handled_deliveries",
        "  carried 2 rows from slack_feedback to answer_feedback",
        "upgraded " + done.stdout.split("upgraded ")[1].split(" from ")[0] + " from 0001 to 0005:",
        f"  {COLLECTIONS_DOC}",
        f"  {STAGED_DOC}",
        f"  {INDEX_DOC}",
        f"  {TEXT_DOC}",
    ]
    assert done.stdout.startswith("adopted ") and "stamped at 0001" in done.stdout
    asked = run("ask", "--json", QUESTION)
    assert asked.exit_code == 0, asked.output
    assert '"collection": "news"' in asked.stdout


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


def test_tables_it_cannot_adopt_are_named(database_url: str, engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE documents (id INTEGER PRIMARY KEY, path TEXT)"))
    with pytest.raises(SchemaError, match="table documents lacks content_hash, date"):
        upgrade(database_url)
    assert "alembic_version" not in tables(engine)
