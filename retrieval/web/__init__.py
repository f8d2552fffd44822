"""Fetching over HTTP(S) for ``quotedesk ingest URL`` and ``quotedesk follow``.

Only an operator's command fetches: nothing in the Slack front end imports this package, so
nobody in a chat can make quotedesk fetch a URL.

- :mod:`retrieval.web.fetch`: :class:`~retrieval.web.fetch.Fetcher`, bounded and polite GETs
  (robots.txt, Crawl-delay, conditional requests);
- :mod:`retrieval.web.discover`: what a response is (a page, a feed, a sitemap...), a
  sitemap's URLs, a feed's entry links;
- :mod:`retrieval.web.follow`: the loop behind ``quotedesk follow``, URLs polled and folders
  watched.

The submodules are imported by name (``from retrieval.web.fetch import Fetcher``): importing
this package imports none of httpx, protego, defusedxml, feedparser or watchfiles.
"""
