"""A page's metadata: its canonical link (:func:`page_url`) and its headline
(:func:`page_title`), without the site's name a page adds to it."""

from __future__ import annotations

import contextlib
import html as html_lib
import re
from urllib.parse import urlsplit

import lxml.html
from trafilatura.metadata import examine_meta, extract_meta_json, extract_sitename, extract_title

from retrieval.readers.base import clean_line

__all__ = ["page_title", "page_url", "top_headings"]


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
    headings = top_headings(tree)
    if not stated and title != full and title in full and title not in headings:
        # Only the <title> names it, and trafilatura split it where it guessed the site's
        # name was (a part without a dot, "U.S. economy..." losing to "Example News").
        parts = [p for p in _TITLE_PARTS.split(full) if p]
        title = max(parts, key=lambda part: len(part.split()))
    return _without_site_name(title, full, site, headings)


def top_headings(tree: lxml.html.HtmlElement, *tags: str) -> list[str]:
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
