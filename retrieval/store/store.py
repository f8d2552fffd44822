"""The corpus store: documents, passages and their embeddings, collections, fetched URLs and the
staged-ingest protocol. It is the source of truth; the search indexes are caches built from it.

Every query and write of the corpus is a method here, and every method returns plain records
(:mod:`retrieval.records`), never ORM rows: the rest of the core knows nothing of SQL. The
bot keeps its own records (deliveries, feedback) in the same database through a store of its
own, opened on this one's engine (:attr:`Store.engine`): one pool per process.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, bindparam, delete, func, insert, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, aliased, sessionmaker

from retrieval.records import (
    CollectionInfo,
    CollectionSummary,
    Document,
    FetchRecord,
    NewDocument,
    Passage,
    Published,
    Source,
    SourceInfo,
    StoredFile,
    StoredText,
)
from retrieval.store.database import in_utc, open_engine
from retrieval.store.migrate import check, database_error, is_command_error, open_schema
from retrieval.store.schema import (
    DocumentRow,
    FetchedRow,
    MetaRow,
    PassageRow,
    TitleVectorRow,
    utcnow,
)

log = logging.getLogger(__name__)

CORPUS_VERSION = "corpus_version"
# A prime below 2**63: passage fingerprints fit an int64.
_P61 = 2**61 - 1
# Tries at making an ingest live when another one publishes documents of the same names.
PUBLISH_ATTEMPTS = 3
# The tables an ingest writes, whose planner statistics are refreshed after one that changed
# something (meta and fetched_urls are looked up by key only).
INGEST_TABLES: tuple[Table, ...] = (
    cast(Table, DocumentRow.__table__),
    cast(Table, PassageRow.__table__),
    cast(Table, TitleVectorRow.__table__),
)
# Rows SQLite's ANALYZE looks at per index, about (approximate statistics, in milliseconds at
# any size; SQLite's own PRAGMA optimize uses 400). A PRAGMA takes no bound parameter.
_SQLITE_ANALYSIS_LIMIT = text("PRAGMA analysis_limit=1000")
_SQLITE_NO_ANALYSIS_LIMIT = text("PRAGMA analysis_limit=0")


class Store:
    """Opens the database: creates the corpus schema in a new one, refuses one whose corpus
    schema is behind.

    A database with no corpus table is created at the newest revision, through the
    migrations (safe when several processes open it at once). One at an older revision, or
    made before migrations, is left alone: ``quotedesk db upgrade`` upgrades it.

    Attributes:
        engine: The database's engine (its connection pool), which the bot's store shares.

    Args:
        url: A SQLAlchemy database URL.

    Raises:
        SchemaBehindError: The database's schema is older than this release's.
        SchemaAheadError: A newer release upgraded it.
        DataDirError: The database cannot be opened.

    Example:
        >>> store = Store("sqlite:///:memory:")
        >>> store.passage_count()
        0
    """

    def __init__(self, url: str):
        self.url = url
        try:
            self.engine: Engine = open_engine(url)
        except SQLAlchemyError as exc:
            raise database_error(url, exc) from exc
        try:
            check(url, open_schema(self.engine))
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise database_error(url, exc) from exc
        except BaseException as exc:
            self.engine.dispose()
            if isinstance(exc, Exception) and is_command_error(exc):
                raise database_error(url, exc) from exc
            raise
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # The corpus: reading

    def corpus_version(self) -> str | None:
        """Changes whenever documents or passages change; names the index caches."""
        return self.meta(CORPUS_VERSION)

    def meta(self, key: str) -> str | None:
        # A plain query on a connection, no ORM session: every question reads the corpus
        # version, and the session and its identity map cost more than the read itself.
        with self.engine.connect() as connection:
            return connection.scalar(_META, {"key": key})

    def passage_count(self) -> int:
        """Passages of live documents (not of an ingest still staging)."""
        with self._sessions() as session:
            query = select(func.count(PassageRow.id)).join(DocumentRow).where(_live())
            return int(session.scalar(query) or 0)

    def document_count(self) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count(DocumentRow.id)).where(_live())) or 0)

    def titled_document_count(self) -> tuple[int, int]:
        """(documents with a title, title vectors stored): the two must agree."""
        with self._sessions() as session:
            titled = session.scalar(
                select(func.count(DocumentRow.id)).where(DocumentRow.title.is_not(None), _live())
            )
            vectors = session.scalar(
                select(func.count(TitleVectorRow.document_id)).join(DocumentRow).where(_live())
            )
            return int(titled or 0), int(vectors or 0)

    def embeddings(self, batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All passage ids and vectors, in batches, for rebuilding the index without re-encoding."""
        query = select(PassageRow.id, PassageRow.embedding).join(DocumentRow).where(_live())
        for rows in self._passage_pages(query, batch):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            yield ids, np.vstack([bytes_vector(r[1]) for r in rows])

    def passage_fingerprints(self, batch: int = 10_000) -> tuple[np.ndarray, np.ndarray]:
        """Every live passage's id, ascending, and its fingerprint: a number that changes
        when the id is given to another passage (its document's content, its span), so an
        index can tell which of its passages are still the same.

        Example:
            >>> store = Store("sqlite:///:memory:")
            >>> store.passage_fingerprints()[0].tolist()
            []
        """
        query = (
            select(PassageRow.id, PassageRow.start, PassageRow.end, DocumentRow.content_hash)
            .join(DocumentRow)
            .where(_live())
        )
        ids: list[int] = []
        prints: list[int] = []
        for rows in self._passage_pages(query, batch):
            for pid, start, end, digest in rows:
                ids.append(int(pid))
                # Stable across processes (unlike hash()): it is saved with the index.
                prints.append((int(digest[:12], 16) * 1_000_003 + start * 65_537 + end) % _P61)
        return np.asarray(ids, dtype=np.int64), np.asarray(prints, dtype=np.int64)

    def passage_texts(self, batch: int = 10_000) -> Iterator[tuple[int, str | None, str]]:
        """(passage id, document title, passage text) for every passage, by id."""
        query = (
            select(PassageRow.id, DocumentRow.title, PassageRow.text)
            .join(DocumentRow)
            .where(_live())
        )
        for rows in self._passage_pages(query, batch):
            yield from ((int(r[0]), r[1], r[2]) for r in rows)

    def _passage_pages(self, query: Any, batch: int) -> Iterator[Sequence[Any]]:
        """``query`` (whose first column is the passage id) page by page, in id order: keyset
        pages stay fast however far in, and memory holds one page."""
        last = 0
        with self._sessions() as session:
            while rows := session.execute(
                query.where(PassageRow.id > last).order_by(PassageRow.id).limit(batch)
            ).all():
                yield rows
                last = int(rows[-1][0])

    def passages(self, ids: Iterable[int]) -> dict[int, Passage]:
        """The passages with these ids (with their documents), keyed by id; unknown ids are
        left out."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        with self.engine.connect() as connection:  # Core, no ORM session: see meta()
            rows = connection.execute(_PASSAGES, {"ids": wanted}).all()
        documents: dict[int, Document] = {}
        found = {}
        for row in rows:
            pid, start, end, text, vector, doc_id, path, day, title, collection, title_v, url = row
            document = documents.get(doc_id)
            if document is None:
                document = documents[doc_id] = Document(
                    id=doc_id,
                    source=Source(path, day, title, collection, url),
                    title_vector=bytes_vector(title_v) if title_v is not None else None,
                )
            found[pid] = Passage(
                id=pid,
                document=document,
                start=start,
                end=end,
                text=text,
                vector=bytes_vector(vector),
            )
        return found

    def sources(self) -> list[SourceInfo]:
        """Every stored document with its date and passage count, by collection and path."""
        with self._sessions() as session:
            rows = session.execute(
                select(
                    DocumentRow.collection,
                    DocumentRow.path,
                    DocumentRow.date,
                    DocumentRow.title,
                    DocumentRow.url,
                    func.count(PassageRow.id),
                )
                .join(PassageRow, isouter=True)
                .where(_live())
                .group_by(DocumentRow.id)
                .order_by(DocumentRow.collection, DocumentRow.path)
            ).all()
            return [
                SourceInfo(Source(path, day, title, collection, url), count)
                for collection, path, day, title, url, count in rows
            ]

    def texts(self, path: str, *, collection: str | None = None) -> list[StoredText]:
        """The live documents named ``path`` (in ``collection``, or in any), with their text
        and passage spans, by collection."""
        with self._sessions() as session:
            query = select(DocumentRow).where(DocumentRow.path == path, _live())
            if collection is not None:
                query = query.where(DocumentRow.collection == collection)
            found = []
            for row in session.scalars(query.order_by(DocumentRow.collection)):
                spans = session.execute(
                    select(PassageRow.start, PassageRow.end)
                    .where(PassageRow.document_id == row.id)
                    .order_by(PassageRow.ordinal)
                ).all()
                found.append(
                    StoredText(
                        Source(row.path, row.date, row.title, row.collection, row.url),
                        row.text,
                        tuple((int(a), int(b)) for a, b in spans),
                    )
                )
            return found

    def fetch_record(self, url: str) -> FetchRecord | None:
        """What the last fetch of ``url`` got, if it was fetched before."""
        with self._sessions() as session:
            row = session.get(FetchedRow, url)
            if row is None:
                return None
            return FetchRecord(row.url, row.etag, row.last_modified, row.content_hash)

    def record_fetch(self, record: FetchRecord) -> None:
        """Remember what a fetch of ``record.url`` got, for the next conditional request."""
        with self._sessions.begin() as session:
            session.merge(
                FetchedRow(
                    url=record.url,
                    etag=record.etag,
                    last_modified=record.last_modified,
                    content_hash=record.content_hash,
                    fetched_at=utcnow(),
                )
            )

    def collections(self) -> list[CollectionInfo]:
        """Every collection with the folders its documents came from, by name.

        Example:
            >>> store = Store("sqlite:///:memory:")
            >>> def document(path):  # no date, title or passages
            ...     return NewDocument("news", path, "/srv/news", "0" * 64, None, None, None, ())
            >>> store.put_documents([document("a.txt"), document("b.txt")]).added
            2
            >>> store.collections()
            [CollectionInfo(name='news', roots=('/srv/news',), documents=2)]
        """
        with self._sessions() as session:
            rows = session.execute(
                select(DocumentRow.collection, DocumentRow.root, func.count(DocumentRow.id))
                .where(_live())
                .group_by(DocumentRow.collection, DocumentRow.root)
                .order_by(DocumentRow.collection, DocumentRow.root)
            ).all()
        found: dict[str, tuple[list[str], int]] = {}
        for name, root, count in rows:
            roots, documents = found.get(name, ([], 0))
            found[name] = ([*roots, root], documents + int(count))
        return [
            CollectionInfo(name, tuple(roots), documents)
            for name, (roots, documents) in found.items()
        ]

    def summary(self) -> list[CollectionSummary]:
        """Each collection's document count, date range and last ingest, by name: one
        aggregate over the documents, none over the passages.

        Example:
            >>> from datetime import date
            >>> store = Store("sqlite:///:memory:")
            >>> store.put_documents(
            ...     [NewDocument("news", "a.txt", "/n", "0" * 64, date(2023, 5, 1), None, None, ())]
            ... ).added
            1
            >>> [(s.name, s.documents, s.undated, s.first) for s in store.summary()]
            [('news', 1, 0, datetime.date(2023, 5, 1))]
        """
        with self._sessions() as session:
            rows = session.execute(
                select(
                    DocumentRow.collection,
                    func.count(DocumentRow.id),
                    func.count(DocumentRow.date),
                    func.min(DocumentRow.date),
                    func.max(DocumentRow.date),
                    func.max(DocumentRow.ingested_at),
                )
                .where(_live())
                .group_by(DocumentRow.collection)
                .order_by(DocumentRow.collection)
            ).all()
        return [
            CollectionSummary(
                name,
                int(documents),
                int(documents) - int(dated),
                first,
                last,
                in_utc(ingested),
            )
            for name, documents, dated, first, last, ingested in rows
        ]

    def stored_files(self, collection: str) -> dict[str, StoredFile]:
        """What was ingested into ``collection`` before, by path: to skip files whose content
        is unchanged."""
        with self._sessions() as session:
            rows = session.execute(
                select(
                    DocumentRow.id,
                    DocumentRow.path,
                    DocumentRow.content_hash,
                    DocumentRow.root,
                    DocumentRow.text.is_not(None),
                ).where(DocumentRow.collection == collection, _live())
            )
            return {
                path: StoredFile(doc_id, digest, root, None, bool(has_text))
                for doc_id, path, digest, root, has_text in rows
            }

    def fill_texts(self, texts: dict[int, tuple[str, str | None]]) -> None:
        """Keep the extracted text and link of live documents stored without them (before
        revision 0005), by document id: their passages are unchanged, so nothing is encoded."""
        if not texts:
            return
        with self._sessions.begin() as session:
            table = cast(Table, DocumentRow.__table__)
            # Core executemany: an ORM update with a WHERE of its own takes one set of values.
            session.connection().execute(
                update(table)
                .where(table.c.id == bindparam("doc_id"))
                .values(text=bindparam("new_text"), url=bindparam("new_url")),
                [
                    {"doc_id": doc_id, "new_text": text, "new_url": url}
                    for doc_id, (text, url) in texts.items()
                ],
            )

    def staged_files(self, collection: str) -> dict[str, StoredFile]:
        """Documents of ``collection`` that ingests staged and never made live (they died),
        by path: the next ingest takes over those whose file has not changed since."""
        with self._sessions() as session:
            rows = session.execute(
                select(
                    DocumentRow.id,
                    DocumentRow.path,
                    DocumentRow.content_hash,
                    DocumentRow.root,
                    DocumentRow.ingest_run,
                )
                .where(DocumentRow.collection == collection, DocumentRow.ingest_run.is_not(None))
                .order_by(DocumentRow.id)
            )
            # The newest staging of a path wins.
            return {
                path: StoredFile(doc_id, digest, root, run)
                for doc_id, path, digest, root, run in rows
            }

    # The corpus: writing. An ingest stages documents (readers do not see them), then makes
    # them live at once with publish(): a reader sees the corpus before or after, never half.

    def stage_documents(self, documents: Sequence[NewDocument], *, run: str) -> None:
        """Store ``documents`` for the ingest ``run``, unseen until :meth:`publish`; one
        transaction, so a crash loses at most these."""
        if not documents:
            return
        # Core bulk inserts, not ORM objects: a million-passage archive is written at several
        # times the speed (the ORM's cost is per object).
        with self._sessions.begin() as session:
            ids = session.scalars(
                insert(DocumentRow).returning(DocumentRow.id, sort_by_parameter_order=True),
                [
                    {
                        "collection": new.collection,
                        "path": new.path,
                        "root": new.root,
                        "content_hash": new.content_hash,
                        "date": new.date,
                        "title": new.title,
                        "url": new.url,
                        "text": new.text,
                        "ingest_run": run,
                    }
                    for new in documents
                ],
            ).all()
            titles = [
                {"document_id": doc_id, "embedding": vector_bytes(new.title_vector)}
                for doc_id, new in zip(ids, documents, strict=True)
                if new.title_vector is not None
            ]
            if titles:
                session.execute(insert(TitleVectorRow), titles)
            passages = [
                {
                    "document_id": doc_id,
                    "ordinal": ordinal,
                    "start": p.start,
                    "end": p.end,
                    "text": p.text,
                    "embedding": vector_bytes(p.vector),
                }
                for doc_id, new in zip(ids, documents, strict=True)
                for ordinal, p in enumerate(new.passages)
            ]
            if passages:
                session.execute(insert(PassageRow), passages)

    def resume_staged(self, collection: str, *, run: str, take: Iterable[int]) -> int:
        """Hand the staged documents ``take`` (left by an ingest that died) to ``run``, and
        delete the other staged documents of ``collection`` that are not ``run``'s.

        Returns:
            How many staged documents were deleted.
        """
        taken = sorted(set(take))
        with self._sessions.begin() as session:
            if taken:
                session.execute(
                    update(DocumentRow).where(DocumentRow.id.in_(taken)).values(ingest_run=run)
                )
            stale = select(DocumentRow.id).where(
                DocumentRow.collection == collection,
                DocumentRow.ingest_run.is_not(None),
                DocumentRow.ingest_run != run,
            )
            gone = list(session.scalars(stale))
            if gone:
                _delete_documents(session, gone)
            return len(gone)

    def publish(
        self,
        run: str,
        *,
        collection: str,
        keep: set[str] | None = None,
        moved: Iterable[str] = (),
        root: str | None = None,
        meta: dict[str, str] | None = None,
    ) -> Published:
        """Make the documents ``run`` staged live, in one transaction with the rest of an
        ingest's changes, and give the corpus a new version if anything changed.

        Each staged document takes the place of the live one of the same collection and path.

        Args:
            run: The ingest whose staged documents go live.
            collection: The collection ingested.
            keep: When given, live documents of ``collection`` whose path is not in it are
                removed (their files are gone).
            moved: Paths of ``collection`` now read from ``root`` (their text unchanged).
            root: The folder ``moved`` is read from now.
            meta: Facts to record with the corpus (the passage recipe).
        """
        moved = list(moved)
        for attempt in range(PUBLISH_ATTEMPTS):
            try:
                return self._publish(run, collection, keep, moved, root, meta)
            except IntegrityError:
                # Another ingest made a document of the same name live while this one was
                # publishing (replicas ingesting the seeds together): looked at again, it is
                # one more document to replace.
                if attempt == PUBLISH_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    def _publish(
        self,
        run: str,
        collection: str,
        keep: set[str] | None,
        moved: Iterable[str],
        root: str | None,
        meta: dict[str, str] | None,
    ) -> Published:
        with self._sessions.begin() as session:
            staged = aliased(DocumentRow)
            replaced_ids = list(
                session.scalars(
                    select(DocumentRow.id)
                    .join(
                        staged,
                        (staged.collection == DocumentRow.collection)
                        & (staged.path == DocumentRow.path),
                    )
                    .where(staged.ingest_run == run, _live())
                )
            )
            if replaced_ids:
                _delete_documents(session, replaced_ids)
            result = session.execute(
                update(DocumentRow).where(DocumentRow.ingest_run == run).values(ingest_run=None)
            )
            made_live = int(getattr(result, "rowcount", 0) or 0)
            removed = 0
            if keep is not None:
                gone = [
                    doc_id
                    for doc_id, path in session.execute(
                        select(DocumentRow.id, DocumentRow.path).where(
                            DocumentRow.collection == collection, _live()
                        )
                    )
                    if path not in keep
                ]
                if gone:
                    _delete_documents(session, gone)
                removed = len(gone)
            wanted = sorted(set(moved))
            if wanted and root is not None:
                session.execute(
                    update(DocumentRow)
                    .where(
                        DocumentRow.collection == collection,
                        DocumentRow.path.in_(wanted),
                        _live(),
                    )
                    .values(root=root)
                )
            for key, value in (meta or {}).items():
                session.merge(MetaRow(key=key, value=value))
            done = Published(
                added=made_live - len(replaced_ids),
                replaced=len(replaced_ids),
                removed=removed,
            )
            if done.changed:
                _bump_version(session)
            return done

    def put_documents(self, documents: Sequence[NewDocument]) -> Published:
        """Store ``documents`` live at once, each in place of the document of its name.

        Example:
            >>> store = Store("sqlite:///:memory:")
            >>> document = NewDocument("news", "a.txt", "/srv/news", "0" * 64, None, None, None, ())
            >>> store.put_documents([document]).added, store.put_documents([document]).replaced
            (1, 1)
        """
        run = new_run()
        self.stage_documents(documents, run=run)
        collections = {d.collection for d in documents}
        published = [self.publish(run, collection=c) for c in sorted(collections)]
        return Published(
            added=sum(p.added for p in published), replaced=sum(p.replaced for p in published)
        )

    def prune(self, collection: str, *, keep: set[str]) -> int:
        """Remove the live documents of ``collection`` whose path is not in ``keep``; other
        collections are not touched."""
        return self.publish(new_run(), collection=collection, keep=keep).removed

    def move_collection(self, collection: str, paths: Iterable[str], *, root: str) -> int:
        """Record that these documents of ``collection`` are now read from ``root`` (the
        collection's folder moved; their text did not change, so the corpus version stays).

        Returns:
            How many documents were updated.
        """
        wanted = sorted(set(paths))
        if not wanted:
            return 0
        with self._sessions.begin() as session:
            result = session.execute(
                update(DocumentRow)
                .where(DocumentRow.collection == collection, DocumentRow.path.in_(wanted), _live())
                .values(root=root)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def set_meta(self, key: str, value: str) -> None:
        with self._sessions.begin() as session:
            session.merge(MetaRow(key=key, value=value))

    def refresh_statistics(self, tables: Iterable[Table] = INGEST_TABLES) -> None:
        """Bring the query planner's statistics of ``tables`` (the schema's tables) up to
        date: after an ingest changed them, so that plans follow the corpus as it grows.

        PostgreSQL runs ``ANALYZE`` on each (a sample of rows: cheap at any size; autovacuum
        would get there too, later). SQLite runs ``ANALYZE`` on each, looking at about a
        thousand rows per index. Not ``PRAGMA optimize``: before SQLite 3.46 it analyzes only
        tables whose indexes that same connection's queries used, so what it does hangs on
        which pooled connection runs it (after an ingest here: documents and passages, not
        title_vectors; on a fresh connection, nothing), and a table only once until it grows
        25-fold. Other databases: nothing. A failure is logged, never raised: statistics only
        guide the planner.

        Example:
            >>> store = Store("sqlite:///:memory:")
            >>> store.refresh_statistics()
        """
        dialect = self.engine.dialect
        if dialect.name not in ("sqlite", "postgresql"):
            return
        quote = dialect.identifier_preparer.format_table
        # The name of a Table of the schema (no input reaches it), quoted by the dialect.
        statements = [
            text(f"ANALYZE {quote(table)}")  # sql-format-ok: a schema Table's name, quoted
            for table in tables
        ]
        try:
            with self.engine.begin() as connection:
                if dialect.name == "sqlite":
                    connection.execute(_SQLITE_ANALYSIS_LIMIT)
                for statement in statements:
                    connection.execute(statement)
                if dialect.name == "sqlite":  # the pooled connection as it was
                    connection.execute(_SQLITE_NO_ANALYSIS_LIMIT)
        except SQLAlchemyError as exc:
            log.warning("could not refresh the database's statistics: %s", exc)


def vector_bytes(vector: np.ndarray) -> bytes:
    """How a vector is stored: float32 little-endian bytes."""
    return np.asarray(vector, dtype="<f4").tobytes()


def bytes_vector(data: bytes) -> np.ndarray:
    """The vector :func:`vector_bytes` stored."""
    return np.frombuffer(data, dtype="<f4")


def new_run(prefix: str = "") -> str:
    """A name for one ingest run (32 characters), starting with ``prefix``."""
    return (prefix + uuid.uuid4().hex)[:32].ljust(32, "0")


def _live() -> Any:
    return DocumentRow.ingest_run.is_(None)


# The two reads of every question, built once: building a statement costs more than SQLite
# takes to run it (about a millisecond a question at a million passages).
_META = select(MetaRow.value).where(MetaRow.key == bindparam("key"))
# Plain columns, not ORM objects: this runs for every question, on a hundred or more
# candidates.
_PASSAGES = (
    select(
        PassageRow.id,
        PassageRow.start,
        PassageRow.end,
        PassageRow.text,
        PassageRow.embedding,
        DocumentRow.id,
        DocumentRow.path,
        DocumentRow.date,
        DocumentRow.title,
        DocumentRow.collection,
        TitleVectorRow.embedding,
        DocumentRow.url,
    )
    .join(DocumentRow, PassageRow.document_id == DocumentRow.id)
    .outerjoin(TitleVectorRow, TitleVectorRow.document_id == DocumentRow.id)
    .where(PassageRow.id.in_(bindparam("ids", expanding=True)), _live())
)


def _delete_documents(session: Session, ids: Sequence[int]) -> None:
    # Explicit deletes: SQLite enforces ON DELETE CASCADE only with its pragma on.
    session.execute(delete(PassageRow).where(PassageRow.document_id.in_(ids)))
    session.execute(delete(TitleVectorRow).where(TitleVectorRow.document_id.in_(ids)))
    session.execute(delete(DocumentRow).where(DocumentRow.id.in_(ids)))


def _bump_version(session: Session) -> None:
    session.merge(MetaRow(key=CORPUS_VERSION, value=uuid.uuid4().hex))
