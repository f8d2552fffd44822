"""The corpus's tables: documents, passages, title vectors, meta, fetched URLs.

These models are the corpus's schema at head; the database gets there only through the
revisions of ``retrieval/store/migrations/versions/`` (a test checks the two agree). Changing a
model means writing a revision: ``python -m retrieval.store.migrations revision --autogenerate
-m "..."``.

The same database holds the bot's own tables (``bot/store/schema.py``), under a history of
their own (``alembic_version_bot``): they are not defined here, and since revision 0006 no
corpus revision touches them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(UTC)


# The newest revision in migrations/, which these models define; a new database is created
# from them and stamped with it. A test holds the two together.
SCHEMA_REVISION = "0006"


class Base(DeclarativeBase):
    """Declarative base of the corpus's tables."""


# A document is live (searched and listed) when no ingest is still staging it.
LIVE = "ingest_run IS NULL"
STAGED = "ingest_run IS NOT NULL"


class DocumentRow(Base):
    """A document: named by its collection and its path relative to the folder ingested.

    An ingest stages the documents it writes (``ingest_run`` names the run) and makes them live
    all at once when it ends: until then readers see the corpus as it was, and a run that dies
    leaves staged rows the next ingest takes over or removes.
    """

    __tablename__ = "documents"
    __table_args__ = (
        # One live document per name; staged versions of it may exist beside it.
        Index(
            "uq_documents_live_path",
            "collection",
            "path",
            unique=True,
            sqlite_where=text(LIVE),
            postgresql_where=text(LIVE),
        ),
        # Finds an ingest's staged documents; holding only those, it is small, and the
        # planner cannot take it for "live documents" (a scan of all of them).
        Index(
            "ix_documents_staged",
            "ingest_run",
            sqlite_where=text(STAGED),
            postgresql_where=text(STAGED),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    collection: Mapped[str] = mapped_column(String(1024))
    path: Mapped[str] = mapped_column(String(1024))
    # The folder it was read from: an ingest without --collection finds its collection by it.
    root: Mapped[str] = mapped_column(String(2048), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    date: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Its canonical link, when the document names one (a page's, a feed item's).
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    # The document's text as extracted, which its passages quote: ``quotedesk show`` prints
    # it, so a quote can be checked in context without the original file. None for a document
    # stored before revision 0005 (until its file is ingested again).
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    ingested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The ingest staging it; None once live.
    ingest_run: Mapped[str | None] = mapped_column(String(32), nullable=True)

    passages: Mapped[list[PassageRow]] = relationship(
        back_populates="document", cascade="all, delete-orphan", passive_deletes=True
    )
    title_vector: Mapped[TitleVectorRow | None] = relationship(
        cascade="all, delete-orphan", passive_deletes=True
    )


class TitleVectorRow(Base):
    """The encoded title of a document: evidence that a passage belongs to the story asked
    about."""

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
    """Key-value facts about the corpus: its version (names the index caches), its recipe."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class FetchedRow(Base):
    """What an HTTP fetch of an operator's URL last got: its validators for the next
    conditional request (ETag, Last-Modified) and its content's digest, so nothing is fetched
    or read twice across restarts."""

    __tablename__ = "fetched_urls"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    etag: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(128), nullable=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
