"""QuoteDesk: the one entry point every front end uses (CLI, Slack, tests)."""

from __future__ import annotations

import dataclasses
import re
import threading
from concurrent.futures import Future
from datetime import date
from pathlib import Path

import numpy as np

from retrieval.answer import Answer, Quote, SourceInfo
from retrieval.config import Mode, RetrievalConfig, Settings, parse_mode
from retrieval.embedder import Encoder, shared_encoder
from retrieval.errors import (
    EmptyQuestionError,
    InvalidArgumentError,
    QuestionTooLongError,
    SourceNotFoundError,
)
from retrieval.ingest import IngestReport, Progress, ingest
from retrieval.query import Query, clean_question
from retrieval.rank import (
    Candidate,
    abstains,
    asks_only_for_time,
    choose,
    fuse,
    gather,
    merge_duplicates,
    related_sources,
    sentences_to_encode,
    tied_sentences,
)
from retrieval.records import Passage, StoredText
from retrieval.search import Indexes, load_indexes
from retrieval.search.parallel import beside
from retrieval.store import Store
from retrieval.timeframe import find_time
from retrieval.words import word_sets

# BM25's candidates: their scores, and the passages when read with them.
Lexical = tuple[dict[int, float], dict[int, Passage]]
_HAS_WORD = re.compile(r"\w")


