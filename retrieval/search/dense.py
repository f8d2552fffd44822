"""The FAISS index over passage vectors: a cache derived from the database, rebuilt from the
stored embeddings (never by re-encoding) and swapped atomically when the corpus changes."""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from retrieval.config import RetrievalConfig
from retrieval.store import Store

log = logging.getLogger(__name__)


@dataclass
class VectorIndex:
    """Inner-product search over unit vectors; ids are passage ids.

    Example:
        >>> index = VectorIndex.build(np.array([7]), np.eye(1, 384, dtype=np.float32))
        >>> index.search(np.eye(1, 384, dtype=np.float32), 1)[1].tolist()
        [[7]]
    """

    faiss_index: faiss.Index
    version: str | None = None

    @property
    def size(self) -> int:
        return int(self.faiss_index.ntotal)

    @classmethod
    def empty(cls, dimension: int, *, version: str | None = None) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), version)

    @classmethod
    def build(
        cls,
        ids: np.ndarray,
        vectors: np.ndarray,
        *,
        version: str | None = None,
        config: RetrievalConfig | None = None,
    ) -> VectorIndex:
        """Build an index of the kind that suits the corpus size: exact up to
        ``config.exact_search_limit`` passages, HNSW beyond (milliseconds at a small recall
        cost)."""
        config = config or RetrievalConfig()
        dimension = vectors.shape[1]
        inner: faiss.Index
        if len(ids) <= config.exact_search_limit:
            inner = faiss.IndexFlatIP(dimension)
        else:
            inner = faiss.IndexHNSWFlat(
                dimension, config.hnsw_neighbors, faiss.METRIC_INNER_PRODUCT
            )
            inner.hnsw.efSearch = config.hnsw_ef_search
        index = faiss.IndexIDMap2(inner)
        if len(ids):
            index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64)
            )
        return cls(index, version)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and passage ids of the ``k`` nearest passages (id -1 pads a short result)."""
        k = max(1, min(k, self.size or 1))
        return self.faiss_index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def save(self, path: Path) -> None:
        """Write to a temporary file, then rename: readers never see half an index."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        os.close(fd)
        try:
            faiss.write_index(self.faiss_index, tmp)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    @classmethod
    def load(cls, path: Path, *, version: str | None = None) -> VectorIndex:
        return cls(faiss.read_index(str(path)), version)


def index_path(data_dir: Path, version: str | None) -> Path:
    # The corpus version is in the name, so two processes never disagree on what a file holds.
    return data_dir / f"index-{version or 'empty'}.faiss"


def load_or_build(
    store: Store, data_dir: Path, dimension: int, *, config: RetrievalConfig | None = None
) -> VectorIndex:
    """The index for the database's current corpus: from the cache file when one exists for
    the corpus version and holds what the database holds; otherwise (no file, a damaged one)
    rebuilt from the stored embeddings, saved, and said so in the log."""
    version = store.corpus_version()
    path = index_path(data_dir, version)
    expected = store.passage_count()
    if path.is_file():
        try:
            index = VectorIndex.load(path, version=version)
        except (RuntimeError, OSError) as exc:
            log.warning(
                "the index file %s cannot be read (%s); rebuilding it from the database",
                path,
                str(exc).splitlines()[0][:200],
            )
        else:
            if index.size == expected and index.faiss_index.d == dimension:
                return index
            log.warning(
                "the index file %s holds %d passages of dimension %d, the database %d of "
                "dimension %d; rebuilding it from the database",
                path,
                index.size,
                index.faiss_index.d,
                expected,
                dimension,
            )
    elif expected:
        log.info(
            "no index file for this corpus (version %s); building it from the %d passages "
            "in the database",
            version,
            expected,
        )
    index = rebuild(store, dimension, version=version, config=config)
    if store.corpus_version() != version:
        # An ingest went live while this was built: what it holds is neither version. Not
        # cached; the next question sees the new version and builds again.
        return index
    try:
        index.save(path)
        for old in data_dir.glob("index-*.faiss"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # The cache is an optimisation; a read-only data dir still answers.
    return index


def rebuild(
    store: Store, dimension: int, *, version: str | None, config: RetrievalConfig | None = None
) -> VectorIndex:
    """Build the index from the embeddings stored in the database."""
    batches = list(store.embeddings())
    if not batches:
        return VectorIndex.empty(dimension, version=version)
    ids = np.concatenate([b[0] for b in batches])
    vectors = np.vstack([b[1] for b in batches])
    return VectorIndex.build(ids, vectors, version=version, config=config)
