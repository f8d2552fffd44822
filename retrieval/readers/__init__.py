"""Readers: one per kind of file, each turning a file's bytes into articles.

The kind is chosen by the file's suffix and checked against its first bytes (a ``.html``
that is really a PDF is read as a PDF; a ``.pdf`` that is text is named, not read):

| kind | suffixes | module |
|---|---|---|
| text | ``.txt`` | :mod:`retrieval.readers.plain` (the ` date YYYY-MM-DD` header) |
| markdown | ``.md``, ``.markdown`` | :mod:`retrieval.readers.plain` (YAML front matter) |
| html | ``.html``, ``.htm``, ``.xhtml`` | :mod:`retrieval.readers.web` |
| pdf | ``.pdf`` | :mod:`retrieval.readers.pdf` |
| docx | ``.docx`` | :mod:`retrieval.readers.word` |
| jsonl, json | ``.jsonl``, ``.ndjson``, ``.json`` | :mod:`retrieval.readers.exports` |
| feed | ``.xml``, ``.rss``, ``.atom`` | :mod:`retrieval.readers.feeds` |

Each module is imported the first time a file of its kind is read.
"""

from __future__ import annotations

import importlib
from pathlib import PurePosixPath

from retrieval.readers.base import Article, Extraction, SkippedRecord, UnreadableFileError
from retrieval.readers.limits import MAX_BINARY_BYTES, MAX_TEXT_BYTES

__all__ = [
    "KINDS",
    "Article",
    "Extraction",
    "SkippedRecord",
    "UnreadableFileError",
    "UnsupportedKindError",
    "kind_of",
    "max_bytes",
    "read_articles",
]

# suffix -> kind
KINDS: dict[str, str] = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
    ".docx": "docx",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
}
_MODULES = {
    "text": "plain",
    "markdown": "plain",
    "html": "web",
    "pdf": "pdf",
    "docx": "word",
    "jsonl": "exports",
    "json": "exports",
    "feed": "feeds",
}
_BINARY = frozenset({"pdf", "docx"})


class UnsupportedKindError(UnreadableFileError):
    """A file of a kind quotedesk does not read (a picture, a spreadsheet): named, not read."""


def kind_of(name: str, head: bytes = b"") -> str | None:
    """The kind of the file ``name`` whose first bytes are ``head``; ``None`` if unsupported.

    The content wins over the suffix where it is unmistakable (a PDF's ``%PDF-``, a zip's
    ``PK``, an XML feed's root): a file saved under the wrong suffix is still read.
    """
    by_content = _sniff(head)
    suffix = PurePosixPath(name).suffix.lower()
    by_name = KINDS.get(suffix)
    if by_content == "zip":
        # Spreadsheets, slides and archives are zips too: only a .docx (or a file with no
        # suffix to say otherwise) is opened as a Word file.
        return "docx" if by_name == "docx" or not suffix else None
    # A text-like sniff only decides where the suffix says nothing or says binary.
    if (
        by_content is not None
        and by_content != by_name
        and (by_content in ("pdf", "feed") or by_name is None or by_name in _BINARY)
    ):
        return by_content
    return by_name


def max_bytes(kind: str | None) -> int:
    """The largest file of ``kind`` read (see :mod:`retrieval.readers.limits`)."""
    return MAX_BINARY_BYTES if kind in _BINARY else MAX_TEXT_BYTES


def read_articles(name: str, data: bytes, *, kind: str | None = None) -> Extraction:
    """The articles in the file ``name`` whose bytes are ``data`` (and the records of it that
    could not be read, for a file of several).

    Args:
        name: The file's name or path (its suffix chooses the reader with its content).
        data: Its bytes.
        kind: The kind, when already known (from :func:`kind_of`, or an HTTP content type).

    Raises:
        UnsupportedKindError: Not a kind quotedesk reads.
        UnreadableFileError: It is of a known kind but cannot be read; the message says why.
    """
    kind = kind or kind_of(name, data[:1024])
    if kind is None:
        suffix = PurePosixPath(name).suffix.lower()
        raise UnsupportedKindError(f"not a kind of file quotedesk reads ({suffix or 'no suffix'})")
    module = importlib.import_module(f"retrieval.readers.{_MODULES[kind]}")
    found: Extraction = module.read(data, name=name, kind=kind)
    if not found.articles:
        reasons = "; ".join(f"#{s.record}: {s.reason}" for s in found.skipped[:3])
        raise UnreadableFileError(
            "no article found in it" + (f" (records skipped: {reasons})" if reasons else "")
        )
    return found


def _sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if start.startswith((b"<?xml", b"<rss", b"<feed", b"<rdf:rdf")):
        probe = start[:1024]
        if b"<rss" in probe or b"<feed" in probe or b"<rdf:rdf" in probe:
            return "feed"
        if b"<html" in probe:
            return "html"
        return None
    if start.startswith((b"<!doctype html", b"<html")):
        return "html"
    return None
