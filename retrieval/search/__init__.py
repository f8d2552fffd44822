"""Finding candidate passages: dense (FAISS) and lexical (BM25) indexes, both caches derived
from the store and replaced together when the corpus changes."""

from __future__ import annotations

from retrieval.search.cache import Indexes, load_indexes
from retrieval.search.dense import VectorIndex
from retrieval.search.lexical import LexicalIndex

__all__ = ["Indexes", "LexicalIndex", "VectorIndex", "load_indexes"]
