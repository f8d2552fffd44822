"""Collections: a document is named by its collection and its path in the folder, so no folder
overwrites another's files of the same name. On SQLite and PostgreSQL, with FakeEncoder."""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.cli import cli, common
from retrieval import QuoteDesk
from retrieval.errors import CollectionError, UserError
from tests.helpers import FAKE_CONFIG, FakeEncoder, open_desk

SEAGULLS = "The lighthouse keeper counted 412 seagulls on the rocks on Tuesday morning."
LOAVES = "The baker on Mill Street sold 97 loaves of dark rye bread before noon."

Make = Callable[[], tuple[QuoteDesk, FakeEncoder]]


@pytest.fixture
def make(database_url: str, tmp_path: Path) -> Make:
    """A desk on the test's database (SQLite, then PostgreSQL); each call opens it again."""

    def reopen() -> tuple[QuoteDesk, FakeEncoder]:
        fake = FakeEncoder()
        return open_desk(tmp_path / "data", fake, FAKE_CONFIG, url=database_url), fake

    return reopen


def folder(base: Path, name: str, files: dict[str, str]) -> Path:
    path = base / name
    path.mkdir(parents=True)
    for relative, content in files.items():
        (path / relative).parent.mkdir(parents=True, exist_ok=True)
        (path / relative).write_text(content + "\n")
    return path


def test_two_folders_with_the_same_file_names_are_both_kept_and_answerable(
    make: Make, tmp_path: Path
) -> None:
    desk, _ = make()
    a = folder(tmp_path, "a", {"report.txt": SEAGULLS, "deep/notes.md": "Notes of a."})
    b = folder(tmp_path, "b", {"report.txt": LOAVES, "deep/notes.md": "Notes of b."})
    assert desk.ingest(a).collection == "a"
    second = desk.ingest(b)
    assert (second.collection, second.added, second.changed) == ("b", 2, 0)
    assert desk.store.document_count() == 4
    assert [(i.source.collection, i.source.path) for i in desk.sources()] == [
        ("a", "deep/notes.md"),
        ("a", "report.txt"),
        ("b", "deep/notes.md"),
        ("b", "report.txt"),
    ]
    for question, collection in (("how many seagulls?", "a"), ("how many loaves of rye?", "b")):
        top = desk.ask(question).quotes[0]
        assert (top.source.collection, top.source.path) == (collection, "report.txt")
        # The JSON contract: "source" is still the relative path; the collection is beside it.
        assert top.to_dict()["source"] == "report.txt"
        assert top.to_dict()["collection"] == collection


def test_prune_of_one_collection_leaves_the_other(make: Make, tmp_path: Path) -> None:
    desk, _ = make()
    a = folder(tmp_path, "a", {"report.txt": SEAGULLS, "old.txt": "An old note."})
    b = folder(tmp_path, "b", {"report.txt": LOAVES, "old.txt": "Another old note."})
    desk.ingest(a)
    desk.ingest(b)
    (a / "old.txt").unlink()
    (a / "report.txt").unlink()
    assert desk.ingest(a, prune=True).removed == 2
    assert [(i.source.collection, i.source.path) for i in desk.sources()] == [
        ("b", "old.txt"),
        ("b", "report.txt"),
    ]
    assert desk.ask("how many loaves of rye?").quotes[0].source.collection == "b"


def test_a_reingest_of_an_unchanged_folder_encodes_nothing(make: Make, tmp_path: Path) -> None:
    desk, fake = make()
    a = folder(tmp_path, "a", {"report.txt": SEAGULLS})
    b = folder(tmp_path, "b", {"report.txt": LOAVES})
    desk.ingest(a)
    desk.ingest(b)
    encoded, version = fake.encoded, desk.store.corpus_version()
    for path in (a, b, a / "report.txt"):
        again = desk.ingest(path)
        assert (again.added, again.changed, again.unchanged, again.encoded) == (0, 0, 1, 0)
    assert fake.encoded == encoded and desk.store.corpus_version() == version
    # Another process (a fresh desk on the same database) finds the same collections.
    other, other_fake = make()
    assert other.ingest(b).encoded == 0 and other_fake.encoded == 0


