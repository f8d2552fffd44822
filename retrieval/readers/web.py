"""Web pages: the article's own text, without the page around it, and its title, date and link.

A saved news page is mostly furniture: navigation, a cookie banner, a newsletter box, ads inside
the story, related and most-read headlines, share bars, comments, a footer. Picking the article
out of that is trafilatura's job and dating it htmldate's; this module runs them on one parsed
tree, in small steps:

1. :func:`decode` the bytes (BOM, declared charset, else UTF-8; bad bytes replaced);
2. :func:`parse` them once with lxml: the tree every later step reads (each works on a copy
   where it prunes);
3. metadata: :func:`page_url`, :func:`page_title`;
4. :func:`main_text`: trafilatura's extraction of the article body;
5. :func:`paragraphs`: that body as paragraphs, a line each, without the headline;
6. :func:`publication_date`: htmldate on what the page states, then on the dateline under the
   headline, then on the rest of the page less the story's own paragraphs.

:func:`article_from_html` runs them all, on a whole page or on HTML another reader found (a
feed item's ``content:encoded``, an export's body field), where what the caller knows wins.
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import html as html_lib
import itertools
import re
from collections.abc import Collection, Iterator
from datetime import date, datetime
from urllib.parse import urlsplit

import lxml.html
from htmldate import find_date
from lxml import etree
from trafilatura import bare_extraction
from trafilatura.metadata import examine_meta, extract_meta_json, extract_sitename, extract_title
from trafilatura.settings import Extractor

from retrieval.readers.base import Article, Extraction, UnreadableFileError, clean_line
from retrieval.readers.dates import MAX_YEAR, MIN_YEAR, parse_date

__all__ = [
    "article_from_html",
    "decode",
    "main_text",
    "page_title",
    "page_url",
    "paragraphs",
    "parse",
    "publication_date",
    "read",
]

NO_TEXT = "no article text found in the page"

# --- 1. decoding ----------------------------------------------------------------------------

# Longest first: UTF-32-LE's BOM starts with UTF-16-LE's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# <meta charset="x">, <meta http-equiv="Content-Type" content="text/html; charset=x">, or an
# XHTML page's XML declaration. Browsers look in the first 1024 bytes; pages that put a long
# <title> or scripts first are common enough to read a little more.
_DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([a-z0-9_.:-]{1,40})"""
    rb"""|<\?xml[^>]{0,100}?encoding\s*=\s*["']([a-z0-9_.:-]{1,40})""",
    re.I,
)
_CHARSET_PROBE_BYTES = 4096
# Labels browsers read as another encoding (WHATWG): a page "in Latin-1" is written in
# Windows-1252, whose curly quotes and dashes Latin-1 would garble.
_CHARSET_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "x-sjis": "shift_jis",
}
# Characters no HTML parser takes: C0 controls other than tab and line breaks, noncharacters.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Bytes that are never in a text file; a "page" with many of them is a binary file misnamed.
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
_BINARY_PROBE_BYTES = 65536
_MAX_BINARY_SHARE = 0.05
# A stray NUL or two in a short page is damage, not a binary file.
_MIN_BINARY_BYTES = 32


