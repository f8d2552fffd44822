"""The search indexes for one corpus version: dense (FAISS) and lexical (BM25), both caches
derived from the database and replaced together when the corpus changes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.config import RetrievalConfig
from retrieval.passages import lexical_text
from retrieval.search.dense import VectorIndex, load_or_build
from retrieval.search.lexical import LexicalIndex
from retrieval.store import Store


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
    """Both indexes for the corpus in ``store`` now (the dense one from its cache file when
    there is one for this corpus version)."""
    dense = load_or_build(store, data_dir, dimension, config=config)
    ids, texts = [], []
    for pid, title, text in store.passage_texts():
        ids.append(pid)
        texts.append(lexical_text(title, text))
    lexical = LexicalIndex.build(np.asarray(ids, dtype=np.int64), texts)
    return Indexes(dense.version, dense, lexical)
