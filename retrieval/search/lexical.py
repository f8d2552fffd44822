"""BM25 over passage text (bm25s's scores, the words of :mod:`retrieval.words`): catches the
names, numbers and rare words a small sentence encoder blurs.

The index is bm25s's own (a CSC matrix of per-passage term scores, its vocabulary and
parameters: :mod:`retrieval.search.bm25s_scores`) but built here with array operations, not
bm25s's per-token Python loops: a million passages take about a minute instead of a quarter of
an hour, with the same scores. It is saved beside the FAISS index, one folder per corpus
version (``lexical-<version>/``, in bm25s's file format plus the passage ids), and loaded
memory-mapped: a start at a million passages reads a few files instead of building for
minutes.
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import shutil
import tempfile
import time
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from retrieval.passages import lexical_text
from retrieval.records import Passage
from retrieval.search.bm25s_scores import Counts, TermScores
from retrieval.store import Store
from retrieval.words import ENGLISH, word_sets

log = logging.getLogger(__name__)

# Passages tokenized and counted together while building: bounds the memory of a build.
BUILD_CHUNK = 50_000
# Above this many passages a search first finds a score floor on a sample (see _floor).
FLOOR_ABOVE = 65_536
FLOOR_STRIDE = 16
# The passage ids, beside bm25s's files in a saved index.
IDS_FILE = "ids.npy"
# Each row's passage fingerprint (see LexicalIndex.fingerprints).
FINGERPRINTS_FILE = "fingerprints.npy"
# Each row's title-only terms (see LexicalIndex.title_only), when the index knows them.
TITLE_STARTS_FILE = "title_only_starts.npy"
TITLE_TERMS_FILE = "title_only_terms.npy"
# A temporary folder left by a build that was killed is removed after this long (a younger
# one may be another process's build in progress).
STALE_TEMP_SECONDS = 3600


@dataclass
class LexicalIndex:
    """BM25 scores of passages for a query; ids are passage ids.

    Example:
        >>> index = LexicalIndex.build(np.array([3, 4]), ["Baku withdrew", "Moscow agreed"])
        >>> index.search("why did Baku withdraw", 1)[1].tolist()
        [3]
    """

    scores: TermScores | None
    ids: np.ndarray
    version: str | None = None
    # Per row, the terms of its title that its text does not hold (row pointers, term ids):
    # what tells the words of a passage's text from those of its title, which the index
    # holds together. None when built from texts alone (or saved before it was kept).
    title_only: tuple[np.ndarray, np.ndarray] | None = None
    # Per row, what its passage was when indexed (Store.passage_fingerprints): a passage id
    # the database gave to another passage since is told apart. None when not known.
    fingerprints: np.ndarray | None = None
    # Whether ids ascend (an index built from the database does): rows found by bisection.
    _ascending: bool | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def nbytes(self) -> int:
        """Bytes of its arrays (scores, rows, column pointers, ids): what a loaded index maps."""
        if self.scores is None:
            return 0
        return self.scores.nbytes + int(self.ids.nbytes)

    @classmethod
    def build(
        cls, ids: Sequence[int] | np.ndarray, texts: Iterable[str], *, version: str | None = None
    ) -> LexicalIndex:
        """The index of ``texts``, the passage ``ids[i]`` being ``texts[i]``."""
        return cls.from_rows(
            zip(np.asarray(ids, dtype=np.int64).tolist(), texts, strict=True), version=version
        )

    @classmethod
    def from_rows(
        cls, rows: Iterable[tuple[int, str]], *, version: str | None = None
    ) -> LexicalIndex:
        """The index of ``(passage id, text)`` rows, read a chunk at a time."""
        return cls._built(((pid, None, text) for pid, text in rows), version=version, titled=False)

    @classmethod
    def from_passages(
        cls, rows: Iterable[tuple[int, str | None, str]], *, version: str | None = None
    ) -> LexicalIndex:
        """The index of ``(passage id, document title, passage text)`` rows: each passage's
        title and text indexed together (:func:`retrieval.passages.lexical_text`), and the
        title's own terms kept apart, so :meth:`holding` can count the text's alone."""
        return cls._built(rows, version=version, titled=True)

    @classmethod
    def _built(
        cls, rows: Iterable[tuple[int, str | None, str]], *, version: str | None, titled: bool
    ) -> LexicalIndex:
        builder = _Builder()
        ids = array("q")
        rows = iter(rows)
        while chunk := list(itertools.islice(rows, BUILD_CHUNK)):
            ids.extend(pid for pid, _, _ in chunk)
            if titled:
                builder.add(
                    [lexical_text(title, text) for _, title, text in chunk],
                    title_words=[_title_words(title) for _, title, _ in chunk],
                )
            else:
                builder.add([text for _, _, text in chunk])
        if not ids:
            return cls(None, np.zeros(0, dtype=np.int64), version)
        scores = builder.finish()
        return cls(scores, np.frombuffer(ids, dtype=np.int64).copy(), version, builder.title_only())

    @property
    def knows_titles(self) -> bool:
        """Whether :meth:`holding` can count the words of a passage's text alone."""
        return self.title_only is not None

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and passage ids of the ``k`` best passages (fewer when fewer match), best
        first."""
        empty = np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        if self.scores is None:
            return empty
        vocab = self.scores.vocab
        # A word asked twice counts twice, as bm25s counts it.
        terms = collections.Counter(vocab[t] for t in ENGLISH.tokenize([query])[0] if t in vocab)
        if not terms:
            return empty
        scores = self.scores.sum(terms)
        hits = np.flatnonzero(scores >= _floor(scores, k))
        k = max(1, min(k, len(hits)))
        if len(hits) > k:
            hits = hits[np.argpartition(scores[hits], -k)[-k:]]
        best = hits[np.argsort(-scores[hits], kind="stable")]
        return scores[best], np.asarray(self.ids[best], dtype=np.int64)

    def words_in_text(self, asked: set[str], passages: Sequence[Passage]) -> dict[int, int]:
        """How many of the ``asked`` words (:func:`retrieval.words.word_sets`) each passage's
        text holds, its title's words apart, by passage id: for the passages this index can
        tell, the others left out (ranking reads their text).

        An index that keeps titles apart (:meth:`from_passages`) tells every passage it holds.
        One that does not (:meth:`from_rows`, or saved before titles were kept) counts title
        and text together: that is the text's count where the title holds none of the words.
        """
        if not asked:
            return {}
        ids = [p.id for p in passages]
        if self.title_only is not None:
            counts = self.holding(asked, ids, in_text=True).tolist()
            return {pid: n for pid, n in zip(ids, counts, strict=True) if n >= 0}
        counts = self.holding(asked, ids).tolist()
        # Every title's words at once: stemming a title at a time cost more than the rest.
        documents = {p.document.id: p.document for p in passages if p.document.source.title}
        title_words = word_sets([d.source.title or "" for d in documents.values()])
        asked_in_title = {
            doc_id for doc_id, words in zip(documents, title_words, strict=True) if asked & words
        }
        return {
            p.id: n
            for p, n in zip(passages, counts, strict=True)
            if n >= 0 and p.document.id not in asked_in_title
        }

    def holding(
        self, words: Iterable[str], ids: Sequence[int] | np.ndarray, *, in_text: bool = False
    ) -> np.ndarray:
        """For each passage of ``ids``, how many of ``words`` (stems, as
        :func:`retrieval.words.word_sets` makes them) its indexed text holds (its title and
        text, :func:`retrieval.passages.lexical_text`), or with ``in_text`` its text alone
        (an index that :attr:`knows_titles` only); -1 for a passage this index does not hold.
        Read from the index's columns instead of tokenizing the passages again: a tenth of the
        time for a question's candidates.
        """
        wanted = np.asarray(ids, dtype=np.int64)
        if in_text and self.scores is not None and self.title_only is None:
            raise ValueError("this index does not tell titles from texts")
        if self.scores is None or not len(wanted):
            return np.full(len(wanted), -1, dtype=np.int32)
        rows = self._rows(wanted)
        counts = np.where(rows >= 0, 0, -1).astype(np.int32)
        indices, indptr, vocab = self.scores.indices, self.scores.indptr, self.scores.vocab
        terms = {vocab[word] for word in set(words) if word in vocab}
        for term in terms:
            # A term's rows ascend in its column (the builder writes them so).
            column = indices[int(indptr[term]) : int(indptr[term + 1])]
            if not len(column):
                continue
            at = np.minimum(np.searchsorted(column, rows), len(column) - 1)
            counts += (column[at] == rows) & (rows >= 0)
        if in_text and terms and self.title_only is not None:
            starts, title_terms = self.title_only
            for position, row in enumerate(rows.tolist()):
                if row >= 0 and starts[row + 1] > starts[row]:
                    only = title_terms[starts[row] : starts[row + 1]].tolist()
                    counts[position] -= sum(term in terms for term in only)
        return counts

    def updated(
        self,
        keep: np.ndarray,
        added: Sequence[tuple[int, str | None, str]],
        *,
        fingerprints: np.ndarray,
        version: str | None,
    ) -> LexicalIndex:
        """This index with only the rows where ``keep`` holds, then the ``added`` passages
        (``(passage id, document title, text)``, ids above every kept one, ascending): BM25
        scores exactly as a build over the same passages gives them, counting the words of
        the added passages alone. ``fingerprints``: every row's, after the change.

        Raises:
            ValueError: The index cannot be updated so (no term frequencies or titles kept,
                or added ids that do not follow the kept ones): build it anew.
        """
        if self.scores is None or self.title_only is None:
            raise ValueError("an empty index, or one without titles kept: build it anew")
        ids = np.concatenate(
            [np.asarray(self.ids)[keep], np.asarray([a[0] for a in added], dtype=np.int64)]
        )
        if len(ids) > 1 and not np.all(ids[1:] > ids[:-1]):
            raise ValueError("added passages do not follow the kept ones: build it anew")
        builder = _Builder(stems=self.scores.vocab)
        if added:
            builder.add(
                [lexical_text(title, text) for _, title, text in added],
                title_words=[_title_words(title) for _, title, _ in added],
            )
        counts, lengths = builder.counts()
        scores = self.scores.updated(keep, counts, lengths, builder.vocab)
        return LexicalIndex(
            scores,
            ids,
            version,
            _kept_title_only(self.title_only, keep, builder.title_only()),
            np.asarray(fingerprints, dtype=np.int64),
        )

    def _rows(self, wanted: np.ndarray) -> np.ndarray:
        """The row of each passage id in this index, -1 where it has none."""
        ids = self.ids
        if self._ascending is None:
            self._ascending = bool(len(ids) < 2 or np.all(ids[1:] > ids[:-1]))
        if self._ascending:
            at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
        else:
            order = np.argsort(ids, kind="stable")
            at = order[np.minimum(np.searchsorted(ids, wanted, sorter=order), len(ids) - 1)]
        return np.where(ids[at] == wanted, at, -1)

    def save(self, path: Path) -> None:
        """Write into a temporary folder beside ``path``, then rename it: readers never see
        half an index. A folder already at ``path`` is replaced."""
        if self.scores is None:
            raise ValueError("an empty lexical index is not saved")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
        try:
            self.scores.save(tmp)
            np.save(tmp / IDS_FILE, np.asarray(self.ids, dtype=np.int64))
            if self.fingerprints is not None:
                np.save(tmp / FINGERPRINTS_FILE, np.asarray(self.fingerprints, dtype=np.int64))
            if self.title_only is not None:
                np.save(tmp / TITLE_STARTS_FILE, np.asarray(self.title_only[0], dtype=np.int64))
                np.save(tmp / TITLE_TERMS_FILE, np.asarray(self.title_only[1], dtype=np.int32))
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, path: Path, *, version: str | None = None, mmap: bool = True) -> LexicalIndex:
        """The index saved at ``path``, its arrays memory-mapped unless ``mmap`` is False.

        Raises:
            ValueError: The folder does not hold a whole, consistent index.
            OSError: A file cannot be read.
        """
        scores = TermScores.load(path, mmap=mmap)
        try:
            ids = np.load(path / IDS_FILE, mmap_mode="r" if mmap else None)
            title_only = None
            if (path / TITLE_STARTS_FILE).exists():
                title_only = (
                    np.asarray(np.load(path / TITLE_STARTS_FILE, mmap_mode="r" if mmap else None)),
                    np.asarray(np.load(path / TITLE_TERMS_FILE, mmap_mode="r" if mmap else None)),
                )
            fingerprints = None
            if (path / FINGERPRINTS_FILE).exists():
                fingerprints = np.asarray(np.load(path / FINGERPRINTS_FILE))
                if fingerprints.shape != ids.shape:
                    raise ValueError("the index's fingerprints do not agree with its ids")
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a lexical index: {exc}") from exc
        if (
            ids.ndim != 1
            or scores.rows != len(ids)
            or (
                title_only is not None
                and (
                    title_only[0].shape != (len(ids) + 1,)
                    or int(title_only[0][-1]) != len(title_only[1])
                )
            )
        ):
            raise ValueError("the index's arrays do not agree with each other")
        return cls(scores, np.asarray(ids), version, title_only, fingerprints)


def _title_words(title: str | None) -> int:
    # The words lexical_text puts before the passage's (tokenized as the builder does).
    return len(ENGLISH.surface(title)) if title else 0


def _floor(scores: np.ndarray, k: int) -> np.float32:
    """A score the ``k`` best are sure to reach, the higher the better: the ``k``-th best of
    every :data:`FLOOR_STRIDE`-th passage (a lower bound of the ``k``-th best of all). At a
    million passages the common words of a question match most of them, and selecting among
    the few above the floor takes a third of the time of selecting among all that match."""
    smallest = np.float32(np.finfo(np.float32).tiny)  # any match scores above zero
    if len(scores) < FLOOR_ABOVE:
        return smallest
    sample = scores[::FLOOR_STRIDE]
    if len(sample) <= k:
        return smallest
    return max(smallest, np.partition(sample, -k)[-k])


class _Builder:
    """Counts terms chunk by chunk (pass one), then scores them into bm25s's CSC arrays."""

    def __init__(self, *, stems: dict[str, int] | None = None) -> None:
        # Surface words get ids in order of first sight, stop words first (-1 once stemmed).
        self._surface: collections.defaultdict[str, int] = collections.defaultdict(
            itertools.count().__next__
        )
        for word in ENGLISH.stop_words:
            self._surface[word]  # noqa: B018 - the lookup assigns the next id
        self._to_stem = np.full(len(ENGLISH.stop_words), -1, dtype=np.int32)
        # Terms already numbered (an index being updated): theirs are kept, new ones follow.
        self._stems: dict[str, int] = dict(stems or {})
        self._chunks: list[Counts] = []
        self._lengths: list[np.ndarray] = []
        self._rows = 0
        # Per chunk, (row, term) of each title-only term; None once a chunk came without titles.
        self._title_only: list[tuple[np.ndarray, np.ndarray]] | None = []

    def add(self, texts: list[str], *, title_words: list[int] | None = None) -> None:
        """Count the terms of ``texts``; ``title_words``: how many of each text's first words
        are its title's (then each row's title-only terms are kept too)."""
        lookup = self._surface.__getitem__
        findall = ENGLISH.pattern.findall
        flat = array("i")
        counts = np.empty(len(texts), dtype=np.int64)
        for i, text in enumerate(texts):
            words = findall(text.lower())
            flat.extend(map(lookup, words))
            counts[i] = len(words)
        self._stem_new_words()
        every = self._to_stem[np.frombuffer(flat, dtype=np.int32)]
        rows = np.repeat(np.arange(len(texts), dtype=np.int64), counts)
        kept = every >= 0
        terms, rows = every[kept], rows[kept]
        self._lengths.append(np.bincount(rows, minlength=len(texts)))
        keys, tf = np.unique(terms.astype(np.int64) * len(texts) + rows, return_counts=True)
        # Sorted by term, then row: each term's rows in order, as the CSC matrix wants them.
        self._chunks.append(
            (
                (keys // len(texts)).astype(np.int32),
                (keys % len(texts) + self._rows).astype(np.int32),
                tf.astype(np.float32),
            )
        )
        if title_words is None:
            self._title_only = None
        elif self._title_only is not None:
            self._keep_title_only(every, counts, np.asarray(title_words), keys, tf)
        self._rows += len(texts)

    def _keep_title_only(
        self,
        every: np.ndarray,
        counts: np.ndarray,
        title_words: np.ndarray,
        keys: np.ndarray,
        tf: np.ndarray,
    ) -> None:
        """Keep the (row, term) pairs all of whose occurrences in the chunk are in the
        row's title: ``every`` term of the chunk's texts in order (-1 for stop words),
        ``counts`` words per text, its first ``title_words`` the title's; ``keys`` and ``tf``
        each (term, row) pair of the chunk and its count."""
        n = len(counts)
        firsts = np.repeat(np.cumsum(counts) - counts, title_words)
        nth = np.arange(int(title_words.sum())) - np.repeat(
            np.cumsum(title_words) - title_words, title_words
        )
        terms = every[firsts + nth]
        rows = np.repeat(np.arange(n, dtype=np.int64), title_words)
        kept = terms >= 0
        in_title, times = np.unique(
            terms[kept].astype(np.int64) * n + rows[kept], return_counts=True
        )
        only = in_title[times == tf[np.searchsorted(keys, in_title)]]
        only_rows, only_terms = only % n, (only // n).astype(np.int32)
        order = np.lexsort((only_terms, only_rows))
        assert self._title_only is not None
        self._title_only.append((only_rows[order] + self._rows, only_terms[order]))

    def title_only(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Row pointers and term ids of every row's title-only terms (after :meth:`finish`)."""
        if self._title_only is None:
            return None
        rows = [r for r, _ in self._title_only]
        terms = [t for _, t in self._title_only]
        starts = np.zeros(self._rows + 1, dtype=np.int64)
        if rows:
            np.cumsum(np.bincount(np.concatenate(rows), minlength=self._rows), out=starts[1:])
        return starts, (np.concatenate(terms) if terms else np.zeros(0, dtype=np.int32))

    def _stem_new_words(self) -> None:
        known = len(self._to_stem)
        new = list(itertools.islice(self._surface, known, None))
        if not new:
            return
        stems = self._stems
        ids = [stems.setdefault(stem, len(stems)) for stem in ENGLISH.stem(new)]
        self._to_stem = np.concatenate([self._to_stem, np.asarray(ids, dtype=np.int32)])

    def finish(self) -> TermScores:
        return TermScores.from_counts(self._chunks, np.concatenate(self._lengths), self._stems)

    @property
    def vocab(self) -> dict[str, int]:
        return self._stems

    def counts(self) -> tuple[Counts, np.ndarray]:
        """Every counted (term, row, frequency), sorted by term then row, and each row's
        length: what :meth:`TermScores.updated` takes."""
        if not self._chunks:
            empty = np.zeros(0, dtype=np.int32)
            return (empty, empty, np.zeros(0, dtype=np.float32)), np.zeros(0, dtype=np.int64)
        terms = np.concatenate([c[0] for c in self._chunks])
        rows = np.concatenate([c[1] for c in self._chunks])
        tf = np.concatenate([c[2] for c in self._chunks])
        order = np.lexsort((rows, terms))
        return (terms[order], rows[order], tf[order]), np.concatenate(self._lengths)


def _kept_title_only(
    old: tuple[np.ndarray, np.ndarray],
    keep: np.ndarray,
    added: tuple[np.ndarray, np.ndarray] | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Row pointers and terms of the title-only terms of the kept rows, then the added ones."""
    starts, terms = np.asarray(old[0]), np.asarray(old[1])
    per_row = np.diff(starts)
    kept_terms = terms[np.repeat(keep, per_row)]
    added_starts, added_terms = added if added is not None else (np.zeros(1, np.int64), terms[:0])
    counts = np.concatenate([per_row[keep], np.diff(added_starts)])
    new_starts = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=new_starts[1:])
    return new_starts, np.concatenate([kept_terms, np.asarray(added_terms, dtype=terms.dtype)])


def lexical_path(data_dir: Path, version: str | None) -> Path:
    """The folder of the saved lexical index for a corpus version (beside the FAISS file)."""
    return data_dir / f"lexical-{version or 'empty'}"


def load_or_build(store: Store, data_dir: Path) -> LexicalIndex:
    """The lexical index for the database's current corpus: loaded (memory-mapped) from its
    folder when one exists for the corpus version and holds what the database holds;
    otherwise (no folder, a damaged one) built from the stored passages, saved, and said so
    in the log."""
    version = store.corpus_version()
    path = lexical_path(data_dir, version)
    expected = store.passage_count()
    if path.is_dir():
        try:
            index = LexicalIndex.load(path, version=version)
        except (OSError, ValueError, EOFError) as exc:
            log.warning(
                "the lexical index %s cannot be read (%s); rebuilding it from the database",
                path,
                (str(exc).splitlines() or [exc.__class__.__name__])[0][:200],
            )
        else:
            if index.size == expected:
                return index
            log.warning(
                "the lexical index %s holds %d passages, the database %d; rebuilding it from "
                "the database",
                path,
                index.size,
                expected,
            )
    elif expected:
        log.info(
            "no lexical index for this corpus (version %s); building it from the %d passages "
            "in the database",
            version,
            expected,
        )
    index = rebuild(store, version=version)
    ids, fingerprints = store.passage_fingerprints()
    if np.array_equal(ids, index.ids):
        index.fingerprints = fingerprints  # what lets a small change update it in place
    if store.corpus_version() != version or index.scores is None:
        # An ingest went live while this was built (what it holds is neither version), or
        # there is nothing to save.
        return index
    try:
        index.save(path)
        remove_other_versions(data_dir, path)
    except OSError:
        pass  # The cache is an optimisation; a read-only data dir still answers.
    return index


def rebuild(store: Store, *, version: str | None) -> LexicalIndex:
    """Build the lexical index from the passages stored in the database (title and text)."""
    return LexicalIndex.from_passages(store.passage_texts(), version=version)


def remove_other_versions(data_dir: Path, keep: Path) -> None:
    """Delete the saved lexical indexes of other corpus versions, and temporary folders
    builds left more than an hour ago."""
    for old in data_dir.glob("lexical-*"):
        if old != keep and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    now = time.time()
    for tmp in data_dir.glob(".lexical-*.tmp"):
        try:
            stale = now - tmp.stat().st_mtime > STALE_TEMP_SECONDS
        except OSError:
            continue
        if stale:
            shutil.rmtree(tmp, ignore_errors=True)
