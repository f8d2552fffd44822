"""PDF files: the text layer, re-joined into the article's paragraphs.

pypdf gives each page's text line by line in the order it is drawn; a visitor records where
each line starts and its size of type. From those:

- furniture is dropped: lines repeated at the top or bottom of most pages (running headers and
  footers, numbers masked so "Page 3 of 7" repeats), page numbers, small type in the page's
  outer margin;
- the title (metadata, else the large type atop page 1) and the date (a "Published ..." line
  on page 1, else the file's CreationDate) are taken out of the text;
- lines are joined into paragraphs, with a break where the layout shows one: a wider gap than
  the line spacing, a change of type size, a short line the next word would have fitted on, a
  first-line indent, a bullet; a word hyphenated across a line end is joined again.

A file that cannot be read raises :class:`UnreadableFileError` naming why (a scan, encrypted,
damaged, too many pages, too much text); nothing else escapes.

The steps, a module each: :mod:`~retrieval.readers.pdf.lines` (positioned lines),
:mod:`~retrieval.readers.pdf.furniture`, :mod:`~retrieval.readers.pdf.first_page` (title and
date), :mod:`~retrieval.readers.pdf.paragraphs` (breaks) and
:mod:`~retrieval.readers.pdf.hyphens` (joining lines); opening the file, its metadata and the
pipeline are here.
"""

from __future__ import annotations

import io
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from pypdf import PdfReader
from pypdf.errors import DependencyError
from pypdf.generic import DictionaryObject

from retrieval.readers.base import Article, Extraction, UnreadableFileError, clean_line
from retrieval.readers.dates import parse_date
from retrieval.readers.limits import MAX_BINARY_BYTES, MAX_EXTRACTED_CHARS, MAX_PDF_PAGES
from retrieval.readers.pdf.first_page import labelled_date, take_date_line, take_title
from retrieval.readers.pdf.furniture import drop_furniture
from retrieval.readers.pdf.hyphens import _glue as _glue  # the tests join two lines with it
from retrieval.readers.pdf.lines import Line, body_size, page_lines
from retrieval.readers.pdf.paragraphs import into_paragraphs

__all__ = ["read"]

# Titles a PDF writer fills in by itself: not the document's title.
_MADE_UP_TITLE = re.compile(
    r"(?:untitled|document\d*|microsoft (?:word|powerpoint) - .*|.*\.(?:docx?|pdf|indd|rtf|"
    r"txt|html?|odt|pages|tex))\Z",
    re.IGNORECASE,
)


def read(data: bytes, *, name: str, kind: str) -> Extraction:
    """The article in the PDF whose bytes are ``data`` (one per file).

    Raises:
        UnreadableFileError: A scan, encrypted, damaged, too long, or no text in it.
    """
    if len(data) > MAX_BINARY_BYTES:
        raise UnreadableFileError(f"larger than {MAX_BINARY_BYTES:,} bytes")
    with _quiet_pypdf():
        reader = _open(data)
        pages, heights = _read_lines(reader)
        meta_title, meta_date = _metadata(reader)
    if not any(line.text for page in pages for line in page):
        raise UnreadableFileError("a scan: no text layer (OCR it first)")
    body = body_size(pages)
    lines, furniture = drop_furniture(pages, heights, body)
    # A "Published ..." line in a page-1 header or footer says the date as well (a bare date
    # there may be when the page was printed: not taken).
    written_date = take_date_line(lines) or labelled_date(furniture)
    title = take_title(lines, meta_title, body)
    paragraphs = into_paragraphs(lines)
    if not any(any(c.isalnum() for c in p) for p in paragraphs):
        raise UnreadableFileError("a scan: no text layer (OCR it first)")
    # The date written in the document is its publication date; CreationDate is when the PDF
    # was made, which for an article printed or archived later is another day.
    article = Article.from_paragraphs(paragraphs, title=title, date=written_date or meta_date)
    return Extraction(articles=[article])


# -- opening --


_quiet_lock = threading.Lock()
_quiet_depth = 0
_quiet_saved = logging.NOTSET


