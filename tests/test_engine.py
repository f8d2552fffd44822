"""QuoteDesk on the fake encoder: arguments, pages, abstention and the index swap."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest

from retrieval import Mode, QuoteDesk
from retrieval.errors import EmptyQuestionError, InvalidArgumentError, UserError
from retrieval.search.parallel import beside
from tests.helpers import golden

QUESTION = "why did Baku skip the Washington meeting?"


def reconfigured(desk: QuoteDesk, **changes: Any) -> QuoteDesk:
    """Another desk on ``desk``'s store and encoder, its configuration changed."""
    return QuoteDesk(
        desk.settings,
        config=dataclasses.replace(desk.config, **changes),
        encoder=desk.encoder,
        store=desk.store,
    )


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
    other = reconfigured(fake_seed_desk, mode=Mode.LEXICAL)
    assert other.ask(QUESTION) == lexical


def test_bm25_on_a_thread_beside_the_encoder_gives_the_same_answers(fake_seed_desk: QuoteDesk):
    beside = reconfigured(fake_seed_desk, parallel_search_from=0)
    for row in golden()[:8]:
        assert beside.ask(row["question"], k=3) == fake_seed_desk.ask(row["question"], k=3)
    assert beside.ask(f"since:2022-01-01 {QUESTION}") == fake_seed_desk.ask(
        f"since:2022-01-01 {QUESTION}"
    )


def test_the_search_thread_pool_is_made_again_in_a_forked_child():
    # A bot forked after answering (gunicorn's workers) has none of its parent's threads.
    beside().submit(int).result(timeout=5)
    child = os.fork()
    if child == 0:  # pragma: no cover - the child's exit code is the check
        try:
            os._exit(0 if beside().submit(lambda: 7).result(timeout=5) == 7 else 1)
        except BaseException:
            os._exit(2)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_nothing_close_enough_abstains_with_related_sources(fake_seed_desk: QuoteDesk):
    strict = reconfigured(fake_seed_desk, min_similarity=1.01)
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
