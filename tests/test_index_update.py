"""A small change to the corpus applied to the loaded indexes in place: the same BM25 scores and
the same vectors as a build over the changed corpus, whichever passages went and came (ids the
database gives again included), and files on disk that stay whole whatever step a process dies
at."""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from retrieval.search.dense import IVF_SQ8, VectorIndex
from retrieval.search.lexical import LexicalIndex
from retrieval.tuning import RetrievalConfig
from tests.helpers import FAKE_CONFIG, ROOT, FakeEncoder, open_desk

VOCABULARY = (
    "baku washington meeting remarks treaty glacier water minister talks offensive region "
    "peace deal armenia azerbaijan summit border ceasefire election vote court ruling strike "
    "harbour union wages inflation bank rates storm flood river bridge"
)
WORDS = VOCABULARY.split(" ")


def passages(n: int, *, seed: int, start: int = 1) -> list[tuple[int, str | None, str]]:
    rng = random.Random(seed)
    rows = []
    for pid in range(start, start + n):
        title = " ".join(rng.choices(WORDS, k=3)).title() if rng.random() < 0.7 else None
        text = " ".join(rng.choices(WORDS, k=rng.randint(5, 40))) + f" item{pid % 17}."
        rows.append((pid, title, text))
    return rows


def same_answers(a: LexicalIndex, b: LexicalIndex, queries: list[str]) -> None:
    for query in queries:
        scores_a, ids_a = a.search(query, 25)
        scores_b, ids_b = b.search(query, 25)
        assert ids_a.tolist() == ids_b.tolist(), query
        np.testing.assert_allclose(scores_a, scores_b, rtol=1e-6)


def test_an_updated_lexical_index_scores_as_a_build_does() -> None:
    before = passages(400, seed=1)
    index = LexicalIndex.from_passages(before)
    index.fingerprints = np.zeros(len(before), dtype=np.int64)
    rng = random.Random(2)
    keep = np.array([rng.random() > 0.1 for _ in before])
    added = passages(60, seed=3, start=1000)
    added[0] = (1000, "Zanzibar Flamingos", "flamingos unseen before were counted")  # new words
    after = [row for row, kept in zip(before, keep, strict=True) if kept] + added
    update = LexicalIndex.from_passages(before).updated(
        keep, added, fingerprints=np.zeros(len(after), dtype=np.int64), version="v2"
    )
    build = LexicalIndex.from_passages(after)
    assert update.ids.tolist() == build.ids.tolist()
    queries = [" ".join(random.Random(s).choices(WORDS, k=3)) for s in range(40)]
    same_answers(update, build, [*queries, "zanzibar flamingos", "item3 baku"])
    # What ranking reads from it too: how many asked words each passage's text holds.
    ids = [pid for pid, _, _ in after[::7]]
    for words in ({"baku", "treati"}, {"flamingo", "zanzibar"}, {"water"}):
        assert (
            update.holding(words, ids, in_text=True).tolist()
            == build.holding(words, ids, in_text=True).tolist()
        )


def test_an_updated_lexical_index_can_be_saved_loaded_and_updated_again(tmp_path: Path) -> None:
    index = LexicalIndex.from_passages(passages(100, seed=5))
    index.fingerprints = np.zeros(100, dtype=np.int64)
    index.save(tmp_path / "one")
    loaded = LexicalIndex.load(tmp_path / "one")
    keep = np.ones(100, dtype=bool)
    keep[:10] = False
    added = passages(5, seed=6, start=500)
    again = loaded.updated(keep, added, fingerprints=np.zeros(95, dtype=np.int64), version="v3")
    build = LexicalIndex.from_passages(passages(100, seed=5)[10:] + added)
    same_answers(again, build, ["baku meeting", "storm flood river", "item4"])


@pytest.mark.parametrize("kind", ["flat", IVF_SQ8])
def test_an_updated_dense_index_holds_the_changed_vectors(kind: str) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(1, 3001, dtype=np.int64)
    config = RetrievalConfig(dense_index=kind)
    index = VectorIndex.build(ids, vectors, config=config)
    removed = ids[::10]
    new = rng.standard_normal((200, 32)).astype(np.float32)
    new /= np.linalg.norm(new, axis=1, keepdims=True)
    added = np.arange(5001, 5201, dtype=np.int64)
    update = index.updated(removed, added, new, version="v2", config=config)
    assert index.size == 3000  # the loaded one answers on, unchanged
    assert update.size == 3000 - len(removed) + 200
    found = update.search(new[:50], 1)[1][:, 0]
    assert (found == added[:50]).mean() >= 0.95
    gone = update.search(vectors[::10][:50], 10)[1]
    assert not set(gone.ravel().tolist()) & set(removed.tolist())


def test_an_ivf_index_is_trained_anew_once_the_corpus_outgrows_its_lists() -> None:
    config = RetrievalConfig(dense_index=IVF_SQ8)
    rng = np.random.default_rng(8)
    vectors = rng.standard_normal((40_000, 8)).astype(np.float32)
    index = VectorIndex.build(np.arange(40_000, dtype=np.int64), vectors, config=config)
    assert not index.needs_training(40_000, config)
    assert not index.needs_training(120_000, config)  # lists for 3 times the size: kept
    assert index.needs_training(170_000, config)  # more than 4 times: trained anew
    assert index.needs_training(9_000, config)
    assert index.needs_training(100, config)  # small enough for exact search