@contextmanager
def _quiet_pypdf() -> Iterator[None]:
    """pypdf's warnings about damaged files kept out of the terminal for this call only.

    pypdf logs them on its own loggers (``pypdf._reader``, ...), which inherit the level of
    ``pypdf``; concurrent calls share one raise of that level and the last one out restores it.
    """
    global _quiet_depth, _quiet_saved
    logger = logging.getLogger("pypdf")
    with _quiet_lock:
        if _quiet_depth == 0:
            _quiet_saved = logger.level
            logger.setLevel(logging.CRITICAL + 1)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                logger.setLevel(_quiet_saved)


def _open(data: bytes) -> PdfReader:
    try:
        # strict=False: pypdf rebuilds a broken cross-reference table by scanning the file.
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            _decrypt(reader)
        # The page tree's own count first: a file claiming 10,000 pages is refused before
        # pypdf walks the tree.
        tree = reader.root_object.get("/Pages")
        tree = tree.get_object() if tree is not None else None
        claimed = tree.get("/Count") if isinstance(tree, DictionaryObject) else None
        if isinstance(claimed, int) and claimed > MAX_PDF_PAGES:
            raise _too_many(claimed)
        count = len(reader.pages)
    except UnreadableFileError:
        raise
    except Exception as error:  # pypdf raises many kinds on a damaged file
        raise UnreadableFileError(f"a damaged PDF: {_describe(error)}") from error
    if count > MAX_PDF_PAGES:
        raise _too_many(count)
    if count == 0:
        raise UnreadableFileError("a damaged PDF: no pages")
    return reader


def _decrypt(reader: PdfReader) -> None:
    """Opens a PDF encrypted with an empty user password, as every viewer does without asking.

    Such a file is locked against editing or printing, not reading; one that needs a password
    to open is not read.
    """
    try:
        opened = reader.decrypt("")
    except DependencyError as error:
        raise _needs_aes() from error
    except Exception as error:
        raise UnreadableFileError(f"encrypted: {_describe(error)}") from error
    if not opened:
        raise UnreadableFileError("encrypted: it needs a password to open")


def _needs_aes() -> UnreadableFileError:
    return UnreadableFileError(
        "encrypted: with AES, which needs the cryptography package (not installed) to open"
    )


def _too_many(count: int) -> UnreadableFileError:
    return UnreadableFileError(f"{count:,} pages, more than the {MAX_PDF_PAGES:,} read")


def _describe(error: BaseException) -> str:
    text = clean_line(str(error))[:200]
    return text or type(error).__name__


def _metadata(reader: PdfReader) -> tuple[str | None, date | None]:
    try:
        meta = reader.metadata
        if meta is None:
            return None, None
        title = meta.title
        try:
            created = meta.creation_date
        except Exception:  # a malformed date string
            created = None
    except Exception:
        return None, None
    title = clean_line(title) if isinstance(title, str) else ""
    usable = title if title and not _MADE_UP_TITLE.match(title) else None
    return usable, parse_date(created) if created else None


# -- the pages' lines --


def _read_lines(reader: PdfReader) -> tuple[list[list[Line]], list[tuple[float, float]]]:
    """Each page's lines in drawing order, and each page's (bottom, top)."""
    pages: list[list[Line]] = []
    heights: list[tuple[float, float]] = []
    chars = 0
    failed: Exception | None = None
    for number, page in enumerate(reader.pages):
        try:
            lines = page_lines(page, number)
            box = page.cropbox  # the visible page
            heights.append((float(box.bottom), float(box.top)))
        except DependencyError as error:  # AES-encrypted strings and streams
            raise _needs_aes() from error
        except Exception as error:  # one damaged page: the others are still read
            failed = error
            continue
        pages.append(lines)
        chars += sum(len(line.text) for line in lines)
        if chars > MAX_EXTRACTED_CHARS:
            raise UnreadableFileError(
                f"more than {MAX_EXTRACTED_CHARS:,} characters of text: not an article"
            )
    if not pages and failed is not None:
        raise UnreadableFileError(f"a damaged PDF: {_describe(failed)}")
    return pages, heights