def test_a_folder_named_like_another_folders_collection_is_refused(
    make: Make, tmp_path: Path
) -> None:
    desk, _ = make()
    first = folder(tmp_path / "x", "docs", {"report.txt": SEAGULLS})
    second = folder(tmp_path / "y", "docs", {"report.txt": LOAVES})
    desk.ingest(first)
    with pytest.raises(CollectionError, match=r'"docs" holds documents ingested from .*/x/docs'):
        desk.ingest(second)
    assert desk.ingest(second, collection="docs-y").added == 1
    assert sorted(c.name for c in desk.store.collections()) == ["docs", "docs-y"]
    # Each is found by its folder from now on.
    assert desk.ingest(second).collection == "docs-y"
    assert desk.ingest(first).collection == "docs"


def test_a_moved_folder_keeps_its_collection_when_named(make: Make, tmp_path: Path) -> None:
    desk, _ = make()
    old = folder(tmp_path / "old", "notes", {"report.txt": SEAGULLS, "b.txt": LOAVES})
    desk.ingest(old)
    new = tmp_path / "new" / "notes"
    new.parent.mkdir()
    shutil.move(old, new)
    with pytest.raises(CollectionError, match="--collection notes updates it"):
        desk.ingest(new)
    moved = desk.ingest(new, collection="notes")
    assert (moved.unchanged, moved.encoded) == (2, 0)
    assert [c.roots for c in desk.store.collections()] == [(str(new),)]
    assert desk.ingest(new).encoded == 0  # found by its new folder


def test_two_folders_may_share_a_collection_when_asked(make: Make, tmp_path: Path) -> None:
    desk, _ = make()
    a = folder(tmp_path, "a", {"one.txt": SEAGULLS})
    b = folder(tmp_path, "b", {"two.txt": LOAVES})
    desk.ingest(a, collection="shared")
    desk.ingest(b, collection="shared")
    [shared] = desk.store.collections()
    assert (shared.name, shared.documents, len(shared.roots)) == ("shared", 2, 2)


@pytest.mark.parametrize("name", ["", "   ", "x" * 256, "tab\there"])
def test_a_collection_needs_a_printable_name(make: Make, tmp_path: Path, name: str) -> None:
    desk, _ = make()
    with pytest.raises(CollectionError, match="printable characters") as raised:
        desk.ingest(folder(tmp_path, "a", {"one.txt": SEAGULLS}), collection=name)
    assert isinstance(raised.value, UserError)


# --- the command line --------------------------------------------------------------------------

Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Run:
    """The CLI on the fake encoder and a fresh SQLite data directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUOTEDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "NO_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(
        common, "open_desk", functools.partial(common.open_desk, encoder=FakeEncoder())
    )

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), catch_exceptions=False)

    return invoke


def test_cli_collections(run: Run, tmp_path: Path) -> None:
    a = folder(tmp_path, "a", {"report.txt": SEAGULLS})
    b = folder(tmp_path / "elsewhere", "a", {"report.txt": LOAVES})
    assert "a: 1 added" in run("ingest", str(a)).stderr
    assert run("sources").stdout.splitlines()[0].startswith("report.txt  undated")  # one: no tag

    clash = run("ingest", str(b))
    assert clash.exit_code == 2
    assert "--collection a updates it from this folder" in clash.stderr
    assert "b: 1 added" in run("ingest", str(b), "--collection", "b").stderr

    lines = run("sources").stdout.splitlines()
    assert [line.split("  ")[0] for line in lines] == ["[a] report.txt", "[b] report.txt"]
    rows = [json.loads(line) for line in run("sources", "--json").stdout.splitlines()]
    assert [(r["collection"], r["source"]) for r in rows] == [
        ("a", "report.txt"),
        ("b", "report.txt"),
    ]
    answer = json.loads(run("ask", "--json", "how many loaves of rye?").stdout)
    assert (answer["quotes"][0]["source"], answer["quotes"][0]["collection"]) == ("report.txt", "b")

    (b / "report.txt").unlink()
    assert "1 removed" in run("ingest", str(b), "--prune").stderr
    assert [
        r["collection"] for r in map(json.loads, run("sources", "--json").stdout.splitlines())
    ] == ["a"]
    assert run("ingest", str(a), "--collection", "").exit_code == 2
