"""Updates a running bot survives: an ingest goes live whole, a killed one leaves the corpus as
it was (and the next ingest finishes its work), and a missing or damaged index file is rebuilt
from the database, saying so.

The kill is real: ``quotedesk``'s ingest runs in another process, on the fake encoder, and is
stopped with SIGKILL after it has committed some of its groups.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval import QuoteDesk
from retrieval import batch as batch_module
from retrieval.records import NewDocument, NewPassage
from retrieval.search.dense import VectorIndex, index_path
from retrieval.store import Store, new_run
from tests.helpers import FAKE_CONFIG, ROOT, SEEDS, FakeEncoder, open_desk

QUESTION = "why did Baku skip the Washington meeting?"
NEW_FILES = 8
# The child ingest commits this many groups, then hangs until killed.
GROUPS_BEFORE_KILL = 3
KILL_WAIT = 120

CHILD = """
import sys
from pathlib import Path

from retrieval import batch
from tests.helpers import FAKE_CONFIG, FakeEncoder, open_desk

batch.GROUP_PASSAGES = 4  # many small groups: some committed, the rest not


class Hangs(FakeEncoder):
    calls = 0

    def encode(self, texts, *, progress=None):
        if texts:  # passages (titles are encoded in the same group, after them)
            self.calls += 1
        if self.calls > {groups}:
            print("STAGED", flush=True)
            sys.stdin.read()  # until killed
        return super().encode(texts, progress=progress)