def decode(data: bytes) -> str:
    """The page's text: by its BOM, else its declared charset, else UTF-8, else Windows-1252.

    Bytes invalid in that encoding become U+FFFD; control characters no HTML parser takes
    (NUL among them) are dropped.

    Raises:
        UnreadableFileError: The bytes are binary data, not text.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return _NOT_XML.sub("", data[len(bom) :].decode(encoding, errors="replace"))
    probe = data[:_BINARY_PROBE_BYTES]
    if len(_BINARY_BYTES.findall(probe)) > max(_MIN_BINARY_BYTES, _MAX_BINARY_SHARE * len(probe)):
        raise UnreadableFileError("binary data, not a web page")
    declared = _declared_charset(data[:_CHARSET_PROBE_BYTES])
    if declared is not None:
        return _NOT_XML.sub("", data.decode(declared, errors="replace"))
    try:
        return _NOT_XML.sub("", data.decode("utf-8"))
    except UnicodeDecodeError:
        # Undeclared and not UTF-8: what browsers fall back to for Western pages.
        return _NOT_XML.sub("", data.decode("cp1252", errors="replace"))


def _is_page(text: str) -> bool:
    """Whether ``text`` is a whole page (it has ``<html>``, ``<head>`` or ``<body>``), not a
    fragment of one."""
    return _PAGE_TAG.search(text) is not None


def _declared_charset(head: bytes) -> str | None:
    match = _DECLARED_CHARSET.search(head)
    if not match:
        return None
    label = (match.group(1) or match.group(2) or b"").decode("ascii").lower()
    try:
        name = codecs.lookup(_CHARSET_ALIASES.get(label, label)).name
    except LookupError:
        return None
    # A page whose bytes spell "<meta charset=utf-16>" in ASCII is not UTF-16: browsers read
    # it as UTF-8 (a real UTF-16 page starts with a BOM, handled above).
    return "utf-8" if name.startswith(("utf-16", "utf-32")) else name


# --- 2. parsing -----------------------------------------------------------------------------

# Comments and processing instructions are never article text; ids are never looked up.
_PARSER = lxml.html.HTMLParser(
    remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False
)
_XML_DECLARATION = re.compile(r"\A\s*<\?xml[^>]*>")
_PAGE_TAG = re.compile(r"<(?:html|head|body)[\s>]", re.I)
# Far more elements than any article page (a long one has a few thousand): past this the
# page is a dump or a file built to keep the reader busy (the extractors take seconds per
# 10,000 elements on such pages).
_MAX_ELEMENTS = 50_000
# Class and id names are matched by many patterns, each reading the whole value; real ones
# are at most a few hundred characters.
_MAX_NAME_CHARS = 1000


def parse(text: str) -> lxml.html.HtmlElement:
    """The page's tree, ``<html>`` at its root however broken or partial the markup.

    A fragment (no ``<html>``, ``<head>`` or ``<body>``: a feed item's content) is the body of
    an ``<article>``: all of it is the story, lists and subheadings too (trafilatura keeps only
    paragraphs of HTML it finds in no container).

    Raises:
        UnreadableFileError: Nothing in it parses as HTML, or it is far too big for a page.
    """
    # lxml refuses a str that declares its own encoding: it was decoded already.
    text = _XML_DECLARATION.sub("", _NOT_XML.sub("", text), count=1)
    if not text.strip():
        raise UnreadableFileError("the page is empty")
    if not _is_page(text):
        text = f"<html><body><article>{text}</article></body></html>"
    try:
        tree = lxml.html.document_fromstring(text, parser=_PARSER)
    except (etree.ParserError, ValueError) as err:
        raise UnreadableFileError(f"not readable as HTML ({err})") from err
    if not isinstance(tree, lxml.html.HtmlElement):
        raise UnreadableFileError("not readable as HTML")
    for count, element in enumerate(tree.iter(), 1):
        if count > _MAX_ELEMENTS:
            raise UnreadableFileError(
                f"more than {_MAX_ELEMENTS:,} HTML elements: not an article page"
            )
        for name in ("class", "id"):
            value = element.get(name)
            if value is not None and len(value) > _MAX_NAME_CHARS:
                element.set(name, value[:_MAX_NAME_CHARS])
    return tree


# --- 3. metadata ----------------------------------------------------------------------------


def page_url(tree: lxml.html.HtmlElement) -> str | None:
    """The page's canonical link (``<link rel="canonical">``, else ``og:url``), as written;
    absolute http(s) links only."""
    for link in tree.iterfind(".//link[@href]"):
        if "canonical" in (link.get("rel") or "").lower().split() and (
            url := _absolute_url(link.get("href"))
        ):
            return url
    for meta in tree.iterfind(".//meta[@content]"):
        if (meta.get("property") or meta.get("name") or "").strip().lower() == "og:url" and (
            url := _absolute_url(meta.get("content"))
        ):
            return url
    return None


def _absolute_url(value: str | None) -> str | None:
    url = (value or "").strip()
    if url.startswith("//"):
        url = "https:" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return None if re.search(r"\s", url) else url


# Between a headline and the site's name in a <title> or og:title: "Headline | Site".
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " · ", " • ", " :: ", " » ", " / ")
_TITLE_PARTS = re.compile(r"\s+(?:[|–—·•»/-]|::)\s+")


def page_title(tree: lxml.html.HtmlElement) -> str | None:
    """The article's headline: trafilatura's pick (og:title and other meta tags, else the
    JSON-LD headline, else the one ``<h1>``, a headline-classed heading, ``<title>``), without
    the " | Site Name" a page adds to it."""
    # trafilatura's extract_metadata in part: its author, date, tags and licence cost as much
    # again and are not used.
    try:
        metadata = examine_meta(tree)
        with contextlib.suppress(Exception):  # JSON-LD nested 100,000 deep fails json.loads
            metadata = extract_meta_json(tree, metadata)
        stated = clean_line(html_lib.unescape(metadata.title or ""))
        title = stated or clean_line(extract_title(tree) or "")
        site = clean_line(html_lib.unescape(metadata.sitename or extract_sitename(tree) or ""))
    except Exception:
        # The extractors are not made for hostile pages; a title not found is no title.
        return None
    if not title:
        return None
    element = tree.find(".//head//title")
    full = clean_line(element.text_content()) if element is not None else ""
    headings = _headings(tree)
    if not stated and title != full and title in full and title not in headings:
        # Only the <title> names it, and trafilatura split it where it guessed the site's
        # name was (a part without a dot, "U.S. economy..." losing to "Example News").
        parts = [p for p in _TITLE_PARTS.split(full) if p]
        title = max(parts, key=lambda part: len(part.split()))
    return _without_site_name(title, full, site, headings)


def _headings(tree: lxml.html.HtmlElement, *tags: str) -> list[str]:
    """The texts of the page's top headings: its ``<h1>``s, else its ``<h2>``s."""
    for tag in tags or ("h1", "h2"):
        found = [clean_line(h.text_content()) for h in tree.iter(tag)]
        if found := [h for h in found if h]:
            return found
    return []


def _without_site_name(title: str, full: str, site: str, headings: list[str]) -> str:
    if title in headings:
        return title
    # A visible heading that is the title (or the <title>) with the site's name around it.
    # Longest first: "Wimbledon updates | Nadal..." holds a " | " of its own.
    for heading in sorted(headings, key=len, reverse=True):
        for separator in _TITLE_SEPARATORS:
            for candidate in (title, full):
                if candidate.startswith(heading + separator) or candidate.endswith(
                    separator + heading
                ):
                    return heading
    if site and site != title:
        for separator in _TITLE_SEPARATORS:
            if title.endswith(separator + site):
                return title[: -len(separator + site)].strip()
            if title.startswith(site + separator):
                return title[len(site + separator) :].strip()
    return title


# htmldate's bounds: the years an archive holds, never "today" (its default): a page is dated
# by what it says, whatever the day it is read.
_MIN_DATE = datetime(MIN_YEAR, 1, 1)
_MAX_DATE = datetime(MAX_YEAR, 12, 31)
# Prose: its dates are events the story tells of, not when it was published. Shorter blocks
# (a dateline, a byline) stay for htmldate, unless they are the story's own.
_PROSE = ("p", "li", "blockquote", "dd", "pre")
_PROSE_CHARS = 160
# Other elements that may hold one of the story's paragraphs, and no more than a long one.
_BLOCKS_OF_TEXT = ("div", "span", "td", "h2", "h3", "h4", "h5", "h6")
_MAX_STORY_CHARS = 5000
# A dateline: "Published July 6, 2022", "By Jane Roe · 6 July 2022, 10:14", a short line among
# the first few under the headline.
_DATELINE_CHARS = 100
_DATELINE_LINES = 8
_DATELINE_ELEMENTS = 200
_DATELINE_WORDS = 5


def publication_date(
    tree: lxml.html.HtmlElement, url: str | None = None, story: Collection[str] | None = None
) -> date | None:
    """When the article was first published, as the page says; ``None`` when it does not say.

    htmldate on the page's structure (meta tags, JSON-LD, the URL's path, ``<time>``,
    date-marked elements), else a date written whole in the short lines under the headline.
    Never a copyright year, an "Updated 3 hours ago", a month without its day, a date the story
    mentions (``story``: its paragraphs, found here when not given), or the day the page is
    read.
    """
    if story is None:
        body = main_text(tree)
        story = paragraphs(body) if body is not None else []
    return _dated(tree, url, story)


def _dated(tree: lxml.html.HtmlElement, url: str | None, story: Collection[str]) -> date | None:
    # htmldate in fast mode throughout: its extensive search of the page's text falls back to
    # guesses (a copyright year as January 1st, "July 2022" as July 1st, the earliest date
    # anywhere on the page).
    # 1. What the page states about itself: meta tags, JSON-LD, the URL's path.
    day = _htmldate(_statements(tree), extensive=False, url=url)
    if day is not None:
        return day
    # 2. A date written under the headline, before any elsewhere on the page (a related
    # story's <time>).
    lines = list(_dateline(tree))
    if lines:
        # The text search on those lines alone: no footer, no story to guess from...
        page = "".join(f"<p>{html_lib.escape(line)}</p>" for line in lines)
        day = _htmldate(f"<html><body>{page}</body></html>", extensive=True)
        # ...where it still falls back to partial dates: a day only when a line writes it
        # whole.
        if day is not None and any(_writes(line, day) for line in lines):
            return day
    # 3. Dated elements anywhere (<time>, date-marked boxes), not the story's own text.
    return _htmldate(_without_prose(tree, set(story)), extensive=False, url=url)


def _statements(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    """A page of ``tree``'s meta tags and JSON-LD only: what it states about itself."""
    head = lxml.html.Element("head")
    for element in tree.iter("meta", "script"):
        kind = (element.get("type") or "").strip().lower()
        if element.tag == "meta" or kind in ("application/ld+json", "application/settings+json"):
            statement = copy.copy(element)
            statement.tail = None
            head.append(statement)
    page = lxml.html.Element("html")
    page.append(head)
    return page


def _htmldate(
    page: lxml.html.HtmlElement | str, *, extensive: bool, url: str | None = None
) -> date | None:
    try:
        found = find_date(
            page,
            extensive_search=extensive,
            original_date=True,
            url=url,
            min_date=_MIN_DATE,
            max_date=_MAX_DATE,
            # A date the page states (meta tags, JSON-LD) over the one its URL's path implies.
            deferred_url_extractor=True,
        )
    except Exception:
        # htmldate is not made for hostile pages; a date not found is no date.
        return None
    return parse_date(found) if found else None


def _without_prose(tree: lxml.html.HtmlElement, story: set[str]) -> lxml.html.HtmlElement:
    """A copy of ``tree`` without the story's paragraphs, nor any long one: the dates in them
    are what the story tells of ("the council first met on 5/3/1996")."""
    pruned = copy.deepcopy(tree)
    for element in list(pruned.iter(*_PROSE, *_BLOCKS_OF_TEXT)):
        if (element.tag in _PROSE and _text_longer_than(element, _PROSE_CHARS)) or (
            story
            and not _text_longer_than(element, _MAX_STORY_CHARS)
            and clean_line(element.text_content()) in story
        ):
            element.drop_tree()  # keeps its tail: the text after it is not its own
    return pruned


def _text_longer_than(element: etree._Element, limit: int) -> bool:
    """Whether ``element`` holds more than ``limit`` characters of text (read only that far)."""
    size = 0
    for piece in element.itertext():
        size += len(piece)
        if size > limit:
            return True
    return False


# A copyright line's year is the site's, not the article's.
_COPYRIGHT = re.compile(r"©|&copy;|\(c\)|\bcopyright\b", re.I)


def _dateline(tree: lxml.html.HtmlElement) -> Iterator[str]:
    """The short lines right under the headline (the first ``<h1>``, else ``<h2>``), up to
    where the story's prose starts."""
    headline = tree.find(".//h1")
    if headline is None:
        headline = tree.find(".//h2")
    if headline is None:
        return
    taken: set[etree._Element] = set()
    count = 0
    for element in _following(headline):
        if not isinstance(element.tag, str) or element.tag in ("script", "style", "template"):
            continue
        if any(ancestor in taken for ancestor in element.iterancestors()):
            continue
        if _text_longer_than(element, _DATELINE_CHARS):
            if element.tag in _PROSE:
                return  # the story has started
            continue  # a container: its children are looked at next
        line = clean_line(element.text_content())
        if line and not _COPYRIGHT.search(line):
            taken.add(element)
            yield line
            count += 1
            if count >= _DATELINE_LINES:
                return


def _following(element: etree._Element) -> Iterator[etree._Element]:
    """The elements after ``element`` in document order (not inside it), a bounded number."""
    seen = 0
    node: etree._Element | None = element
    while node is not None and seen < _DATELINE_ELEMENTS:
        sibling = node.getnext()
        while sibling is not None:
            for inner in sibling.iter():
                yield inner
                seen += 1
                if seen >= _DATELINE_ELEMENTS:
                    return
            sibling = sibling.getnext()
        node = node.getparent()


# A date written whole: its day, month and year together, in numbers or with the month's name
# (which htmldate read; here only its place is checked).
_WRITTEN_DATE = re.compile(
    # 2022-07-06, 06/07/2022, 6.7.22
    r"(?<!\d)(?P<a>\d{1,4})[./-](?P<b>\d{1,2})[./-](?P<c>\d{1,4})(?!\d)"
    # 6 July 2022, 6th of July 2022, 6. Juli 2022
    r"|(?<!\d)(?P<day>\d{1,2})(?:st|nd|rd|th|\.)?\s+(?:of\s+)?[^\W\d_]{3,}\.?,?\s+"
    r"(?P<year>\d{4})(?!\d)"
    # July 6, 2022
    r"|[^\W\d_]{3,}\.?\s+(?P<day2>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year2>\d{4})(?!\d)"
    # 2022年7月6日
    r"|(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
)


def _is_dateline(line: str, day: date) -> bool:
    """Whether ``line`` is a dateline of ``day``: the date and a few words ("Published",
    "By Jane Roe ·", "10:14 AM EDT"), not a sentence that mentions it."""
    if not _writes(line, day):
        return False
    words = [w for w in _WRITTEN_DATE.sub(" ", line).split() if any(c.isalpha() for c in w)]
    return len(words) <= _DATELINE_WORDS


def _writes(line: str, day: date) -> bool:
    """Whether ``line`` writes ``day`` whole (not a year alone, nor a month and its year)."""
    years = (day.year, day.year % 100)
    for match in _WRITTEN_DATE.finditer(line):
        found = {int(n) for n in match.groups() if n is not None}
        if day.day in found and any(y in found for y in years):
            if match["a"] is None and match["y"] is None:
                return True  # the month is the word between them
            if day.month in found:
                return True
    return False


# --- 4. main text ---------------------------------------------------------------------------

# trafilatura's settings: the article without comments; tables kept (they can hold the story's
# figures); "txt" so that it leaves its XML body unrendered (document.body is what is read).
_SETTINGS = {
    "output_format": "txt",
    "comments": False,
    "tables": True,
    "images": False,
    "links": False,
    "formatting": False,
}
_EXTRACTOR = Extractor(**_SETTINGS)  # type: ignore[arg-type]
# On a big page, without its second opinions (readability, jusText): jusText's time grows with
# the square of the page's blocks (10,000 short ones take 20 s, 1,500 half a second). A page
# this big has an article the main extractor finds; the rescue from the page's raw text stays.
_FAST_EXTRACTOR = Extractor(fast=True, **_SETTINGS)  # type: ignore[arg-type]
_FAST_ELEMENTS = 3_000
# What trafilatura's own cleaning leaves that is never article text, by the page's structure
# and the class and id names sites give furniture. Only small containers go: a wrapper (an
# ASP.NET page's <form>, a "has-ads" body) must not take the story with it.
_SMALL = "not(.//h1) and count(.//p[string-length(normalize-space()) > 150]) < 3"
_FURNITURE_CLASSES = (
    r"(^|[\s_-])(ads?|adv|advert\w*|adslot|adunit|dfp\w*|gpt|sponsor\w*|promo\w*|subscri\w*"
    r"|sign-?up|trending|recommend\w*|popular|social|share\w*|sharing|comments?)($|[\s_-])"
)
# adSlot, AdContainer: "ad" as the first word of a camelCase name (case matters here).
_AD_CAMEL = r"(^|[\s_-])[Aa]d[A-Z]"
_FURNITURE = etree.XPath(
    ".//*[self::nav or @role='navigation' or self::aside or self::footer or self::form"
    " or self::button or self::dialog"
    " or (self::header and not(ancestor::article) and not(ancestor::main))"
    " or re:test(@class, $names, 'i') or re:test(@id, $names, 'i')"
    f" or re:test(@class, $camel) or re:test(@id, $camel)][{_SMALL}]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
# Date and byline stamps ("Updated 3 hours ago", "Published July 6, 2022"): short lines of their
# own, not a span inside a paragraph (an AP dateline, "WASHINGTON (AP) —", is the story's).
_STAMP_CLASSES = (
    r"(^|[\s_-])(date|datetime|timestamp|updated|published|pubdate|posted|byline)($|[\s_-])"
)
_STAMPS = etree.XPath(
    ".//*[self::p or self::div or self::span or self::time or self::small]"
    "[re:test(@class, $names, 'i') or re:test(@id, $names, 'i')]"
    "[not(ancestor::p)][string-length(normalize-space()) <= 120]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)


def main_text(tree: lxml.html.HtmlElement) -> etree._Element | None:
    """trafilatura's extraction of the article body (its XML: ``<p>``, ``<head>``, ``<list>``,
    ``<table>``, ``<quote>``...), from a copy of ``tree`` without its furniture; ``None`` when
    it finds none."""
    tree = copy.deepcopy(tree)
    doomed = _FURNITURE(tree, names=_FURNITURE_CLASSES, camel=_AD_CAMEL)
    doomed += _STAMPS(tree, names=_STAMP_CLASSES)
    for element in doomed:
        if element.getparent() is not None:
            element.drop_tree()
    big = next(itertools.islice(tree.iter(), _FAST_ELEMENTS, None), None) is not None
    try:
        document = bare_extraction(tree, options=_FAST_EXTRACTOR if big else _EXTRACTOR)
    except Exception as err:
        # trafilatura is not made for hostile pages: its failure is the page's, named as such.
        raise UnreadableFileError(
            f"the article extractor failed on the page ({type(err).__name__})"
        ) from err
    body = getattr(document, "body", None)
    if not isinstance(body, etree._Element) or not "".join(body.itertext()).strip():
        return None
    return body


# --- 5. paragraphs --------------------------------------------------------------------------

# trafilatura's block elements: each is a paragraph (or holds paragraphs).
_BLOCKS = frozenset({"p", "head", "quote", "list", "item", "table", "row", "cell", "code", "div"})


# Where the headline and the dateline are, when the extractor keeps them: among the first few.
_HEAD_PARAGRAPHS = 3
# An ad's label left standing between paragraphs ("Advertisement", "ADVERTISEMENT - scroll to
# continue"): a short line naming an advertisement. Its box went with its class name; a label
# in a box named nothing says what it is only in words. ("Advertising", the trade, is news.)
_AD_LABEL = re.compile(r"\badvertisement\b", re.I)
_AD_LABEL_WORDS = 6


def paragraphs(body: etree._Element, *, title: str | None = None) -> list[str]:
    """The body's paragraphs, each on one line, without what is not the story's text: the
    headline among the first few (it is the title, metadata) and ad labels."""
    # A line break inside a block's text (a <pre>'s lines, trafilatura's rescue of a page's raw
    # text) ends a paragraph too: the source's own wrapping is gone by then.
    lines = (clean_line(line) for text in _block_texts(body) for line in text.split("\n"))
    found = [p for p in lines if p and not _is_ad_label(p)]
    headline = clean_line(title or "").casefold()
    for index, paragraph in enumerate(found[:_HEAD_PARAGRAPHS]):
        if paragraph.casefold() == headline:
            del found[index]
            break
    return found


def _is_ad_label(paragraph: str) -> bool:
    return len(paragraph.split()) <= _AD_LABEL_WORDS and bool(_AD_LABEL.search(paragraph))


def _block_texts(element: etree._Element) -> Iterator[str]:
    """The text of each block (paragraph, heading, list item, table row) under ``element``;
    a line break (``<lb/>``) ends a paragraph."""
    if element.tag == "row" and all(len(cell) == 0 for cell in element):
        # A table row of plain cells is one line: "Team | Won | Lost".
        yield " | ".join(clean_line(cell.text or "") for cell in element)
        return
    parts: list[str] = [element.text or ""]
    for child in element:
        if child.tag in _BLOCKS or child.tag == "lb":
            yield "".join(parts)
            parts = []
            if child.tag != "lb":
                yield from _block_texts(child)
        else:
            parts.extend(child.itertext())
        parts.append(child.tail or "")
    yield "".join(parts)


# --- whole pages ----------------------------------------------------------------------------


def article_from_html(
    html: str | bytes,
    *,
    url: str | None = None,
    title: str | None = None,
    date: date | None = None,
    record: str | None = None,
) -> Article:
    """The article in ``html``: a whole page, or a fragment of one (a feed item's body).

    What the caller gives (``url``, ``title``, ``date``) wins over what the HTML says.

    Raises:
        UnreadableFileError: It holds no article text (or is no HTML at all).
    """
    text = decode(html) if isinstance(html, bytes) else html
    tree = parse(text)
    url = url or page_url(tree)
    if not title:
        # A fragment's subheading is no title: only an <h1> of its own names the story.
        title = page_title(tree) if _is_page(text) else next(iter(_headings(tree, "h1")), None)
    body = main_text(tree)
    found = paragraphs(body, title=title) if body is not None else []
    if date is None:
        date = _dated(tree, url, found)
    if date is not None:
        # A dateline the extractor kept ("Published July 6, 2022") is metadata, not text.
        head = [p for p in found[:_HEAD_PARAGRAPHS] if not _is_dateline(p, date)]
        found = head + found[_HEAD_PARAGRAPHS:]
    if not found:
        raise UnreadableFileError(NO_TEXT)
    return Article.from_paragraphs(found, title=title, date=date, url=url, record=record)


def read(data: bytes, *, name: str, kind: str) -> Extraction:
    """The one article of a saved web page.

    Raises:
        UnreadableFileError: The page holds no article text, or is not a page at all.
    """
    return Extraction(articles=[article_from_html(data)])
