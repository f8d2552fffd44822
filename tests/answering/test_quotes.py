"""Quoting a ranking: the page, copies merged, highlights, or the related sources."""

from __future__ import annotations

from datetime import date

from retrieval.answering.question import read_question
from retrieval.answering.quotes import answer
from retrieval.answering.ranking import Ranking
from retrieval.answering.retrieve import Found
from retrieval.rank import Candidate
from retrieval.tuning import RetrievalConfig
from retrieval.words import word_sets
from tests.helpers import FakeEncoder, make_passage

CONFIG = RetrievalConfig()
DAY = date(2023, 12, 1)
QUESTION = "why did Baku leave the talks?"
TEXT = "Baku left the talks. Officials said little. Baku left the talks early."


def ranked() -> list[Candidate]:
    # 1 and 2 are copies (one vector, two documents); 3 and 4 stand alone.
    return [
        Candidate(make_passage(1, text=TEXT, vector=[1, 0]), 0.9, score=0.9),
        Candidate(make_passage(2, text=TEXT, vector=[1, 0]), 0.9, score=0.8),
        Candidate(make_passage(3, text="Talks went on.", vector=[0, 1]), 0.5, score=0.7),
        Candidate(make_passage(4, text="Nothing.", vector=[0.6, 0.8]), 0.4, score=0.6),
    ]


def found(encoder: FakeEncoder) -> Found:
    return Found(encoder.encode_query(QUESTION)[0], word_sets([QUESTION])[0], ranked())


def test_a_page_of_quotes_with_copies_and_highlights():
    encoder = FakeEncoder()
    read = read_question(QUESTION, config=CONFIG, k=2, as_of=DAY)
    result = answer(read, found(encoder), Ranking(ranked(), True), encoder=encoder, config=CONFIG)
    assert result.answered and (result.question, result.offset, result.as_of) == (QUESTION, 0, DAY)
    first, second = result.quotes
    assert (first.passage_id, second.passage_id) == (1, 3)
    assert [s.path for s in first.also_in] == ["2.txt"] and second.also_in == ()
    assert first.score == 0.9 and first.similarity == 0.9
    # Two sentences tie; without encoding, the first is highlighted.
    assert first.highlights == ((0, 20),) and encoder.encoded == 1
    page = answer(
        read_question(QUESTION, config=CONFIG, k=2, offset=1, as_of=DAY),
        found(encoder),
        Ranking(ranked(), True),
        encoder=encoder,
        config=CONFIG,
    )
    assert [q.passage_id for q in page.quotes] == [3, 4] and page.offset == 1


def test_tied_sentences_are_encoded_when_configured():
    encoder = FakeEncoder()
    config = RetrievalConfig(dense_highlight_quotes=1)
    read = read_question(QUESTION, config=config, k=1, as_of=DAY)
    result = answer(read, found(encoder), Ranking(ranked(), True), encoder=encoder, config=config)
    assert encoder.texts[1:] == ["Baku left the talks.", "Baku left the talks early."]
    assert result.quotes[0].highlights in (((0, 20),), ((44, 70),))


def test_an_abstention_offers_the_related_sources():
    encoder = FakeEncoder()
    read = read_question(QUESTION, config=CONFIG, as_of=DAY)
    result = answer(read, found(encoder), Ranking(ranked(), False), encoder=encoder, config=CONFIG)
    assert not result.answered and result.quotes == ()
    assert [s.path for s in result.related] == ["1.txt", "2.txt", "3.txt"]
    assert encoder.encoded == 1  # the question only
