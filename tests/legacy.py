"""Databases as quotedesk made them before migrations, to test their adoption.

* :class:`PreviousRelease` (commit 60d4740, the last release): the corpus tables of
  ``retrieval/store.py`` and the bot's ``slack_events`` and ``slack_feedback`` of
  ``bot/slack/models.py``, copied here model for model.
* :class:`Unreleased` (the code just before migrations): the same corpus tables, the bot's
  memory renamed ``handled_deliveries`` and ``answer_feedback``: what revision 0001 must equal.

:func:`build_previous_release` fills a previous-release database the way that release's ingest
did: real passages of real files, embedded by :class:`~tests.helpers.FakeEncoder`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    create_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

from retrieval.documents import iter_corpus_files, parse_document
from retrieval.ingest import PASSAGE_RECIPE, RECIPE_KEY
from retrieval.passages import find_title, split_passages
from retrieval.store import vector_bytes
from tests.helpers import FakeEncoder


def utcnow() -> datetime:
    return datetime.now(UTC)


def corpus_models(base: type[DeclarativeBase]) -> dict[str, type]:
    """The corpus tables of 60d4740 (unchanged until migrations), on ``base``."""

    class DocumentRow(base):  # type: ignore[misc, valid-type]
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

    class TitleVectorRow(base):  # type: ignore[misc, valid-type]
        __tablename__ = "title_vectors"

        document_id: Mapped[int] = mapped_column(
            ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
        )
        embedding: Mapped[bytes] = mapped_column(LargeBinary)

    class PassageRow(base):  # type: ignore[misc, valid-type]
        __tablename__ = "passages"

        id: Mapped[int] = mapped_column(Integer, primary_key=True)
        document_id: Mapped[int] = mapped_column(
            ForeignKey("documents.id", ondelete="CASCADE"), index=True
        )
        ordinal: Mapped[int] = mapped_column(Integer)
        start: Mapped[int] = mapped_column(Integer)
        end: Mapped[int] = mapped_column(Integer)
        text: Mapped[str] = mapped_column(Text)
        embedding: Mapped[bytes] = mapped_column(LargeBinary)

        document: Mapped[DocumentRow] = relationship(back_populates="passages")

    class MetaRow(base):  # type: ignore[misc, valid-type]
        __tablename__ = "meta"

        key: Mapped[str] = mapped_column(String(64), primary_key=True)
        value: Mapped[str] = mapped_column(Text)

    return {
        "DocumentRow": DocumentRow,
        "TitleVectorRow": TitleVectorRow,
        "PassageRow": PassageRow,
        "MetaRow": MetaRow,
    }


class PreviousRelease(DeclarativeBase):
    """Declarative base of 60d4740's tables."""

    metadata = MetaData()


OLD = corpus_models(PreviousRelease)


class SlackEventRow(PreviousRelease):
    __tablename__ = "slack_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SlackFeedbackRow(PreviousRelease):
    __tablename__ = "slack_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vote: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    quotes: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Unreleased(DeclarativeBase):
    """Declarative base of the tables as ``create_all`` made them just before migrations."""

    metadata = MetaData()


corpus_models(Unreleased)


class DeliveryRow(Unreleased):
    __tablename__ = "handled_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


class FeedbackRow(Unreleased):
    __tablename__ = "answer_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vote: Mapped[str] = mapped_column(String(8))
    question: Mapped[str] = mapped_column(Text)
    quotes: Mapped[str] = mapped_column(Text)
    user_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )


@dataclass(frozen=True)
class Legacy:
    """What :func:`build_previous_release` wrote, to check against after the upgrade."""

    # (path, root, content hash, date, title) per document, by path.
    documents: list[tuple[str, str, str, date | None, str | None]]
    # (document path, ordinal, start, end, text, embedding bytes) per passage, by id.
    passages: list[tuple[str, int, int, int, str, bytes]]
    titles: dict[str, bytes]
    meta: dict[str, str]
    events: list[str]
    feedback: list[tuple[str, str, str, str | None, str | None]]


