"""Security of the core: the data directory and the SQLite database are private to their
owner, and no SQL is ever built by formatting strings."""

from __future__ import annotations

import ast
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from retrieval import QuoteDesk, Settings
from retrieval.settings import sqlite_path
from tests.helpers import ROOT, SEEDS, FakeEncoder


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems have (0022: files world-readable unless told otherwise)."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_and_database_are_private(tmp_path: Path, usual_umask: None) -> None:
    data = tmp_path / "deep" / "data"
    settings = Settings.resolve(data_dir=data)
    desk = QuoteDesk(settings, encoder=FakeEncoder())  # type: ignore[arg-type]
    desk.ingest(SEEDS)  # the database written, its connections still open
    assert mode(data) == 0o700
    database = data / "quotedesk.db"
    assert sqlite_path(settings.database_url) == database
    assert mode(database) == 0o600
    # SQLite's write-ahead log and shared memory take the database file's permissions.
    companions = list(data.glob("quotedesk.db-*"))
    assert {p.name for p in companions} >= {"quotedesk.db-wal"}
    for companion in companions:
        assert mode(companion) == 0o600, companion.name
    # The index cache sits inside the private folder.
    assert list(data.glob("index-*"))


def test_an_existing_data_directory_keeps_its_permissions(
    tmp_path: Path, usual_umask: None
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o750)
    shared.chmod(0o750)
    Settings.resolve(data_dir=shared).ensure_data_dir()
    assert mode(shared) == 0o750  # the user's choice, not ours to change
    assert mode(shared / "quotedesk.db") == 0o600  # what we create is still private


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:////tmp/qd/q.db", Path("/tmp/qd/q.db")),
        ("sqlite+pysqlite:////tmp/qd/q.db?timeout=5", Path("/tmp/qd/q.db")),
        ("sqlite:///relative.db", Path("relative.db")),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg://u:p@host/db", None),
    ],
)
def test_sqlite_path(url: str, path: Path | None) -> None:
    assert sqlite_path(url) == path


# --- SQL is never formatted ------------------------------------------------------------------

# Calls whose first argument is SQL text (SQLAlchemy's text(), a driver's execute, ...).
SQL_CALLS = frozenset({"text", "execute", "exec_driver_sql", "executescript", "literal_column"})
# A line may opt out with this comment and a reason (identifiers from constants, say).
ALLOW = "# sql-format-ok:"


def formatted_sql(source: str) -> list[int]:
    """Lines where SQL text is built by an f-string, %-formatting, concatenation or
    ``.format()`` rather than passed whole, with parameters bound separately."""
    tree = ast.parse(source)
    lines = source.splitlines()
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in SQL_CALLS:
            continue
        first = node.args[0]
        built = (
            isinstance(first, ast.JoinedStr)
            or (isinstance(first, ast.BinOp) and isinstance(first.op, ast.Mod | ast.Add))
            or (
                isinstance(first, ast.Call)
                and isinstance(first.func, ast.Attribute)
                and first.func.attr == "format"
            )
        )
        if built and ALLOW not in lines[node.lineno - 1]:
            found.append(node.lineno)
    return found


def python_files(*folders: str) -> list[Path]:
    return sorted(p for folder in folders for p in (ROOT / folder).rglob("*.py"))


def test_no_sql_is_built_by_formatting_strings() -> None:
    files = python_files("retrieval", "bot")
    assert any(p.parent.name == "store" for p in files)
    offenders = {
        str(p.relative_to(ROOT)): lines
        for p in files
        if (lines := formatted_sql(p.read_text(encoding="utf-8")))
    }
    assert offenders == {}, f"SQL built from strings (bind parameters instead): {offenders}"


def test_the_sql_check_catches_what_it_should() -> None:
    assert formatted_sql('session.execute(text(f"SELECT * FROM t WHERE id = {x}"))') == [1]
    assert formatted_sql('cursor.execute("SELECT %s" % x)') == [1]
    assert formatted_sql('conn.exec_driver_sql("DROP TABLE " + name)') == [1]
    assert formatted_sql('text("SELECT {}".format(x))') == [1]
    assert formatted_sql('text("SELECT :x"), {"x": x}') == []
    assert formatted_sql('cursor.execute("PRAGMA foreign_keys=ON")') == []
    assert formatted_sql('op.execute(f"ANALYZE {TABLE}")  # sql-format-ok: a constant') == []
