"""What a fetched response is, and the pages it leads to.

- :func:`classify`: a page (``"html"``), a feed (``"feed"``), a sitemap (``"sitemap"``, a
  ``<urlset>``), a sitemap index (``"sitemapindex"``), or another kind the readers read
  (``"pdf"``, ``"text"``...); by the XML root where there is one, then the content type, then
  the readers' own sniffing and the URL's suffix.
- :func:`parse_sitemap`, :func:`walk_sitemap`: a sitemap's page URLs with their
  ``<lastmod>``; an index's nested sitemaps followed to a bounded depth and count.
- :func:`feed_links`: a feed's entry links, each saying whether the entry carries its
  article or only a summary (whose page must then be fetched).

XML is parsed with defusedxml, entity declarations refused (a "billion laughs" sitemap is an
error, not gigabytes of memory). feedparser is only ever given bytes, wrapped in a stream: given
a string that looks like a URL it fetches it, and given bytes it tries them as a file name.

Every link followed must be ``http``/``https``. A sitemap's URLs must also be on the sitemap's
own host (the sitemaps.org protocol requires it, and it keeps a hostile sitemap from sending
quotedesk elsewhere); a feed's entries may be on any host (feeds are often served from a
feed host or CDN that is not the site's), unless ``same_host`` is asked.
"""

from __future__ import annotations

import io
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from retrieval.readers import kind_of
from retrieval.readers.limits import MAX_RECORDS
from retrieval.web.bounded import gunzip_bounded
from retrieval.web.errors import FetchError
from retrieval.web.fetch import Fetched, Fetcher
from retrieval.web.urls import check_url

__all__ = [
    "MAX_SITEMAP_DEPTH",
    "MAX_SITEMAP_URLS",
    "MAX_SITEMAPS",
    "SITEMAP_MAX_BYTES",
    "Discovered",
    "DiscoveryError",
    "FeedLink",
    "Sitemap",
    "SitemapEntry",
    "SitemapWalk",
    "Skipped",
    "classify",
    "feed_links",
    "parse_sitemap",
    "walk_sitemap",
]

# sitemaps.org: a sitemap holds at most 50,000 URLs and 50 MB uncompressed.
SITEMAP_MAX_BYTES = 50_000_000
# Sitemap indexes nested below the first (the protocol allows none; some sites nest one or two).
MAX_SITEMAP_DEPTH = 3
# Page URLs taken from one walk: a news site's sitemaps list years of articles; an ingest wants
# the recent ones, and 10,000 pages is already hours of polite fetching.
MAX_SITEMAP_URLS = 10_000
# Sitemap files fetched in one walk (an index of indexes could list thousands).
MAX_SITEMAPS = 100
# sitemaps.org: a <loc> is under 2,048 characters.
MAX_URL_CHARS = 2_048
# Reasons kept for URLs refused one by one (a sitemap of 50,000 foreign URLs is one story).
_MAX_SKIPPED = 100

_HTML_TYPES = {"text/html": ".html", "application/xhtml+xml": ".xhtml"}
_FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/rss"}
)
# Content types whose kind the readers know by a suffix (checked against the bytes by kind_of).
_SUFFIX_OF_TYPE = {
    **_HTML_TYPES,
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/x-markdown": ".md",
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/json": ".json",
    "application/x-ndjson": ".jsonl",
    "application/jsonl": ".jsonl",
    "application/ndjson": ".jsonl",
}
_GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip", "application/octet-stream"})
_FEED_ROOTS = frozenset({"rss", "feed", "rdf"})
_SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})


class DiscoveryError(FetchError):
    """A fetched sitemap or feed that cannot be read (safely); ``reason`` says why."""


@dataclass(frozen=True)
class Discovered:
    """What a response is.

    Attributes:
        kind: ``"sitemap"``, ``"sitemapindex"``, or the kind a reader reads
            (:data:`retrieval.readers.KINDS`: ``"html"``, ``"feed"``, ``"pdf"``, ...);
            ``None``: not a kind quotedesk reads.
        data: The body, decompressed when it was a gzip file (``sitemap.xml.gz``).
        url: The URL that answered.
    """

    kind: str | None
    data: bytes
    url: str


@dataclass(frozen=True)
class SitemapEntry:
    """A URL from a sitemap, with its ``<lastmod>`` (aware; a date alone is midnight UTC)."""

    url: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class Skipped:
    """Something not followed, and why."""

    url: str
    reason: str


@dataclass
class Sitemap:
    """One sitemap file: ``"urlset"`` (pages) or ``"sitemapindex"`` (more sitemaps)."""

    kind: Literal["urlset", "sitemapindex"]
    entries: list[SitemapEntry] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    # URLs refused past the reasons kept in ``skipped``.
    more_skipped: int = 0


