"""Plain text (``.txt``) and Markdown (``.md``), and the bodies other readers hand over.

* ``text``: exactly what quotedesk always did with a ``.txt`` file
  (:func:`retrieval.documents.parse_document` and :func:`retrieval.passages.find_title`): the
  whole file is the text, quotes' offsets point into it, the `` date YYYY-MM-DD`` header gives
  the date and a short first line the title.
* ``markdown``: YAML (``---``) or TOML (``+++``) front matter, or MultiMarkdown ``Key: value``
  lines, give title, date and link and are never quoted; the Markdown is read into plain
  paragraphs (links, emphasis and code become their words; images, raw HTML and rules go).

:func:`article_from_body` is shared with the export and feed readers: a record's body, HTML
through the web reader, plain text cut at blank lines.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from retrieval.readers.base import Article, Extraction, UnreadableFileError, clean_line
from retrieval.readers.dates import parse_date
from retrieval.readers.limits import MAX_RECORD_BYTES

if TYPE_CHECKING:
    from markdown_it.token import Token

# Front matter is a few lines of metadata; past this it is not front matter (or is hostile:
# YAML's cost grows with its size), and the file is read as Markdown from its first line.
MAX_FRONT_MATTER_CHARS = 64_000
# Metadata is flat (a title, a date, a list of tags). Brackets nested deeper are not metadata,
# and are what hurts a YAML parser: libyaml's C loader overflows the C stack (a crash, not an
# error) some 30,000 deep, and PyYAML's scanner slows with the square of the depth.
MAX_FRONT_MATTER_DEPTH = 32

# Keys are compared lower-cased with everything but letters and digits removed, so
# ``pubDate``, ``pub_date`` and ``pub-date`` are one key.
TITLE_KEYS = ("title", "headline")
# Publication dates only: an ``updated``/``modified`` date is not when the article appeared.
DATE_KEYS = (
    "date",
    "published",
    "pubdate",
    "publishedat",
    "publishdate",
    "datepublished",
    "publicationdate",
)
URL_KEYS = ("canonicalurl", "canonical", "url", "link", "permalink")

_FRONT_MATTER = {
    "-": re.compile(r"\A---[ \t]*\n(.*?)^(?:---|\.\.\.)[ \t]*$\n?", re.DOTALL | re.MULTILINE),
    "+": re.compile(r"\A\+\+\+[ \t]*\n(.*?)^\+\+\+[ \t]*$\n?", re.DOTALL | re.MULTILINE),
}
# MultiMarkdown / Pelican metadata: ``Title: ...`` lines up to the first blank line.
_META_LINE = re.compile(r"([A-Za-z][A-Za-z0-9_ -]{0,30}):[ \t]+(\S.*)")
_LOOSE_LINE = re.compile(r"([A-Za-z_][\w -]{0,40}):(?:[ \t]+(.*))?")
_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# A body is HTML when it starts with a tag or holds paragraph/line-break/closing tags.
_HTML_HINT = re.compile(r"\A\s*<|<p[\s>]|<br\b|</[a-zA-Z]", re.IGNORECASE)
_INLINE_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[A-Za-z]+);")


def read(data: bytes, *, name: str, kind: str) -> Extraction:
    """The article in the ``.txt`` (``kind="text"``) or Markdown file ``name``.

    Raises:
        UnreadableFileError: Empty, binary, not UTF-8, or no text in it.
    """
    article = read_markdown(data, name=name) if kind == "markdown" else read_text(data, name=name)
    return Extraction(articles=[article])


def read_text(data: bytes, *, name: str = "") -> Article:
    """A ``.txt`` file as quotedesk always read it: the whole decoded file is the text,
    passages start after the date header and the title line.

    Raises:
        UnreadableFileError: Empty, binary or not valid UTF-8.
    """
    # Imported here: retrieval.documents will import the readers (no cycle at import time).
    from retrieval import documents, passages

    try:
        doc = documents.parse_document(name, data)
    except documents.UnreadableFileError as exc:
        raise UnreadableFileError(str(exc)) from exc
    title, _ = passages.find_title(doc)
    body_start = doc.body_start
    if title is not None:
        # The title is the first paragraph: only whitespace lies between the header and it,
        # so its first occurrence from there is it, and passages start where it ends.
        body_start = doc.text.index(title, doc.body_start) + len(title)
    return Article(text=doc.text, title=title, date=doc.date, body_start=body_start)


@dataclass(frozen=True)
class _Block:
    """One paragraph of a Markdown body, with what the title rules need to know of it."""

    text: str
    heading: int  # 1 for ``# ...``, 2 for ``## ...``, 0 for anything else
    one_line: bool  # written on one line of the source


def read_markdown(data: bytes, *, name: str = "") -> Article:
    """A Markdown file: its front matter's metadata and its words as plain paragraphs.

    Raises:
        UnreadableFileError: Empty, binary, not valid UTF-8, or no text in it.
    """
    from retrieval import documents

    try:
        # The same checks and normalisation as a .txt file (NUL bytes, UTF-8, BOM, line
        # ends), and the old `` date YYYY-MM-DD`` header a .md file could always carry.
        doc = documents.parse_document(name, data)
    except documents.UnreadableFileError as exc:
        raise UnreadableFileError(str(exc)) from exc
    meta, body_start = front_matter(doc.text)
    if meta is None:
        meta, body_start = {}, doc.body_start
        published = doc.date
    else:
        published = first_date(meta, DATE_KEYS)
    title = first_text(meta, TITLE_KEYS)
    url = first_url(meta, URL_KEYS)
    blocks = markdown_blocks(doc.text[body_start:])
    if blocks and blocks[0].heading == 1:
        # A leading ``# Heading`` is the title; either way it is not repeated in the text.
        if title is None:
            title = blocks.pop(0).text
        elif _same(blocks[0].text, title):
            blocks.pop(0)
    elif title is None and _title_line(blocks):
        title = blocks.pop(0).text
    if not any(b.text for b in blocks):
        raise UnreadableFileError("no text found" if title is None else "a title and no text")
    return Article.from_paragraphs((b.text for b in blocks), title=title, date=published, url=url)


def _title_line(blocks: Sequence[_Block]) -> bool:
    """find_title's rule: a short first paragraph on one line, followed by more text."""
    from retrieval.passages import MAX_TITLE_WORDS

    return len(blocks) > 1 and blocks[0].one_line and len(blocks[0].text.split()) <= MAX_TITLE_WORDS


