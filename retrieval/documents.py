"""Reading corpus files: the date header, paragraphs with offsets, and what to skip."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

SUFFIXES = frozenset({".txt", ".md"})

# ` date YYYY-MM-DD` at the very start of the file; the rest of the line is text.
_DATE_HEADER = re.compile(r"\A\ufeff? ?date (\d{4}-\d{2}-\d{2})(?:[ \t]+|(?=\n)|\Z)")
_PARAGRAPH = re.compile(r"\S(?:.*?\S)?(?=\s*\n[ \t]*\n|\s*\Z)", re.DOTALL)


class UnreadableFileError(ValueError):
    """A corpus file that cannot be used; the message says why."""


@dataclass(frozen=True)
class Document:
    """One corpus file, decoded.

    Attributes:
        path: Path relative to the ingested folder, with forward slashes.
        text: The whole decoded file; passage offsets point into it.
        content_hash: SHA-256 of the file's bytes.
        date: Publication date from the header, or ``None`` when the file has none.
        body_start: Offset where the text starts, after the date header.
    """

    path: str
    text: str
    content_hash: str
    date: date | None
    body_start: int

    def paragraphs(self) -> list[tuple[int, int]]:
        """Spans of the blank-line separated paragraphs, whitespace trimmed."""
        return [(m.start(), m.end()) for m in _PARAGRAPH.finditer(self.text, self.body_start)]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_document(path: str, data: bytes) -> Document:
    """Decode one file's bytes into a :class:`Document`.

    Raises:
        UnreadableFileError: The file is empty, binary or not valid UTF-8.
    """
    if b"\x00" in data[:8192]:
        raise UnreadableFileError("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"not valid UTF-8 (byte {exc.start})") from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    published, body_start = parse_date_header(text)
    if not text[body_start:].strip():
        raise UnreadableFileError("empty file")
    return Document(
        path=path,
        text=text,
        content_hash=content_hash(data),
        date=published,
        body_start=body_start,
    )


def parse_date_header(text: str) -> tuple[date | None, int]:
    """Return the header's date (``None`` when absent or invalid) and where the text starts.

    Example:
        >>> parse_date_header(" date 2023-11-28 US Secretary")
        (datetime.date(2023, 11, 28), 17)
    """
    match = _DATE_HEADER.match(text)
    if not match:
        return None, 0
    try:
        return date.fromisoformat(match.group(1)), match.end()
    except ValueError:
        # A header with an impossible date: never guess, keep the file undated.
        return None, match.end()


def iter_corpus_files(root: Path) -> Iterator[Path]:
    """Text files under ``root`` (recursively, sorted), skipping hidden files and folders."""
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.suffix.lower() in SUFFIXES and path.is_file():
            yield path
