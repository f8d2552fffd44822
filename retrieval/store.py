"""The database: documents, passages and their embeddings. It is the source of truth;
the FAISS index is a cache built from it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    create_engine,
    event,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    joinedload,
    mapped_column,
    relationship,
    sessionmaker,
)

from retrieval.errors import DataDirError

CORPUS_VERSION = "corpus_version"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base shared by every table (front ends add theirs to it)."""


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(1024), unique=True)
    root: Mapped[str] = mapped_column(String(2048), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    passages: Mapped[list[PassageRow]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )
    title_vector: Mapped[TitleVectorRow | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class TitleVectorRow(Base):
    """The encoded title of a document: evidence that a passage belongs to the story asked
    about. A table of its own, so databases made before it gain it without a migration."""

    __tablename__ = "title_vectors"

    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    # float32 little-endian bytes of the unit vector.
    embedding: Mapped[bytes] = mapped_column(LargeBinary)


class PassageRow(Base):
    __tablename__ = "passages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    # float32 little-endian bytes of the unit vector.
    embedding: Mapped[bytes] = mapped_column(LargeBinary)

    document: Mapped[DocumentRow] = relationship(back_populates="passages")


class MetaRow(Base):
    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Store:
    """Opens the database and creates the tables it needs.

    Args:
        url: A SQLAlchemy database URL.

    Example:
        >>> store = Store("sqlite:///:memory:")
        >>> store.passage_count()
        0
    """

    def __init__(self, url: str):
        self.url = url
        try:
            self.engine: Engine = create_engine(url, future=True)
            if self.engine.dialect.name == "sqlite":
                event.listen(self.engine, "connect", _sqlite_pragmas)
            Base.metadata.create_all(self.engine)
        except SQLAlchemyError as exc:
            raise DataDirError(
                f"cannot open the database {_redact(url)}: {exc.__class__.__name__}: "
                f"{getattr(exc, 'orig', exc)}"
            ) from exc
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self.sessions.begin() as session:
            yield session

    def corpus_version(self) -> str | None:
        """Changes whenever documents or passages change; names the index cache."""
        with self.sessions() as session:
            row = session.get(MetaRow, CORPUS_VERSION)
            return row.value if row else None

    @staticmethod
    def bump_corpus_version(session: Session) -> str:
        version = uuid.uuid4().hex
        session.merge(MetaRow(key=CORPUS_VERSION, value=version))
        return version

    def passage_count(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count(PassageRow.id))) or 0)

    def document_count(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count(DocumentRow.id))) or 0)

    def embeddings(self, batch: int = 10_000) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All passage ids and vectors, in batches, for rebuilding the index without re-encoding."""
        last = 0
        with self.sessions() as session:
            while True:
                rows = session.execute(
                    select(PassageRow.id, PassageRow.embedding)
                    .where(PassageRow.id > last)
                    .order_by(PassageRow.id)
                    .limit(batch)
                ).all()
                if not rows:
                    return
                ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
                vectors = np.vstack([bytes_vector(r[1]) for r in rows])
                yield ids, vectors
                last = int(ids[-1])

    def passage_texts(self, batch: int = 10_000) -> Iterator[tuple[int, str | None, str]]:
        """(passage id, document title, passage text) for every passage, by id."""
        last = 0
        with self.sessions() as session:
            while True:
                rows = session.execute(
                    select(PassageRow.id, DocumentRow.title, PassageRow.text)
                    .join(DocumentRow)
                    .where(PassageRow.id > last)
                    .order_by(PassageRow.id)
                    .limit(batch)
                ).all()
                if not rows:
                    return
                yield from ((int(r[0]), r[1], r[2]) for r in rows)
                last = int(rows[-1][0])

    def passages_by_id(self, ids: Sequence[int]) -> dict[int, PassageRow]:
        """Passages (with their document and its title vector loaded) keyed by id."""
        if not ids:
            return {}
        with self.sessions() as session:
            rows = session.scalars(
                select(PassageRow)
                .options(joinedload(PassageRow.document).joinedload(DocumentRow.title_vector))
                .where(PassageRow.id.in_(list(ids)))
            ).all()
            return {row.id: row for row in rows}


def vector_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def bytes_vector(data: bytes) -> np.ndarray:
    """The vector :func:`vector_bytes` stored."""
    return np.frombuffer(data, dtype="<f4")


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets a running bot read while an ingest writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<invalid url>"
