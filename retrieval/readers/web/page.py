"""A saved page's bytes to the tree every later step reads: :func:`decode` them (BOM, declared
charset, else UTF-8; bad bytes replaced), then :func:`parse` them once with lxml (each later
step works on a copy where it prunes).
"""

from __future__ import annotations

import codecs
import re

import lxml.html
from lxml import etree

from retrieval.readers.base import UnreadableFileError

__all__ = ["decode", "is_page", "parse"]

# --- decoding -------------------------------------------------------------------------------

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


def is_page(text: str) -> bool:
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


# --- parsing --------------------------------------------------------------------------------

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
    if not is_page(text):
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
