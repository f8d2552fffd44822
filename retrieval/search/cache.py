"""The search indexes for one corpus version: dense (FAISS) and lexical (BM25), both caches
derived from the database, saved in the data dir per corpus version and replaced together when
the corpus changes.

Every file is named for the corpus version it holds and written whole before it is renamed
into place, so whatever step a process dies at, what is on disk is either a whole index of
some version or nothing: a process loads a version's files only for that version (and only
when they hold as many passages as the database), and builds or updates what is missing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from retrieval.search import dense, lexical
from retrieval.search.dense import VectorIndex
from retrieval.search.lexical import LexicalIndex
from retrieval.store import Store
from retrieval.tuning import RetrievalConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Indexes:
    version: str | None
    dense: VectorIndex
    lexical: LexicalIndex

    @property
    def size(self) -> int:
        return self.dense.size


def load_indexes(
    store: Store, data_dir: Path, dimension: int, *, config: RetrievalConfig | None = None
) -> Indexes:
    """Both indexes for the corpus in ``store`` now: each loaded from its file for this corpus
    version when there is a sound one, else built from the database and saved."""
    vectors = dense.load_or_build(store, data_dir, dimension, config=config)
    words = lexical.load_or_build(store, data_dir)
    return Indexes(vectors.version, vectors, words)


def load_saved(
    data_dir: Path, dimension: int, *, config: RetrievalConfig | None = None
) -> Indexes | None:
    """The indexes saved in ``data_dir`` for a version the corpus may no longer be at (both
    files of one version, of the same size), to update rather than build anew; ``None`` when
    there is no such pair or it cannot be read."""
    for path in sorted(data_dir.glob("index-*.faiss")):
        version = path.name[len("index-") : -len(".faiss")]
        words = lexical.lexical_path(data_dir, version)
        if version == "empty" or not words.is_dir():
            continue
        try:
            vectors = VectorIndex.load(path, version=version, config=config)
            terms = LexicalIndex.load(words, version=version)
        except (RuntimeError, OSError, ValueError, EOFError):
            continue
        if vectors.size == terms.size and vectors.faiss_index.d == dimension:
            return Indexes(version, vectors, terms)
    return None


def save(indexes: Indexes, data_dir: Path) -> None:
    """Save both indexes under their version (the dense file, then the lexical folder, each
    renamed into place whole) and remove those of other versions. A failure leaves the
    indexes answering; the files are a cache."""
    dense_path = dense.index_path(data_dir, indexes.version)
    lexical_path = lexical.lexical_path(data_dir, indexes.version)
    try:
        indexes.dense.save(dense_path)
        if indexes.lexical.scores is not None:
            indexes.lexical.save(lexical_path)
        for old in data_dir.glob("index-*.faiss"):
            if old != dense_path:
                old.unlink(missing_ok=True)
        lexical.remove_other_versions(data_dir, lexical_path)
    except OSError as exc:
        log.warning("the updated indexes could not be saved in %s: %s", data_dir, exc)
