from __future__ import annotations

import pytest

from retrieval.documents import parse_document
from retrieval.passages import MAX_PASSAGE_TOKENS, find_title, split_passages
from tests.helpers import SEEDS

# Every test here asks the real model.
pytestmark = pytest.mark.slow


def _passages(text: str, encoder, **options):
    doc = parse_document("f.txt", text.encode())
    title, paragraphs = find_title(doc)
    spans = split_passages(doc.text, paragraphs, encoder.count_tokens, **options)
    return title, [doc.text[s.start : s.end] for s in spans], doc


def test_no_seed_passage_is_cut_off_by_the_encoder(encoder):
    for path in SEEDS.iterdir():
        _, passages, doc = _passages(path.read_text(), encoder)
        assert passages
        for passage in passages:
            assert encoder.count_tokens(passage) <= MAX_PASSAGE_TOKENS < encoder.max_tokens - 2
            assert passage in doc.text


def test_long_paragraph_is_split_at_sentences_without_losing_words(encoder):
    sentence = "The ministry said the talks in Washington would not go ahead this month. "
    text = sentence * 40
    _, passages, _ = _passages(text, encoder)
    assert len(passages) > 1
    assert all(p.endswith("month.") for p in passages)
    assert " ".join(passages).split() == text.split()
    assert all(encoder.count_tokens(p) <= MAX_PASSAGE_TOKENS for p in passages)


def test_run_on_sentence_and_giant_token_are_split_not_truncated(encoder):
    text = "word " * 600 + "x" * 3000
    _, passages, _ = _passages(text, encoder)
    assert "".join(p.replace(" ", "") for p in passages) == text.replace(" ", "")
    assert all(encoder.count_tokens(p) <= MAX_PASSAGE_TOKENS for p in passages)


def test_short_fragments_join_the_next_paragraph(encoder):
    body = " ".join(["The foreign ministry explained its reasons at length."] * 6)
    text = f"A long enough opening paragraph. {body}\n\nPhoto: Reuters\n\n{body}\n\nCaption"
    _, passages, _ = _passages(text, encoder, target_tokens=0)
    assert not any(p.strip() in {"Photo: Reuters", "Caption"} for p in passages)
    assert passages[1].startswith("Photo: Reuters\n\n")
    assert passages[-1].endswith("Caption")


def test_title_is_a_short_first_line(encoder):
    text = " date 2021-10-21 Accuses U.S. of obstructing peace efforts\n\nRussia is ready. " * 1
    title, passages, _ = _passages(text + "More text follows here.", encoder)
    assert title == "Accuses U.S. of obstructing peace efforts"
    assert passages == ["Russia is ready. More text follows here."]
    title, _, _ = _passages("Only one paragraph here.", encoder)
    assert title is None


def test_paragraphs_are_packed_up_to_the_target(encoder):
    paragraph = "The foreign ministry explained its reasons for staying away at some length."
    text = "\n\n".join(f"{i}. {paragraph} {paragraph}" for i in range(12))
    _, passages, _ = _passages(text, encoder, target_tokens=128)
    assert 1 < len(passages) < 12
    assert all(encoder.count_tokens(p) <= 128 for p in passages)
    assert all("\n\n" in p for p in passages[:-1])
