"""QuoteDesk: the one entry point every front end uses (CLI, Slack, tests)."""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from retrieval.answer import Answer, SourceInfo
from retrieval.answering.question import read_question
from retrieval.answering.quotes import answer
from retrieval.answering.ranking import rank
from retrieval.answering.retrieve import retrieve
from retrieval.embedder import Encoder, shared_encoder
from retrieval.errors import SourceNotFoundError
from retrieval.ingest import IngestReport, Progress, ingest
from retrieval.records import CollectionSummary, StoredText
from retrieval.search import Indexes, load_indexes
from retrieval.search.cache import load_saved
from retrieval.search.cache import save as save_indexes
from retrieval.search.update import updated
from retrieval.settings import Settings
from retrieval.store import Store
from retrieval.tuning import Mode, RetrievalConfig

log = logging.getLogger(__name__)


class QuoteDesk:
    """Answers questions with quotes from the stored corpus.

    Args:
        settings: Where data lives; ``Settings.resolve()`` (the environment) when omitted.
        config: Every weight, depth and limit of retrieval; the defaults when omitted.
        encoder: A loaded encoder to share (tests load one per session).
        store: An open :class:`Store` to share.
        build_beside: When another process changes the corpus, build the new indexes on a
            thread of their own while questions are answered from the ones already loaded
            (which do not see the new documents yet), then swap them in; False: the first
            question after the change waits for them.

    In use: ``desk = QuoteDesk()``, ``desk.ensure_corpus(Path("seeds"))``, then
    ``desk.ask("why did Baku skip the Washington meeting?").quotes`` are the passages that
    say why, best first. That loads the model and ingests a corpus into the data directory, so
    there is no example to run here: ``tests/test_golden.py`` asks that question, and those of
    ``tests/golden/seeds.jsonl``, of a desk over the seeds.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        config: RetrievalConfig | None = None,
        encoder: Encoder | None = None,
        store: Store | None = None,
        build_beside: bool = True,
    ):
        self.settings = settings or Settings.resolve()
        self.config = config or RetrievalConfig()
        self.settings.ensure_data_dir()
        self.store = store or Store(self.settings.database_url)
        self.build_beside = build_beside
        # Seconds the last load, update or build of the indexes took, and which it was
        # ("updated" in place, else "loaded or built"), for metrics and logs.
        self.last_index_seconds: float | None = None
        self.last_index_action: str | None = None
        self._encoder = encoder
        self._index: Indexes | None = None
        self._lock = threading.RLock()  # the encoder
        # Loading or building indexes: never held while a question is answered from loaded ones.
        self._index_lock = threading.Lock()
        self._building: threading.Thread | None = None
        self._starting = threading.Lock()  # starting that thread, held for no longer
        self._summary: tuple[str | None, list[CollectionSummary]] | None = None

    @property
    def encoder(self) -> Encoder:
        """The encoder, loaded on first use."""
        with self._lock:
            if self._encoder is None:
                self._encoder = shared_encoder(
                    self.settings.model_path,
                    backend=self.settings.encoder,
                    models=self.settings.models_dir,
                )
            return self._encoder

    def warm(self) -> None:
        """Load the model and the index now rather than on the first question."""
        self._current_index(wait=True)

    def wait_for_indexes(self, timeout: float | None = None) -> bool:
        """Wait for a build started beside the loaded indexes to be swapped in; False when it
        was still running after ``timeout`` seconds."""
        building = self._building
        if building is not None:
            building.join(timeout)
            return not building.is_alive()
        return True

    def is_empty(self) -> bool:
        return self.store.document_count() == 0

    def ingest(
        self,
        folder: str | Path,
        *,
        prune: bool = False,
        progress: Progress | None = None,
        collection: str | None = None,
    ) -> IngestReport:
        """Ingest a folder into its collection (see :func:`retrieval.ingest.ingest`) and
        refresh the index."""
        report = ingest(
            folder,
            store=self.store,
            encoder=self.encoder,
            prune=prune,
            progress=progress,
            collection=collection,
        )
        self._current_index(wait=True)
        return report

    def ensure_corpus(
        self, folder: str | Path, *, progress: Progress | None = None
    ) -> IngestReport | None:
        """Ingest ``folder`` when the store holds no documents yet."""
        if not self.is_empty():
            return None
        return self.ingest(folder, progress=progress)

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        offset: int = 0,
        mode: Mode | str | None = None,
        as_of: date | None = None,
        context: Sequence[str] = (),
        collections: Iterable[str] | None = None,
    ) -> Answer:
        """The ``k`` best quotes for ``question``, skipping the first ``offset``.

        The question may carry filters: ``since:YYYY-MM-DD`` and ``before:YYYY-MM-DD`` keep
        documents dated in that range, both days included (undated documents are left out when
        a filter is given); "latest"/"most recent" questions prefer newer documents among
        equally relevant ones.

        Args:
            question: The question, in words. Its control characters (escape sequences, NUL)
                are made spaces and its bidirectional formatting characters dropped; the
                answer's ``question`` is the question so cleaned.
            k: How many quotes to return (``config.default_k`` when omitted).
            offset: How many of the best quotes to skip (for "more quotes").
            mode: ``dense`` (embeddings), ``lexical`` (BM25) or ``hybrid`` (both, fused);
                ``config.mode`` when omitted.
            as_of: The moment of asking (today when omitted): time words in the question
                ("this week", "in October", "on Tuesday") count from it and make documents
                dated in that period preferred.
            context: The earlier questions ``question`` follows, oldest first (a Slack
                thread's): "who made those remarks?" is read with them, so it looks for the
                remarks they asked about. Only the newest ``config.context_questions`` count.
            collections: Quote only documents of these collections (``None``: all).

        Raises:
            UserError: The question has no words (``EmptyQuestionError``), is longer than
                ``config.max_question_chars`` (``QuestionTooLongError``), a filter's date
                cannot be read (``QueryError``), or ``k``/``offset``/``mode`` is out of range
                (``InvalidArgumentError``).
        """
        config = self.config
        read = read_question(
            question,
            config=config,
            k=k,
            offset=offset,
            mode=mode,
            as_of=as_of,
            context=context,
            collections=collections,
        )
        indexes = self._current_index()
        encoder = self.encoder
        found = retrieve(read, indexes, store=self.store, encoder=encoder, config=config)
        started = time.perf_counter()
        ranking = rank(read, found, config=config)
        done = answer(read, found, ranking, encoder=encoder, config=config)
        timings = {**found.timings, "ranking": time.perf_counter() - started}
        return dataclasses.replace(done, timings=tuple(timings.items()))

    def sources(self, *, collections: Iterable[str] | None = None) -> list[SourceInfo]:
        """Every stored document (of ``collections``, when given) with its date and passage
        count, by collection and path."""
        found = self.store.sources()
        if collections is None:
            return found
        wanted = set(collections)
        return [info for info in found if info.source.collection in wanted]

    def summary(self) -> list[CollectionSummary]:
        """What each collection holds (documents, the dates they span, when it was last
        ingested), by name: one small query per corpus version, kept until it changes."""
        version = self.store.corpus_version()
        cached = self._summary
        if cached is not None and cached[0] == version:
            return cached[1]
        found = self.store.summary()
        self._summary = (version, found)
        return found

    def stored_text(self, source: str, *, collection: str | None = None) -> StoredText:
        """The stored text of the document ``source`` (as ``sources`` names it), which its
        quotes stand in.

        Raises:
            SourceNotFoundError: No document is named ``source`` (in ``collection``), or
                several collections hold one and none was named.
        """
        found = self.store.texts(source, collection=collection)
        where = f" in the collection {collection!r}" if collection is not None else ""
        if not found:
            raise SourceNotFoundError(
                f"no document named {source!r}{where}: `quotedesk sources` lists them"
            )
        if len(found) > 1:
            names = ", ".join(str(t.source.collection) for t in found)
            raise SourceNotFoundError(
                f"{source!r} is in several collections ({names}): choose one with --collection NAME"
            )
        return found[0]

    def _current_index(self, *, wait: bool = False) -> Indexes:
        """The indexes to answer from. When the corpus in the database has changed since they
        were loaded (another process ingested), the new ones are built beside them and
        swapped in whole once ready; until then the loaded ones answer (``build_beside``).
        The first load, ``wait``, or a desk without ``build_beside`` waits for the build."""
        version = self.store.corpus_version()
        index = self._index
        if index is not None and index.version == version:
            return index
        if index is not None and self.build_beside and not wait:
            self._build_beside()
            return index
        with self._index_lock:
            if self._index is not None and self._index.version == version:
                return self._index
            return self._load()

    def _load(self) -> Indexes:
        """The indexes of the corpus now in the database, swapped in (under
        ``_index_lock``): the loaded ones (or those saved for an earlier version) updated in
        place when the change is small, else loaded from this version's files or built."""
        started = time.perf_counter()
        data_dir, dimension = self.settings.data_dir, self.encoder.dimension
        fresh = None
        base = self._index
        if base is None and self.store.passage_count():
            base = load_saved(data_dir, dimension, config=self.config)
        if base is not None and base.version != self.store.corpus_version():
            fresh = updated(base, self.store, config=self.config)
        self.last_index_action = "updated" if fresh is not None else "loaded or built"
        if fresh is None:
            fresh = load_indexes(self.store, data_dir, dimension, config=self.config)
            self.last_index_seconds = time.perf_counter() - started
            self._index = fresh
            return fresh
        # Answering from them first; saving them (hundreds of MB at a million passages) after.
        self.last_index_seconds = time.perf_counter() - started
        self._index = fresh
        save_indexes(fresh, data_dir)
        return fresh

    def _build_beside(self) -> None:
        """Start building the current corpus's indexes on a thread, unless one is at it."""
        with self._starting:
            if self._building is not None and self._building.is_alive():
                return
            self._building = threading.Thread(
                target=self._build, name="quotedesk-index-build", daemon=True
            )
            self._building.start()

    def _build(self) -> None:
        # Until the indexes match the corpus: an ingest may go live during a build.
        try:
            while True:
                with self._index_lock:
                    loaded = self._index
                    version = self.store.corpus_version()
                    if loaded is not None and loaded.version == version:
                        return
                    log.info("the corpus changed (version %s): building its indexes", version)
                    self._load()
        except Exception:
            # The loaded indexes keep answering; the next question tries again.
            log.exception("building the indexes beside the loaded ones failed")
