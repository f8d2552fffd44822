"""The plain, frozen records the core passes around: what the store returns and ranking reads.

None of them knows the database: the store makes them from rows, ranking and the front ends
only read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Source:
    """A document as a reader sees it: where a quote stands, and when it was published.

    Attributes:
        path: The file's path relative to the folder it was ingested from.
        date: Publication date, ``None`` when the file has none.
        title: The title line, if the document has one.
        collection: The collection it belongs to (see :class:`NewDocument`); ``None`` for a
            source made by hand.
        url: Its canonical link, ``None`` when the document names none.

    Example:
        >>> Source("report.txt", None, collection="a").to_dict()["collection"]
        'a'
    """

    path: str
    date: date | None
    title: str | None = None
    collection: str | None = None
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.path,
            "date": self.date.isoformat() if self.date else None,
            "title": self.title,
            "collection": self.collection,
            "url": self.url,
        }


@dataclass(frozen=True)
class Document:
    """A stored document.

    Attributes:
        id: Its id in the store.
        source: Path (relative to the folder it was ingested from), date and title.
        title_vector: The encoded title (a unit vector), ``None`` when it has no title.
    """

    id: int
    source: Source
    title_vector: np.ndarray | None = None

    @property
    def path(self) -> str:
        return self.source.path

    @property
    def date(self) -> date | None:
        return self.source.date


@dataclass(frozen=True)
class Passage:
    """A stored passage: a verbatim span of its document's text, with its embedding.

    Attributes:
        id: Its id in the store.
        document: The document it stands in.
        start: Offset of the passage in the document's text.
        end: End offset of the passage in the document's text.
        text: ``document text[start:end]``.
        vector: Its embedding, a unit vector.
    """

    id: int
    document: Document
    start: int
    end: int
    text: str
    vector: np.ndarray


@dataclass(frozen=True)
class SourceInfo:
    """A stored document, for listings."""

    source: Source
    passages: int

    def to_dict(self) -> dict[str, Any]:
        return {**self.source.to_dict(), "passages": self.passages}


@dataclass(frozen=True)
class NewPassage:
    """A passage to store: its span in the document's text, and its embedding."""

    start: int
    end: int
    text: str
    vector: np.ndarray


@dataclass(frozen=True)
class NewDocument:
    """A document to store; it takes the place of the document of the same collection and
    path, if there is one, when it is made live.

    Attributes:
        collection: The collection it belongs to: ``(collection, path)`` names a document, so
            two folders holding the same relative path never overwrite each other.
        path: Path relative to the folder ingested.
        root: The folder ingested (absolute): where the collection was last read from.
        content_hash: SHA-256 of the file's bytes, to skip it when unchanged.
        date: Publication date, ``None`` when the file has none.
        title: The title line, if the document has one.
        title_vector: Its embedding.
        passages: The passages, in document order.
        url: Its canonical link, if it names one.
        text: The text its passages quote (``text[start:end]``), kept for ``quotedesk show``.
    """

    collection: str
    path: str
    root: str
    content_hash: str
    date: date | None
    title: str | None
    title_vector: np.ndarray | None
    passages: tuple[NewPassage, ...]
    url: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class StoredText:
    """A stored document's text, for reading a quote in context.

    Attributes:
        source: The document.
        text: Its text as extracted (quotes are ``text[start:end]``); ``None`` when it was
            stored before texts were kept.
        passages: ``(start, end)`` of each of its passages, in order.
    """

    source: Source
    text: str | None
    passages: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class FetchRecord:
    """What the last fetch of a URL got: validators for the next conditional request."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class StoredFile:
    """What the store knows of a file already ingested: enough to skip it when unchanged.

    Attributes:
        document_id: The stored document's id.
        content_hash: SHA-256 of the file's bytes when it was stored.
        root: The folder it was ingested from.
        ingest_run: The ingest that staged it, for a staged document; None for a live one.
    """

    document_id: int
    content_hash: str
    root: str
    ingest_run: str | None = None
    # Whether its extracted text is stored (documents stored before revision 0005 have none).
    has_text: bool = True


@dataclass(frozen=True)
class CollectionSummary:
    """What a collection holds, for a glance (Slack's Home tab): no passage is read.

    Attributes:
        name: The collection.
        documents: How many documents it holds.
        undated: How many of them have no date.
        first: The earliest date among them (``None`` when none is dated).
        last: The latest.
        ingested: When a document of it was last stored (UTC).
    """

    name: str
    documents: int
    undated: int
    first: date | None
    last: date | None
    ingested: datetime | None


@dataclass(frozen=True)
class CollectionInfo:
    """A collection of documents, for choosing where an ingest goes and for listings.

    Attributes:
        name: Its name.
        roots: The folders its documents were ingested from (one, unless it was moved).
        documents: How many documents it holds.
    """

    name: str
    roots: tuple[str, ...]
    documents: int


class SchemaState(StrEnum):
    """Where a database's schema stands against the revisions this release knows."""

    EMPTY = "empty"  # no quotedesk table: opening it creates the schema at head
    CURRENT = "current"  # at head
    BEHIND = "behind"  # at an older revision: `quotedesk db upgrade`
    UNVERSIONED = "unversioned"  # made before migrations: `quotedesk db upgrade` adopts it
    AHEAD = "ahead"  # at a revision this release does not know: a newer one upgraded it


@dataclass(frozen=True)
class SchemaStatus:
    """A database's revision against this release's head.

    Attributes:
        state: Where it stands.
        current: Its revision; ``None`` when it has none (empty or made before migrations).
        head: The newest revision this release knows.
        pending: ``"<revision> <what it does>"`` for each revision an upgrade would apply,
            oldest first.

    Example:
        >>> SchemaStatus(SchemaState.BEHIND, "0001", "0002", ("0002 collections",)).needs_upgrade
        True
    """

    state: SchemaState
    current: str | None
    head: str
    pending: tuple[str, ...] = ()

    @property
    def needs_upgrade(self) -> bool:
        return self.state in (SchemaState.BEHIND, SchemaState.UNVERSIONED)


@dataclass(frozen=True)
class CarriedRows:
    """Rows an adoption moved from a table of the release before migrations to its successor."""

    source: str
    target: str
    rows: int


@dataclass(frozen=True)
class SchemaUpgrade:
    """What ``quotedesk db upgrade`` did.

    Attributes:
        before: The database's status before.
        after: Its revision now (the head).
        start: The revision the revisions were applied from: ``None`` for an empty database,
            the baseline for one adopted.
        applied: The revisions applied, oldest first (``"<revision> <what it does>"``).
        adopted: True when the database was made before migrations and was stamped at the
            baseline first.
        carried: Rows carried from the old tables to the new ones by the adoption.
        created: Tables the adoption created because the old release had not made them.
    """

    before: SchemaStatus
    after: str
    start: str | None = None
    applied: tuple[str, ...] = ()
    adopted: bool = False
    carried: tuple[CarriedRows, ...] = ()
    created: tuple[str, ...] = ()


@dataclass(frozen=True)
class Published:
    """What making an ingest's staged documents live changed.

    Attributes:
        added: Documents that are new to their collection.
        replaced: Documents that took the place of a live one of the same name.
        removed: Live documents pruned (their files are gone).
    """

    added: int = 0
    replaced: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.replaced or self.removed)
