"""The RSS and Atom feed reader (retrieval/readers/feeds.py)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from retrieval.readers import UnreadableFileError, feeds, read_articles
from retrieval.readers.base import Extraction
from tests.readers import newsroom

pytestmark = pytest.mark.usefixtures("web")

P1 = "The council voted on Friday night to approve the budget after a long debate."
P2 = "The mayor said she was pleased with the outcome and thanked the members."
LONG = " ".join(
    f"Sentence {n} of the article says more about the council and its vote." for n in range(20)
)


def rss(items: str, *, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>') -> bytes:
    return (
        f'{prolog}<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>Metro</title><link>https://e.com/</link>{items}</channel></rss>"
    ).encode()


def item(
    title: str = "Budget passes",
    link: str = "https://e.com/budget",
    pub: str = "Fri, 01 Jul 2022 23:30:00 -0500",
    content: str | None = f"<p>{P1}</p><p>{P2}</p>",
    description: str = "A teaser.",
) -> str:
    encoded = f"<content:encoded><![CDATA[{content}]]></content:encoded>" if content else ""
    return (
        f"<item><title>{title}</title><link>{link}</link><pubDate>{pub}</pubDate>"
        f"<description>{description}</description>{encoded}</item>"
    )


def read(data: bytes) -> Extraction:
    return feeds.read(data, name="feed.xml", kind="feed")


def test_rss_items_with_full_content_are_articles() -> None:
    found = read(
        rss(
            item()
            + item(title="Second", link="https://e.com/2", pub="Sat, 02 Jul 2022 08:00:00 GMT")
        )
    )
    first, second = found.articles
    assert (first.title, first.url, first.record) == ("Budget passes", "https://e.com/budget", "1")
    # 23:30 at -05:00 is the 1st where it was written (feedparser's UTC time says the 2nd).
    assert first.date == date(2022, 7, 1)
    assert P1 in first.text and P2 in first.text
    assert "teaser" not in first.text and "<p>" not in first.text
    assert (second.title, second.date, second.record) == ("Second", date(2022, 7, 2), "2")


def test_an_item_with_only_a_teaser_is_skipped_and_named() -> None:
    found = read(
        rss(item() + item(title="Teaser", content=None) + item(content=None, description=LONG))
    )
    assert [a.record for a in found.articles] == ["1", "3"]  # a summary long enough is the text
    assert [(s.record, s.reason) for s in found.skipped] == [("2", "only a summary, no full text")]


def test_a_long_summary_cut_short_is_a_teaser() -> None:
    found = read(rss(item(content=None, description=LONG + " And then\u2026")))
    assert found.articles == [] and found.skipped[0].reason == "only a summary, no full text"


def test_a_feed_of_teasers_is_unreadable_with_the_reason() -> None:
    with pytest.raises(UnreadableFileError, match="only a summary, no full text"):
        read_articles("feed.xml", rss(item(content=None)))


ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example</title><id>urn:example</id><updated>2022-07-03T00:00:00Z</updated>
  <entry>
    <title type="html">Council &amp;amp; mayor agree</title>
    <link rel="alternate" type="text/html" href="https://news.example.com/2022/07/01/council"/>
    <link rel="self" href="https://news.example.com/api/1"/>
    <id>tag:example.com,2022:1</id>
    <published>2022-07-01T23:30:00-05:00</published>
    <updated>2022-07-03T10:00:00Z</updated>
    <summary>Short teaser.</summary>
    <content type="html">&lt;p&gt;{P1}&lt;/p&gt;&lt;p&gt;{P2}&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Plain text content</title>
    <link href="https://news.example.com/2"/>
    <id>tag:example.com,2022:2</id>
    <updated>2022-07-02T08:00:00+02:00</updated>
    <content type="text">A first paragraph with &lt;angle brackets&gt; in it.

A second paragraph.</content>
  </entry>
  <entry>
    <title>Teaser only</title>
    <link href="https://news.example.com/3"/>
    <id>tag:example.com,2022:3</id><updated>2022-07-02T08:00:00Z</updated>
    <summary>Just a teaser of the story.</summary>
  </entry>
</feed>""".encode()


