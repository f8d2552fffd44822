"""A small change to the corpus applied to loaded indexes: the passages removed taken out, the
new ones added, in seconds where building both indexes anew takes minutes at a million
passages. Which passages changed is found by comparing the indexes' passages with the
database's (ids and fingerprints), so it holds whatever happened in between, however many
versions ago the indexes were built.

The result is what a build would give: the dense index holds the same vectors (an IVF index
keeps its trained lists until the corpus outgrows them), the lexical index the same BM25
scores (tests compare both with a build).
"""

from __future__ import annotations

import logging

import numpy as np

from retrieval.search.cache import Indexes
from retrieval.store import Store
from retrieval.tuning import RetrievalConfig

log = logging.getLogger(__name__)


def updated(indexes: Indexes, store: Store, *, config: RetrievalConfig) -> Indexes | None:
    """``indexes`` brought to the corpus now in ``store``, or ``None`` when they should be
    built anew: the change is too large (``config.update_passages`` / ``update_share``), the
    indexes do not know their passages' fingerprints (saved before they were kept), an IVF
    index has outgrown its lists, or the corpus changed again while this ran."""
    lexical, dense = indexes.lexical, indexes.dense
    if lexical.fingerprints is None or lexical.scores is None or dense.size != lexical.size:
        return None
    version = store.corpus_version()
    ids, prints = store.passage_fingerprints()
    old_ids, old_prints = np.asarray(lexical.ids), np.asarray(lexical.fingerprints)
    # A passage is kept when its id is still there with the same fingerprint.
    at = np.minimum(np.searchsorted(ids, old_ids), max(len(ids) - 1, 0))
    keep = (
        (ids[at] == old_ids) & (prints[at] == old_prints)
        if len(ids)
        else np.zeros(len(old_ids), dtype=bool)
    )
    kept_ids = old_ids[keep]
    removed = old_ids[~keep]
    added = np.setdiff1d(ids, kept_ids, assume_unique=True)
    change = len(removed) + len(added)
    if change > max(config.update_passages, config.update_share * len(ids)):
        log.info("%d passages changed: the indexes are built anew", change)
        return None
    if not len(ids) or dense.needs_training(len(ids), config):
        return None
    passages = store.passages(added.tolist())
    if len(passages) != len(added) or store.corpus_version() != version:
        return None  # changed while this read: the caller tries again
    rows = [(int(p), passages[int(p)].document.source.title, passages[int(p)].text) for p in added]
    vectors = (
        np.vstack([passages[int(p)].vector for p in added])
        if len(added)
        else np.zeros((0, dense.faiss_index.d), dtype=np.float32)
    )
    try:
        words = lexical.updated(keep, rows, fingerprints=prints, version=version)
        vectors_index = dense.updated(removed, added, vectors, version=version, config=config)
    except ValueError as exc:
        log.info("the indexes cannot be updated in place (%s): they are built anew", exc)
        return None
    if not np.array_equal(words.ids, ids):
        return None  # not what the database holds: build anew rather than answer from it
    log.info(
        "the indexes were updated in place: %d passages removed, %d added (version %s)",
        len(removed),
        len(added),
        version,
    )
    return Indexes(version, vectors_index, words)