class QuoteDesk:
    """Answers questions with quotes from the stored corpus.

    Args:
        settings: Where data lives; ``Settings.resolve()`` (the environment) when omitted.
        config: Every weight, depth and limit of retrieval; the defaults when omitted.
        embedder: A loaded encoder to share (tests load one per session).
        store: An open :class:`Store` to share.

    Example:
        >>> desk = QuoteDesk()
        >>> desk.ensure_corpus(Path("seeds"))
        >>> answer = desk.ask("why did Baku skip the Washington meeting?")
        >>> answer.quotes[0].source.path
        '000_11112fc514e6e23b.txt'
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        config: RetrievalConfig | None = None,
        embedder: Encoder | None = None,
        store: Store | None = None,
    ):
        self.settings = settings or Settings.resolve()
        self.config = config or RetrievalConfig()
        self.settings.ensure_data_dir()
        self.store = store or Store(self.settings.database_url)
        self._embedder = embedder
        self._index: Indexes | None = None
        self._lock = threading.RLock()

    @property
    def embedder(self) -> Encoder:
        """The encoder, loaded on first use."""
        with self._lock:
            if self._embedder is None:
                self._embedder = shared_encoder(
                    self.settings.model_path,
                    backend=self.settings.encoder,
                    models=self.settings.models_dir,
                )
            return self._embedder

    def warm(self) -> None:
        """Load the model and the index now rather than on the first question."""
        self._current_index()

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
            embedder=self.embedder,
            prune=prune,
            progress=progress,
            collection=collection,
        )
        self._current_index()
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

        Raises:
            UserError: The question has no words (``EmptyQuestionError``), is longer than
                ``config.max_question_chars`` (``QuestionTooLongError``), a filter's date
                cannot be read (``QueryError``), or ``k``/``offset``/``mode`` is out of range
                (``InvalidArgumentError``).
        """
        config = self.config
        k = config.check_k(config.default_k if k is None else k)
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise InvalidArgumentError(
                f"offset must be a whole number of 0 or more, not {offset!r}"
            )
        chosen = parse_mode(mode) if mode is not None else config.mode
        question = clean_question(question)
        if len(question) > config.max_question_chars:
            raise QuestionTooLongError(
                f"the question is {len(question):,} characters long: ask it in at most "
                f"{config.max_question_chars:,} (the encoder reads no more)"
            )
        query = Query.parse(question)
        if not _HAS_WORD.search(query.text):
            raise EmptyQuestionError(
                'ask a question in words, e.g. "why did Baku skip the Washington meeting?"'
            )
        as_of = as_of or date.today()
        time = find_time(query.text, as_of=as_of)
        period = time.period if time else None
        if time and time.relative and config.strip_time_words and _HAS_WORD.search(time.text):
            # "this week" says when, not what, and no article says it so: the words are left
            # to the period. Calendar words ("in October") stay: the answer may say them.
            query = dataclasses.replace(query, text=time.text)
        indexes = self._current_index()
        depth = self._depth(query, wanted=offset + k)
        lexical = None
        if chosen is Mode.HYBRID and indexes.size >= config.parallel_search_from:
            # BM25 needs no vector: it runs beside the encoder and the FAISS search (all three
            # release the GIL), and a question waits for the longest instead of their sum. The
            # thread then reads its candidates from the store while the encoder still runs.
            lexical = beside().submit(self._lexical, indexes, query.text, depth, read=True)
        vector = self.embedder.encode_query(query.text)[0]
        asked = word_sets([query.text])[0]
        candidates = self._candidates(
            indexes, query, vector, asked, chosen, depth=depth, lexical=lexical
        )
        ranked = fuse(
            candidates,
            config=config,
            mode=chosen,
            prefer_recent=query.prefer_recent,
            period=period,
        )
        only_for = period if asks_only_for_time(asked, period) else None
        if abstains(ranked, config=config, only_for=only_for):
            related = related_sources(ranked, config=config)
            return Answer(
                question,
                answered=False,
                quotes=(),
                related=related,
                offset=offset,
                as_of=as_of,
                period=period,
            )
        groups = merge_duplicates(ranked, config=config, limit=offset + k)[offset:]
        texts = [lead.passage.text for lead, _ in groups]
        ties = tied_sentences(asked, texts)
        tied = sentences_to_encode(texts, ties, dense_quotes=config.dense_highlight_quotes)
        spans = choose(
            ties,
            dense_quotes=config.dense_highlight_quotes,
            encoded=self.embedder.encode(tied) if tied else np.zeros((0, len(vector))),
            query=vector,
        )
        quotes = tuple(
            Quote(
                text=lead.passage.text,
                source=lead.passage.document.source,
                score=lead.score,
                similarity=lead.similarity,
                passage_id=lead.passage.id,
                start=lead.passage.start,
                end=lead.passage.end,
                highlights=found,
                also_in=tuple(c.passage.document.source for c in copies),
            )
            for (lead, copies), found in zip(groups, spans, strict=True)
        )
        return Answer(
            question, answered=True, quotes=quotes, offset=offset, as_of=as_of, period=period
        )

    def _depth(self, query: Query, *, wanted: int) -> int:
        """How many candidates each retriever is asked for."""
        config = self.config
        n = max(config.candidates, wanted * config.candidates_per_quote)
        # Filters drop candidates after the search, so search deeper when there are any.
        return n * config.filtered_depth if query.filtered else n

    def _candidates(
        self,
        indexes: Indexes,
        query: Query,
        vector: np.ndarray,
        asked: set[str],
        mode: Mode,
        *,
        depth: int,
        lexical: Future[Lexical] | None = None,
    ) -> list[Candidate]:
        """Passages either retriever finds that pass the query's date filters (``lexical``:
        the BM25 search, when it was started on another thread)."""
        if indexes.size == 0:
            return []
        ids: set[int] = set()
        bm25: dict[int, float] = {}
        read: dict[int, Passage] = {}
        if mode in (Mode.DENSE, Mode.HYBRID):
            _, found = indexes.dense.search(vector[None, :], depth)
            ids.update(int(i) for i in found[0] if i >= 0)
        if lexical is not None:
            bm25, read = lexical.result()
        elif mode in (Mode.LEXICAL, Mode.HYBRID):
            bm25, _ = self._lexical(indexes, query.text, depth)
        ids.update(bm25)
        read.update(self.store.passages(ids.difference(read)))
        # In id order, as one read gives them: ties in ranking keep their order either way.
        passages = [read[i] for i in sorted(read) if query.admits(read[i].document.date)]
        kept = [p.id for p in passages]
        in_text = indexes.lexical.knows_titles
        counts = indexes.lexical.holding(asked, kept, in_text=in_text).tolist()
        indexed = dict(zip(kept, counts, strict=True))
        return gather(
            passages, vector, asked=asked, bm25=bm25, indexed=indexed, with_titles=not in_text
        )

    def _lexical(self, indexes: Indexes, text: str, depth: int, *, read: bool = False) -> Lexical:
        """BM25's candidates with their scores, and (``read``) the passages, from the store."""
        scores, found = indexes.lexical.search(text, depth)
        bm25 = {int(i): float(s) for s, i in zip(scores, found, strict=True)}
        return bm25, self.store.passages(bm25) if read else {}

    def sources(self) -> list[SourceInfo]:
        """Every stored document with its date and passage count, by collection and path."""
        return self.store.sources()

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

    def _current_index(self) -> Indexes:
        """The index for the corpus in the database now; reloaded when another process (or
        this one) changed the corpus, and swapped in whole."""
        version = self.store.corpus_version()
        index = self._index
        if index is not None and index.version == version:
            return index
        with self._lock:
            if self._index is not None and self._index.version == version:
                return self._index
            fresh = load_indexes(
                self.store, self.settings.data_dir, self.embedder.dimension, config=self.config
            )
            self._index = fresh
        return fresh
