"""The plain, frozen records the core passes around: what the store returns and ranking reads.

None of them knows the database: the store makes them from rows, ranking and the front ends
only read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Source:
    """A document as a reader sees it: where a quote stands, and when it was published."""

    path: str
    date: date | None
    title: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.path,
            "date": self.date.isoformat() if self.date else None,
            "title": self.title,
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
    """A document to store (or to store in place of an older version of it).

    Attributes:
        path: Path relative to the folder ingested.
        root: The folder ingested (absolute), so ``--prune`` touches only its own documents.
        content_hash: SHA-256 of the file's bytes, to skip it when unchanged.
        date: Publication date, ``None`` when the file has none.
        title: The title line, if the document has one.
        title_vector: Its embedding.
        passages: The passages, in document order.
        replaces: Id of the stored version this one replaces.
    """

    path: str
    root: str
    content_hash: str
    date: date | None
    title: str | None
    title_vector: np.ndarray | None
    passages: tuple[NewPassage, ...]
    replaces: int | None = None


@dataclass(frozen=True)
class StoredFile:
    """What the store knows of a file already ingested: enough to skip it when unchanged."""

    document_id: int
    content_hash: str


@dataclass(frozen=True)
class Feedback:
    """A 👍 or 👎 on an answer, with the quotes the user saw."""

    vote: str
    question: str
    quotes: tuple[dict[str, Any], ...]
    user_id: str | None = None
    channel_id: str | None = None