data, url, corpus = sys.argv[1:4]
desk = open_desk(Path(data), Hangs(), FAKE_CONFIG, url=url)
desk.ingest(corpus)
print("FINISHED", flush=True)
""".replace("{groups}", str(GROUPS_BEFORE_KILL * 2))


def grow(corpus: Path) -> list[str]:
    """Change one file of ``corpus`` and add ``NEW_FILES``; the names of the new files."""
    (corpus / "004_6db652f8069ebf00.txt").write_text(
        " date 2024-05-01 The zebra crossing on Main Street was repainted in purple.\n"
    )
    names = []
    for n in range(NEW_FILES):
        name = f"new_{n:02d}.txt"
        paragraphs = [
            f"Report {n}, part {p}: the harbour committee of town {n} met about berth {p} and "
            f"agreed to repaint crane {n * 10 + p} before the autumn storms arrive."
            for p in range(6)
        ]
        (corpus / name).write_text("\n\n".join(paragraphs) + "\n")
        names.append(name)
    return names


def shown(desk: QuoteDesk) -> list[tuple[str | None, str, int]]:
    return [(s.source.collection, s.source.path, s.passages) for s in desk.sources()]


def first_quote(desk: QuoteDesk, question: str = QUESTION) -> tuple[str, str]:
    quote = desk.ask(question).quotes[0]
    return quote.source.path, quote.text


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(SEEDS, folder)
    return folder


# --- an ingest goes live whole ------------------------------------------------------------------


class Paused(FakeEncoder):
    """Stops in its ``stop_at``-th passage batch until ``go`` is set."""

    def __init__(self, stop_at: int):
        super().__init__()
        self.stop_at = stop_at
        self.batches = 0
        self.waiting = threading.Event()
        self.go = threading.Event()

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        if texts and len(texts) > 1:
            self.batches += 1
            if self.batches == self.stop_at:
                self.waiting.set()
                assert self.go.wait(60), "never released"
        return super().encode(texts, progress=progress)


def test_a_running_desk_answers_from_the_old_corpus_until_the_ingest_ends(
    database_url: str, tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch_module, "GROUP_PASSAGES", 4)
    open_desk(tmp_path / "writer", config=FAKE_CONFIG, url=database_url).ingest(corpus)
    serving = open_desk(tmp_path / "server", config=FAKE_CONFIG, url=database_url)
    before, version = shown(serving), serving.store.corpus_version()
    answer_before = first_quote(serving)
    new = grow(corpus)

    paused = Paused(stop_at=4)  # three groups committed, the fourth in flight
    writer = open_desk(tmp_path / "writer", paused, FAKE_CONFIG, url=database_url)
    done: list[object] = []
    worker = threading.Thread(target=lambda: done.append(writer.ingest(corpus)), daemon=True)
    worker.start()
    try:
        assert paused.waiting.wait(60), "the ingest never reached its fourth group"
        # Groups are committed, and the running desk sees none of them.
        assert serving.store.corpus_version() == version
        assert shown(serving) == before
        assert first_quote(serving) == answer_before
        purple = serving.ask("what colour was the zebra crossing painted?")
        assert all("purple" not in q.text for q in purple.quotes)
        assert serving.store.staged_files("corpus")  # the staged groups are there
    finally:
        paused.go.set()
        worker.join(60)
    assert done, "the ingest did not finish"

    # Then all of it at once, once the indexes built beside the loaded ones are swapped in.
    assert serving.store.corpus_version() != version
    paths = {path for _, path, _ in shown(serving)}
    assert set(new) <= paths and len(paths) == 5 + NEW_FILES
    serving.ask("what colour was the zebra crossing painted?")
    assert serving.wait_for_indexes(60)
    assert serving.ask("what colour was the zebra crossing painted?").quotes[0].source.path == (
        "004_6db652f8069ebf00.txt"
    )
    assert serving.store.staged_files("corpus") == {}


# --- kill -9 -----------------------------------------------------------------------------------


def run_child_until_staged(url: str, data: Path, corpus: Path) -> None:
    """Start an ingest in another process; SIGKILL it once it has committed some groups."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), url, str(corpus)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stderr is not None
        line = ""
        watchdog = threading.Timer(KILL_WAIT, child.kill)
        watchdog.start()
        try:
            line = child.stdout.readline().strip()
        finally:
            watchdog.cancel()
        assert line == "STAGED", f"the ingest never got half-way: {line!r} {child.stderr.read()}"
        child.send_signal(signal.SIGKILL)
        assert child.wait(30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


@pytest.mark.slow  # another process, killed
def test_an_ingest_killed_half_way_leaves_the_corpus_as_it_was_and_the_next_finishes(
    database_url: str, tmp_path: Path, corpus: Path
) -> None:
    data = tmp_path / "data"
    desk = open_desk(data, config=FAKE_CONFIG, url=database_url)
    desk.ingest(corpus)
    before, version = shown(desk), desk.store.corpus_version()
    answer_before = first_quote(desk)
    desk.store.close()
    new = grow(corpus)

    run_child_until_staged(database_url, data, corpus)

    # The database and the index: the corpus as it was, usable by a new process.
    after = open_desk(data, config=FAKE_CONFIG, url=database_url)
    assert after.store.corpus_version() == version
    assert shown(after) == before
    assert first_quote(after) == answer_before
    left = after.store.staged_files("corpus")
    assert left, "the killed ingest committed nothing: the test proves nothing"
    assert index_path(data, version).is_file()

    # The next ingest takes over what was staged and encodes only the rest.
    counting = FakeEncoder()
    resumed = open_desk(data, counting, FAKE_CONFIG, url=database_url)
    report = resumed.ingest(corpus)
    assert report.resumed == len(left) > 0
    assert (report.added, report.changed, report.unchanged) == (NEW_FILES, 1, 4)
    total_new = sum(
        info.passages
        for info in resumed.sources()
        if info.source.path in {*new, "004_6db652f8069ebf00.txt"}
    )
    assert report.encoded < total_new  # the staged documents were not encoded again
    assert resumed.store.staged_files("corpus") == {}
    assert len(shown(resumed)) == 5 + NEW_FILES
    assert (
        resumed.ask("what colour was the zebra crossing painted?")
        .quotes[0]
        .text.startswith("The zebra crossing")
    )
    # And a third ingest has nothing left to do.
    again = resumed.ingest(corpus)
    assert (again.added, again.changed, again.unchanged, again.encoded) == (0, 0, 5 + NEW_FILES, 0)


@pytest.mark.slow  # another process, killed
def test_staged_work_of_another_recipe_is_dropped_not_taken_over(
    database_url: str, tmp_path: Path, corpus: Path
) -> None:
    desk = open_desk(tmp_path / "data", config=FAKE_CONFIG, url=database_url)
    desk.ingest(corpus)
    grow(corpus)
    run_child_until_staged(database_url, tmp_path / "data", corpus)

    class Renamed(FakeEncoder):
        name = "another-model"

    other = open_desk(tmp_path / "data", Renamed(), FAKE_CONFIG, url=database_url)
    report = other.ingest(corpus)
    assert report.resumed == 0
    assert report.encoded == report.passages  # every passage encoded by the new recipe
    assert other.store.staged_files("corpus") == {}


# --- the index file ----------------------------------------------------------------------------


def test_a_missing_or_damaged_index_file_is_rebuilt_from_the_database_and_said(
    make_desk: Callable[..., tuple[QuoteDesk, FakeEncoder]],
    corpus: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    desk, _ = make_desk()
    desk.ingest(corpus)
    version = desk.store.corpus_version()
    path = index_path(desk.settings.data_dir, version)
    expected = first_quote(desk)

    def reopened() -> QuoteDesk:
        caplog.clear()
        fresh, counting = make_desk()
        with caplog.at_level(logging.INFO, logger="retrieval"):
            fresh.warm()
        assert counting.encoded == 0  # rebuilt from stored embeddings, never re-encoded
        assert first_quote(fresh) == expected
        return fresh

    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    reopened()
    assert "cannot be read" in caplog.text and "rebuilding it from the database" in caplog.text
    assert VectorIndex.load(path).size == desk.store.passage_count()

    path.unlink()
    reopened()
    assert "no index file for this corpus" in caplog.text and path.is_file()

    # A readable file that does not hold what the database holds.
    VectorIndex.build(np.array([1]), np.eye(1, 384, dtype=np.float32)).save(path)
    reopened()
    assert "holds 1 passages" in caplog.text
    assert VectorIndex.load(path).size == desk.store.passage_count()

    reopened()
    assert caplog.text == ""  # a sound file is just loaded


# --- two ingests of the same documents at once -------------------------------------------------


def publish(
    store: Store, run: str, start: threading.Barrier, failures: list[BaseException]
) -> None:
    try:
        start.wait(10)
        store.publish(run, collection="c")
    except BaseException as exc:  # reported by the test
        failures.append(exc)


def test_two_ingests_publishing_the_same_documents_at_once_both_succeed(
    database_url: str, tmp_path: Path
) -> None:
    stores = [Store(database_url), Store(database_url)]
    vector = np.eye(1, 384, dtype=np.float32)[0]

    def documents(n: int) -> list[NewDocument]:
        return [
            NewDocument(
                "c",
                f"doc{i}.txt",
                "/c",
                f"h{n}",
                None,
                None,
                None,
                (NewPassage(0, 5, "text.", vector),),
            )
            for i in range(5)
        ]

    try:
        for round_ in range(8):
            runs = [new_run(), new_run()]
            for store, run in zip(stores, runs, strict=True):
                store.stage_documents(documents(round_), run=run)
            start = threading.Barrier(2)
            failures: list[BaseException] = []
            threads = [
                threading.Thread(target=publish, args=(store, run, start, failures))
                for store, run in zip(stores, runs, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(30)
            assert failures == [], f"round {round_}: {failures!r}"
            assert stores[0].document_count() == 5 and stores[0].staged_files("c") == {}
    finally:
        for store in stores:
            store.close()
