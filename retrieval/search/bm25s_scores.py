"""BM25 term scores in bm25s's format: the one module that touches bm25s's internals.

A bm25s index is a CSC matrix (per term, the rows holding it and their scores), a vocabulary
and parameters, saved as a few files. :class:`TermScores` holds those arrays: it computes them
from term counts as bm25s would, sums them for a query, and saves and loads them with bm25s.
It reads and writes attributes bm25s does not document (``BM25.scores``, ``vocab_dict``,
``unique_token_ids_set``, ``nonoccurrence_array``), so it refuses any bm25s but the pinned one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path

import bm25s
import numpy as np

# The bm25s release whose internals this module reads (as pinned in pyproject.toml).
PINNED_VERSION = "0.3.16"


def check_version(installed: str) -> None:
    """Refuse a bm25s release other than :data:`PINNED_VERSION`.

    Raises:
        ImportError: ``installed`` is another version.
    """
    if installed != PINNED_VERSION:
        raise ImportError(
            f"quotedesk reads the index arrays of bm25s {PINNED_VERSION}, but bm25s "
            f"{installed} is installed: pip install bm25s=={PINNED_VERSION}"
        )


check_version(bm25s.__version__)


def _errors_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.ERROR


def _quiet_bm25s() -> None:
    """Drop bm25s's log records below ERROR: it logs (and its import sets its logger to DEBUG)
    where a library must stay quiet. A filter on its logger, added when an index is made or
    loaded (not at import; idempotent), and safe beside searches on other threads, as
    changing the logger's level for a call would not be. (Progress bars are turned off per
    call.)"""
    logging.getLogger("bm25s").addFilter(_errors_only)


# bm25s's defaults, which the figures in the README were measured with.
K1 = 1.5
B = 0.75
# bm25s's file of parameters (the number of rows among them).
PARAMS_FILE = "params.index.json"

# Per chunk of passages: each (term, row) pair's term, row and count, sorted by term, then row.
Counts = tuple[np.ndarray, np.ndarray, np.ndarray]
# Beside bm25s's files: each entry's term frequency and each row's length (see TermScores.tf).
TF_FILE = "tf.npy"
LENGTHS_FILE = "lengths.npy"
# Term frequencies are kept in 16 bits: a word said 65,535 times in one passage counts so.
TF_MAX = 65_535


class TermScores:
    """Per term (a column), the BM25 score of each row (a passage) that holds it:
    ``indices[indptr[t] : indptr[t + 1]]`` are the rows holding term ``t``, ascending, and
    ``data`` at the same places their scores; ``vocab`` maps a word (a stem) to its term.
    """

    __slots__ = ("_bm25", "data", "indices", "indptr", "lengths", "rows", "tf", "vocab")

    def __init__(
        self,
        bm25: bm25s.BM25,
        rows: int,
        *,
        tf: np.ndarray | None = None,
        lengths: np.ndarray | None = None,
    ):
        _quiet_bm25s()
        self._bm25 = bm25
        scores = bm25.scores
        self.data: np.ndarray = scores["data"]
        self.indices: np.ndarray = scores["indices"]
        self.indptr: np.ndarray = scores["indptr"]
        self.vocab: dict[str, int] = bm25.vocab_dict
        self.rows = rows
        # What the scores were computed from, kept so a small change to the corpus can be
        # scored anew exactly without counting every passage again (see :meth:`updated`):
        # each entry's term frequency (beside ``data``), each row's length in words. None in
        # an index saved before they were kept.
        self.tf = tf
        self.lengths = lengths

    @classmethod
    def from_counts(
        cls, chunks: list[Counts], lengths: np.ndarray, vocab: dict[str, int]
    ) -> TermScores:
        """The scores of counted terms: ``chunks`` of counts (see :data:`Counts`; the list is
        emptied as they are read, to bound the memory of a build), ``lengths`` the number of
        words of each row, ``vocab`` the terms of the words."""
        n_docs, n_terms = len(lengths), len(vocab)
        lengths = lengths.astype(np.float64)
        avg_length = lengths.mean()
        df = np.zeros(n_terms, dtype=np.int64)
        for terms, _, _ in chunks:
            df += np.bincount(terms, minlength=n_terms)
        # bm25s's "lucene" BM25, computed as bm25s computes it (idf in float32, the term
        # frequency part in float64, the product stored as float32).
        idf = np.log(1 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        data = np.empty(int(indptr[-1]), dtype=np.float32)
        indices = np.empty(int(indptr[-1]), dtype=np.int32)
        counts = np.empty(int(indptr[-1]), dtype=np.uint16)
        filled = indptr[:-1].copy()  # where each term's next entry goes
        while chunks:
            terms, rows, tf = chunks.pop(0)
            tfc = tf / (K1 * ((1 - B) + B * lengths[rows] / avg_length) + tf)
            chunk_df = np.bincount(terms, minlength=n_terms)
            chunk_start = np.zeros(n_terms, dtype=np.int64)
            np.cumsum(chunk_df[:-1], out=chunk_start[1:])
            at = filled[terms] + (np.arange(len(terms)) - chunk_start[terms])
            data[at] = idf[terms] * tfc
            indices[at] = rows
            counts[at] = np.minimum(tf, TF_MAX)
            filled += chunk_df
        bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
        bm25.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}
        bm25.vocab_dict = dict(vocab)
        bm25.unique_token_ids_set = set(bm25.vocab_dict.values())
        bm25.nonoccurrence_array = None
        return cls(bm25, n_docs, tf=counts, lengths=lengths.astype(np.int32))

    def updated(
        self, keep: np.ndarray, added: Counts, added_lengths: np.ndarray, vocab: dict[str, int]
    ) -> TermScores:
        """The scores of this index's rows where ``keep`` (a mask over rows) holds, in their
        order, then of ``added`` rows (their counts, rows numbered from 0, sorted by term then
        row; terms of ``vocab``, which extends this one's): the same scores a build over the
        same rows would give, without counting the kept rows' words again.

        Raises:
            ValueError: This index was saved without its term frequencies.
        """
        if self.tf is None or self.lengths is None:
            raise ValueError("this index keeps no term frequencies: build it anew")
        indptr, indices = np.asarray(self.indptr), np.asarray(self.indices)
        terms = np.repeat(np.arange(len(indptr) - 1, dtype=np.int32), np.diff(indptr))
        kept = keep[indices]
        # Kept rows keep their order, renumbered; added rows come after them.
        renumbered = (np.cumsum(keep) - 1).astype(np.int32)
        n_kept = int(keep.sum())
        new_terms, new_rows, new_tf = added
        all_terms = np.concatenate([terms[kept], new_terms.astype(np.int32)])
        all_rows = np.concatenate([renumbered[indices[kept]], new_rows.astype(np.int32) + n_kept])
        all_tf = np.concatenate([np.asarray(self.tf)[kept].astype(np.float32), new_tf])
        # Each term's rows ascend on both sides and added rows follow kept ones: a stable
        # sort by term alone gives term-then-row order.
        order = np.argsort(all_terms, kind="stable")
        lengths = np.concatenate([np.asarray(self.lengths)[keep], added_lengths]).astype(np.int64)
        chunk = (all_terms[order], all_rows[order], all_tf[order])
        return TermScores.from_counts([chunk], lengths, vocab)

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays (scores, rows, column pointers)."""
        return sum(int(a.nbytes) for a in (self.data, self.indices, self.indptr))

    def sum(self, terms: Mapping[int, int]) -> np.ndarray:
        """Each row's BM25 score (float32) for a query of ``terms``: term, times asked (a word
        asked twice counts twice, as bm25s counts it)."""
        data, indices, indptr = self.data, self.indices, self.indptr
        scores = np.zeros(self.rows, dtype=np.float32)
        for term, times in terms.items():
            start, end = int(indptr[term]), int(indptr[term + 1])
            column = data[start:end]
            # ufunc.at adds in one pass; ``scores[rows] += column`` gathers, adds and scatters
            # (the same sums, twice the time: 2.5 against 5 ms a question at a million).
            np.add.at(
                scores, indices[start:end], column * np.float32(times) if times > 1 else column
            )
        return scores

    def bm25s_retrieve(self, words: list[str], k: int) -> tuple[np.ndarray, np.ndarray] | None:
        """bm25s's own ``BM25.retrieve`` of ``words`` (stems; those outside the vocabulary
        left out) over these arrays: rows and scores of the ``k`` best, the reference for
        :meth:`sum`; None when it knows none of the words."""
        tokens = [[word for word in words if word in self.vocab]]
        if not tokens[0]:
            return None
        rows, scores = self._bm25.retrieve(
            tokens, k=min(k, self.rows), show_progress=False, n_threads=1
        )
        return rows[0], scores[0]

    def save(self, folder: Path) -> None:
        """Write bm25s's files into ``folder``, and the term frequencies and row lengths."""
        self._bm25.save(folder, show_progress=False)
        if self.tf is not None and self.lengths is not None:
            np.save(folder / TF_FILE, np.asarray(self.tf))
            np.save(folder / LENGTHS_FILE, np.asarray(self.lengths))

    @classmethod
    def load(cls, folder: Path, *, mmap: bool = True) -> TermScores:
        """The scores saved in ``folder``, memory-mapped unless ``mmap`` is False.

        Raises:
            ValueError: The files do not hold a whole, consistent index.
            OSError: A file cannot be read.
        """
        _quiet_bm25s()
        try:
            params = json.loads((folder / PARAMS_FILE).read_text())
            bm25 = bm25s.BM25.load(folder, mmap=mmap, show_progress=False)
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a lexical index: {exc}") from exc
        scores = bm25.scores
        columns = len(scores["indptr"]) - 1
        rows = params.get("num_docs") if isinstance(params, dict) else None
        if (
            not isinstance(rows, int)
            or columns < 0
            or int(scores["indptr"][-1]) != len(scores["data"])
            or len(scores["data"]) != len(scores["indices"])
            or max(bm25.vocab_dict.values(), default=-1) >= columns
        ):
            raise ValueError("the index's arrays do not agree with each other")
        # Plain arrays over the same mapped memory: numpy.memmap's slices cost ten times a
        # plain slice, and a search slices about a hundred.
        for name in ("data", "indices", "indptr"):
            scores[name] = np.asarray(scores[name])
        tf = lengths = None
        if (folder / TF_FILE).exists() and (folder / LENGTHS_FILE).exists():
            tf = np.load(folder / TF_FILE, mmap_mode="r" if mmap else None)
            lengths = np.load(folder / LENGTHS_FILE, mmap_mode="r" if mmap else None)
            if len(tf) != len(scores["data"]) or len(lengths) != rows:
                raise ValueError("the index's term frequencies do not agree with its scores")
        return cls(bm25, rows, tf=tf, lengths=lengths)
