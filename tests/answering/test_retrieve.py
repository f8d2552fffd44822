"""Retrieving on hand-made indexes and passages: what each mode finds, filters, the evidence."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date

import numpy as np
import pytest

from retrieval.answering.question import read_question
from retrieval.answering.retrieve import retrieve, search_depth
from retrieval.records import Document, Passage, Source
from retrieval.search import Indexes, LexicalIndex, VectorIndex
from retrieval.tuning import RetrievalConfig
from retrieval.words import coverage
from tests.helpers import FakeEncoder

ENCODER = FakeEncoder(dimension=64)
CONFIG = RetrievalConfig(candidates=2, candidates_per_quote=1, filtered_depth=2)
TEXTS = {
    1: "Baku withdrew from the Washington meeting.",
    2: "Azerbaijan said the remarks were biased.",
    3: "KAMAZ opened a plant in Tashkent.",
    4: "Washington hosted the foreign ministers.",
    5: "Trucks and buses left the plant in 2022.",
}
DAYS = {1: date(2023, 11, 20), 2: date(2023, 11, 21), 3: date(2021, 10, 21), 4: None, 5: None}


class Shelf:
    """Passages read by id, counting the reads."""

    def __init__(self, passages: list[Passage]):
        self.by_id = {p.id: p for p in passages}
        self.reads: list[set[int]] = []

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        wanted = set(ids)
        self.reads.append(wanted)
        return {i: self.by_id[i] for i in wanted if i in self.by_id}


def passages() -> list[Passage]:
    vectors = ENCODER.encode(list(TEXTS.values()))
    return [
        Passage(
            id=pid,
            document=Document(id=pid, source=_source(pid), title_vector=None),
            start=0,
            end=len(text),
            text=text,
            vector=vector,
        )
        for (pid, text), vector in zip(TEXTS.items(), vectors, strict=True)
    ]


def _source(pid: int) -> Source:
    return Source(f"{pid}.txt", DAYS[pid], "Washington talks" if pid == 4 else None)


@pytest.fixture
def shelf() -> Shelf:
    return Shelf(passages())


def indexes(found: list[Passage]) -> Indexes:
    ids = np.asarray([p.id for p in found])
    dense = VectorIndex.build(ids, np.stack([p.vector for p in found]))
    lexical = LexicalIndex.from_passages((p.id, p.document.source.title, p.text) for p in found)
    return Indexes("v1", dense, lexical)


def found(shelf: Shelf, question: str, *, config: RetrievalConfig = CONFIG, **arguments):
    read = read_question(question, config=config, as_of=date(2023, 12, 1), **arguments)
    index = indexes(list(shelf.by_id.values()))
    return retrieve(read, index, store=shelf, encoder=ENCODER, config=config)


def test_hybrid_finds_what_either_index_finds_with_the_evidence(shelf: Shelf):
    result = found(shelf, "the plant in Washington", k=1)
    ids = [c.passage.id for c in result.candidates]
    assert ids == sorted(ids)  # in id order
    lexical = found(shelf, "the plant in Washington", k=1, mode="lexical")
    dense = found(shelf, "the plant in Washington", k=1, mode="dense")
    by_bm25 = {c.passage.id for c in lexical.candidates}
    by_vector = {c.passage.id for c in dense.candidates}
    assert set(ids) == by_bm25 | by_vector and by_bm25 - by_vector
    assert all(c.bm25 == 0.0 for c in dense.candidates)
    assert all(c.bm25 > 0 for c in lexical.candidates)
    assert result.asked == {"plant", "washington"}
    np.testing.assert_array_equal(result.vector, ENCODER.encode_query("the plant in Washington")[0])
    for c in result.candidates:
        assert c.similarity == pytest.approx(float(c.passage.vector @ result.vector))
        assert c.coverage == coverage(result.asked, [c.passage.text])[0]
        assert c.bm25 == next((x.bm25 for x in lexical.candidates if x.passage is c.passage), 0.0)


def test_bm25_on_its_own_thread_finds_the_same(shelf: Shelf):
    beside = dataclasses.replace(CONFIG, parallel_search_from=0)
    for question in ("Washington meeting trucks", "biased remarks since:2023-01-01"):
        there, here = found(shelf, question, config=beside), found(shelf, question)
        assert there.candidates == here.candidates and there.asked == here.asked


def test_filters_drop_passages_after_a_deeper_search(shelf: Shelf):
    result = found(shelf, "Washington plant trucks since:2022-01-01 before:2023-11-20")
    assert [c.passage.id for c in result.candidates] == [1]
    read = read_question("Baku since:2022-01-01", config=CONFIG, k=3)
    assert search_depth(read, CONFIG) == 3 * 2
    assert search_depth(read_question("Baku", config=CONFIG), CONFIG) == 5


def test_an_empty_index_finds_nothing(shelf: Shelf):
    read = read_question("Baku", config=CONFIG)
    empty = Indexes(
        None,
        VectorIndex.build(np.zeros(0, dtype=np.int64), np.zeros((0, 64), dtype=np.float32)),
        LexicalIndex.build(np.zeros(0, dtype=np.int64), []),
    )
    assert retrieve(read, empty, store=shelf, encoder=ENCODER, config=CONFIG).candidates == []
    assert shelf.reads == []
