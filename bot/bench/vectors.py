"""The vectors a bench step measures recall on: read from a store, and recall@k against exact
search (shared by the query and change steps)."""

from __future__ import annotations

import numpy as np

from retrieval.store import Store


def read_vectors(store: Store, dimension: int) -> tuple[np.ndarray, np.ndarray]:
    """Every passage id and vector in the store, read into arrays made once."""
    count = store.passage_count()
    ids = np.empty(count, dtype=np.int64)
    vectors = np.empty((count, dimension), dtype=np.float32)
    at = 0
    for batch_ids, batch_vectors in store.embeddings():
        ids[at : at + len(batch_ids)] = batch_ids
        vectors[at : at + len(batch_ids)] = batch_vectors
        at += len(batch_ids)
    return ids[:at], vectors[:at]


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each query's true nearest ids found (recall@k, k = the columns)."""
    hits = [
        len(set(f[f >= 0].tolist()) & set(t[t >= 0].tolist())) / max(1, (t >= 0).sum())
        for f, t in zip(found, truth, strict=True)
    ]
    return float(np.mean(hits)) if hits else float("nan")
