"""``ingest URL`` through the whole pipeline: pages, feeds and sitemaps served on 127.0.0.1,
fetched, read, stored under their links, and asked for conditionally the next time."""

from __future__ import annotations

import pytest

from retrieval.errors import FetchFailedError
from retrieval.web.cache import StoreFetchCache
from retrieval.web.fetch import Fetcher
from retrieval.web.ingest import document_name, ingest_into
from tests.web.helpers import TEST_CONFIG
from tests.web.site import Page, Site

ARTICLE = (
    "<html><head><title>{title} | Courier</title>"
    '<link rel="canonical" href="https://courier.example/{slug}">'
    '<meta property="article:published_time" content="2022-07-{day:02d}T08:00:00Z"></head>'
    "<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>"
    "<p>{body} The council said the work would be finished before the winter storms.</p>"
    "<p>Residents were told to expect delays on the coastal road for several weeks.</p>"
    "</article><footer>© 2026 Courier</footer></body></html>"
)


def page(slug: str, title: str, body: str, day: int) -> Page:
    return Page(ARTICLE.format(slug=slug, title=title, body=body, day=day), etag=f'"{slug}"')


def feed(site: Site, *, items: list[tuple[str, str, str]]) -> Page:
    entries = "".join(
        f"<item><title>{title}</title><link>{site.url('/' + slug)}</link>"
        f"<pubDate>Wed, 06 Jul 2022 09:00:00 +0000</pubDate>"
        + (f"<content:encoded><![CDATA[<p>{content}</p>]]></content:encoded>" if content else "")
        + "<description>A teaser.</description></item>"
        for slug, title, content in items
    )
    body = (
        '<?xml version="1.0"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Courier'
        f"</title><link>{site.origin}</link>{entries}</channel></rss>"
    )
    return Page(body, content_type="application/rss+xml", etag=f'"{len(items)}"')


FULL = (
    "The harbour dredging began on Monday after a year of delays, the port said, and the "
    "first ships with deeper drafts are expected in the spring."
)


@pytest.fixture
def courier(site: Site) -> Site:
    site.pages["/feed.xml"] = feed(
        site,
        items=[
            ("dredging", "Harbour dredging begins", FULL),
            ("seawall", "Seawall repairs start", ""),  # a teaser only: its page is fetched
        ],
    )
    site.pages["/seawall"] = page("seawall", "Seawall repairs start", "The seawall cracked.", 6)
    return site


@pytest.fixture
def fetch(make_desk):  # type: ignore[no-untyped-def]
    desk, encoder = make_desk()
    with Fetcher(config=TEST_CONFIG, cache=StoreFetchCache(desk.store)) as fetcher:
        yield desk, encoder, fetcher


def test_a_feed_is_read_with_its_full_texts_and_the_pages_of_its_teasers(
    courier: Site, fetch
) -> None:  # type: ignore[no-untyped-def]
    desk, encoder, fetcher = fetch
    report = ingest_into(desk, courier.url("/feed.xml"), fetcher=fetcher)
    assert report.added == 2 and report.collection == "127.0.0.1"
    sources = {s.source.path: s.source for s in desk.sources()}
    assert set(sources) == {courier.url("/dredging"), "https://courier.example/seawall"}
    dredging = sources[courier.url("/dredging")]
    assert (dredging.title, dredging.url, str(dredging.date)) == (
        "Harbour dredging begins",
        courier.url("/dredging"),
        "2022-07-06",
    )
    assert sources["https://courier.example/seawall"].title == "Seawall repairs start"
    quote = desk.ask("seawall cracked coastal road delays", k=1).quotes[0]
    assert quote.source.url == "https://courier.example/seawall"
    assert "Home" not in quote.text and "Courier" not in quote.text


def test_the_next_run_asks_conditionally_and_encodes_nothing_unchanged(
    courier: Site, fetch
) -> None:  # type: ignore[no-untyped-def]
    desk, encoder, fetcher = fetch
    ingest_into(desk, courier.url("/feed.xml"), fetcher=fetcher)
    encoded = encoder.encoded
    again = ingest_into(desk, courier.url("/feed.xml"), fetcher=fetcher)
    assert again.added == again.changed == 0 and encoder.encoded == encoded
    assert courier.requests_to("/feed.xml")[-1].headers.get("if-none-match") == '"2"'
    # A new item: the feed changes; only the new article is encoded.
    courier.pages["/feed.xml"] = feed(
        courier,
        items=[
            ("bridge", "Bridge closes for a week", "The bridge closes on Monday for repairs."),
            ("dredging", "Harbour dredging begins", FULL),
            ("seawall", "Seawall repairs start", ""),
        ],
    )
    third = ingest_into(desk, courier.url("/feed.xml"), fetcher=fetcher)
    assert (third.added, third.changed) == (1, 0)
    assert courier.requests_to("/seawall")[-1].headers.get("if-none-match") == '"seawall"'


def test_validators_outlive_the_process_in_the_database(courier: Site, make_desk) -> None:  # type: ignore[no-untyped-def]
    desk, _ = make_desk()
    with Fetcher(config=TEST_CONFIG, cache=StoreFetchCache(desk.store)) as fetcher:
        ingest_into(desk, courier.url("/feed.xml"), fetcher=fetcher)
    with Fetcher(config=TEST_CONFIG, cache=StoreFetchCache(desk.store)) as fresh:
        report = ingest_into(desk, courier.url("/feed.xml"), fetcher=fresh)
    assert report.unchanged == 1 and report.added == 0
    assert courier.requests_to("/feed.xml")[-1].headers.get("if-none-match") == '"2"'


def test_a_sitemap_brings_its_pages_and_names_what_failed(site: Site, fetch) -> None:  # type: ignore[no-untyped-def]
    desk, _, fetcher = fetch
    site.pages["/a"] = page("a", "Tram line opens", "The new tram line opened.", 1)
    site.pages["/b"] = page("b", "Museum reopens", "The museum reopened its doors.", 2)
    site.pages["/sitemap.xml"] = Page(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{site.url(p)}</loc></url>" for p in ("/a", "/b", "/gone"))
        + "</urlset>",
        content_type="application/xml",
    )
    report = ingest_into(desk, site.url("/sitemap.xml"), fetcher=fetcher)
    assert report.added == 2
    assert [(s.path, s.reason) for s in report.skipped] == [
        (site.url("/gone"), "HTTP 404 Not Found")
    ]


def test_robots_txt_is_respected_and_the_user_agent_names_quotedesk(courier: Site, fetch) -> None:  # type: ignore[no-untyped-def]
    desk, _, fetcher = fetch
    courier.pages["/robots.txt"] = Page("User-agent: quotedesk\nDisallow: /", "text/plain")
    with pytest.raises(FetchFailedError, match="robots.txt"):
        ingest_into(desk, courier.url("/feed.xml"), fetcher=fetcher)
    assert courier.requests_to("/feed.xml") == []
    assert courier.requests_to("/robots.txt")[0].headers["user-agent"].startswith("quotedesk/")


def test_a_long_url_is_named_within_the_column() -> None:
    name = document_name("https://example.org/" + "x" * 5000)
    assert len(name) <= 1000 and name.startswith("https://example.org/xxx")
