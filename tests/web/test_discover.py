"""What a response is; sitemaps (indexes followed, bounded, hostile XML refused); feed links."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from retrieval.web.discover import (
    DiscoveryError,
    classify,
    feed_links,
    parse_sitemap,
    walk_sitemap,
    xml_root,
)
from retrieval.web.errors import FetchError
from retrieval.web.fetch import Fetched, Fetcher
from tests.web.site import Page, Site

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def urlset(*locs: str, lastmod: str | None = None) -> str:
    mod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
    items = "".join(f"<url><loc>{loc}</loc>{mod}</url>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {NS}>{items}</urlset>'


def index(*locs: str) -> str:
    items = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex {NS}>{items}</sitemapindex>'


def response(body: bytes, content_type: str | None, url: str = "http://news.test/x") -> Fetched:
    return Fetched(
        url=url,
        requested_url=url,
        status=200,
        content_type=content_type,
        charset=None,
        body=body,
        etag=None,
        last_modified=None,
        not_modified=False,
        content_hash=None,
        unchanged=False,
    )


RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<!-- a comment before the root -->
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>News</title><link>http://news.test/</link>
<item><title>Summary only</title><link>/2024/summary</link>
  <description>A teaser.</description><pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate></item>
<item><title>Full</title><link>http://news.test/2024/full</link><description>Teaser</description>
  <content:encoded><![CDATA[<p>The whole article.</p>]]></content:encoded></item>
<item><title>Elsewhere</title><link>https://cdn.example/story</link></item>
<item><title>Script</title><link>javascript:alert(1)</link></item>
<item><title>Again</title><link>http://news.test/2024/summary</link></item>
<item><title>No link</title><description>x</description></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>One</title><link rel="alternate" href="https://news.test/one"/>
  <content type="html">&lt;p&gt;All of it&lt;/p&gt;</content>
  <updated>2024-03-04T05:06:07Z</updated></entry>
<entry><title>Two</title><link href="two"/><summary>Some</summary></entry>
</feed>"""


# -- what is it ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "url", "kind"),
    [
        (b"<!doctype html><html><p>hi</p></html>", "text/html", "http://n.test/a", "html"),
        (RSS, "application/rss+xml", "http://n.test/feed", "feed"),
        (RSS, "text/html", "http://n.test/feed", "feed"),  # mislabelled: the root decides
        (RSS, "application/xml", "http://n.test/feed", "feed"),
        (ATOM, "application/octet-stream", "http://n.test/atom", "feed"),
        (ATOM, None, "http://n.test/atom", "feed"),
        (urlset("http://n.test/a").encode(), "application/xml", "http://n.test/s", "sitemap"),
        (urlset("http://n.test/a").encode(), "text/xml", "http://n.test/s", "sitemap"),
        (index("http://n.test/s1").encode(), "application/xml", "http://n.test/i", "sitemapindex"),
        (b"%PDF-1.7\n...", "application/pdf", "http://n.test/r", "pdf"),
        (b"%PDF-1.7\n...", "application/octet-stream", "http://n.test/r", "pdf"),
        (b"Plain words.", "text/plain", "http://n.test/notes", "text"),
        (b"# Title\n\nWords.", None, "http://n.test/notes.md", "markdown"),
        (b"\x89PNG\r\n", "image/png", "http://n.test/pic.png", None),
    ],
)
def test_classify(body: bytes, content_type: str | None, url: str, kind: str | None):
    assert classify(response(body, content_type, url)).kind == kind


def test_a_gzipped_sitemap_file_is_decompressed():
    data = urlset("http://n.test/a").encode()
    found = classify(response(gzip.compress(data), "application/x-gzip", "http://n.test/s.xml.gz"))
    assert (found.kind, found.data) == ("sitemap", data)


def test_a_304_has_nothing_to_classify():
    not_modified = response(b"", "text/html")
    object.__setattr__(not_modified, "body", None)
    with pytest.raises(DiscoveryError, match="not modified"):
        classify(not_modified)