EVENTS = ["Ev0001", "Ev0002", "Ev0003"]
FEEDBACK = [
    ("up", "why did Baku skip the meeting?", '[{"passage_id": 1, "source": "a.txt"}]', "U1", "C1"),
    ("down", "who fled?", "[]", None, "C2"),
]


def build_previous_release(url: str, folders: list[Path], *, title_vectors: bool = True) -> Legacy:
    """Create 60d4740's tables at ``url`` and ingest ``folders`` as that release did.

    Args:
        url: An empty database.
        folders: Folders to store (their relative paths must differ: ``path`` was unique).
        title_vectors: False builds a store of the release before titles were encoded
            (40bb2fe), which had no ``title_vectors`` table.
    """
    fake = FakeEncoder()
    engine = create_engine(url)
    tables = [
        t
        for t in PreviousRelease.metadata.sorted_tables
        if title_vectors or t.name != "title_vectors"
    ]
    PreviousRelease.metadata.create_all(engine, tables=tables)
    document_row, passage_row, title_row, meta_row = (
        OLD[name] for name in ("DocumentRow", "PassageRow", "TitleVectorRow", "MetaRow")
    )
    meta = {"corpus_version": "v-old", RECIPE_KEY: f"{PASSAGE_RECIPE}/{fake.name}"}
    with Session(engine) as session, session.begin():
        for folder in folders:
            for file in iter_corpus_files(folder):
                doc = parse_document(file.relative_to(folder).as_posix(), file.read_bytes())
                title, paragraphs = find_title(doc)
                spans = split_passages(doc.text, paragraphs, fake.count_tokens)
                texts = [doc.text[s.start : s.end] for s in spans]
                row = document_row(
                    path=doc.path,
                    root=str(folder),
                    content_hash=doc.content_hash,
                    date=doc.date,
                    title=title,
                )
                if title and title_vectors:
                    row.title_vector = title_row(embedding=vector_bytes(fake.encode([title])[0]))
                row.passages = [
                    passage_row(
                        ordinal=i, start=s.start, end=s.end, text=t, embedding=vector_bytes(v)
                    )
                    for i, (s, t, v) in enumerate(
                        zip(spans, texts, fake.encode(texts), strict=True)
                    )
                ]
                session.add(row)
        session.add_all(meta_row(key=k, value=v) for k, v in meta.items())
        session.add_all(SlackEventRow(event_id=event) for event in EVENTS)
        session.add_all(
            SlackFeedbackRow(vote=v, question=q, quotes=j, user_id=u, channel_id=c)
            for v, q, j, u, c in FEEDBACK
        )
    legacy = read_corpus(engine)
    engine.dispose()
    return Legacy(**legacy, meta=meta, events=list(EVENTS), feedback=list(FEEDBACK))


def read_corpus(engine) -> dict:  # type: ignore[no-untyped-def]
    """The corpus rows as plain tuples (the same on the old schema and the new)."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        documents = [
            tuple(r)
            for r in conn.execute(
                text("SELECT path, root, content_hash, date, title FROM documents ORDER BY path")
            )
        ]
        passages = [
            tuple(r)
            for r in conn.execute(
                text(
                    'SELECT d.path, p.ordinal, p.start, p."end", p.text, p.embedding '
                    "FROM passages p JOIN documents d ON d.id = p.document_id ORDER BY p.id"
                )
            )
        ]
        titles = {}
        if inspect(conn).has_table("title_vectors"):
            titles = {
                path: bytes(embedding)
                for path, embedding in conn.execute(
                    text(
                        "SELECT d.path, t.embedding FROM title_vectors t "
                        "JOIN documents d ON d.id = t.document_id"
                    )
                )
            }
    # Dates come back as strings from SQLite's raw SQL: compare them as dates.
    documents = [
        (p, r, h, date.fromisoformat(d) if isinstance(d, str) else d, t)
        for p, r, h, d, t in documents
    ]
    passages = [(p, o, s, e, t, bytes(b)) for p, o, s, e, t, b in passages]
    return {"documents": documents, "passages": passages, "titles": titles}
