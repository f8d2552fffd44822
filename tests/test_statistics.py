"""The query planner's statistics follow the corpus: an ingest that changed something refreshes
them on the tables it wrote (``Store.refresh_statistics``), on SQLite and on PostgreSQL; one
that changed nothing does not."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, text

from retrieval.ingest import ingest
from retrieval.store import Store
from retrieval.store.store import INGEST_TABLES
from tests.helpers import FakeEncoder

TABLES = {"documents", "passages", "title_vectors"}


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store(database_url)
    yield opened
    opened.close()


def analyzed(store: Store) -> set[str]:
    """The tables the database holds statistics of, gathered by ANALYZE."""
    with store.engine.connect() as connection:
        if store.engine.dialect.name == "sqlite":
            exists = connection.scalar(
                text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            )
            if not exists:
                return set()
            return set(connection.scalars(text("SELECT DISTINCT tbl FROM sqlite_stat1")))
        # ANALYZE reports to the cumulative statistics at once; read a fresh snapshot.
        connection.execute(text("SELECT pg_stat_clear_snapshot()"))
        return set(
            connection.scalars(
                text(
                    "SELECT relname FROM pg_stat_user_tables "
                    "WHERE last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL"
                )
            )
        )


def wait_for_analyzed(store: Store, wanted: set[str], *, seconds: float = 10) -> set[str]:
    deadline = time.monotonic() + seconds
    while not wanted <= (found := analyzed(store)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_the_ingest_tables_are_the_schemas() -> None:
    assert {table.name for table in INGEST_TABLES} == TABLES


def test_an_ingest_that_changed_something_refreshes_the_statistics(
    store: Store, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert analyzed(store) & TABLES == set()
    refreshed: list[object] = []
    original = store.refresh_statistics
    monkeypatch.setattr(store, "refresh_statistics", lambda: refreshed.append(original()))
    report = ingest(corpus, store=store, encoder=FakeEncoder())  # type: ignore[arg-type]
    assert report.added == 5 and len(refreshed) == 1
    assert wait_for_analyzed(store, TABLES) >= TABLES
    # Nothing changed: nothing refreshed.
    again = ingest(corpus, store=store, encoder=FakeEncoder())  # type: ignore[arg-type]
    assert again.unchanged == 5 and len(refreshed) == 1
    # A removed file is a change.
    next(corpus.iterdir()).unlink()
    pruned = ingest(corpus, store=store, encoder=FakeEncoder(), prune=True)  # type: ignore[arg-type]
    assert pruned.removed == 1 and len(refreshed) == 2


def test_sqlite_statistics_count_the_rows(tmp_path: Path, corpus: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'q.db'}")
    try:
        ingest(corpus, store=store, encoder=FakeEncoder())  # type: ignore[arg-type]
        with store.engine.connect() as connection:
            stat = connection.scalar(
                text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'passages' AND idx IS NOT NULL")
            )
            # The analysis limit is put back on the pooled connection.
            limit = connection.scalar(text("PRAGMA analysis_limit"))
        assert int(str(stat).split()[0]) == store.passage_count()
        assert limit == 0
    finally:
        store.close()


def test_a_failure_to_refresh_is_logged_not_raised(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    missing = Table("no_such_table", MetaData(), Column("id", Integer))
    store.refresh_statistics([missing])
    assert "could not refresh the database's statistics" in caplog.text
    assert store.passage_count() == 0  # the store goes on working