def test_xml_root_skips_what_comes_before_the_root():
    assert xml_root(b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- x -->\n<rdf:RDF/>') == "rdf"
    assert xml_root(b'<!DOCTYPE x [<!ENTITY a "b>c">]><urlset/>') == "urlset"
    assert xml_root(b"plain text") is None
    assert xml_root(b"<!-- never closed") is None


# -- sitemaps -----------------------------------------------------------------------------


def test_parse_sitemap_reads_locs_and_lastmods():
    data = (
        f"<urlset {NS}>"
        "<url><loc> https://n.test/a </loc><lastmod>2024-01-02</lastmod></url>"
        "<url><loc>/relative</loc><lastmod>2024-01-02T10:00:00+02:00</lastmod></url>"
        "<url><loc>https://n.test/a</loc></url>"  # listed twice
        "<url><loc>ftp://n.test/file</loc></url>"
        "<url><loc>https://elsewhere.test/b</loc><lastmod>not a date</lastmod></url>"
        "</urlset>"
    ).encode()
    sitemap = parse_sitemap(data, url="https://n.test/sitemap.xml", hosts=frozenset({"n.test"}))
    assert sitemap.kind == "urlset"
    assert [(e.url, e.lastmod) for e in sitemap.entries] == [
        ("https://n.test/a", datetime(2024, 1, 2, tzinfo=UTC)),
        ("https://n.test/relative", datetime(2024, 1, 2, 8, tzinfo=UTC)),
    ]
    reasons = {s.url: s.reason for s in sitemap.skipped}
    assert "http(s)" in reasons["ftp://n.test/file"]
    assert "not on the sitemap's host" in reasons["https://elsewhere.test/b"]


def test_a_sitemap_without_its_namespace_is_read():
    data = b"<urlset><url><loc>http://n.test/a</loc></url></urlset>"
    assert [e.url for e in parse_sitemap(data, url="http://n.test/s").entries] == [
        "http://n.test/a"
    ]


@pytest.mark.parametrize(
    "data",
    [
        BILLION_LAUGHS + b"<urlset><url><loc>&lol9;</loc></url></urlset>",
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><urlset><url><loc>&e;</loc>'
        b"</url></urlset>",
        b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><urlset/>',
    ],
    ids=["billion-laughs", "external-entity", "parameter-entity"],
)
def test_hostile_sitemaps_are_refused_unexpanded(data: bytes):
    with pytest.raises(DiscoveryError) as caught:
        parse_sitemap(data, url="http://n.test/s")
    assert caught.value.reason.startswith("refused: the XML declares an entity")


def test_broken_or_foreign_xml_is_not_a_sitemap():
    with pytest.raises(DiscoveryError, match="not well-formed"):
        parse_sitemap(b"<urlset><url>", url="http://n.test/s")
    with pytest.raises(DiscoveryError, match=r"root element is <rss>"):
        parse_sitemap(RSS, url="http://n.test/s")


def test_a_sitemap_index_leads_to_its_sitemaps_urls(site: Site, fetcher: Fetcher):
    site.pages["/sitemap.xml"] = Page(
        index(site.url("/news.xml"), site.url("/archive.xml.gz")), content_type="application/xml"
    )
    site.pages["/news.xml"] = Page(
        urlset(site.url("/a"), site.url("/b"), lastmod="2024-05-06"),
        content_type="application/xml",
    )
    site.pages["/archive.xml.gz"] = Page(
        gzip.compress(urlset(site.url("/b"), site.url("/c")).encode()),
        content_type="application/x-gzip",
    )
    walk = walk_sitemap(fetcher, site.url("/sitemap.xml"))
    assert [e.url for e in walk.entries] == [site.url(p) for p in ("/a", "/b", "/c")]
    assert walk.entries[0].lastmod == datetime(2024, 5, 6, tzinfo=UTC)
    assert walk.sitemaps == [site.url(p) for p in ("/sitemap.xml", "/news.xml", "/archive.xml.gz")]
    assert (walk.skipped, walk.truncated) == ([], False)


def test_nesting_is_followed_to_a_bounded_depth_and_loops_end(site: Site, fetcher: Fetcher):
    # /i0 -> /i1 -> /i2 -> /i3 -> /i4 (and back to /i0): depth 3 reaches /i3, not /i4.
    for n in range(5):
        site.pages[f"/i{n}"] = Page(
            index(site.url(f"/i{n + 1}"), site.url("/i0"), site.url(f"/u{n}")),
            content_type="application/xml",
        )
        site.pages[f"/u{n}"] = Page(urlset(site.url(f"/page{n}")), content_type="text/xml")
    walk = walk_sitemap(fetcher, site.url("/i0"))
    assert [e.url for e in walk.entries] == [site.url(f"/page{n}") for n in range(3)]
    assert [s.url for s in walk.skipped] == [site.url("/i4"), site.url("/u3")]
    assert "nested deeper than 3" in walk.skipped[0].reason
    assert site.paths().count("/i0") == 1
    assert "/i4" not in site.paths()


def test_the_walk_stops_at_max_urls_and_max_sitemaps(site: Site, fetcher: Fetcher):
    site.pages["/big.xml"] = Page(
        urlset(*(site.url(f"/p{n}") for n in range(50))), content_type="text/xml"
    )
    walk = walk_sitemap(fetcher, site.url("/big.xml"), max_urls=20)
    assert len(walk.entries) == 20 and walk.truncated

    site.pages["/many.xml"] = Page(
        index(*(site.url(f"/s{n}") for n in range(30))), content_type="text/xml"
    )
    walk = walk_sitemap(fetcher, site.url("/many.xml"), max_sitemaps=5)
    assert walk.truncated and len(walk.sitemaps) <= 5
    assert sum(p.startswith("/s") for p in site.paths()) == 4


def test_a_failing_nested_sitemap_is_skipped_and_the_rest_read(site: Site, fetcher: Fetcher):
    site.pages["/index.xml"] = Page(
        index(site.url("/gone.xml"), site.url("/lol.xml"), site.url("/ok.xml")),
        content_type="text/xml",
    )
    site.pages["/lol.xml"] = Page(
        BILLION_LAUGHS + b"<urlset><url><loc>&lol9;</loc></url></urlset>", content_type="text/xml"
    )
    site.pages["/ok.xml"] = Page(urlset(site.url("/fine")), content_type="text/xml")
    walk = walk_sitemap(fetcher, site.url("/index.xml"))
    assert [e.url for e in walk.entries] == [site.url("/fine")]
    reasons = {s.url: s.reason for s in walk.skipped}
    assert reasons[site.url("/gone.xml")] == "HTTP 404 Not Found"
    assert "declares an entity" in reasons[site.url("/lol.xml")]


def test_a_billion_laughs_sitemap_given_to_walk_is_refused(site: Site, fetcher: Fetcher):
    site.pages["/lol.xml"] = Page(
        BILLION_LAUGHS + b"<urlset><url><loc>&lol9;</loc></url></urlset>", content_type="text/xml"
    )
    with pytest.raises(DiscoveryError, match="entity"):
        walk_sitemap(fetcher, site.url("/lol.xml"))


def test_other_hosts_in_a_sitemap_are_not_followed(site: Site, fetcher: Fetcher):
    # localhost is the same machine but another host name: neither fetched nor listed.
    other = site.url("/x").replace("127.0.0.1", "localhost")
    site.pages["/index.xml"] = Page(index(other), content_type="text/xml")
    site.pages["/s.xml"] = Page(urlset(site.url("/mine"), other), content_type="text/xml")
    walk = walk_sitemap(fetcher, site.url("/index.xml"))
    assert walk.entries == [] and "not on the sitemap's host" in walk.skipped[0].reason
    walk = walk_sitemap(fetcher, site.url("/s.xml"))
    assert [e.url for e in walk.entries] == [site.url("/mine")]
    walk = walk_sitemap(fetcher, site.url("/s.xml"), same_host=False)
    assert [e.url for e in walk.entries] == [site.url("/mine"), other]


def test_walk_needs_a_sitemap(site: Site, fetcher: Fetcher):
    site.pages["/page"] = Page("<html><p>hi</p></html>")
    with pytest.raises(DiscoveryError, match=r"not a sitemap \(html\)"):
        walk_sitemap(fetcher, site.url("/page"))
    with pytest.raises(FetchError, match="404"):
        walk_sitemap(fetcher, site.url("/nothing"))


# -- feeds --------------------------------------------------------------------------------


def test_feed_links_resolved_checked_and_marked():
    links = feed_links(RSS, base_url="http://news.test/feed.xml")
    assert [(link.url, link.full_content) for link in links] == [
        ("http://news.test/2024/summary", False),
        ("http://news.test/2024/full", True),
        ("https://cdn.example/story", False),
    ]
    assert links[0].title == "Summary only"
    assert links[0].published == datetime(2024, 1, 2, 10, tzinfo=UTC)
    summaries = feed_links(RSS, base_url="http://news.test/feed.xml", only_summaries=True)
    assert [link.url for link in summaries] == [
        "http://news.test/2024/summary",
        "https://cdn.example/story",
    ]
    same = feed_links(RSS, base_url="http://news.test/feed.xml", same_host=True)
    assert "https://cdn.example/story" not in [link.url for link in same]


def test_atom_feed_links():
    links = feed_links(ATOM, base_url="https://news.test/atom.xml")
    assert [(link.url, link.full_content) for link in links] == [
        ("https://news.test/one", True),
        ("https://news.test/two", False),
    ]
    assert links[0].published == datetime(2024, 3, 4, 5, 6, 7, tzinfo=UTC)


def test_feed_links_never_fetch_or_open_what_the_bytes_name(site: Site, tmp_path: Path):
    secret = tmp_path / "secret.xml"
    secret.write_bytes(RSS)
    # feedparser.parse(bytes) would open a file of that name; parse(str) would fetch a URL.
    assert feed_links(str(secret).encode()) == []
    assert feed_links(site.url("/feed.xml").encode()) == []
    assert site.requests == []


def test_a_billion_laughs_feed_is_refused():
    with pytest.raises(DiscoveryError, match="entity"):
        feed_links(BILLION_LAUGHS + b"<rss><channel><title>&lol9;</title></channel></rss>")
