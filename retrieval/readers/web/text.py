"""A page's article text: :func:`main_text`, trafilatura's extraction of the article body from
the page less its furniture, and :func:`paragraphs`, that body as paragraphs, a line each,
without the headline."""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Iterator

import lxml.html
from lxml import etree
from trafilatura import bare_extraction
from trafilatura.settings import Extractor

from retrieval.readers.base import UnreadableFileError, clean_line

__all__ = ["HEAD_PARAGRAPHS", "main_text", "paragraphs"]

# --- main text ------------------------------------------------------------------------------

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


# --- paragraphs -----------------------------------------------------------------------------

# trafilatura's block elements: each is a paragraph (or holds paragraphs).
_BLOCKS = frozenset({"p", "head", "quote", "list", "item", "table", "row", "cell", "code", "div"})


# Where the headline and the dateline are, when the extractor keeps them: among the first few.
HEAD_PARAGRAPHS = 3
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
    for index, paragraph in enumerate(found[:HEAD_PARAGRAPHS]):
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
