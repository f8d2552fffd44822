"""JSON Lines and JSON exports: a record an article.

A CMS, a news API or a scraper writes its own field names; the common ones are recognised
whatever their case or separators (``publishedAt``, ``published_at``), at the top of a record
or one level down where APIs put them (Guardian ``fields``, Elasticsearch ``_source``,
JSON:API ``attributes``), and unwrapped from WordPress's ``{"rendered": ...}``. A body in HTML
is read by the web reader.

A record that cannot be read (bad JSON, not an object, no text) is skipped and named by its
number (its line in a JSON Lines file, counting every line; its position in a JSON array);
the others are read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from retrieval.readers.base import Article, Extraction, SkippedRecord, UnreadableFileError
from retrieval.readers.limits import MAX_RECORDS
from retrieval.readers.plain import (
    article_from_body,
    field_key,
    first_date,
    first_text,
    first_url,
    scalar,
)

# Field names, as compared by field_key (lower case, letters and digits only), best first.
TITLE_KEYS = ("title", "headline", "webtitle", "name")
URL_KEYS = ("canonicalurl", "canonical", "url", "link", "permalink", "weburl")
# When the article was published; never an ``updated``/``modified`` date.
DATE_KEYS = (
    "datepublished",
    "publishedat",
    "published",
    "pubdate",
    "publicationdate",
    "publishdate",
    "publisheddate",
    "firstpublisheddate",
    "firstpublicationdate",
    "webpublicationdate",
    "date",
    "createdat",
    "created",
    "datecreated",
)
# The full text; a ``summary``/``description``/``excerpt`` is a teaser, not the article.
TEXT_KEYS = (
    "articlebody",
    "bodytext",
    "fulltext",
    "text",
    "body",
    "content",
    "contenttext",
    "contentencoded",
    "bodyhtml",
    "contenthtml",
    "html",
)
# Where a JSON document keeps its list of records.
RECORD_KEYS = (
    "items",
    "articles",
    "results",
    "data",
    "entries",
    "posts",
    "stories",
    "docs",
    "hits",
    "documents",
    "records",
)
# Objects inside a record that describe something else (its author, its source, a picture):
# a ``name`` or ``url`` in them is not the article's.
_NOT_THE_ARTICLE = frozenset(
    {
        "author",
        "authors",
        "byline",
        "creator",
        "creators",
        "contributor",
        "contributors",
        "source",
        "publisher",
        "image",
        "images",
        "media",
        "thumbnail",
        "featured_media",
        "featured_image",
        "tags",
        "categories",
        "category",
        "section",
        "links",
        "_links",
        "_embedded",
        "related",
        "comments",
        "video",
        "audio",
        "location",
    }
)
# Wrappers around the records (``{"response": {"results": [...]}}``, ``{"hits": {"hits":
# [...]}}``) are looked through this deep; deeper is not an export's layout.
_MAX_WRAPPER_DEPTH = 3
# A body an API cut short: NewsAPI's ``... [+3456 chars]``.
_CUT_SHORT = re.compile(r"\[\+\d+ chars\]\s*\Z")
_BINARY_PROBE = 8192
T = TypeVar("T")


def read(data: bytes, *, name: str, kind: str) -> Extraction:
    """The articles of a JSON Lines (``kind="jsonl"``) or JSON (``kind="json"``) export.

    Raises:
        UnreadableFileError: Not text, or (JSON) not valid JSON or with no records in it.
    """
    if b"\x00" in data[:_BINARY_PROBE]:
        raise UnreadableFileError("binary file (contains NUL bytes)")
    data = data.removeprefix(b"\xef\xbb\xbf")
    if kind == "json":
        return _read_json(data)
    found = _read_jsonl(data)
    if not found.articles and _first_line_bad(found, data):
        # A pretty-printed JSON document saved as .jsonl: read it as what it is.
        try:
            return _read_json(data)
        except UnreadableFileError:
            pass
    return found


def _read_jsonl(data: bytes) -> Extraction:
    found = Extraction()
    count = 0
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        count += 1
        if count > MAX_RECORDS:
            found.skipped.append(_past_limit(number))
            break
        record = str(number)
        try:
            value = _loads(line.decode("utf-8"))
        except UnicodeDecodeError as exc:
            found.skipped.append(SkippedRecord(record, f"not valid UTF-8 (byte {exc.start})"))
        except UnreadableFileError as exc:
            found.skipped.append(SkippedRecord(record, str(exc)))
        else:
            _add(found, value, record)
    return found


def _first_line_bad(found: Extraction, data: bytes) -> bool:
    first = next((n for n, line in enumerate(data.split(b"\n", 50), 1) if line.strip()), None)
    return bool(found.skipped) and found.skipped[0].record == str(first)


def _read_json(data: bytes) -> Extraction:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"not valid UTF-8 (byte {exc.start})") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data":  # one object a line: JSON Lines under a .json name
            return _read_jsonl(data)
        raise UnreadableFileError(
            f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc
    except RecursionError as exc:
        raise UnreadableFileError("JSON nested too deeply") from exc
    except ValueError as exc:  # a number past Python's digit limit
        raise UnreadableFileError(f"not readable JSON ({str(exc).split(':')[0]})") from exc
    records, single = find_records(document)
    if records is None:
        raise UnreadableFileError("JSON with no list of articles and no article text in it")
    found = Extraction()
    if single:
        _add(found, records[0], None)
        return found
    for number, value in enumerate(records, 1):
        if number > MAX_RECORDS:
            found.skipped.append(_past_limit(number))
            break
        _add(found, value, str(number))
    return found


def _loads(line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise UnreadableFileError(f"not valid JSON ({exc.msg}, column {exc.colno})") from exc
    except RecursionError as exc:  # [[[[... thousands deep: one record lost, not the file
        raise UnreadableFileError("JSON nested too deeply") from exc
    except ValueError as exc:
        raise UnreadableFileError(f"not readable JSON ({str(exc).split(':')[0]})") from exc


def _past_limit(number: int) -> SkippedRecord:
    return SkippedRecord(
        str(number), f"past the {MAX_RECORDS:,} records read from one file: it and the rest unread"
    )


def _add(found: Extraction, value: object, record: str | None) -> None:
    if not isinstance(value, Mapping):
        found.skipped.append(SkippedRecord(record or "1", "not a JSON object"))
        return
    try:
        found.articles.append(record_article(value, record=record))
    except UnreadableFileError as exc:
        found.skipped.append(SkippedRecord(record or "1", str(exc)))
    except RecursionError:
        found.skipped.append(SkippedRecord(record or "1", "JSON nested too deeply"))


def find_records(document: object, depth: int = 0) -> tuple[list[Any] | None, bool]:
    """The records of a JSON document, and whether the document is one article itself.

    A top-level array; else the list under a common key (``items``, ``results``, ...), through
    wrapper objects; else the document itself when it holds an article's text; else its only
    list of objects.
    """
    if isinstance(document, list):
        return document, False
    if not isinstance(document, Mapping) or depth > _MAX_WRAPPER_DEPTH:
        return None, False
    keys = {field_key(str(k)): v for k, v in document.items()}
    for key in RECORD_KEYS:
        value = keys.get(key)
        if _objects(value):
            return value, False
        if isinstance(value, Mapping):
            records, _ = find_records(value, depth + 1)
            if records is not None:
                return records, False
    if _body_value(_levels(document)) is not None:
        return [document], depth == 0
    lists = [v for v in document.values() if _objects(v)]
    if len(lists) == 1:
        return lists[0], False
    for value in document.values():
        if isinstance(value, Mapping):
            records, _ = find_records(value, depth + 1)
            if records is not None:
                return records, False
    return None, False


def _objects(value: object) -> bool:
    return isinstance(value, list) and any(isinstance(v, Mapping) for v in value)


def _levels(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A record's fields by normalised name: its own, then each object one level down that
    is not about something else (``fields``, ``_source``, ``attributes``, ...)."""
    levels = [{field_key(str(k)): v for k, v in record.items()}]
    for key, value in record.items():
        if isinstance(value, Mapping) and str(key).lower() not in _NOT_THE_ARTICLE:
            levels.append({field_key(str(k)): v for k, v in value.items()})
    return levels


