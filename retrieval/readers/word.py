"""Word files (``.docx``): paragraphs, headings, list items and table rows, in document order.

A ``.docx`` is a zip of XML parts. Before python-docx opens it, the zip is checked against
the bounds of :mod:`retrieval.readers.limits` (a zip bomb is refused by its headers, nothing
inflated), and its XML parts are checked for a DOCTYPE (Word never writes one; one declaring
entities is built to make a parser expand them).

The title and date come from the core properties (``dc:title``, ``dcterms:created``) unless
the text writes a date at its top ("Published July 6, 2022"), which wins; a first heading
equal to the title, and that date line, are metadata and left out of the text. Headers,
footers, footnotes, comments and deleted tracked changes are not article text.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from retrieval.readers.base import Article, Extraction, UnreadableFileError, clean_line
from retrieval.readers.dates import DATE_LABEL, date_within, parse_date
from retrieval.readers.limits import (
    MAX_BINARY_BYTES,
    MAX_EXTRACTED_CHARS,
    MAX_UNZIPPED_BYTES,
    MAX_ZIP_MEMBERS,
    MAX_ZIP_RATIO,
)

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
# Parts of a paragraph whose text is not the paragraph's: deleted tracked changes, the
# fallback copy of alternate content, drawings and text boxes (their own paragraphs), field
# codes.
_SKIPPED = frozenset(
    {
        f"{_W}del",
        f"{_W}moveFrom",
        f"{_MC}Fallback",
        f"{_W}drawing",
        f"{_W}pict",
        f"{_W}object",
        f"{_W}instrText",
        f"{_W}delText",
        f"{_W}rPr",
        f"{_W}pPr",
        f"{_W}sdtPr",
        f"{_W}sdtEndPr",
    }
)
_RUN_TEXT = {
    f"{_W}t": None,
    f"{_W}tab": "\t",
    f"{_W}br": "\n",
    f"{_W}cr": "\n",
    f"{_W}noBreakHyphen": "-",
    f"{_W}ptab": "\t",
}
_CELL_SEPARATOR = " | "
# A DOCTYPE in any encoding a part may be in: UTF-8 (and ASCII), UTF-16 either way round.
_DOCTYPES = tuple("<!DOCTYPE".encode(codec) for codec in ("utf-8", "utf-16-le", "utf-16-be"))
# The timestamps of python-docx's own template: a file made with it and never given dates
# carries these, which say nothing of the document.
_TEMPLATE_TIMESTAMP = datetime(2013, 12, 23, 23, 15, tzinfo=UTC)
_MADE_UP_TITLE = re.compile(r"(?:untitled|document\d*|.*\.(?:docx?|dotx?|rtf|txt))\Z", re.I)
# The date line is looked for among the first paragraphs after the title.
_DATE_LINES = 4
_HEADING_STYLE = re.compile(r"(?:title|heading\s*1)\Z", re.IGNORECASE)


def read(data: bytes, *, name: str, kind: str) -> Extraction:
    """The article in the Word file whose bytes are ``data`` (one per file).

    Raises:
        UnreadableFileError: Not a Word file, a zip bomb, entity declarations, damaged, or no
            text in it.
    """
    if len(data) > MAX_BINARY_BYTES:
        raise UnreadableFileError(f"larger than {MAX_BINARY_BYTES:,} bytes")
    _check_zip(data)
    import docx  # imported here: the zip is checked before python-docx sees any of it

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(_blocks(document))
        properties = document.core_properties
        title = _title(properties.title)
        created = properties.created
    except UnreadableFileError:
        raise
    except Exception as error:  # python-docx, lxml and zipfile raise many kinds
        raise UnreadableFileError(f"a damaged Word file: {_describe(error)}") from error
    title = _take_title(blocks, title)
    written = _take_date(blocks)
    # A date written at the top is the publication date; "created" is when the file was made
    # (a copy of an old file, or a template, keeps its creator's date).
    when = written or _created(created)
    article = Article.from_paragraphs((text for text, _ in blocks), title=title, date=when)
    return Extraction(articles=[article])


# -- the zip, before python-docx --


def _check_zip(data: bytes) -> None:
    """Refuses a file that is not a Word zip, a zip bomb, or XML declaring a DOCTYPE.

    Sizes are the zip's headers; zipfile never inflates a member past the size its header
    gives, so python-docx cannot be handed more than was checked here.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as error:
        raise UnreadableFileError(f"not a Word file: not a zip ({_describe(error)})") from error
    if len(members) > MAX_ZIP_MEMBERS:
        raise UnreadableFileError(
            f"a zip bomb: {len(members):,} members, more than the {MAX_ZIP_MEMBERS:,} read"
        )
    total = sum(member.file_size for member in members)
    if total > MAX_UNZIPPED_BYTES:
        raise UnreadableFileError(
            f"a zip bomb: {total:,} bytes unzipped, more than the {MAX_UNZIPPED_BYTES:,} read"
        )
    if total > MAX_ZIP_RATIO * max(len(data), 1):
        raise UnreadableFileError(
            f"a zip bomb: unzips {total / max(len(data), 1):,.0f} times its size "
            f"(a Word file is under {MAX_ZIP_RATIO})"
        )
    names = {member.filename for member in members}
    if "word/document.xml" not in names:
        raise UnreadableFileError("not a Word file: no word/document.xml in the zip")
    for member in members:
        try:
            # Every XML part, whatever its name: python-docx parses the parts the package's
            # relationships point to, which need not end in .xml.
            if not member.filename.endswith((".xml", ".rels")):
                with archive.open(member) as stream:
                    if not _looks_like_xml(stream.read(64)):
                        continue
            part = archive.read(member)
        except Exception as error:  # a bad CRC, an unsupported compression, a truncated zip
            raise UnreadableFileError(
                f"a damaged Word file: {member.filename}: {_describe(error)}"
            ) from error
        if any(doctype in part for doctype in _DOCTYPES):
            raise UnreadableFileError(
                f"refused: {member.filename} declares a DOCTYPE (Word never writes one; its "
                "entities could expand to exhaust memory)"
            )