def test_atom_entries() -> None:
    found = read(ATOM)
    html, text = found.articles
    assert html.title == "Council & mayor agree"
    assert html.url == "https://news.example.com/2022/07/01/council"
    assert html.date == date(2022, 7, 1)  # published, as written; not updated
    assert P1 in html.text and P2 in html.text
    assert text.text == "A first paragraph with <angle brackets> in it.\n\nA second paragraph."
    assert (text.date, text.record) == (date(2022, 7, 2), "2")
    assert [(s.record, s.reason) for s in found.skipped] == [("3", "only a summary, no full text")]


def test_rss_1_0_with_dublin_core_date() -> None:
    data = f"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel rdf:about="https://e.com/"><title>t</title><link>https://e.com/</link></channel>
  <item rdf:about="https://e.com/1"><title>One</title><link>https://e.com/1</link>
    <dc:date>2022-07-01T23:30:00-05:00</dc:date>
    <content:encoded><![CDATA[<p>{P1}</p>]]></content:encoded></item>
</rdf:RDF>""".encode()
    (article,) = read(data).articles
    assert (article.title, article.url, article.date) == (
        "One",
        "https://e.com/1",
        date(2022, 7, 1),
    )


BILLION_LAUGHS = rss(
    item(title="&lol4;"),
    prolog='<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>',
)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (BILLION_LAUGHS, "entity declarations: refused (entity expansion)"),
        # Broken after the declarations: still refused, not left to feedparser's loose parser.
        (BILLION_LAUGHS.replace(b"</channel>", b"<br></channel>"), "entity expansion"),
        (
            rss(
                item(title="&xxe;"),
                prolog='<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
            ),
            "external entity: refused",
        ),
        (
            rss(
                item(),
                prolog='<?xml version="1.0"?>'
                '<!DOCTYPE rss [<!ENTITY % p SYSTEM "http://x/p.dtd"> %p;]>',
            ),
            "refused",
        ),
    ],
    ids=["billion-laughs", "billion-laughs-broken", "external-entity", "external-parameter-entity"],
)
def test_entities_are_refused_before_any_parser_expands_them(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFileError, match=re.escape(reason)):
        read(data)


def test_a_doctype_without_entities_is_read() -> None:
    netscape = (
        '<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
    )
    assert len(read(rss(item(), prolog=netscape)).articles) == 1


def test_malformed_xml_feedparser_can_read_is_read() -> None:
    broken = rss(item(title="Budget & more")).replace(b"</channel>", b"<br></channel>")
    (article,) = read(broken).articles
    assert article.title == "Budget & more" and P1 in article.text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            b"<url><loc>https://e.com/a</loc></url></urlset>",
            "a sitemap: ingest it by URL",
        ),
        (b"<sitemapindex><sitemap><loc>https://e.com/s.xml</loc></sitemap><oops", "a sitemap"),
        (b'<?xml version="1.0"?><config><a>1</a></config>', "XML that is not a feed"),
        (b"<html><body><p>A page.</p></body></html>", "XML that is not a feed"),
        (b'<?xml version="1.0"?><rss><channel><title>x', "malformed XML"),
        # A path or a URL as a file's content is never opened or fetched.
        (b"/etc/hostname", "malformed XML"),
        (b"https://example.com/feed.xml", "malformed XML"),
        (b"", "empty file"),
    ],
)
def test_what_is_not_a_feed_is_named(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFileError, match=re.escape(reason)):
        read(data)


def test_entries_past_the_limit_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feeds, "MAX_RECORDS", 2)
    found = read(rss(item() * 4))
    assert [a.record for a in found.articles] == ["1", "2"]
    assert [s.record for s in found.skipped] == ["3"]


def test_a_relative_link_is_no_link() -> None:
    (article,) = read(rss(item(link="/2022/07/budget"))).articles
    assert article.url is None


# --- the newsroom set -----------------------------------------------------------------------


@pytest.mark.slow
@newsroom.required
def test_newsroom_feeds() -> None:
    figures = newsroom.measure("rss")
    assert figures.skipped == 0
    assert figures.date == figures.title == figures.url == 1
    assert figures.paragraphs >= 0.99
