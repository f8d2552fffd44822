"""The bm25s adapter: the pinned release only, and its scores bm25s's own."""

from __future__ import annotations

import collections
import re
import tomllib
from pathlib import Path

import bm25s
import numpy as np
import pytest

from retrieval.search import bm25s_scores
from retrieval.search.bm25s_scores import PINNED_VERSION, TermScores, check_version
from retrieval.search.lexical import LexicalIndex
from retrieval.words import tokenize
from tests.helpers import ROOT, SEEDS

TEXTS = [p for f in sorted(SEEDS.glob("*.txt")) for p in f.read_text().split("\n\n") if p.strip()]
TEXTS += ["", "the and of", "run running runs ran RUNNER", "x y 2,500 troops 2,500"]
QUERIES = [
    "why did Baku skip the Washington meeting?",
    "KAMAZ trucks KAMAZ",  # a word asked twice
    "running runners",
    "2,500 troops",
    "Moscow Tashkent Azerbaijan official said",
]


def ours() -> TermScores:
    scores = LexicalIndex.build(np.arange(len(TEXTS)), TEXTS).scores
    assert scores is not None
    return scores


def test_the_pinned_release_is_the_installed_one_and_pyprojects():
    assert bm25s.__version__ == PINNED_VERSION
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert f"bm25s=={PINNED_VERSION}" in [re.sub(r"\s", "", d) for d in dependencies]


def test_another_release_is_refused_saying_which():
    check_version(PINNED_VERSION)
    with pytest.raises(ImportError, match=r"bm25s 0\.3\.16.*bm25s 0\.4\.0 is installed"):
        check_version("0.4.0")


def test_the_scores_are_bm25s_own_for_every_passage():
    scores = ours()
    reference = bm25s.BM25()  # bm25s's own index of the same words
    reference.index(tokenize(TEXTS), show_progress=False)
    for query in QUERIES:
        words = tokenize([query])[0]
        terms = collections.Counter(scores.vocab[w] for w in words if w in scores.vocab)
        expected = reference.get_scores([w for w in words if w in reference.vocab_dict])
        assert expected.max() > 0
        np.testing.assert_allclose(scores.sum(terms), expected, rtol=1e-6, atol=1e-7)


def test_bm25s_retrieve_over_the_arrays_finds_what_sum_finds():
    scores = ours()
    for query in QUERIES:
        words = tokenize([query])[0]
        terms = collections.Counter(scores.vocab[w] for w in words if w in scores.vocab)
        summed = scores.sum(terms)
        found = scores.bm25s_retrieve(words, 5)
        assert found is not None
        rows, best = found
        np.testing.assert_allclose(best, np.sort(summed)[::-1][:5], rtol=1e-6)
        np.testing.assert_allclose(summed[rows], best, rtol=1e-6)
    assert scores.bm25s_retrieve(["nosuchword"], 5) is None


def test_saved_and_loaded_the_arrays_are_the_same(tmp_path: Path):
    scores = ours()
    scores.save(tmp_path)
    for mmap in (True, False):
        loaded = TermScores.load(tmp_path, mmap=mmap)
        assert loaded.rows == scores.rows == len(TEXTS) and loaded.vocab == scores.vocab
        for name in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(loaded, name), getattr(scores, name))
    assert loaded.nbytes == scores.nbytes > 0


@pytest.mark.parametrize("damage", ["params", "pointers"])
def test_files_that_do_not_agree_are_refused(tmp_path: Path, damage: str):
    ours().save(tmp_path)
    if damage == "params":
        (tmp_path / bm25s_scores.PARAMS_FILE).write_text("{not json")
    else:
        np.save(tmp_path / "indptr.csc.index.npy", np.zeros(3, dtype=np.int64))
    with pytest.raises(ValueError):
        TermScores.load(tmp_path)
