"""``quotedesk ingest URL``: a page, a feed or a sitemap fetched over HTTP(S) into a collection.

A page is one document; a feed's entries with their full text are one each, and an entry with
only a summary has its page fetched; a sitemap's pages are fetched in turn. A document fetched
from the web is named by its link (the page's canonical URL, else the URL that answered), so
the same article reached again through a feed, a sitemap or by hand is the same document.

Every fetch is conditional (ETag, Last-Modified, remembered in the database): an unchanged
feed costs one 304. What a fetch got is remembered only once its articles are stored, so a run
that fails is fetched whole again next time.
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from retrieval.batch import Batch, IngestReport, Progress
from retrieval.embedder import Encoder
from retrieval.ingest import collection_name
from retrieval.readers import UnreadableFileError, read_articles
from retrieval.readers.limits import MAX_BINARY_BYTES
from retrieval.store import Store
from retrieval.web.discover import classify, feed_links, walk_sitemap
from retrieval.web.errors import FetchError
from retrieval.web.fetch import Fetched, Fetcher

if TYPE_CHECKING:
    from retrieval.engine import QuoteDesk

# Pages fetched for one sitemap or one feed's summaries in a run: a site's whole archive is
# hours of polite fetching; the rest comes on the next run (or with --max-pages).
MAX_PAGES = 1_000
# The longest document name kept whole; a longer URL is cut and told apart by its digest.
MAX_PATH = 1_000


@dataclass
class _Run:
    batch: Batch
    fetcher: Fetcher
    max_pages: int
    fetched: list[Fetched]
    pages: int = 0


def ingest_into(
    desk: QuoteDesk,
    url: str,
    *,
    fetcher: Fetcher,
    collection: str | None = None,
    progress: Progress | None = None,
    max_pages: int = MAX_PAGES,
) -> IngestReport:
    """:func:`ingest_url` into ``desk``'s store, then its index refreshed (the front ends'
    entry point; the Slack front end never reaches it: only an operator's command fetches)."""
    report = ingest_url(
        url,
        store=desk.store,
        encoder=desk.encoder,
        fetcher=fetcher,
        collection=collection,
        progress=progress,
        max_pages=max_pages,
    )
    desk.warm()
    return report


def ingest_url(
    url: str,
    *,
    store: Store,
    encoder: Encoder,
    fetcher: Fetcher,
    collection: str | None = None,
    progress: Progress | None = None,
    max_pages: int = MAX_PAGES,
) -> IngestReport:
    """Fetch ``url`` (a page, a feed or a sitemap) and bring its articles into ``collection``
    (default: the URL's host name).

    Raises:
        FetchError: ``url`` itself cannot be fetched (robots.txt, an HTTP error, too large,
            not http(s)); a page it leads to that cannot be fetched is skipped and named.
        CollectionError: ``collection`` is not a usable name.
    """
    started = time.perf_counter()
    name = _collection(url, collection)
    batch = Batch(store=store, encoder=encoder, collection=name, root=url, progress=progress)
    run = _Run(batch, fetcher, max_pages, [])
    first = fetcher.fetch(url, remember=False, max_bytes=MAX_BINARY_BYTES)
    if first.unchanged:
        fetcher.remember(first)
        report = batch.finish(started=started)
        report.unchanged += 1
        return report
    run.fetched.append(first)
    found = classify(first)
    if found.kind in ("sitemap", "sitemapindex"):
        walk = walk_sitemap(fetcher, first)
        for skipped in walk.skipped:
            batch.skip_file(skipped.url, skipped.reason)
        for entry in walk.entries:
            _page(run, entry.url)
    elif found.kind == "feed":
        _feed(run, found.url, found.data)
    else:
        _document(run, found.url, found.data, found.kind)
    report = batch.finish(started=started)
    # Only now that the articles are stored: a run that failed asks for everything again.
    for fetched in run.fetched:
        fetcher.remember(fetched)
    return report


def _feed(run: _Run, url: str, data: bytes) -> None:
    try:
        extraction = read_articles(url, data, kind="feed")
    except UnreadableFileError as exc:
        run.batch.skip_file(url, str(exc))
        return
    for article in extraction.articles:
        run.batch.add_record(document_name(article.url or f"{url}#{article.record}"), article)
    if not extraction.skipped:
        return
    # Entries with only a summary: their pages carry the articles.
    for link in feed_links(data, base_url=url, only_summaries=True):
        _page(run, link.url)


def _page(run: _Run, url: str) -> None:
    if run.pages >= run.max_pages:
        if run.pages == run.max_pages:
            run.batch.skip_file(url, f"past {run.max_pages} pages in one run: left for the next")
        run.pages += 1
        return
    run.pages += 1
    if run.batch.progress.on_read:
        run.batch.progress.on_read(url)
    try:
        fetched = run.fetcher.fetch(url, remember=False, max_bytes=MAX_BINARY_BYTES)
        if fetched.unchanged:
            run.fetched.append(fetched)
            run.batch.report.unchanged += 1
            return
        found = classify(fetched)
    except FetchError as exc:
        run.batch.skip_file(url, exc.reason)
        return
    run.fetched.append(fetched)
    if found.kind in ("feed", "sitemap", "sitemapindex"):
        run.batch.skip_file(url, f"a {found.kind} linked from another: ingest it by its URL")
        return
    _document(run, found.url, found.data, found.kind)


def _document(run: _Run, url: str, data: bytes, kind: str | None) -> None:
    try:
        if kind is None:
            read_articles(url, data)  # names what it is not
        extraction = read_articles(url, data, kind=kind)
        for article in extraction.articles:
            # A page that names no canonical link is cited by the address it came from.
            cited = article if article.url else dataclasses.replace(article, url=url)
            run.batch.add_record(document_name(cited.url or url), cited)
    except UnreadableFileError as exc:
        run.batch.skip_file(url, str(exc))


def document_name(url: str) -> str:
    """The name of a document fetched from ``url``: the URL, cut with a digest when long.

    Example:
        >>> document_name("https://example.org/a")
        'https://example.org/a'
    """
    if len(url) <= MAX_PATH:
        return url
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    return f"{url[: MAX_PATH - 18]}#~{digest}"


def _collection(url: str, given: str | None) -> str:
    if given is not None:
        return collection_name(given)
    return urlsplit(url).hostname or url
