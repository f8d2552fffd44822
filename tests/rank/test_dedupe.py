"""Near-duplicate merging on hand-made records."""

from __future__ import annotations

from retrieval.rank import Candidate, merge_duplicates
from retrieval.tuning import RetrievalConfig
from tests.helpers import make_passage

CONFIG = RetrievalConfig()
STORY = "Baku withdrew from the talks after remarks by a US official"


def candidate(pid: int, text: str, vector: list[float], *, document: int | None = None):
    return Candidate(make_passage(pid, text=text, vector=vector, document=document), 0.5)


def groups(ranked, **kw):  # type: ignore[no-untyped-def]
    merged = merge_duplicates(ranked, config=CONFIG, **kw)
    return [(lead.passage.id, [c.passage.id for c in copies]) for lead, copies in merged]


def test_copies_in_other_documents_are_merged_under_the_best():
    ranked = [
        candidate(1, STORY, [1, 0]),
        candidate(2, "Moscow agreed to something else entirely", [0, 1]),
        candidate(3, STORY + " on Monday", [1, 1]),  # same words, another document
    ]
    assert groups(ranked) == [(1, [3]), (2, [])]


def test_shared_words_make_no_copy_of_a_passage_far_in_meaning():
    # Cosine 0.29: below duplicate_overlap_cosine, the words are not even compared.
    ranked = [candidate(1, STORY, [1, 0]), candidate(3, STORY + " on Monday", [0.3, 1])]
    assert groups(ranked) == [(1, []), (3, [])]
    loose = RetrievalConfig(duplicate_overlap_cosine=0.2)
    merged = merge_duplicates(ranked, config=loose)
    assert [(lead.passage.id, len(copies)) for lead, copies in merged] == [(1, 1)]


def test_close_vectors_are_copies_even_in_other_words():
    ranked = [candidate(1, "alpha beta", [1, 0]), candidate(2, "gamma delta", [1, 0.1])]
    assert groups(ranked) == [(1, [2])]


def test_passages_of_one_document_are_never_merged():
    ranked = [candidate(1, STORY, [1, 0], document=7), candidate(2, STORY, [1, 0], document=7)]
    assert groups(ranked) == [(1, []), (2, [])]


def test_thresholds_come_from_the_config():
    ranked = [candidate(1, "alpha beta", [1, 0]), candidate(2, "gamma delta", [1, 0.1])]
    strict = RetrievalConfig(duplicate_cosine=0.999)
    merged = merge_duplicates(ranked, config=strict)
    assert [(lead.passage.id, len(copies)) for lead, copies in merged] == [(1, 0), (2, 0)]


def test_a_limit_keeps_the_first_groups_and_still_finds_their_copies():
    ranked = [
        candidate(1, STORY, [1, 0]),
        candidate(2, "one thing", [0, 1]),
        candidate(3, "another thing here", [0.7, -0.7]),
        candidate(4, STORY + " too", [0.7, 0.7]),
    ]
    whole = groups(ranked)
    assert groups(ranked, limit=2) == [(1, [4]), (2, [])] == whole[:2]
