"""RSS (0.9x, 1.0, 2.0) and Atom feeds: an entry with its full text is an article.

The XML is checked by defusedxml before feedparser sees it: entity declarations (the
"billion laughs" expansion) and external entities are refused. feedparser is handed the
bytes in a stream, never a string: given a string it fetches URLs and opens paths.

An entry gives an article only when it carries the article: its ``content`` (RSS
``content:encoded``, Atom ``content``), or a summary long enough to be the full text. An
entry with only a teaser is skipped and named.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date
from typing import Any

from retrieval.readers.base import Article, Extraction, SkippedRecord, UnreadableFileError
from retrieval.readers.dates import parse_date
from retrieval.readers.limits import MAX_RECORDS
from retrieval.readers.plain import absolute_url, article_from_body, looks_like_html, title_line

# A summary this long is the article itself, not a teaser: feeds' teasers are a sentence or
# three (WordPress cuts excerpts at 55 words, most CMS at 300-500 characters, some 100 words);
# a news article is rarely under 150 words, and a shorter item in such a feed is a brief
# whose loss costs little next to quoting teasers as if they were the article.
MIN_SUMMARY_WORDS = 150
# A summary ending so was cut short, however long.
_CUT_SHORT = re.compile(r"(?:\.\.\.|…|\[…\]|\[\.\.\.\]|\[&hellip;\]|&hellip;)\s*(?:</p>)?\s*\Z")
# Tags are removed only to count a summary's words; the text itself is the web reader's.
_TAG = re.compile(r"<[^>]*>")
_FEED_ROOTS = frozenset({"rss", "feed", "rdf", "channel"})
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
_SITEMAP_HINT = re.compile(rb"<(?:\w+:)?(?:urlset|sitemapindex)[\s>]")
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_EXPANSION = "XML with entity declarations: refused (entity expansion)"
_EXTERNAL = "XML with an external entity: refused (it would read another file or URL)"
_PLAIN_TYPES = frozenset({"text/plain", "text"})


def read(data: bytes, *, name: str, kind: str) -> Extraction:
    """The articles of an RSS or Atom feed.

    Raises:
        UnreadableFileError: Entity declarations in it, a sitemap, XML that is not a feed,
            or XML so broken that no entry can be read from it.
    """
    if not data.strip():
        raise UnreadableFileError("empty file")
    broken = _check_xml(data)
    import feedparser  # imported on the first feed

    # A stream: given bytes or a string, feedparser would try them as a path (or a URL).
    parsed = feedparser.parse(io.BytesIO(data))
    entries = parsed.get("entries") or []
    if not entries:
        if broken:
            raise UnreadableFileError(f"malformed XML with no feed entry in it ({broken})")
        if not parsed.get("version"):
            raise UnreadableFileError("XML that is not a feed")
        raise UnreadableFileError("a feed with no entries")
    found = Extraction()
    for number, entry in enumerate(entries, 1):
        if number > MAX_RECORDS:
            reason = f"past the {MAX_RECORDS:,} entries read from one feed: it and the rest unread"
            found.skipped.append(SkippedRecord(str(number), reason))
            break
        try:
            found.articles.append(entry_article(entry, record=str(number)))
        except UnreadableFileError as exc:
            found.skipped.append(SkippedRecord(str(number), str(exc)))
    return found


def _check_xml(data: bytes) -> str | None:
    """Refuse what must never reach an XML parser; return why the XML is malformed, if it is
    (feedparser's lenient parser may still read it).

    Raises:
        UnreadableFileError: Entity declarations or external entities, a sitemap, or
            well-formed XML whose root is not a feed's.
    """
    from xml.etree.ElementTree import ParseError

    import defusedxml
    from defusedxml import ElementTree

    try:
        root = ElementTree.fromstring(
            data, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except defusedxml.EntitiesForbidden as exc:
        if exc.sysid or exc.pubid:
            raise UnreadableFileError(_EXTERNAL) from exc
        raise UnreadableFileError(_EXPANSION) from exc
    except defusedxml.ExternalReferenceForbidden as exc:
        raise UnreadableFileError(_EXTERNAL) from exc
    except defusedxml.DefusedXmlException as exc:
        raise UnreadableFileError(f"XML refused ({exc})") from exc
    except ParseError as exc:
        # Broken XML stops the check wherever it breaks: a declaration after that point was
        # never seen, so look for one in the bytes.
        if _ENTITY_DECLARATION.search(data):
            raise UnreadableFileError(_EXPANSION) from exc
        if _SITEMAP_HINT.search(data[:4096]):
            raise UnreadableFileError("a sitemap: ingest it by URL") from exc
        return str(exc)
    tag = str(root.tag).rsplit("}", 1)[-1].split(":")[-1].lower()
    if tag in _SITEMAP_ROOTS:
        raise UnreadableFileError("a sitemap: ingest it by URL")
    if tag not in _FEED_ROOTS:
        raise UnreadableFileError("XML that is not a feed")
    return None


def entry_article(entry: Any, *, record: str) -> Article:
    """The article of one feed entry (a feedparser entry).

    Raises:
        UnreadableFileError: It has only a teaser, or no text.
    """
    body, kind = _full_text(entry)
    is_html = kind not in _PLAIN_TYPES and looks_like_html(body)
    if kind not in _PLAIN_TYPES and not is_html:
        # Typed HTML with no tag in it (RSS descriptions are always "HTML"): its text with
        # the entities decoded, not a page for the web reader to look for an article in.
        body = html.unescape(body)
    title = entry.get("title")
    return article_from_body(
        body,
        is_html=is_html,
        title=title_line(title) if isinstance(title, str) else None,
        date=_entry_date(entry),
        url=absolute_url(entry.get("link")),
        record=record,
    )


def _full_text(entry: Any) -> tuple[str, str | None]:
    """The entry's full text and its content type (``None`` when not said)."""
    contents = [c for c in entry.get("content") or [] if (c.get("value") or "").strip()]
    if contents:
        # Several (Atom text beside HTML, or content:encoded beside atom:content): the
        # longest carries the most of the article.
        best = max(contents, key=lambda c: len(c.get("value") or ""))
        return best["value"], _type(best)
    summary = entry.get("summary") or ""
    if not summary.strip():
        raise UnreadableFileError("no text: no content and no summary")
    words = len(_TAG.sub(" ", summary).split())
    if words < MIN_SUMMARY_WORDS or _CUT_SHORT.search(summary):
        raise UnreadableFileError("only a summary, no full text")
    return summary, _type(entry.get("summary_detail") or {})


def _type(detail: Any) -> str | None:
    kind = detail.get("type")
    return kind.lower() if isinstance(kind, str) and kind else None


def _entry_date(entry: Any) -> date | None:
    """The date written in the entry: its published date, else its updated one.

    The written string first: feedparser's parsed times are in UTC, so an item published
    at 23:30-05:00 would move to the next day.
    """
    for key in ("published", "updated"):
        found = parse_date(entry.get(key))
        if found is not None:
            return found
        parsed = entry.get(f"{key}_parsed")
        if parsed:
            try:
                return date(parsed.tm_year, parsed.tm_mon, parsed.tm_mday)
            except (ValueError, AttributeError):
                continue
    return None