def _same(a: str, b: str) -> bool:
    return clean_line(a).casefold() == clean_line(b).casefold()


def front_matter(text: str) -> tuple[dict[str, Any] | None, int]:
    """The metadata at the start of a Markdown file (keys normalised by :func:`field_key`)
    and where its body starts; ``(None, 0)`` when it has none.

    A block that does not read as a mapping (a rule, a line of prose, another rule) or is
    larger than :data:`MAX_FRONT_MATTER_CHARS` is not metadata: the file is then read whole
    as Markdown, so no words are lost for a guess that they were metadata.
    """
    head = text[: MAX_FRONT_MATTER_CHARS + 8]
    for marker, pattern in _FRONT_MATTER.items():
        match = pattern.match(head)
        if match is None or len(match.group(1)) > MAX_FRONT_MATTER_CHARS:
            continue
        found = _yaml(match.group(1)) if marker == "-" else _toml(match.group(1))
        if found is None:
            return None, 0
        return {field_key(str(k)): v for k, v in found.items()}, match.end()
    return _multimarkdown(text)


def _yaml(source: str) -> Mapping[Any, Any] | None:
    import yaml

    if _bracket_depth(source) > MAX_FRONT_MATTER_DEPTH:
        return _loose_mapping(source)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        found = yaml.load(source, Loader=loader)  # noqa: S506 (a safe loader)
    except (yaml.YAMLError, RecursionError, ValueError):
        # Hand-written front matter often breaks YAML (``title: Vote: what now``): still
        # metadata if every line is ``key: value`` (or a nested line of one).
        return _loose_mapping(source)
    if found is None:  # ``---`` then ``---``: empty front matter, nothing in it
        return {}
    return found if isinstance(found, Mapping) else None