def _looks_like_xml(head: bytes) -> bool:
    # After a byte-order mark (UTF-8 or UTF-16) and white space, and UTF-16's zero bytes.
    return head.lstrip(b"\xef\xbb\xbf\xfe\xff\x00 \t\r\n").startswith(b"<")


def _describe(error: BaseException) -> str:
    text = clean_line(str(error))[:200]
    return text or type(error).__name__


# -- the body --


def _blocks(document: Any) -> Iterator[tuple[str, str]]:
    """(text, style name) of each paragraph and each table row of the body, in order."""
    # Paragraphs name their style by id ("Heading1"); its name ("Heading 1") says what it is.
    styles = {str(style.style_id): str(style.name) for style in document.styles}
    chars = 0
    for text, style in _body_blocks(document.element.body, styles):
        chars += len(text)
        if chars > MAX_EXTRACTED_CHARS:
            raise UnreadableFileError(
                f"more than {MAX_EXTRACTED_CHARS:,} characters of text: not an article"
            )
        yield text, style


def _body_blocks(parent: Any, styles: dict[str, str]) -> Iterator[tuple[str, str]]:
    for child in parent.iterchildren():
        tag = child.tag
        if tag == f"{_W}p":
            text = clean_line(_paragraph_text(child))
            if text:
                yield text, _style_name(child, styles)
        elif tag == f"{_W}tbl":
            yield from _table_rows(child, styles)
        elif tag == f"{_W}sdt":  # a content control around paragraphs or tables
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from _body_blocks(content, styles)
        elif tag in (f"{_W}ins", f"{_W}moveTo", f"{_W}customXml"):
            yield from _body_blocks(child, styles)


def _table_rows(table: Any, styles: dict[str, str]) -> Iterator[tuple[str, str]]:
    """Each row as one paragraph: its cells' text joined with `` | ``; a cell merged across
    columns once, a table nested in a cell as rows of its own after the row."""
    for row in table.iterchildren(f"{_W}tr"):
        cells: list[str] = []
        nested: list[tuple[str, str]] = []
        for cell in row.iter(f"{_W}tc"):
            if _enclosing(cell, f"{_W}tr") is not row:
                continue  # a cell of a nested table
            texts = []
            for block in cell.iterchildren():
                if block.tag == f"{_W}p":
                    texts.append(clean_line(_paragraph_text(block)))
                elif block.tag == f"{_W}tbl":
                    nested.extend(_table_rows(block, styles))
            text = " ".join(t for t in texts if t)
            if text:
                cells.append(text)
        if cells:
            yield _CELL_SEPARATOR.join(cells), ""
        yield from nested


def _enclosing(element: Any, tag: str) -> Any:
    parent = element.getparent()
    while parent is not None and parent.tag != tag:
        parent = parent.getparent()
    return parent


def _paragraph_text(paragraph: Any) -> str:
    """The text of a paragraph's runs, in hyperlinks, insertions, fields and content controls
    too; not deleted text, field codes or text boxes."""
    parts: list[str] = []
    stack = [iter(paragraph.iterchildren())]
    while stack:
        child = next(stack[-1], None)
        if child is None:
            stack.pop()
            continue
        tag = child.tag
        if not isinstance(tag, str) or tag in _SKIPPED:
            continue  # comments, processing instructions, and the parts above
        if tag in _RUN_TEXT:
            text = _RUN_TEXT[tag]
            parts.append((child.text or "") if text is None else text)
        else:
            stack.append(iter(child.iterchildren()))
    return "".join(parts)


def _style_name(paragraph: Any, styles: dict[str, str]) -> str:
    style = paragraph.find(f"{_W}pPr/{_W}pStyle")
    style_id = (style.get(f"{_W}val") or "") if style is not None else ""
    return styles.get(style_id, style_id)


# -- title and date --


def _title(value: object) -> str | None:
    title = clean_line(value) if isinstance(value, str) else ""
    return title if title and not _MADE_UP_TITLE.match(title) else None


def _comparable(text: str) -> str:
    return clean_line(text).casefold()


def _take_title(blocks: list[tuple[str, str]], title: str | None) -> str | None:
    """The title; the first paragraph left out of the text when it is the title (or, with no
    title in the properties, when it is styled as one)."""
    if not blocks:
        return title
    first, style = blocks[0]
    if title:
        if _comparable(first) == _comparable(title):
            del blocks[0]
        return title
    if _HEADING_STYLE.match(style) and len(first) <= 300:
        del blocks[0]
        return first
    return None


def _take_date(blocks: list[tuple[str, str]]) -> date | None:
    """The date of a "Published ..." (or bare date) paragraph at the top, the line removed."""
    for i, (text, _) in enumerate(blocks[:_DATE_LINES]):
        label = DATE_LABEL.match(text)
        rest = text[label.end() :] if label else text
        if not label and len(rest) > 40:
            continue
        found = (parse_date(rest) or date_within(rest)) if label else parse_date(rest)
        if found:
            del blocks[i]
            return found
    return None


def _created(value: object) -> date | None:
    if isinstance(value, datetime) and value.replace(tzinfo=value.tzinfo or UTC) == (
        _TEMPLATE_TIMESTAMP
    ):
        return None
    return parse_date(value)
