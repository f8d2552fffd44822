"""Fetching over HTTP(S) for ``quotedesk ingest URL`` and ``quotedesk follow``.

Only an operator's command fetches: nothing in the Slack front end imports this package, so
nobody in a chat can make quotedesk fetch a URL.

- :mod:`retrieval.web.fetch`: :class:`~retrieval.web.fetch.Fetcher`, bounded and polite GETs
  (its requests, redirects and bounded reads), and :class:`~retrieval.web.fetch.FetchConfig`;
- :mod:`retrieval.web.errors`: :class:`~retrieval.web.errors.FetchError` and
  :class:`~retrieval.web.errors.RobotsDisallowedError`, what a fetch fails with;
- :mod:`retrieval.web.urls`: which URLs may be fetched (http(s) only, public addresses);
- :mod:`retrieval.web.robots`: robots.txt rules and Crawl-delay, per host;
- :mod:`retrieval.web.cache`: validators kept for conditional requests (in memory, in a file,
  in the database);
- :mod:`retrieval.web.bounded`: decompression that stops at a limit (a gzip bomb);
- :mod:`retrieval.web.discover`: what a response is (a page, a feed, a sitemap...), a
  sitemap's URLs, a feed's entry links;
- :mod:`retrieval.web.ingest`: ``quotedesk ingest URL``, a page, feed or sitemap into a
  collection;
- :mod:`retrieval.web.follow`: the loop behind ``quotedesk follow``, URLs polled and folders
  watched.

The submodules are imported by name (``from retrieval.web.fetch import Fetcher``): importing
this package imports none of httpx, protego, defusedxml, feedparser or watchfiles.
"""
