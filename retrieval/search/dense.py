"""The FAISS index over passage vectors: a cache derived from the database, rebuilt from the
stored embeddings (never by re-encoding) and swapped atomically when the corpus changes."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from retrieval.store import Store
from retrieval.tuning import RetrievalConfig

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

    @property
    def kind(self) -> str:
        """Which kind of index this is: one of :data:`KINDS`."""
        return index_kind(self.faiss_index)

    def describe(self) -> str:
        """The kind and its search settings, for a person: ``ivf-sq8 (1,000 lists, probing 32)``."""
        inner = _inner(self.faiss_index)
        if isinstance(inner, faiss.IndexIVF):
            return f"{self.kind} ({inner.nlist:,} lists, probing {inner.nprobe})"
        if isinstance(inner, faiss.IndexHNSW):
            return f"{self.kind} (ef {inner.hnsw.efSearch})"
        return self.kind

    @classmethod
    def empty(cls, dimension: int, *, version: str | None = None) -> VectorIndex:
        return cls(faiss.IndexIDMap(faiss.IndexFlatIP(dimension)), version)

    @classmethod
    def build(
        cls,
        ids: np.ndarray,
        vectors: np.ndarray,
        *,
        version: str | None = None,
        config: RetrievalConfig | None = None,
        kind: str | None = None,
    ) -> VectorIndex:
        """Build an index of the kind that suits the corpus size (:func:`choose_kind`), or of
        ``kind`` when given."""
        config = config or RetrievalConfig()
        kind = kind or choose_kind(len(ids), config)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        dimension = vectors.shape[1]
        index: faiss.Index
        if kind == FLAT or not len(ids):
            index = faiss.IndexIDMap(faiss.IndexFlatIP(dimension))
        elif kind == HNSW:
            graph = faiss.IndexHNSWFlat(
                dimension, config.hnsw_neighbors, faiss.METRIC_INNER_PRODUCT
            )
            graph.hnsw.efConstruction = config.hnsw_ef_construction
            index = faiss.IndexIDMap(graph)
        elif kind in (IVF_SQ8, IVF_PQ):
            # An IVF index keeps the ids in its lists: no id map around it.
            index = _train_ivf(kind, vectors, config)
        else:
            raise ValueError(f"unknown index kind {kind!r}; one of {', '.join(KINDS)}")
        if len(ids):
            index.add_with_ids(vectors, ids)
        built = cls(index, version)
        built.tune(config)
        return built

    def updated(
        self,
        removed: np.ndarray,
        added: np.ndarray,
        vectors: np.ndarray,
        *,
        version: str | None,
        config: RetrievalConfig | None = None,
    ) -> VectorIndex:
        """A copy without the ``removed`` passage ids and with the ``added`` ones (their
        ``vectors``); an IVF index keeps its trained lists (see :func:`needs_training`). This
        one is left as it is: questions go on searching it meanwhile.

        Raises:
            ValueError: The kind of index cannot remove ids (HNSW): build it anew.
        """
        if self.kind == HNSW and len(removed):
            raise ValueError("an HNSW index cannot remove passages: build it anew")
        index = faiss.clone_index(self.faiss_index)
        if len(removed):
            gone = np.ascontiguousarray(removed, dtype=np.int64)
            index.remove_ids(faiss.IDSelectorBatch(len(gone), faiss.swig_ptr(gone)))
        if len(added):
            index.add_with_ids(
                np.ascontiguousarray(vectors, dtype=np.float32),
                np.ascontiguousarray(added, dtype=np.int64),
            )
        copy = VectorIndex(index, version)
        copy.tune(config or RetrievalConfig())
        return copy

    def needs_training(self, passages: int, config: RetrievalConfig) -> bool:
        """Whether an index for ``passages`` should be built anew rather than updated: the
        corpus has grown or shrunk into another kind (:func:`choose_kind`), or, for IVF, so
        far that the lists trained for it are ``config.ivf_retrain_factor`` times too few or
        too many for its size."""
        if choose_kind(passages, config) != self.kind:
            return True
        inner = _inner(self.faiss_index)
        if not isinstance(inner, faiss.IndexIVF):
            return False
        ratio = ivf_lists(passages, config) / max(1, inner.nlist)
        return not 1 / config.ivf_retrain_factor <= ratio <= config.ivf_retrain_factor

    def tune(self, config: RetrievalConfig) -> None:
        """Apply the configuration's search settings (a loaded file keeps those it was saved
        with otherwise)."""
        inner = _inner(self.faiss_index)
        if isinstance(inner, faiss.IndexIVF):
            inner.nprobe = min(config.ivf_probe, inner.nlist)
        elif isinstance(inner, faiss.IndexHNSW):
            inner.hnsw.efSearch = config.hnsw_ef_search

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Scores and passage ids of the ``k`` nearest passages (id -1 pads a short result).

        A question or a few are searched on this thread alone: FAISS would otherwise open an
        OpenMP region for a handful of ids, and on a busy machine its barrier waits for the
        other core's next time slice (16 ms a search measured, against 0.1 ms alone).
        """
        k = max(1, min(k, self.size or 1))
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        with _threads(1 if len(queries) < PARALLEL_QUERIES else None):
            return self.faiss_index.search(queries, k)

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
    def load(
        cls, path: Path, *, version: str | None = None, config: RetrievalConfig | None = None
    ) -> VectorIndex:
        index = cls(faiss.read_index(str(path)), version)
        index.tune(config or RetrievalConfig())
        return index


