"""Web pages: the article's own text, without the page around it, and its title, date and link.

A saved news page is mostly furniture: navigation, a cookie banner, a newsletter box, ads inside
the story, related and most-read headlines, share bars, comments, a footer. Picking the article
out of that is trafilatura's job and dating it htmldate's; this package runs them on one parsed
tree, in small steps, a module each:

1. :mod:`~retrieval.readers.web.page`: :func:`decode` the bytes (BOM, declared charset, else
   UTF-8; bad bytes replaced); :func:`parse` them once with lxml: the tree every later step
   reads (each works on a copy where it prunes);
2. :mod:`~retrieval.readers.web.metadata`: :func:`page_url`, :func:`page_title`;
3. :mod:`~retrieval.readers.web.text`: :func:`main_text`, trafilatura's extraction of the
   article body; :func:`paragraphs`, that body as paragraphs, a line each, without the
   headline;
4. :mod:`~retrieval.readers.web.published`: :func:`publication_date`, htmldate on what the
   page states, then on the dateline under the headline, then on the rest of the page less the
   story's own paragraphs.

:func:`article_from_html` runs them all, on a whole page or on HTML another reader found (a
feed item's ``content:encoded``, an export's body field), where what the caller knows wins.
"""

from __future__ import annotations

from datetime import date

from retrieval.readers.base import Article, Extraction, UnreadableFileError
from retrieval.readers.web.metadata import page_title, page_url, top_headings
from retrieval.readers.web.page import decode, is_page, parse
from retrieval.readers.web.published import dated, is_dateline
from retrieval.readers.web.text import HEAD_PARAGRAPHS, main_text, paragraphs

__all__ = ["NO_TEXT", "article_from_html", "read"]

NO_TEXT = "no article text found in the page"


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
        title = page_title(tree) if is_page(text) else next(iter(top_headings(tree, "h1")), None)
    body = main_text(tree)
    found = paragraphs(body, title=title) if body is not None else []
    if date is None:
        date = dated(tree, url, found)
    if date is not None:
        # A dateline the extractor kept ("Published July 6, 2022") is metadata, not text.
        head = [p for p in found[:HEAD_PARAGRAPHS] if not is_dateline(p, date)]
        found = head + found[HEAD_PARAGRAPHS:]
    if not found:
        raise UnreadableFileError(NO_TEXT)
    return Article.from_paragraphs(found, title=title, date=date, url=url, record=record)


def read(data: bytes, *, name: str, kind: str) -> Extraction:
    """The one article of a saved web page.

    Raises:
        UnreadableFileError: The page holds no article text, or is not a page at all.
    """
    return Extraction(articles=[article_from_html(data)])