def _bracket_depth(source: str) -> int:
    depth = deepest = 0
    for char in source:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _loose_mapping(source: str) -> dict[str, str] | None:
    """``key: value`` lines read as text, for front matter YAML would not read; ``None`` when
    a line is something else."""
    found: dict[str, str] = {}
    keys = 0
    for line in source.split("\n"):
        if not line.strip() or line.lstrip().startswith("#") or line[0] in " \t-":
            continue  # blank, a comment, or a line of the value above
        match = _LOOSE_LINE.fullmatch(line.rstrip())
        if match is None:
            return None
        keys += 1
        value = (match.group(2) or "").strip()
        if not value.startswith(("[", "{", "&", "*", "!", "|", ">")):  # YAML structure: no text
            found[match.group(1)] = value.strip("'\"")
    return found if keys else None


def _toml(source: str) -> Mapping[Any, Any] | None:
    import tomllib

    if _bracket_depth(source) > MAX_FRONT_MATTER_DEPTH:
        return None
    try:
        return tomllib.loads(source)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError):
        return None


def _multimarkdown(text: str) -> tuple[dict[str, Any] | None, int]:
    """``Title: ...`` / ``Date: ...`` lines up to the first blank line (MultiMarkdown,
    Pelican). Taken only when every line is such a line and a title or date key is among
    them: a first paragraph that merely starts ``Update: ...`` stays text."""
    head = text[:MAX_FRONT_MATTER_CHARS]
    blank = _BLANK_LINE.search(head)
    if blank is None:
        return None, 0
    meta: dict[str, Any] = {}
    for line in head[: blank.start()].split("\n"):
        match = _META_LINE.fullmatch(line.strip())
        if match is None:
            return None, 0
        meta[field_key(match.group(1))] = match.group(2).strip()
    if not any(k in meta for k in (*TITLE_KEYS, *DATE_KEYS)):
        return None, 0
    return meta, blank.end()


