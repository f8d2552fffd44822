"""QuoteDesk: the one entry point every front end uses (CLI, Slack, tests)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from retrieval.answer import Answer, Quote, Source, SourceInfo
from retrieval.config import Settings
from retrieval.embedder import Embedder, shared_embedder
from retrieval.errors import EmptyQuestionError
from retrieval.fusion import rank
from retrieval.indexes import Indexes, load_indexes
from retrieval.ingest import IngestReport, Progress, ingest
from retrieval.store import DocumentRow, PassageRow, Store

DEFAULT_K = 5
MODES = ("dense", "lexical", "hybrid")
DEFAULT_MODE = "hybrid"
# Candidates taken from each retriever before fusion.
CANDIDATES = 50
# Below this cosine similarity the best passage is not taken as an answer.
MIN_SCORE = 0.25
_HAS_WORD = re.compile(r"\w")


class QuoteDesk:
    """Answers questions with quotes from the stored corpus.

    Args:
        settings: Where data lives; ``Settings.resolve()`` (the environment) when omitted.
        embedder: A loaded :class:`Embedder` to share (tests load one per session).
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
        embedder: Embedder | None = None,
        store: Store | None = None,
    ):
        self.settings = settings or Settings.resolve()
        self.settings.ensure_data_dir()
        self.store = store or Store(self.settings.database_url)
        self._embedder = embedder
        self._index: Indexes | None = None
        self._lock = threading.RLock()

    @property
    def embedder(self) -> Embedder:
        """The encoder, loaded on first use."""
        with self._lock:
            if self._embedder is None:
                self._embedder = shared_embedder(self.settings.model_path)
            return self._embedder

    def warm(self) -> None:
        """Load the model and the index now rather than on the first question."""
        self._current_index()

    def is_empty(self) -> bool:
        return self.store.document_count() == 0

    def ingest(
        self, folder: str | Path, *, prune: bool = False, progress: Progress | None = None
    ) -> IngestReport:
        """Ingest a folder (see :func:`retrieval.ingest.ingest`) and refresh the index."""
        report = ingest(
            folder, store=self.store, embedder=self.embedder, prune=prune, progress=progress
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
        self, question: str, *, k: int = DEFAULT_K, offset: int = 0, mode: str = DEFAULT_MODE
    ) -> Answer:
        """The ``k`` best quotes for ``question``, skipping the first ``offset``.

        Args:
            question: The question, in words.
            k: How many quotes to return.
            offset: How many of the best quotes to skip (for "more quotes").
            mode: ``dense`` (embeddings), ``lexical`` (BM25) or ``hybrid`` (both, fused).

        Raises:
            EmptyQuestionError: The question has no words.
        """
        question = question.strip()
        if not _HAS_WORD.search(question):
            raise EmptyQuestionError(
                'ask a question in words, e.g. "why did Baku skip the Washington meeting?"'
            )
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        indexes = self._current_index()
        if indexes.size == 0:
            return Answer(question=question, answered=False, quotes=(), offset=offset)
        query = self.embedder.encode_query(question)
        n = max(CANDIDATES, (offset + k) * 3)
        dense: dict[int, float] = {}
        lexical: dict[int, float] = {}
        if mode in ("dense", "hybrid"):
            scores, ids = indexes.dense.search(query, n)
            dense = {int(i): float(s) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0}
        if mode in ("lexical", "hybrid"):
            scores, ids = indexes.lexical.search(question, n)
            lexical = {int(i): float(s) for s, i in zip(scores, ids, strict=True)}
        quotes = self._quotes(dense.keys() | lexical.keys(), query[0])
        quotes = rank(quotes, lexical, mode=mode)
        answered = bool(quotes) and max(q.similarity for q in quotes) >= MIN_SCORE
        if not answered:
            related = _unique_sources(quotes)[:3]
            return Answer(question=question, answered=False, quotes=(), related=tuple(related))
        shown = quotes[offset : offset + k]
        return Answer(question=question, answered=True, quotes=tuple(shown), offset=offset)

    def sources(self) -> list[SourceInfo]:
        """Every stored document with its date and passage count, by path."""
        with self.store.sessions() as session:
            rows = session.execute(
                select(DocumentRow, func.count(PassageRow.id))
                .join(PassageRow, isouter=True)
                .group_by(DocumentRow.id)
                .order_by(DocumentRow.path)
            ).all()
            return [SourceInfo(_source(doc), count) for doc, count in rows]

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
            fresh = load_indexes(self.store, self.settings.data_dir, self._dimension())
            self._index = fresh
        return fresh

    def _dimension(self) -> int:
        if self._embedder is None:
            self._embedder = shared_embedder(self.settings.model_path)
        return self._embedder.dimension

    def _quotes(self, ids: Iterable[int], query: np.ndarray) -> list[Quote]:
        """Quotes for the candidate passages, scored by cosine similarity for now."""
        rows = self.store.passages_by_id(sorted(ids))
        quotes = []
        for row in rows.values():
            similarity = float(np.frombuffer(row.embedding, dtype="<f4") @ query)
            quotes.append(
                Quote(
                    text=row.text,
                    source=_source(row.document),
                    score=similarity,
                    similarity=similarity,
                    passage_id=row.id,
                    start=row.start,
                    end=row.end,
                )
            )
        return quotes


def _source(doc: DocumentRow) -> Source:
    return Source(path=doc.path, date=doc.date, title=doc.title)


def _unique_sources(quotes: list[Quote]) -> list[Source]:
    seen: dict[str, Source] = {}
    for quote in quotes:
        seen.setdefault(quote.source.path, quote.source)
    return list(seen.values())
