"""The search indexes for one corpus version: dense (FAISS) and lexical (BM25), both caches
derived from the database, saved in the data dir per corpus version and replaced together when
the corpus changes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from retrieval.search import dense, lexical
from retrieval.search.dense import VectorIndex
from retrieval.search.lexical import LexicalIndex
from retrieval.store import Store
from retrieval.tuning import RetrievalConfig


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
