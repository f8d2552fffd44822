"""QuoteDesk: the one entry point every front end uses (CLI, Slack, tests)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from sqlalchemy import func, select

from retrieval.answer import Answer, Quote, Source, SourceInfo
from retrieval.config import RetrievalConfig, Settings
from retrieval.dedupe import merge_duplicates
from retrieval.embedder import Embedder, shared_embedder
from retrieval.errors import EmptyQuestionError
from retrieval.fusion import Candidate, rank
from retrieval.highlight import highlight
from retrieval.indexes import Indexes, load_indexes
from retrieval.ingest import IngestReport, Progress, ingest
from retrieval.lexical import word_coverage
from retrieval.query import Query
from retrieval.store import DocumentRow, PassageRow, Store, bytes_vector

DEFAULT_K = 5
MODES = ("dense", "lexical", "hybrid")
DEFAULT_MODE = "hybrid"
# Candidates taken from each retriever before fusion.
CANDIDATES = 50
# Sources offered as 'might be related' when nothing answers.
RELATED = 3
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
        config: RetrievalConfig | None = None,
        embedder: Embedder | None = None,
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

        The question may carry filters: ``since:YYYY-MM-DD`` and ``before:YYYY-MM-DD`` keep
        documents dated in that range, both days included (undated documents are left out when
        a filter is given); "latest"/"most recent" questions prefer newer documents among
        equally relevant ones.

        Args:
            question: The question, in words.
            k: How many quotes to return.
            offset: How many of the best quotes to skip (for "more quotes").
            mode: ``dense`` (embeddings), ``lexical`` (BM25) or ``hybrid`` (both, fused).

        Raises:
            EmptyQuestionError: The question has no words.
            QueryError: A filter's date cannot be read.
        """
        question = question.strip()
        query = Query.parse(question)
        if not _HAS_WORD.search(query.text):
            raise EmptyQuestionError(
                'ask a question in words, e.g. "why did Baku skip the Washington meeting?"'
            )
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        indexes = self._current_index()
        vector = self.embedder.encode_query(query.text)[0]
        candidates = self._candidates(indexes, query, vector, mode, wanted=offset + k)
        ranked = rank(candidates, mode=mode, prefer_recent=query.prefer_recent)
        best = max((c.similarity for c in ranked), default=0.0)
        if best < MIN_SCORE:
            related = _unique_sources(c.row.document for c in ranked)[:RELATED]
            return Answer(
                question, answered=False, quotes=(), related=tuple(related), offset=offset
            )
        groups = merge_duplicates(ranked, limit=offset + k)[offset:]
        spans = highlight(self.embedder, query.text, vector, [g[0].row.text for g in groups])
        quotes = tuple(
            Quote(
                text=lead.row.text,
                source=_source(lead.row.document),
                score=lead.score,
                similarity=lead.similarity,
                passage_id=lead.row.id,
                start=lead.row.start,
                end=lead.row.end,
                highlights=found,
                also_in=tuple(_source(c.row.document) for c in copies),
            )
            for (lead, copies), found in zip(groups, spans, strict=True)
        )
        return Answer(question, answered=True, quotes=quotes, offset=offset)

    def _candidates(
        self, indexes: Indexes, query: Query, vector: np.ndarray, mode: str, *, wanted: int
    ) -> list[Candidate]:
        """Passages either retriever finds that pass the query's date filters."""
        if indexes.size == 0:
            return []
        # Filters drop candidates after the search, so search deeper when there are any.
        n = max(CANDIDATES, wanted * 4) * (20 if query.filtered else 1)
        ids: set[int] = set()
        bm25: dict[int, float] = {}
        if mode in ("dense", "hybrid"):
            _, found = indexes.dense.search(vector[None, :], n)
            ids.update(int(i) for i in found[0] if i >= 0)
        if mode in ("lexical", "hybrid"):
            scores, found = indexes.lexical.search(query.text, n)
            bm25 = {int(i): float(s) for s, i in zip(scores, found, strict=True)}
            ids.update(bm25)
        rows = [
            row
            for row in self.store.passages_by_id(sorted(ids)).values()
            if query.admits(row.document.date)
        ]
        coverage = word_coverage(query.text, [row.text for row in rows])
        candidates = []
        for row, covered in zip(rows, coverage, strict=True):
            passage_vector = bytes_vector(row.embedding)
            title = row.document.title_vector
            title_similarity = float(bytes_vector(title.embedding) @ vector) if title else 0.0
            candidates.append(
                Candidate(
                    row=row,
                    vector=passage_vector,
                    similarity=float(passage_vector @ vector),
                    bm25=bm25.get(row.id, 0.0),
                    title_similarity=title_similarity,
                    coverage=covered,
                )
            )
        return candidates

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
            fresh = load_indexes(self.store, self.settings.data_dir, self.embedder.dimension)
            self._index = fresh
        return fresh


def _source(doc: DocumentRow) -> Source:
    return Source(path=doc.path, date=doc.date, title=doc.title)


def _unique_sources(documents: Iterable[DocumentRow]) -> list[Source]:
    seen: dict[str, Source] = {}
    for doc in documents:
        seen.setdefault(doc.path, _source(doc))
    return list(seen.values())