def markdown_blocks(source: str) -> list[_Block]:
    """The paragraphs of a Markdown text as plain words: one per paragraph, heading, list
    item, table row and code block."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    blocks: list[_Block] = []
    heading = 0
    prefix = ""  # an ordered list item's number, for its first paragraph
    row: list[str] | None = None
    for token in parser.parse(source):
        kind = token.type
        if kind == "heading_open":
            heading = int(token.tag[1:])
        elif kind == "heading_close":
            heading = 0
        elif kind == "list_item_open":
            # Kept for numbered items: "3. ..." in a ranked list is part of what it says.
            prefix = f"{token.info}{token.markup} " if token.info else ""
        elif kind == "tr_open":
            row = []
        elif kind == "tr_close" and row is not None:
            blocks.append(_Block(" | ".join(c for c in row if c), 0, True))
            row = None
        elif kind == "inline":
            words = clean_line(_inline_words(token.children or []))
            if row is not None:
                row.append(words)
                continue
            lines = token.map[1] - token.map[0] if token.map else 1
            blocks.append(_Block(prefix + words if words else "", heading, lines <= 1))
            prefix = ""
        elif kind in ("fence", "code_block"):
            # A code block in a note is pasted text (a statement, a wire copy): its words
            # are the author's, kept as paragraphs.
            blocks.extend(_Block(clean_line(p), 0, False) for p in _BLANK_LINE.split(token.content))
        # html_block, hr: raw HTML in a note is embeds, comments and layout; rules are lines.
    return [b for b in blocks if b.text]


def _inline_words(children: Iterable[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("text", "text_special", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak") or _is_br(child):
            parts.append(" ")
        # An image's alt text describes a picture, not the article, and would break the
        # sentence it sits in; link and emphasis markers carry no words of their own.
    return "".join(parts)


def _is_br(token: Token) -> bool:
    return token.type == "html_inline" and token.content[:3].lower() == "<br"


# Shared with the export and feed readers.


def field_key(key: str) -> str:
    """A field name as compared: ``pubDate``, ``pub_date`` and ``PUB-DATE`` are ``pubdate``."""
    return re.sub(r"[^a-z0-9]", "", key.lower())


def first_text(fields: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    """The first of ``keys`` whose value is a non-empty line of text (entities decoded)."""
    for key in keys:
        value = scalar(fields.get(key))
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # ``title: 1984``
        if isinstance(value, str):
            line = title_line(value)
            if line:
                return line
    return None


def title_line(value: str) -> str | None:
    """A title on one line; an HTML title (WordPress's ``rendered``, an Atom ``type="html"``
    title) without its inline tags and entities."""
    if "<" in value:
        value = _INLINE_TAG.sub("", value)
    if "&" in value and _ENTITY.search(value):
        value = html.unescape(value)
    return clean_line(value) or None


def first_date(fields: Mapping[str, Any], keys: Iterable[str]) -> date | None:
    """The first of ``keys`` whose value writes a whole date (see :func:`parse_date`)."""
    for key in keys:
        found = parse_date(scalar(fields.get(key)))
        if found is not None:
            return found
    return None


def first_url(fields: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    """The first of ``keys`` whose value is an absolute http(s) link."""
    for key in keys:
        url = absolute_url(scalar(fields.get(key)))
        if url:
            return url
    return None


# Where APIs wrap a value in an object: WordPress ``{"rendered": ...}``, NYT ``{"main": ...}``,
# MongoDB ``{"$date": ...}``, XML-to-JSON ``{"#text": ...}``.
_WRAPPED = ("rendered", "value", "text", "main", "html", "raw", "plain", "default", "date", "href")


def scalar(value: object) -> object:
    """``value``, unwrapped from the one-key objects and one-item lists APIs put values in."""
    for _ in range(3):
        if isinstance(value, Mapping):
            keys = {field_key(str(k)): v for k, v in value.items()}
            value = next((keys[k] for k in _WRAPPED if k in keys), None)
        elif isinstance(value, list) and value:
            value = value[0]
        else:
            break
    return value


def absolute_url(value: object) -> str | None:
    """``value`` if it is an absolute http(s) URL: a path (``/2022/07/story``) opens nothing."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if any(c.isspace() for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def looks_like_html(text: str) -> bool:
    """Whether a body is HTML: it starts with a tag or holds ``<p>``, ``<br`` or ``</x``."""
    return bool(_HTML_HINT.search(text))


def plain_paragraphs(text: str) -> list[str]:
    """A plain-text body's paragraphs: at blank lines, or at every line when it has none
    (exports often hold one paragraph a line)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _BLANK_LINE.search(text):
        return _BLANK_LINE.split(text)
    return text.split("\n")


def article_from_body(
    body: str,
    *,
    is_html: bool | None = None,
    title: str | None = None,
    date: date | None = None,
    url: str | None = None,
    record: str | None = None,
) -> Article:
    """The article whose body (an export's text field, a feed entry's content) is ``body``:
    HTML is read by the web reader, plain text is cut into paragraphs. The record's own
    title, date and link win over what the web reader finds in the HTML.

    Raises:
        UnreadableFileError: No text in it, or an HTML body larger than a page may be.
    """
    if is_html is None:
        is_html = looks_like_html(body)
    if is_html:
        if len(body) > MAX_RECORD_BYTES:
            raise UnreadableFileError(f"HTML body larger than {MAX_RECORD_BYTES / 1e6:g} MB")
        from retrieval.readers import web  # imported on the first HTML body

        found = web.article_from_html(body, url=url, title=title, date=date, record=record)
        return replace(
            found,
            title=title or found.title,
            date=date or found.date,
            url=url or found.url,
            record=record,
        )
    paragraphs = [clean_line(p) for p in plain_paragraphs(body)]
    paragraphs = [p for p in paragraphs if p]
    if paragraphs and title and _same(paragraphs[0], title) and len(paragraphs) > 1:
        paragraphs.pop(0)  # the headline repeated as the body's first line
    return Article.from_paragraphs(paragraphs, title=title, date=date, url=url, record=record)
