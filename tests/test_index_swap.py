"""A desk answering while another process changes the corpus: the new indexes are built beside
the loaded ones and swapped in whole; no question waits for the build, and none is answered
differently meanwhile, except that the new documents are not seen yet."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from retrieval import engine
from tests.helpers import FAKE_CONFIG, FakeEncoder, open_desk

SEAGULLS = "how many seagulls did the lighthouse keeper count?"
BAKU = "why did Baku skip the Washington meeting?"
# Far longer than an answer from loaded indexes takes; a question that waited for the build
# would take all of it.
HELD = 5.0


class HeldBuild:
    """The engine's ways to new indexes (an update in place, a load or a build), each waiting
    for ``go`` (at most ``HELD`` s) first."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.go = threading.Event()
        self.started = threading.Event()
        for name in ("updated", "load_indexes"):
            monkeypatch.setattr(engine, name, self.held(getattr(engine, name)))

    def held(self, real: Any) -> Any:
        def wait_then(*args: Any, **kw: Any) -> Any:
            self.started.set()
            self.go.wait(HELD)
            return real(*args, **kw)

        return wait_then


@pytest.mark.slow
def test_no_question_waits_for_a_build_and_the_swap_shows_the_new_documents(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = open_desk(
        tmp_path / "writer", FakeEncoder(), FAKE_CONFIG, url=f"sqlite:///{tmp_path}/q.db"
    )
    writer.ingest(corpus)
    serving = open_desk(
        tmp_path / "server", FakeEncoder(), FAKE_CONFIG, url=f"sqlite:///{tmp_path}/q.db"
    )
    before = serving.ask(BAKU)
    (corpus / "new.txt").write_text("The lighthouse keeper counted 412 seagulls on Tuesday.\n")
    writer.ingest(corpus)

    held = HeldBuild(monkeypatch)
    started = time.perf_counter()
    during = [serving.ask(question) for question in (SEAGULLS, BAKU, SEAGULLS)]
    waited = time.perf_counter() - started
    assert held.started.wait(HELD), "no build was started beside the loaded indexes"
    assert waited < HELD / 2, f"questions waited {waited:.1f} s for the build"
    # Answered as before the change, without the new document.
    assert all(q.source.path != "new.txt" for q in during[0].quotes + during[2].quotes)
    assert [q.passage_id for q in during[1].quotes] == [q.passage_id for q in before.quotes]

    held.go.set()
    assert serving.wait_for_indexes(30)
    assert serving.ask(SEAGULLS).quotes[0].source.path == "new.txt"


def test_a_desk_told_not_to_build_beside_waits_for_the_new_indexes(
    tmp_path: Path, corpus: Path
) -> None:
    url = f"sqlite:///{tmp_path}/q.db"
    writer = open_desk(tmp_path / "writer", FakeEncoder(), FAKE_CONFIG, url=url)
    writer.ingest(corpus)
    serving = open_desk(tmp_path / "server", FakeEncoder(), FAKE_CONFIG, url=url)
    serving.build_beside = False
    serving.ask(BAKU)
    (corpus / "new.txt").write_text("The lighthouse keeper counted 412 seagulls on Tuesday.\n")
    writer.ingest(corpus)
    assert serving.ask(SEAGULLS).quotes[0].source.path == "new.txt"


def test_a_failed_build_leaves_the_loaded_indexes_answering(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/q.db"
    writer = open_desk(tmp_path / "writer", FakeEncoder(), FAKE_CONFIG, url=url)
    writer.ingest(corpus)
    serving = open_desk(tmp_path / "server", FakeEncoder(), FAKE_CONFIG, url=url)
    serving.ask(BAKU)
    (corpus / "new.txt").write_text("The lighthouse keeper counted 412 seagulls on Tuesday.\n")
    writer.ingest(corpus)

    def broken(*_args: Any, **_kw: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(engine, "updated", broken)
    monkeypatch.setattr(engine, "load_indexes", broken)
    assert serving.ask(BAKU).answered
    assert serving.wait_for_indexes(30)
    assert serving.ask(BAKU).answered  # still the old ones; a later question tries again
    monkeypatch.undo()
    serving.ask(SEAGULLS)
    assert serving.wait_for_indexes(30)
    assert serving.ask(SEAGULLS).quotes[0].source.path == "new.txt"