FLAT = "flat"
HNSW = "hnsw"
IVF_SQ8 = "ivf-sq8"
IVF_PQ = "ivf-pq"
# The kinds of dense index, for RetrievalConfig.dense_index (besides "auto").
KINDS = (FLAT, HNSW, IVF_SQ8, IVF_PQ)
AUTO = "auto"
# Searches of fewer queries than this run on the calling thread alone (see VectorIndex.search).
PARALLEL_QUERIES = 16
# k-means rounds when training the IVF lists: more moves recall by less than noise.
IVF_TRAIN_ROUNDS = 10
# Product quantization's codebooks are trained on at least this many vectors (fewer and
# faiss's k-means warns, for each of the codebooks).
PQ_TRAIN_MIN = 39 * 256
# Fewer training vectors per list than this and faiss's k-means warns and clusters badly.
IVF_MIN_TRAIN_PER_LIST = 39


def choose_kind(passages: int, config: RetrievalConfig) -> str:
    """The dense index for a corpus of ``passages``: the configuration's ``dense_index`` when
    it names one; else exact search up to ``exact_search_limit`` passages and IVF with 8-bit
    scalar quantization beyond (a quarter of the memory of exact search at recall@10 near
    0.98, built in seconds where HNSW takes many minutes).

    Example:
        >>> choose_kind(10_000, RetrievalConfig()), choose_kind(10**6, RetrievalConfig())
        ('flat', 'ivf-sq8')
    """
    if config.dense_index != AUTO:
        return config.dense_index
    return FLAT if passages <= config.exact_search_limit else IVF_SQ8


def ivf_lists(passages: int, config: RetrievalConfig) -> int:
    """How many IVF lists for ``passages`` vectors: ``ivf_lists_per_root`` times the square
    root, and never fewer than :data:`IVF_MIN_TRAIN_PER_LIST` vectors to train each."""
    wanted = round(config.ivf_lists_per_root * math.sqrt(passages))
    return max(1, min(wanted, passages // IVF_MIN_TRAIN_PER_LIST))


def index_kind(index: faiss.Index) -> str:
    """The :data:`KINDS` name of a FAISS index built here (or its class name)."""
    inner = _inner(index)
    if isinstance(inner, faiss.IndexIVFScalarQuantizer):
        return IVF_SQ8
    if isinstance(inner, faiss.IndexIVFPQ):
        return IVF_PQ
    if isinstance(inner, faiss.IndexHNSW):
        return HNSW
    if isinstance(inner, faiss.IndexFlat):
        return FLAT
    return type(inner).__name__


@contextlib.contextmanager
def _threads(count: int | None) -> Iterator[None]:
    """FAISS's OpenMP threads for what this thread runs inside (all of them when None)."""
    if count is None:
        yield
        return
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _inner(index: faiss.Index) -> faiss.Index:
    """The index inside an id map, cast to its own class."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexIDMap | faiss.IndexIDMap2):
        return faiss.downcast_index(index.index)
    return index


def _train_ivf(kind: str, vectors: np.ndarray, config: RetrievalConfig) -> faiss.Index:
    """An IVF index of ``kind`` trained on a sample of ``vectors`` (seeded: the same corpus
    gives the same index)."""
    dimension = vectors.shape[1]
    lists = ivf_lists(len(vectors), config)
    quantizer = faiss.IndexFlatIP(dimension)
    index: faiss.IndexIVF
    if kind == IVF_SQ8:
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dimension, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
    else:
        index = faiss.IndexIVFPQ(
            quantizer, dimension, lists, config.ivf_pq_bytes, 8, faiss.METRIC_INNER_PRODUCT
        )
    index.cp.niter = IVF_TRAIN_ROUNDS
    if isinstance(index, faiss.IndexIVFPQ):
        index.pq.cp.niter = IVF_TRAIN_ROUNDS  # its codebooks too (faiss's default is 25)
    index.cp.seed = 1234
    sample = lists * config.ivf_train_per_list
    if kind == IVF_PQ:
        sample = max(sample, PQ_TRAIN_MIN)  # each codebook has 256 codes to place
    sample = min(len(vectors), sample)
    rows = np.random.default_rng(1234).choice(len(vectors), size=sample, replace=False)
    rows.sort()
    index.train(vectors[rows])
    return index


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
            index = VectorIndex.load(path, version=version, config=config)
        except (RuntimeError, OSError) as exc:
            log.warning(
                "the index file %s cannot be read (%s); rebuilding it from the database",
                path,
                str(exc).splitlines()[0][:200],
            )
        else:
            wanted = choose_kind(expected, config or RetrievalConfig())
            if index.size == expected and index.faiss_index.d == dimension:
                if index.kind == wanted or not expected:
                    return index
                log.warning(
                    "the index file %s holds a %s index, the configuration asks for %s at %d "
                    "passages; rebuilding it from the database",
                    path,
                    index.kind,
                    wanted,
                    expected,
                )
            else:
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
