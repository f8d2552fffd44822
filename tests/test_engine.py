"""QuoteDesk on the fake embedder: arguments, pages, abstention and the index swap."""

from __future__ import annotations

import dataclasses

import pytest

from retrieval import Mode, QuoteDesk
from retrieval.errors import EmptyQuestionError, InvalidArgumentError, UserError

QUESTION = "why did Baku skip the Washington meeting?"


@pytest.mark.parametrize("k", [0, -1, 51, True])
def test_k_out_of_range_is_a_user_error(fake_seed_desk: QuoteDesk, k):
    with pytest.raises(InvalidArgumentError, match="k must be"):
        fake_seed_desk.ask(QUESTION, k=k)


@pytest.mark.parametrize("question", ["", "   ", "?!", "since:2023-01-01"])
def test_a_question_without_words_is_a_user_error(fake_seed_desk: QuoteDesk, question):
    with pytest.raises(EmptyQuestionError):
        fake_seed_desk.ask(question)


def test_bad_mode_and_offset_are_user_errors(fake_seed_desk: QuoteDesk):
    for bad in ({"mode": "semantic"}, {"offset": -1}):
        with pytest.raises(UserError):
            fake_seed_desk.ask(QUESTION, **bad)  # type: ignore[arg-type]


def test_pages_follow_each_other_without_repeats(fake_seed_desk: QuoteDesk):
    whole = fake_seed_desk.ask(QUESTION, k=6)
    first = fake_seed_desk.ask(QUESTION, k=3)
    second = fake_seed_desk.ask(QUESTION, k=3, offset=3)
    assert second.offset == 3
    ids = [q.passage_id for q in (*first.quotes, *second.quotes)]
    assert ids == [q.passage_id for q in whole.quotes] and len(set(ids)) == 6


def test_modes_are_enum_or_string_and_default_from_the_config(fake_seed_desk: QuoteDesk):
    lexical = fake_seed_desk.ask(QUESTION, mode="lexical")
    assert lexical == fake_seed_desk.ask(QUESTION, mode=Mode.LEXICAL)
    assert fake_seed_desk.ask(QUESTION).quotes == fake_seed_desk.ask(QUESTION, mode="hybrid").quotes
    other = QuoteDesk(
        fake_seed_desk.settings,
        config=dataclasses.replace(fake_seed_desk.config, mode=Mode.LEXICAL),
        embedder=fake_seed_desk.embedder,
        store=fake_seed_desk.store,
    )
    assert other.ask(QUESTION) == lexical


def test_nothing_close_enough_abstains_with_related_sources(fake_seed_desk: QuoteDesk):
    strict = QuoteDesk(
        fake_seed_desk.settings,
        config=dataclasses.replace(fake_seed_desk.config, min_similarity=1.01),
        embedder=fake_seed_desk.embedder,
        store=fake_seed_desk.store,
    )
    answer = strict.ask(QUESTION)
    assert not answer.answered and answer.quotes == ()
    assert 1 <= len(answer.related) <= 3
    assert len({s.path for s in answer.related}) == len(answer.related)


def test_every_quote_is_the_source_text_verbatim(fake_seed_desk: QuoteDesk):
    from tests.helpers import SEEDS

    for quote in fake_seed_desk.ask(QUESTION, k=10).quotes:
        text = (SEEDS / quote.source.path).read_text(encoding="utf-8")
        assert text[quote.start : quote.end] == quote.text
        for start, end in quote.highlights:
            assert 0 <= start < end <= len(quote.text)