def _body_value(levels: Iterable[Mapping[str, Any]]) -> str | None:
    """The text field's value as one string (a list of paragraphs joined at blank lines)."""
    for fields in levels:
        for key in TEXT_KEYS:
            value = fields.get(key)
            if isinstance(value, list):
                parts = [scalar(v) for v in value]
                value = "\n\n".join(p for p in parts if isinstance(p, str)) if parts else None
            else:
                value = scalar(value)
            if isinstance(value, str):
                return value
    return None


def record_article(value: Mapping[str, Any], *, record: str | None = None) -> Article:
    """The article in one export record (``record``: its number in the file).

    Raises:
        UnreadableFileError: It has no text field, or no text in it.
    """
    levels = _levels(value)
    body = _body_value(levels)
    if body is None:
        raise UnreadableFileError("no text field (text, body, content, articleBody, ...)")
    if not body.strip():
        raise UnreadableFileError("empty text")
    cut = _CUT_SHORT.search(body)
    if cut:
        raise UnreadableFileError(f"text cut short by the export ({cut.group().strip()})")
    return article_from_body(
        body,
        title=_first(levels, lambda f: first_text(f, TITLE_KEYS)),
        date=_first(levels, lambda f: first_date(f, DATE_KEYS)),
        url=_first(levels, lambda f: first_url(f, URL_KEYS)),
        record=record,
    )


def _first(levels: Iterable[Mapping[str, Any]], get: Callable[[Mapping[str, Any]], T]) -> T | None:
    for fields in levels:
        found = get(fields)
        if found is not None:
            return found
    return None