# --- desks ----------------------------------------------------------------------------------


def ask_all(desk, questions: list[str]) -> list[list[tuple[str, int, int]]]:
    return [
        [(q.source.path, q.start, q.end) for q in desk.ask(question, k=5).quotes]
        for question in questions
    ]


QUESTIONS = [
    "why did Baku skip the Washington meeting?",
    "how many seagulls did the lighthouse keeper count?",
    "who fled on horseback?",
    "what did the Kremlin say?",
]


def test_a_desk_updates_its_indexes_in_place_and_answers_as_a_fresh_build(
    tmp_path: Path, corpus: Path
) -> None:
    url = f"sqlite:///{tmp_path}/q.db"
    writer = open_desk(tmp_path / "writer", FakeEncoder(), FAKE_CONFIG, url=url)
    writer.ingest(corpus)
    reader = open_desk(tmp_path / "reader", FakeEncoder(), FAKE_CONFIG, url=url)
    reader.build_beside = False
    reader.ask(QUESTIONS[0])
    # The file with the highest passage ids goes, then another comes: SQLite gives its
    # passages the same ids again; their fingerprints tell them apart.
    last = sorted(corpus.iterdir())[-1]
    last.unlink()
    writer.ingest(corpus, prune=True)
    (corpus / "new.txt").write_text(
        "The lighthouse keeper counted 412 seagulls on Tuesday.\\n\\nNobody fled on horseback.\n"
    )
    writer.ingest(corpus)
    answers = ask_all(reader, QUESTIONS)
    assert reader.last_index_action == "updated"
    fresh = open_desk(tmp_path / "fresh", FakeEncoder(), FAKE_CONFIG, url=url)
    assert answers == ask_all(fresh, QUESTIONS)
    assert answers[1][0][0] == "new.txt"
    assert all(path != last.name for quotes in answers for path, _, _ in quotes)


def test_a_large_change_is_built_anew(tmp_path: Path, corpus: Path) -> None:
    url = f"sqlite:///{tmp_path}/q.db"
    writer = open_desk(tmp_path / "writer", FakeEncoder(), FAKE_CONFIG, url=url)
    writer.ingest(corpus)
    reader = open_desk(
        tmp_path / "reader",
        FakeEncoder(),
        RetrievalConfig(min_similarity=0.0, update_passages=0, update_share=0.0),
        url=url,
    )
    reader.build_beside = False
    reader.ask(QUESTIONS[0])
    (corpus / "new.txt").write_text("The lighthouse keeper counted 412 seagulls on Tuesday.\n")
    writer.ingest(corpus)
    reader.ask(QUESTIONS[1])
    assert reader.last_index_action == "loaded or built"


# A process updating its saved indexes, killed at a step of saving them (os._exit: no clean-up
# runs, as with SIGKILL).
KILLED_AT = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from retrieval.search import dense, lexical
    from tests.helpers import FAKE_CONFIG, FakeEncoder, open_desk

    data, url, step = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    real_dense, real_lexical = dense.VectorIndex.save, lexical.LexicalIndex.save

    def dense_save(self, path):
        if step == "dense":
            path.with_name(path.name + ".tmp-partial").write_bytes(b"half an index")
            os._exit(9)
        real_dense(self, path)

    def lexical_save(self, path):
        if step == "lexical":
            os._exit(9)
        real_lexical(self, path)

    dense.VectorIndex.save = dense_save
    lexical.LexicalIndex.save = lexical_save
    desk = open_desk(data, FakeEncoder(), FAKE_CONFIG, url=url)
    desk.warm()
    os._exit(0)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("step", ["dense", "lexical"])
def test_indexes_on_disk_stay_whole_when_a_process_dies_while_updating_them(
    tmp_path: Path, corpus: Path, step: str
) -> None:
    url = f"sqlite:///{tmp_path}/q.db"
    data = tmp_path / "shared"
    writer = open_desk(data, FakeEncoder(), FAKE_CONFIG, url=url)
    writer.ingest(corpus)  # its indexes saved for this version
    other = open_desk(tmp_path / "other", FakeEncoder(), FAKE_CONFIG, url=url)
    (corpus / "new.txt").write_text("The lighthouse keeper counted 412 seagulls on Tuesday.\n")
    other.ingest(corpus)  # a new version; the shared data dir still has the old files
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_AT, str(data), url, step],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert killed.returncode == 9, killed.stderr.decode()[-2000:]
    # A new process on that data dir answers as a fresh build over the database does.
    after = open_desk(data, FakeEncoder(), FAKE_CONFIG, url=url)
    fresh = open_desk(tmp_path / "fresh", FakeEncoder(), FAKE_CONFIG, url=url)
    assert ask_all(after, QUESTIONS) == ask_all(fresh, QUESTIONS)
    assert ask_all(after, QUESTIONS)[1][0][0] == "new.txt"