@dataclass
class SitemapWalk:
    """A sitemap and the ones it leads to.

    Attributes:
        entries: The page URLs found, in order, each once.
        sitemaps: The sitemap files read.
        skipped: Nested sitemaps that failed or were not followed, and refused URLs (the
            first hundred of each sitemap's refused URLs; ``more_skipped`` counts the rest).
        truncated: The walk stopped at ``max_urls`` or ``max_sitemaps``; there is more.
    """

    entries: list[SitemapEntry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    more_skipped: int = 0
    truncated: bool = False


@dataclass(frozen=True)
class FeedLink:
    """A feed entry's link.

    Attributes:
        url: The entry's page (resolved against the feed's URL).
        title: Its title, if any.
        published: When it was published (or updated), aware UTC, if the feed says.
        full_content: The entry carries its article (``content:encoded``, Atom
            ``<content>``); ``False``: only a summary, so the page must be fetched for the
            text.
    """

    url: str
    title: str | None
    published: datetime | None
    full_content: bool


def classify(fetched: Fetched) -> Discovered:
    """What ``fetched`` is: see :class:`Discovered`.

    The XML root decides where there is one (a feed served as ``text/html`` or
    ``application/octet-stream`` is still a feed; ``application/xml`` is a feed or a sitemap
    by its root); then the content type; then the readers' sniffing of the first bytes with
    the URL's suffix.

    Raises:
        DiscoveryError: A 304 (no body), or a gzip file that does not decompress within
            :data:`SITEMAP_MAX_BYTES`.
    """
    if fetched.body is None:
        raise DiscoveryError(fetched.url, "not modified: there is no body to read")
    data = fetched.body
    media = fetched.content_type or ""
    name = PurePosixPath(urlsplit(fetched.url).path).name
    if data[:2] == b"\x1f\x8b" and (media in _GZIP_TYPES or not media or name.endswith(".gz")):
        # A gzip *file* (sitemap.xml.gz), not a Content-Encoding the fetcher already undid.
        try:
            data = gunzip_bounded(data, SITEMAP_MAX_BYTES)
        except ValueError as exc:
            raise DiscoveryError(fetched.url, f"gzip file: {exc}") from None
        name, media = name.removesuffix(".gz"), ""
    root = xml_root(data)
    if root in _SITEMAP_ROOTS:
        return Discovered("sitemap" if root == "urlset" else root, data, fetched.url)
    if root in _FEED_ROOTS or media in _FEED_TYPES:
        return Discovered("feed", data, fetched.url)
    suffix = _SUFFIX_OF_TYPE.get(media)
    kind = kind_of(f"document{suffix}" if suffix else name, data[:1024])
    if kind is None and root == "html":
        kind = "html"
    return Discovered(kind, data, fetched.url)


_DOCTYPE = re.compile(r"<!DOCTYPE\b", re.I)
_START_TAG = re.compile(r"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def xml_root(data: bytes, *, window: int = 64 * 1024) -> str | None:
    """The local name, lowercased, of the first element in ``data``'s first ``window`` bytes
    (after the XML declaration, comments, processing instructions and a DOCTYPE); ``None`` if
    it does not start like markup."""
    head = data[:window]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    i = 0
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if text.startswith("<?", i):
            end = text.find("?>", i)
            i = end + 2
        elif text.startswith("<!--", i):
            end = text.find("-->", i)
            i = end + 3
        elif _DOCTYPE.match(text, i):
            bracket, close = text.find("[", i), text.find(">", i)
            if 0 <= bracket < close:  # an internal subset: its own '>'s inside [...]
                close = text.find(">", text.find("]", bracket))
            end = close
            i = end + 1
        else:
            match = _START_TAG.match(text, i)
            return match.group(1).lower() if match else None
        if end < 0:
            return None


def parse_sitemap(
    data: bytes,
    *,
    url: str,
    hosts: frozenset[str] | None = None,
    limit: int = 50_000,
) -> Sitemap:
    """The entries of one sitemap file.

    Args:
        data: Its XML (decompressed).
        url: Its URL: relative ``<loc>``\\ s are resolved against it (the protocol wants them
            absolute; resolving is harmless), and it names the errors.
        hosts: The hosts a ``<loc>`` may be on (lowercase); ``None``: any. A ``<loc>`` on
            another host, not http(s), or longer than 2,048 characters is skipped.
        limit: Entries read at most (the protocol's 50,000 by default).

    Raises:
        DiscoveryError: Not well-formed XML, not a ``<urlset>`` or ``<sitemapindex>``, or it
            declares entities or a DTD's external parts (refused, never expanded).
    """
    # Imported here: only sitemaps need it, and the package's import stays light.
    from xml.etree.ElementTree import Element, ParseError

    import defusedxml.ElementTree as DefusedET
    from defusedxml import DefusedXmlException

    try:
        root: Element = DefusedET.fromstring(
            data, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise DiscoveryError(url, f"refused: {_defused_reason(exc)}") from None
    except ParseError as exc:
        raise DiscoveryError(url, f"not well-formed XML ({exc})") from None
    kind = _local(root.tag)
    if kind not in ("urlset", "sitemapindex"):
        raise DiscoveryError(url, f"not a sitemap (its root element is <{kind}>)")
    item = "url" if kind == "urlset" else "sitemap"
    found = Sitemap("urlset" if kind == "urlset" else "sitemapindex")
    seen: set[str] = set()
    base = httpx.URL(url)
    for element in root:
        if _local(element.tag) != item:
            continue
        if len(found.entries) >= limit:
            _skip(found, url, f"more than {limit:,} entries: the rest not read")
            break
        loc, lastmod = None, None
        for child in element:
            name = _local(child.tag)
            if name == "loc":
                loc = (child.text or "").strip()
            elif name == "lastmod":
                lastmod = _lastmod(child.text or "")
        if not loc:
            continue
        reason, absolute = _refusal(base, loc, hosts)
        if reason:
            _skip(found, loc[:200], reason)
        elif absolute not in seen:
            seen.add(absolute)
            found.entries.append(SitemapEntry(absolute, lastmod))
    return found


def walk_sitemap(
    fetcher: Fetcher,
    start: str | Fetched,
    *,
    max_depth: int = MAX_SITEMAP_DEPTH,
    max_urls: int = MAX_SITEMAP_URLS,
    max_sitemaps: int = MAX_SITEMAPS,
    same_host: bool = True,
) -> SitemapWalk:
    """The page URLs of the sitemap ``start`` and of the sitemaps its index lists, nested to
    ``max_depth`` below it, at most ``max_urls`` pages from at most ``max_sitemaps`` files.

    Nested sitemaps are fetched unconditionally (and not remembered in the fetcher's cache):
    the walk lists every URL, with its ``<lastmod>``, so the caller can tell what is new.

    Args:
        fetcher: Fetches the nested sitemaps (robots.txt, limits and all).
        start: The sitemap's URL, or its response already fetched.
        same_host: Only URLs (and nested sitemaps) on the host of ``start`` (the URL asked
            for or the one that answered); the sitemaps.org protocol requires it.

    Raises:
        FetchError: ``start`` could not be fetched.
        DiscoveryError: ``start`` is not a sitemap or cannot be read safely (a nested one
            that fails is in ``skipped``; the walk goes on).
    """
    walk = SitemapWalk()
    first = _fetch_sitemap(fetcher, start) if isinstance(start, str) else start
    hosts = (
        frozenset(h for h in (_host(first.requested_url), _host(first.url)) if h is not None)
        if same_host
        else None
    )
    queue: deque[tuple[str | Fetched, int]] = deque([(first, 0)])
    visited = {first.url, first.requested_url}
    pages: set[str] = set()  # two sitemaps of one index may list the same page
    while queue:
        target, depth = queue.popleft()
        label = target if isinstance(target, str) else target.url
        try:
            fetched = _fetch_sitemap(fetcher, target) if isinstance(target, str) else target
            found = classify(fetched)
            if found.kind not in ("sitemap", "sitemapindex"):
                raise DiscoveryError(fetched.url, f"not a sitemap ({found.kind or 'unknown'})")
            sitemap = parse_sitemap(found.data, url=fetched.url, hosts=hosts)
        except FetchError as exc:
            if target is first:
                raise
            walk.skipped.append(Skipped(label, exc.reason))
            continue
        walk.sitemaps.append(fetched.url)
        walk.skipped.extend(sitemap.skipped)
        walk.more_skipped += sitemap.more_skipped
        if sitemap.kind == "urlset":
            for entry in sitemap.entries:
                if entry.url in pages:
                    continue
                if len(walk.entries) >= max_urls:
                    walk.truncated = True
                    return walk
                pages.add(entry.url)
                walk.entries.append(entry)
            continue
        for entry in sitemap.entries:
            if entry.url in visited:
                continue  # listed twice, or a loop of indexes
            visited.add(entry.url)
            if depth + 1 > max_depth:
                walk.skipped.append(
                    Skipped(entry.url, f"sitemap nested deeper than {max_depth}: not followed")
                )
            elif len(walk.sitemaps) + len(queue) >= max_sitemaps:
                walk.truncated = True
            else:
                queue.append((entry.url, depth + 1))
    return walk


def feed_links(
    data: bytes,
    *,
    base_url: str | None = None,
    same_host: bool = False,
    only_summaries: bool = False,
    limit: int = MAX_RECORDS,
) -> list[FeedLink]:
    """The entry links of the feed (RSS, Atom, RDF) whose bytes are ``data``, in its order,
    each once.

    Args:
        data: The feed's bytes (never a URL or a file name).
        base_url: The feed's URL: relative links are resolved against it.
        same_host: Only links on ``base_url``'s host.
        only_summaries: Only entries without their article's content: the pages to fetch.
        limit: Entries read at most.

    Raises:
        DiscoveryError: The XML declares entities or external parts (refused, never expanded).
    """
    import feedparser

    _refuse_unsafe_xml(data, base_url or "feed")
    # A stream, never bytes or str: feedparser.parse fetches a str that looks like a URL and
    # opens bytes as a file name if it can (b"/etc/passwd").
    parsed: Any = feedparser.parse(
        io.BytesIO(data),
        response_headers={"content-location": base_url} if base_url else None,
        sanitize_html=False,
    )
    base = httpx.URL(base_url) if base_url else None
    hosts = frozenset({base.host.lower()}) if (same_host and base is not None) else None
    links: list[FeedLink] = []
    seen: set[str] = set()
    for entry in parsed.entries[:limit]:
        link = (entry.get("link") or "").strip()
        if not link:
            continue
        reason, absolute = _refusal(base, link, hosts)
        if reason or absolute in seen:
            continue
        seen.add(absolute)
        full = any((c.get("value") or "").strip() for c in entry.get("content") or [])
        if only_summaries and full:
            continue
        when = entry.get("published_parsed") or entry.get("updated_parsed")
        links.append(
            FeedLink(
                url=absolute,
                title=(entry.get("title") or "").strip() or None,
                published=_utc(when),
                full_content=full,
            )
        )
    return links


def _fetch_sitemap(fetcher: Fetcher, url: str) -> Fetched:
    return fetcher.fetch(url, conditional=False, remember=False, max_bytes=SITEMAP_MAX_BYTES)


def _refuse_unsafe_xml(data: bytes, url: str) -> None:
    from xml.etree.ElementTree import ParseError

    import defusedxml.ElementTree as DefusedET
    from defusedxml import DefusedXmlException

    try:
        DefusedET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise DiscoveryError(url, f"refused: {_defused_reason(exc)}") from None
    except ParseError:
        pass  # not well-formed: feedparser's lenient parser reads it, and expands no entities


def _defused_reason(exc: Exception) -> str:
    name = getattr(exc, "name", None)
    what = f" ({name!r})" if name else ""
    return (
        f"the XML declares an entity{what}; entities are never expanded (an entity-expansion "
        "or external-entity attack, such as 'billion laughs', hides in them)"
        if "Entit" in type(exc).__name__
        else f"the XML uses a DTD or external reference quotedesk will not load ({exc})"
    )


def _refusal(
    base: httpx.URL | None, link: str, hosts: frozenset[str] | None
) -> tuple[str | None, str]:
    """Why ``link`` (resolved against ``base``) is not followed, or ``None``; and it resolved."""
    if len(link) > MAX_URL_CHARS:
        return f"longer than {MAX_URL_CHARS:,} characters", link
    try:
        absolute = str(check_url(str(base.join(link)) if base is not None else link))
    except (FetchError, httpx.InvalidURL) as exc:
        return (exc.reason if isinstance(exc, FetchError) else f"not a valid URL ({exc})"), link
    if hosts is not None and _host(absolute) not in hosts:
        return f"not on the sitemap's host ({', '.join(sorted(hosts))})", absolute
    return None, absolute


def _host(url: str) -> str | None:
    try:
        return httpx.URL(url).host.lower() or None
    except httpx.InvalidURL:
        return None


def _local(tag: object) -> str:
    # '{http://www.sitemaps.org/schemas/sitemap/0.9}url' -> 'url' (sitemaps without the
    # namespace are common, so the namespace is not required).
    return str(tag).rpartition("}")[2].lower()


def _lastmod(text: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _utc(when: Any) -> datetime | None:
    # feedparser's *_parsed: a time.struct_time in UTC.
    if not when:
        return None
    year, month, day, hour, minute, second = tuple(when)[:6]
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _skip(found: Sitemap, url: str, reason: str) -> None:
    if len(found.skipped) < _MAX_SKIPPED:
        found.skipped.append(Skipped(url, reason))
    else:
        found.more_skipped += 1
