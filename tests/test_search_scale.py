"""The search indexes at scale: the dense index's kind follows the corpus size (exact, then IVF
with 8-bit scalar quantization) and keeps recall against exact search; BM25 is built with array
operations to bm25s's very scores, saved per corpus version and loaded memory-mapped instead of
rebuilt, and a damaged copy is rebuilt, saying so."""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import bm25s
import faiss
import numpy as np
import pytest

from retrieval import RetrievalConfig
from retrieval.passages import lexical_text
from retrieval.search import dense, lexical
from retrieval.search.dense import FLAT, HNSW, IVF_PQ, IVF_SQ8, VectorIndex, index_path
from retrieval.search.lexical import LexicalIndex, lexical_path
from retrieval.words import tokenize, word_sets
from tests.helpers import SEEDS, make_passage

QUESTION = "why did Baku skip the Washington meeting?"
# A tiny threshold: a few thousand vectors are "a large corpus".
SMALL_LIMIT = RetrievalConfig(exact_search_limit=1_000, min_similarity=0.0)


def clustered(n: int, *, dimension: int = 64, seed: int = 0) -> np.ndarray:
    """Unit vectors in clusters, as sentence embeddings are (uniform noise has no structure
    for IVF to find)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dimension)).astype(np.float32)
    vectors = centres[rng.integers(0, 40, n)] + 0.6 * rng.standard_normal((n, dimension)).astype(
        np.float32
    )
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


# The dense index


def test_the_kind_follows_the_corpus_size() -> None:
    assert dense.choose_kind(1_000, SMALL_LIMIT) == FLAT
    assert dense.choose_kind(1_001, SMALL_LIMIT) == IVF_SQ8
    defaults = RetrievalConfig()
    assert dense.choose_kind(defaults.exact_search_limit, defaults) == FLAT
    assert dense.choose_kind(1_000_000, defaults) == IVF_SQ8
    forced = dataclasses.replace(defaults, dense_index=HNSW)
    assert dense.choose_kind(10, forced) == HNSW


def test_ivf_over_a_few_thousand_vectors_keeps_recall_against_exact_search() -> None:
    vectors = clustered(4_000)
    ids = np.arange(1_000, 5_000, dtype=np.int64)
    index = VectorIndex.build(ids, vectors, config=SMALL_LIMIT)
    exact = VectorIndex.build(ids, vectors, kind=FLAT)
    assert index.kind == IVF_SQ8 and exact.kind == FLAT
    assert index.size == 4_000
    inner: Any = faiss.downcast_index(index.faiss_index)  # an IVF index; typed as Index
    assert inner.nlist == dense.ivf_lists(4_000, SMALL_LIMIT)
    assert inner.nprobe == min(SMALL_LIMIT.ivf_probe, inner.nlist)
    queries = clustered(200, seed=1)  # held out: not in the index
    found = index.search(queries, 10)[1]
    assert set(found.ravel().tolist()) <= set(ids.tolist())  # passage ids, not rows
    assert recall(found, exact.search(queries, 10)[1]) >= 0.95
    # IVF-SQ8 keeps a byte per dimension: about a quarter of exact search's memory.
    sq8, flat = faiss.serialize_index(index.faiss_index), faiss.serialize_index(exact.faiss_index)
    assert len(sq8) < 0.4 * len(flat)


@pytest.mark.slow  # trains and builds
@pytest.mark.parametrize("kind", [HNSW, IVF_PQ])
def test_the_other_kinds_can_be_forced(kind: str) -> None:
    vectors = clustered(1_500, dimension=16)
    config = dataclasses.replace(SMALL_LIMIT, dense_index=kind, ivf_pq_bytes=4)
    index = VectorIndex.build(np.arange(1_500), vectors, config=config)
    assert index.kind == kind
    assert index.search(vectors[:5], 1)[1][:, 0].tolist() == [0, 1, 2, 3, 4] or kind == IVF_PQ


def test_a_single_question_is_searched_on_one_thread_and_the_setting_restored() -> None:
    index = VectorIndex.build(np.arange(100), clustered(100))
    before = faiss.omp_get_max_threads()
    index.search(clustered(1, seed=3), 5)
    assert faiss.omp_get_max_threads() == before


def test_a_saved_ivf_index_is_loaded_with_the_configured_probe(tmp_path: Path) -> None:
    index = VectorIndex.build(np.arange(3_000), clustered(3_000), config=SMALL_LIMIT)
    index.save(tmp_path / "index.faiss")
    wider = dataclasses.replace(SMALL_LIMIT, ivf_probe=3)
    loaded = VectorIndex.load(tmp_path / "index.faiss", config=wider)
    assert loaded.kind == IVF_SQ8 and loaded.size == 3_000
    inner: Any = faiss.downcast_index(loaded.faiss_index)
    assert inner.nprobe == 3
    assert "probing 3" in loaded.describe()


def test_a_cached_index_of_another_kind_is_rebuilt(make_desk, caplog) -> None:
    desk, _ = make_desk(seeded=True)
    path = index_path(desk.settings.data_dir, desk.store.corpus_version())
    assert VectorIndex.load(path).kind == FLAT
    small = dataclasses.replace(SMALL_LIMIT, exact_search_limit=10)
    with caplog.at_level(logging.WARNING, logger="retrieval"):
        index = dense.load_or_build(desk.store, desk.settings.data_dir, 384, config=small)
    assert index.kind == IVF_SQ8
    assert "holds a flat index, the configuration asks for ivf-sq8" in caplog.text
    assert VectorIndex.load(path).kind == IVF_SQ8


def test_an_unknown_dense_index_is_refused() -> None:
    from retrieval.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="dense_index must be one of"):
        RetrievalConfig(dense_index="annoy")
    assert RetrievalConfig().with_overrides(["dense_index=ivf-sq8"]).dense_index == IVF_SQ8


# The lexical index

HOSTILE = [
    "",
    "the and of a",  # stop words only
    "Ünïcode ＦＵＬＬ width ﬁ ligature İstanbul straße",
    "x y z 1 2",  # one-character words are not words
    "run running runs ran RUNNER",
    "tab\tseparated\nnew-lines and_underscores 2,500 troops",
]


def seed_texts() -> list[str]:
    texts = []
    for path in sorted(SEEDS.glob("*.txt")):
        texts += [p for p in path.read_text().split("\n\n") if p.strip()]
    return texts + HOSTILE


def test_the_index_holds_bm25s_scores_for_the_same_words() -> None:
    texts = seed_texts()
    ids = np.arange(500, 500 + len(texts), dtype=np.int64)
    ours = LexicalIndex.build(ids, texts)
    reference = bm25s.BM25()
    reference.index(tokenize(texts), show_progress=False)
    # The same words (bm25s adds an empty one for empty documents).
    assert ours.scores is not None
    assert set(ours.scores.vocab) == set(reference.vocab_dict) - {""}
    for query in [
        QUESTION,
        "KAMAZ trucks KAMAZ",
        "istanbul straße",
        "running runners",
        "2,500 troops",
        "the of",
    ]:
        scores, found = ours.search(query, 10)
        tokens = [[t for t in tokenize([query])[0] if t in reference.vocab_dict]]
        if not tokens[0]:
            assert len(found) == 0
            continue
        rows, expected = reference.retrieve(tokens, k=10, show_progress=False, n_threads=1)
        keep = expected[0] > 0
        np.testing.assert_allclose(scores, expected[0][keep], rtol=1e-6)
        assert sorted(found.tolist()) == sorted(ids[rows[0][keep]].tolist())


@pytest.mark.parametrize("order", ["ascending", "shuffled"])
def test_the_words_a_passage_holds_are_read_from_the_index_as_from_its_text(order, monkeypatch):
    texts = seed_texts()
    ids = np.arange(900, 900 + len(texts), dtype=np.int64)
    if order == "shuffled":
        ids = np.random.default_rng(3).permutation(ids)
    monkeypatch.setattr(lexical, "BUILD_CHUNK", 7)  # columns written over many chunks
    index = LexicalIndex.build(ids, texts)
    wanted = np.concatenate([ids[::3], [5, 10**6]])  # two ids it does not hold
    text_of = dict(zip(ids.tolist(), texts, strict=True))
    for query in (QUESTION, "KAMAZ trucks KAMAZ", "istanbul straße", "running runners", "the"):
        asked = word_sets([query])[0]
        expected = [
            len(asked & word_sets([text_of[i]])[0]) if i in text_of else -1 for i in wanted.tolist()
        ]
        assert index.holding(asked, wanted).tolist() == expected


def test_the_words_of_a_passages_text_alone_are_counted_apart_from_its_titles(
    monkeypatch, tmp_path: Path
) -> None:
    texts = seed_texts()
    titles = ["Baku skips the Washington meeting", None, "Running troops", "", "The KAMAZ talks"]
    rows = [(7 + 2 * i, titles[i % len(titles)], text) for i, text in enumerate(texts)]
    monkeypatch.setattr(lexical, "BUILD_CHUNK", 5)  # title-only terms over many chunks
    index = LexicalIndex.from_passages(rows)
    plain = LexicalIndex.from_rows((pid, lexical_text(title, text)) for pid, title, text in rows)
    assert index.knows_titles and not plain.knows_titles
    wanted = np.asarray([pid for pid, _, _ in rows] + [2, 10**6])
    for query in (QUESTION, "running troops ran", "KAMAZ talks", "the"):
        asked = word_sets([query])[0]
        in_text = [len(asked & word_sets([t])[0]) for _, _, t in rows] + [-1, -1]
        both = [len(asked & word_sets([lexical_text(ti, t)])[0]) for _, ti, t in rows] + [-1, -1]
        assert index.holding(asked, wanted, in_text=True).tolist() == in_text
        assert index.holding(asked, wanted).tolist() == both
        assert plain.holding(asked, wanted).tolist() == both
        a, b = index.search(query, 20), plain.search(query, 20)
        assert a[1].tolist() == b[1].tolist()  # the same BM25 either way
    with pytest.raises(ValueError):
        plain.holding(word_sets([QUESTION])[0], wanted, in_text=True)
    index.save(tmp_path / "lexical-x")
    loaded = LexicalIndex.load(tmp_path / "lexical-x")
    asked = word_sets([QUESTION])[0]
    assert loaded.holding(asked, wanted, in_text=True).tolist() == (
        index.holding(asked, wanted, in_text=True).tolist()
    )
    # What ranking is handed: the text's count of every passage either index can tell.
    passages = [make_passage(pid, text=t, title=ti, document=pid) for pid, ti, t in rows]
    for query in (QUESTION, "running troops ran"):
        asked = word_sets([query])[0]
        expected = {p.id: len(asked & word_sets([p.text])[0]) for p in passages}
        assert index.words_in_text(asked, passages) == expected
        titled = {p.id for p in passages if asked & word_sets([p.document.source.title or ""])[0]}
        told = plain.words_in_text(asked, passages)
        assert titled and told == {i: n for i, n in expected.items() if i not in titled}
    assert index.words_in_text(set(), passages) == plain.words_in_text(set(), passages) == {}
    # An index saved before titles were kept apart loads, and does not claim to know them.
    for name in (lexical.TITLE_STARTS_FILE, lexical.TITLE_TERMS_FILE):
        (tmp_path / "lexical-x" / name).unlink()
    assert not LexicalIndex.load(tmp_path / "lexical-x").knows_titles


def test_the_index_is_built_a_chunk_at_a_time_to_the_same_scores(monkeypatch) -> None:
    texts = seed_texts()
    ids = np.arange(len(texts))
    whole = LexicalIndex.build(ids, texts)
    monkeypatch.setattr(lexical, "BUILD_CHUNK", 7)
    chunked = LexicalIndex.build(ids, texts)
    for query in (QUESTION, "KAMAZ trucks", "straße"):
        a, b = whole.search(query, 20), chunked.search(query, 20)
        np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
        assert a[1].tolist() == b[1].tolist()


def test_a_score_floor_from_a_sample_finds_the_same_best_passages(monkeypatch) -> None:
    texts = seed_texts() * 20  # many ties: the same passage under twenty ids
    ids = np.arange(len(texts))
    index = LexicalIndex.build(ids, texts)
    queries = (QUESTION, "KAMAZ trucks", "Washington", "meeting official said")
    monkeypatch.setattr(lexical, "FLOOR_ABOVE", 10**9)
    plain = [index.search(q, 30) for q in queries]
    monkeypatch.setattr(lexical, "FLOOR_ABOVE", 16)
    monkeypatch.setattr(lexical, "FLOOR_STRIDE", 3)
    for query, (scores, _) in zip(queries, plain, strict=True):
        floored_scores, found = index.search(query, 30)
        np.testing.assert_array_equal(floored_scores, scores)
        assert len(set(found.tolist())) == len(found)


def test_an_empty_index_finds_nothing(tmp_path: Path) -> None:
    empty = LexicalIndex.build(np.zeros(0, dtype=np.int64), [])
    assert empty.size == 0 and empty.search(QUESTION, 5)[1].tolist() == []
    with pytest.raises(ValueError):
        empty.save(tmp_path / "lexical-x")


def counting_builds(monkeypatch) -> list[int]:
    calls: list[int] = []
    original = LexicalIndex.from_passages.__func__  # type: ignore[attr-defined]

    def counted(cls, rows, **kwargs):
        calls.append(1)
        return original(cls, rows, **kwargs)

    monkeypatch.setattr(LexicalIndex, "from_passages", classmethod(counted))
    return calls


def quotes(desk) -> list[tuple[int, float]]:
    return [(q.passage_id, round(q.score, 6)) for q in desk.ask(QUESTION, k=5).quotes]


def test_a_saved_index_is_loaded_memory_mapped_not_rebuilt(make_desk, monkeypatch) -> None:
    desk, _ = make_desk()
    desk.ingest(SEEDS)
    expected = quotes(desk)
    version = desk.store.corpus_version()
    folder = lexical_path(desk.settings.data_dir, version)
    assert (folder / "data.csc.index.npy").is_file() and (folder / "ids.npy").is_file()
    assert json.loads((folder / "params.index.json").read_text())["num_docs"] == (
        desk.store.passage_count()
    )

    builds = counting_builds(monkeypatch)
    fresh, _ = make_desk()  # the same data dir, as another process
    assert quotes(fresh) == expected
    again, _ = make_desk()
    again.warm()
    assert builds == []
    loaded = LexicalIndex.load(folder)
    # Plain arrays over the mapped file (memmap's own slices are slow): mapped, not read.
    assert loaded.scores is not None
    assert isinstance(loaded.scores.data.base, np.memmap)
    assert loaded.search(QUESTION, 5)[1].tolist() == (
        LexicalIndex.load(folder, mmap=False).search(QUESTION, 5)[1].tolist()
    )


@pytest.mark.parametrize(
    "damage",
    ["truncated scores", "no ids", "garbage params", "ids of another corpus", "empty folder"],
)
def test_a_damaged_saved_index_is_rebuilt_saying_so(make_desk, monkeypatch, caplog, damage) -> None:
    desk, _ = make_desk(seeded=True)
    expected = quotes(desk)
    folder = lexical_path(desk.settings.data_dir, desk.store.corpus_version())
    if damage == "truncated scores":
        data = folder / "data.csc.index.npy"
        data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    elif damage == "no ids":
        (folder / "ids.npy").unlink()
    elif damage == "garbage params":
        (folder / "params.index.json").write_text("{not json")
    elif damage == "ids of another corpus":
        np.save(folder / "ids.npy", np.arange(3, dtype=np.int64))
    else:
        for file in folder.iterdir():
            file.unlink()

    builds = counting_builds(monkeypatch)
    fresh, _ = make_desk()
    with caplog.at_level(logging.INFO, logger="retrieval"):
        fresh.warm()
    assert builds == [1]
    assert "rebuilding it from the database" in caplog.text
    assert quotes(fresh) == expected
    # Saved whole again: the next start loads it.
    LexicalIndex.load(folder)
    again, _ = make_desk()
    again.warm()
    assert builds == [1]


def test_a_missing_index_is_built_and_old_versions_are_removed(make_desk, corpus, caplog) -> None:
    desk, _ = make_desk()
    desk.ingest(corpus)
    first = lexical_path(desk.settings.data_dir, desk.store.corpus_version())
    assert first.is_dir()
    (corpus / "new.txt").write_text("KAMAZ opened a new plant in Naberezhnye Chelny.\n")
    desk.ingest(corpus)
    second = lexical_path(desk.settings.data_dir, desk.store.corpus_version())
    assert second.is_dir() and not first.exists()
    assert [p.name for p in desk.settings.data_dir.glob("lexical-*")] == [second.name]
    assert not list(desk.settings.data_dir.glob(".lexical-*"))  # no temporary folder left
    assert desk.ask("Naberezhnye Chelny plant").answered

    import shutil

    shutil.rmtree(second)
    fresh_desk = type(desk)(desk.settings, config=desk.config, encoder=desk.encoder)
    with caplog.at_level(logging.INFO, logger="retrieval"):
        fresh_desk.warm()
    assert "no lexical index for this corpus" in caplog.text and second.is_dir()


def test_an_empty_corpus_saves_no_lexical_index(make_desk) -> None:
    desk, _ = make_desk()
    desk.warm()
    assert not list(desk.settings.data_dir.glob("lexical-*"))
