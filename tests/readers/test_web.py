"""The web page reader: the article's text without the page's furniture, its title, date and
link, on pages of several templates; fragments; and broken or hostile input, which gives an
article or a named UnreadableFileError, never anything else."""

from __future__ import annotations

import json
import random
import time
from datetime import date

import pytest

from retrieval.readers import read_articles
from retrieval.readers.base import Article, UnreadableFileError
from retrieval.readers.web import article_from_html, read
from retrieval.readers.web.metadata import page_title, page_url
from retrieval.readers.web.page import decode, parse
from retrieval.readers.web.published import publication_date
from retrieval.readers.web.text import main_text, paragraphs
from tests.readers import newsroom

# Paragraphs of a story, long and short, as the templates below carry them.
STORY = [
    "The city council voted 7-2 on Tuesday to approve a budget that puts $4 million into road "
    "repairs and opens two branch libraries, ending a debate that began in the winter.",
    "Mayor Jane Smith called the plan “a long time coming” and thanked the residents who came "
    "to the hearings, some of which ran past midnight.",
    "AP",
    "Council member Bob Lee, who voted against it, said the city could not afford the libraries "
    "and warned of a shortfall next year. He said the law, passed on March 3, 2019, limits how "
    "much the council may borrow.",
    "The budget takes effect on July 1, after a final reading at next month's meeting, "
    "officials said on Wednesday.",
]
HEADLINE = "Council approves budget with road money and two new libraries"


def body(paragraphs: list[str] = STORY, *, between: str = "", after: int = 2) -> str:
    """The story as <p>s, with ``between`` (an ad, a promo) after the ``after``-th one."""
    html = [f"<p>{p}</p>" for p in paragraphs]
    if between:
        html.insert(after, between)
    return "\n".join(html)


def assert_story(article: Article, paragraphs: list[str] = STORY) -> None:
    """The article's text is the story's paragraphs, in order, and nothing else."""
    assert article.text == "\n\n".join(paragraphs)


# A newsroom's template: site header and navigation, cookie banner, byline with <time>, an ad
# inside the story, newsletter box, related and most-read lists, footer.
NEWSROOM = f"""<!DOCTYPE html>
<html lang="en"><head><title>{HEADLINE} | The Daily Ledger</title>
<link rel="canonical" href="https://news.example.com/local/2022/07/06/council-budget/">
<meta charset="utf-8"><meta property="og:title" content="{HEADLINE}">
<meta property="og:url" content="https://news.example.com/og-url-loses/"></head>
<body><header class="site-header"><a class="logo" href="/">The Daily Ledger</a><nav><ul>
<li><a href="/world">World</a></li><li><a href="/entertainment">Entertainment</a></li></ul></nav>
</header>
<div class="cookie-banner"><p>We use cookies to personalise content and ads. By continuing to
browse this site you agree to our use of cookies.</p><button>Accept</button></div>
<main><article class="story"><h1>{HEADLINE}</h1>
<div class="byline">Published <time datetime="2022-07-06T09:00:00Z">July 6, 2022</time></div>
<div class="story-body">{
    body(
        between='''<div class="ad-slot"><span>Advertisement</span>
<p>Sponsored: Compare the best savings rates of the year and earn more today.</p></div>'''
    )
}
</div></article>
<aside class="newsletter"><p>Get the best of our journalism in your inbox: subscribe to the
Weekend Edition.</p><form><input type="email"><button>Sign up</button></form></aside>
<section class="related"><h2>Related stories</h2><ul><li><a href="/s/1">Gas prices keep going up
this summer across the state</a></li><li><a href="/s/2">Space news: plants grown in moon
soil</a></li></ul></section></main>
<aside class="most-read"><h2>Most read</h2><ol><li><a href="/p/1">Oscar winners 2022: the full
list of who won</a></li></ol></aside>
<footer><p>© 2026 The Daily Ledger. All rights reserved.</p><a href="/privacy">Privacy</a></footer>
</body></html>"""
NEWSROOM_CHROME = [
    "Entertainment",
    "We use cookies",
    "Advertisement",
    "Sponsored",
    "Weekend Edition",
    "Sign up",
    "Related stories",
    "Gas prices",
    "moon soil",
    "Most read",
    "Oscar winners",
    "© 2026",
    "Published",
    "Privacy",
]

# WordPress: the post in div.entry-content, the date in the entry footer's <time> (with an
# "updated" one), a " – Site" suffix on og:title, share buttons, related posts, comments,
# sidebar widgets.
WORDPRESS = f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8">
<title>{HEADLINE} &#8211; Riverside Chronicle</title>
<link rel="canonical" href="https://riverside.example.org/council-approves-budget/">
<meta property="og:title" content="{HEADLINE} &#8211; Riverside Chronicle">
<meta property="og:site_name" content="Riverside Chronicle"></head>
<body class="post-template-default single single-post"><div id="page" class="site">
<header id="masthead" class="site-header"><p class="site-title"><a href="/">Riverside
Chronicle</a></p><p class="site-description">News and views from the valley since 1998</p>
<nav id="site-navigation" class="main-navigation"><ul id="menu-primary" class="menu">
<li class="menu-item"><a href="/c/news">Local news</a></li></ul></nav></header>
<div id="content" class="site-content"><div id="primary" class="content-area">
<main id="main" class="site-main"><article id="post-12" class="post-12 post type-post hentry">
<header class="entry-header"><h1 class="entry-title">{HEADLINE}</h1></header>
<div class="entry-content">{body()}
<div class="sharedaddy sd-sharing-enabled"><h3 class="sd-title">Share this story with your
friends:</h3><ul><li><a class="share-twitter">Twitter</a></li></ul></div>
<div id="jp-relatedposts" class="jp-relatedposts"><h3 class="jp-relatedposts-headline">
Related</h3><p class="jp-relatedposts-post"><a href="/x">Heatwave warning issued for the
southern counties</a></p></div></div>
<footer class="entry-footer"><span class="posted-on"><a href="/council/" rel="bookmark">
<time class="entry-date published" datetime="2021-11-04T09:15:00+00:00">November 4, 2021</time>
<time class="updated" datetime="2023-02-14T11:00:00+00:00">February 14, 2023</time></a></span>
<span class="cat-links"><a href="/category/news/" rel="category tag">Local politics</a></span>
</footer></article>
<div id="comments" class="comments-area"><h2 class="comments-title">2 thoughts on this
post</h2><ol class="comment-list"><li class="comment"><article class="comment-body"><div
class="comment-content"><p>Exactly what I have been saying for years, great reporting on the
council and its budget.</p></div></article></li></ol><div id="respond" class="comment-respond">
<h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3><form><textarea></textarea>
</form></div></div></main></div>
<aside id="secondary" class="sidebar widget-area"><section class="widget widget_recent_entries">
<h2 class="widget-title">Recent Posts</h2><ul><li><a href="/r">Local bakery wins national bread
award</a></li></ul></section></aside></div>
<footer id="colophon" class="site-footer"><div class="site-info">&copy; 2026 Riverside
Chronicle. Proudly powered by WordPress</div></footer></div></body></html>"""
WORDPRESS_CHROME = [
    "valley since 1998",
    "Local news",
    "Share this story",
    "Twitter",
    "Heatwave warning",
    "Local politics",
    "great reporting",
    "Leave a Reply",
    "Recent Posts",
    "bakery",
    "Proudly powered",
    "November 4, 2021",
]

# The date only in JSON-LD (a @graph, as SEO plugins write it, with a later dateModified), the
# link only in og:url, ads in boxes named "advertisement", promo and newsletter boxes.
JSON_LD = {
    "@context": "https://schema.org",
    "@graph": [
        {"@type": "WebSite", "name": "Example Times"},
        {
            "@type": "NewsArticle",
            "headline": HEADLINE,
            "datePublished": "2020-02-29T07:30:00-05:00",
            "dateModified": "2024-03-01T12:00:00-05:00",
        },
    ],
}
JSON_LD_PAGE = f"""<!doctype html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{HEADLINE} | Example Times</title>
<meta property="og:url" content="https://www.example-times.com/news/council-budget-123">
<script type="application/ld+json">{json.dumps(JSON_LD)}</script></head><body>
<div id="cookie-consent" class="consent-banner"><p>We and our partners use cookies to store and
access information on your device.</p></div>
<div class="top-nav"><ul><li><a href="/markets">Markets and money</a></li></ul></div>
<div class="container"><div class="article-wrapper"><h1 class="headline">{HEADLINE}</h1>
<div class="author-line">By <a href="/staff/sam-lee">Sam Lee</a>, Senior Correspondent</div>
<div class="article-text">{
    body(
        between='<div class="advertisement"><span class="label">Advertisement</span>'
        '<div id="gpt-ad-3"></div></div>',
        after=3,
    )
}</div>
<div class="promo-box"><p>Try our new puzzles app, free for thirty days with any
subscription</p></div>
<div class="newsletter-signup"><h3>Morning Briefing</h3><p>The stories that matter, in your
inbox every weekday.</p></div></div>
<div class="rail"><div class="trending-module"><h3>Trending now</h3><ol><li><a href="/t/1">Five
things to watch in the markets next week</a></li></ol></div></div></div>
<div class="page-footer"><p>Copyright © 2026 Example Times Media Group.</p></div>
</body></html>"""
JSON_LD_CHROME = [
    "cookies",
    "Markets and money",
    "Senior Correspondent",
    "Advertisement",
    "puzzles app",
    "Morning Briefing",
    "inbox",
    "Trending now",
    "Five things",
    "Copyright",
]

# An old-fashioned page: no metadata at all, the date only in words under the headline, in
# Windows-1252 (curly quotes as single bytes), an ad label with no class, link only in the
# canonical.
DATELINE_PAGE = f"""<html>
<head><meta charset="windows-1252"><title>{HEADLINE} - The Valley Herald</title>
<link rel="canonical" href="https://herald.example.net/article/4711"></head>
<body><div id="header"><div class="logo">The Valley Herald</div>
<ul class="menu"><li><a href="/sport">Sport and leisure</a></li></ul></div>
<div id="main"><div class="story"><h1>{HEADLINE}</h1>
<p>Published July 6, 2022</p>
{body(between="<div><p>ADVERTISEMENT</p></div>", after=3)}
<div class="share-tools"><span>Share this article</span> <a>Email</a> <a>Print</a></div>
</div></div>
<div id="footer">&copy; 2026 The Valley Herald Publishing Co.</div>
</body></html>"""
DATELINE_CHROME = ["Sport and leisure", "Published", "ADVERTISEMENT", "Share this", "© 2026"]

# No publication date anywhere: an "Updated 3 hours ago", a copyright year, a month without its
# day, and dates inside the story (events, not when it was published).
NO_DATE_PAGE = f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8"><title>{HEADLINE} | The Example Post</title>
<meta property="og:title" content="{HEADLINE}"></head>
<body><header><nav><a href="/">The Example Post</a> <a href="/uk">UK news desk</a></nav></header>
<main><article><h1>{HEADLINE}</h1><p class="updated">Updated 3 hours ago</p>
<p class="meta">Filed July 2022</p>
<div class="body">{body(STORY + ["The council first met on 5/3/1996 to discuss the plan."])}
</div></article>
<section class="comments"><h2>Comments (1)</h2><div class="comment"><p>Does anyone know if
the meeting will be streamed online somewhere?</p></div></section></main>
<footer><p>© 2026 The Example Post Ltd. Registered in England and Wales.</p></footer>
</body></html>"""

# The date only in the URL's path.
URL_DATE_PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{HEADLINE} - Example Daily</title>
<link rel="canonical" href="https://www.example-daily.com/2022/07/06/council-budget/"></head>
<body><div class="masthead"><a href="/">Example Daily</a></div>
<div class="content"><h1 class="story-title">{HEADLINE}</h1>
<div class="story-text">{body()}</div></div>
<div class="footer-links"><p>© 2026 Example Daily, a division of Example Media.</p></div>
</body></html>"""

# A modern site's markup: class names that say nothing (CSS modules), divs everywhere, the
# ad label's box unnamed.
HASHED_PAGE = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{HEADLINE} - The Example Globe</title>
<meta data-rh="true" property="og:title" content="{HEADLINE}">
<meta data-rh="true" property="article:published_time" content="2022-07-06T09:00:06.000Z">
<meta data-rh="true" property="article:modified_time" content="2022-07-07T21:05:44.000Z">
<link data-rh="true" rel="canonical" href="https://www.example-globe.com/2022/07/06/us/budget.html">
</head><body><div id="app"><div class="css-1gvzyh5"><a href="/">The Example Globe</a>
<a class="css-kpm4b6" href="/s/politics">Politics and government</a></div>
<main id="site-content"><article id="story" class="css-1vxca1d">
<div class="css-1vkm6nb"><h1 class="css-1smgwul" data-testid="headline">{HEADLINE}</h1></div>
<section name="articleBody" class="meteredContent css-1r7ky0e">
{
    body(
        between='<div class="css-1ws1bks"><div class="css-9xk2qd"><p class="css-aa1">'
        'Advertisement</p></div><a class="css-zz" href="#after">SKIP ADVERTISEMENT</a></div>',
        after=3,
    )
}
</section></article>
<div class="css-1jx0v8k"><h2 class="css-1p6xqa0">More to Read</h2><ol class="css-11jjg"><li>
<a href="/r/1">City council approves new stadium funding plan</a></li></ol></div></main>
</div></body></html>"""


# --- 1. decoding ----------------------------------------------------------------------------


def test_decode_honours_the_declared_charset_and_the_bom() -> None:
    page = '<html><head><meta charset="windows-1252"></head><body>“Café”</body></html>'
    assert "“Café”" in decode(page.encode("cp1252"))
    # A page "in Latin-1" is Windows-1252 to a browser: its curly quotes survive.
    latin = page.replace("windows-1252", "ISO-8859-1")
    assert "“Café”" in decode(latin.encode("cp1252"))
    assert "“Café”" in decode(b"\xef\xbb\xbf" + page.replace("windows-1252", "x").encode())
    assert "“Café”" in decode("\ufeff<html><body>“Café”</body></html>".encode("utf-16-le"))
    http_equiv = '<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">Привет'
    assert "Привет" in decode(http_equiv.encode("koi8-r"))


def test_decode_replaces_bad_bytes_and_drops_control_characters() -> None:
    # Declared UTF-8 with invalid bytes: replaced, not an error.
    assert decode(b'<meta charset="utf-8"><p>ok \xff\xc3( ok</p>').count("\ufffd") == 2
    # Undeclared and not UTF-8: read as Windows-1252.
    assert decode(b"<p>caf\xe9 \x93quoted\x94</p>") == "<p>café “quoted”</p>"
    assert decode(b"<p>a\x00b\x01c</p>") == "<p>abc</p>"
    # An unknown label, or UTF-16 declared on ASCII bytes: read as UTF-8.
    assert decode(b'<meta charset="no-such"><p>caf\xc3\xa9</p>').endswith("café</p>")
    assert decode(b'<meta charset="utf-16"><p>caf\xc3\xa9</p>').endswith("café</p>")


def test_decode_refuses_binary_data() -> None:
    noise = random.Random(7).randbytes(20_000)
    with pytest.raises(UnreadableFileError, match="binary"):
        decode(noise)


# --- 2. parsing -----------------------------------------------------------------------------


def test_parse_gives_a_whole_tree_or_a_named_error() -> None:
    tree = parse("<p>unclosed <b>bold <div>and more")
    assert tree.tag == "html" and "and more" in tree.text_content()
    with pytest.raises(UnreadableFileError, match="empty"):
        parse("  \n ")
    # An XHTML page's XML declaration (lxml refuses it on text already decoded).
    xhtml = parse('<?xml version="1.0" encoding="utf-8"?><html><body><p>x</p></body></html>')
    assert xhtml.text_content() == "x"
    with pytest.raises(UnreadableFileError, match="elements"):
        parse("<html><body>" + "<span>x</span>" * 60_000 + "</body></html>")


def test_parse_reads_a_fragment_as_an_articles_body() -> None:
    tree = parse("<p>a</p><ul><li>b</li></ul>")
    assert [child.tag for child in tree.find("body/article")] == ["p", "ul"]
    page = parse("<html><body><p>a</p></body></html>")
    assert page.find("body/article") is None


# --- 3. metadata ----------------------------------------------------------------------------


def test_page_url_is_the_canonical_link() -> None:
    # The canonical link over og:url; og:url where there is no canonical.
    assert page_url(parse(NEWSROOM)) == "https://news.example.com/local/2022/07/06/council-budget/"
    assert page_url(parse(JSON_LD_PAGE)) == "https://www.example-times.com/news/council-budget-123"


@pytest.mark.parametrize(
    ("head", "url"),
    [
        ('<link rel="canonical" href="/relative"><meta property="og:url" content="x">', None),
        (
            '<link rel="canonical" href="/x"><meta property="og:url" content="https://a.b/c">',
            "https://a.b/c",
        ),
        ('<link rel="Canonical" href="//cdn.example.org/a">', "https://cdn.example.org/a"),
        ('<link rel="canonical" href="javascript:alert(1)">', None),
        ('<link rel="canonical" href="ftp://example.org/a">', None),
        ('<link rel="canonical" href="https://exa mple.org/a">', None),
        ("<title>no link</title>", None),
    ],
)
def test_page_url_takes_absolute_http_links_only(head: str, url: str | None) -> None:
    assert page_url(parse(f"<html><head>{head}</head><body></body></html>")) == url


@pytest.mark.parametrize(
    ("html", "title"),
    [
        (NEWSROOM, HEADLINE),  # og:title
        (WORDPRESS, HEADLINE),  # og:title with " – Site Name", the <h1> without
        (JSON_LD_PAGE, HEADLINE),  # JSON-LD headline
        (DATELINE_PAGE, HEADLINE),  # the <h1>; <title> has " - Site"
        # A headline with a " | " of its own, and the site's name after another one.
        (
            "<html><head><title>Wimbledon updates | Nadal hurt | Ledger</title></head><body>"
            "<h1>Logo</h1><h1>Wimbledon updates | Nadal hurt</h1></body></html>",
            "Wimbledon updates | Nadal hurt",
        ),
        # The site's name from og:site_name, no heading to compare with.
        (
            '<html><head><meta property="og:title" content="Rates rise again - Money Daily">'
            '<meta property="og:site_name" content="Money Daily"></head><body></body></html>',
            "Rates rise again",
        ),
        # Only a <title>: its headline part, whichever side the site's name is on, with a dot
        # or not (trafilatura alone takes "Example News" for both).
        (
            "<html><head><title>U.S. economy grows 3% | Example News</title></head></html>",
            "U.S. economy grows 3%",
        ),
        (
            "<html><head><title>Example News - Council approves the budget</title></head></html>",
            "Council approves the budget",
        ),
        ("<html><body><p>No title here at all, just text.</p></body></html>", None),
    ],
)
def test_page_title(html: str, title: str | None) -> None:
    assert page_title(parse(html)) == title


@pytest.mark.parametrize(
    ("html", "day"),
    [
        (NEWSROOM, date(2022, 7, 6)),  # <time> under the headline
        (WORDPRESS, date(2021, 11, 4)),  # <time class="published">, not the "updated" one
        (JSON_LD_PAGE, date(2020, 2, 29)),  # datePublished, as written (not in UTC)
        (DATELINE_PAGE, date(2022, 7, 6)),  # "Published July 6, 2022" only
        (URL_DATE_PAGE, date(2022, 7, 6)),  # /2022/07/06/ only
        (HASHED_PAGE, date(2022, 7, 6)),  # article:published_time, not modified
        # Never a copyright year, "Updated 3 hours ago", "July 2022" or a date in the story.
        (NO_DATE_PAGE, None),
        # What the page says, whatever day it is read.
        (
            '<html><head><meta property="article:published_time" content="2031-05-04">'
            "</head><body><p>x</p></body></html>",
            date(2031, 5, 4),
        ),
        # A byline's date in words, in a box named nothing.
        (
            "<html><body><h1>Title</h1><div>By Jane Roe · 6 July 2022 · 5 min read</div>"
            "<p>Text.</p></body></html>",
            date(2022, 7, 6),
        ),
        # Published and updated under the headline: the first publication.
        (
            "<html><body><h1>Title</h1><p>Published 6 July 2022</p><p>Updated 8 July 2022</p>"
            "<p>Text.</p></body></html>",
            date(2022, 7, 6),
        ),
        # The date under the headline, not a related story's <time> further down.
        (
            DATELINE_PAGE.replace(
                '<div id="footer">',
                '<ul class="more"><li><a href="/r/1">Heatwave warning</a><time '
                'datetime="2021-03-01T10:00:00Z">March 1, 2021</time></li></ul><div id="footer">',
            ),
            date(2022, 7, 6),
        ),
    ],
)
def test_publication_date(html: str, day: date | None) -> None:
    tree = parse(html)
    assert publication_date(tree, page_url(tree)) == day


# --- 4-5. main text and paragraphs ----------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "chrome"),
    [
        (NEWSROOM, NEWSROOM_CHROME),
        (WORDPRESS, WORDPRESS_CHROME),
        (JSON_LD_PAGE, JSON_LD_CHROME),
        (DATELINE_PAGE, DATELINE_CHROME),
        (NO_DATE_PAGE, ["Updated 3 hours ago", "UK news desk", "streamed online", "© 2026"]),
        (URL_DATE_PAGE, ["Example Daily", "© 2026"]),
        (HASHED_PAGE, ["Politics and government", "Advertisement", "ADVERTISEMENT", "More to"]),
    ],
)
def test_the_text_is_the_story_without_furniture(html: str, chrome: list[str]) -> None:
    data = html.encode("cp1252" if "windows-1252" in html else "utf-8")
    (article,) = read(data, name="a.html", kind="html").articles
    for line in chrome:
        assert line not in article.text
    assert not article.text.startswith(HEADLINE)  # the headline is the title, not text
    extra = ["The council first met on 5/3/1996 to discuss the plan."]
    assert_story(article, STORY + extra if html is NO_DATE_PAGE else STORY)


def test_main_text_leaves_the_tree_as_it_was() -> None:
    tree = parse(NEWSROOM)
    before = len(list(tree.iter()))
    assert main_text(tree) is not None
    assert len(list(tree.iter())) == before


def test_paragraphs_keep_lists_tables_and_line_breaks_as_lines() -> None:
    html = f"""<html><body><article><h1>{HEADLINE}</h1>{body()}
<h2>What is in the budget</h2><ul><li>$4 million for road repairs</li>
<li>$2.5 million for libraries</li></ul>
<table><tr><th>Item</th><th>Cost</th></tr><tr><td>Roads</td><td>$4m</td></tr></table>
<p>First line of an address<br>Second line of it</p></article></body></html>"""
    extracted = main_text(parse(html))
    assert extracted is not None
    found = paragraphs(extracted, title=HEADLINE)
    assert found[: len(STORY)] == STORY
    assert found[len(STORY) :] == [
        "What is in the budget",
        "$4 million for road repairs",
        "$2.5 million for libraries",
        "Item | Cost",
        "Roads | $4m",
        "First line of an address",
        "Second line of it",
    ]


def test_ad_labels_and_datelines_go_sentences_about_them_stay() -> None:
    credit = "Story by Sam Lee and photographs by Ann Wu, The Desert Sun | July 6, 2022"
    html = f"""<html><head><meta property="article:published_time" content="2022-07-06">
</head><body><article><h1>{HEADLINE}</h1><p>July 6, 2022 · 10:14 AM EDT</p><p>{credit}</p>
{body(between="<div><p>Advertisement</p></div>")}<p>Advertising revenue fell 5%.</p>
</article></body></html>"""
    (article,) = read(html.encode(), name="a.html", kind="html").articles
    assert article.text.split("\n\n") == [credit, *STORY, "Advertising revenue fell 5%."]


def test_a_dateline_the_date_was_read_from_is_not_text() -> None:
    (article,) = read_articles("a.html", DATELINE_PAGE.encode("cp1252")).articles
    assert article.date == date(2022, 7, 6)
    assert article.text.split("\n\n")[0] == STORY[0]


def test_the_whole_reader_on_a_page() -> None:
    found = read_articles("page.html", NEWSROOM.encode())
    assert found.skipped == []
    (article,) = found.articles
    assert article == Article(
        text="\n\n".join(STORY),
        title=HEADLINE,
        date=date(2022, 7, 6),
        url="https://news.example.com/local/2022/07/06/council-budget/",
        record=None,
    )


def test_a_page_inside_a_form_is_read() -> None:
    # ASP.NET pages wrap everything in one <form>: a form is furniture only when small.
    page = f"<html><body><form id='aspnetForm'><h1>{HEADLINE}</h1>{body()}</form></body></html>"
    (article,) = read(page.encode(), name="a.aspx.html", kind="html").articles
    assert_story(article)


def test_a_page_without_article_text_is_named() -> None:
    empty_app = '<html><head><title>App</title></head><body><div id="root"></div></body></html>'
    nav_only = (
        "<html><body><nav><a href='/'>Home</a> <a href='/w'>World</a></nav>"
        "<footer>© 2026 Site</footer></body></html>"
    )
    for html in (empty_app, nav_only):
        with pytest.raises(UnreadableFileError, match="no article text found in the page"):
            read(html.encode(), name="a.html", kind="html")


# --- fragments ------------------------------------------------------------------------------


def test_a_fragment_is_all_text() -> None:
    start = time.perf_counter()
    article = article_from_html("<p>a</p><p>b</p>")
    assert time.perf_counter() - start < 1.0
    assert (article.text, article.title, article.date, article.url) == ("a\n\nb", None, None, None)
    listed = article_from_html(
        "<p>Intro.</p><h3>What changes</h3><ul><li>one</li><li>two</li></ul><p>End.</p>"
    )
    assert listed.text.split("\n\n") == ["Intro.", "What changes", "one", "two", "End."]
    assert listed.title is None  # a subheading is no title
    assert article_from_html("Plain text, no tags.").text == "Plain text, no tags."


def test_what_the_caller_knows_wins_over_the_fragment() -> None:
    fragment = (
        f'<h1>{HEADLINE}</h1><p>Published 3 March 2019</p><link rel="canonical" '
        f'href="https://elsewhere.example/x">{body()}'
    )
    article = article_from_html(
        fragment.encode(),
        url="https://feed.example.com/item/1",
        title=HEADLINE,
        date=date(2022, 7, 6),
        record="12",
    )
    assert (article.url, article.title, article.date, article.record) == (
        "https://feed.example.com/item/1",
        HEADLINE,
        date(2022, 7, 6),
        "12",
    )
    assert not article.text.startswith(HEADLINE)
    # Said by nothing else, the fragment's own metadata stands.
    alone = article_from_html(fragment)
    assert (alone.title, alone.date, alone.url) == (
        HEADLINE,
        date(2019, 3, 3),
        "https://elsewhere.example/x",
    )
    assert alone.text == "\n\n".join(STORY)


# --- broken and hostile input ---------------------------------------------------------------

_PARA = b"<p>" + b"The council approved the budget after a long debate about roads. " * 4 + b"</p>"
HOSTILE = {
    "empty": b"",
    "whitespace": b" \n\t ",
    "nul bytes": b"\x00" * 1000,
    "nul inside": b"<html><body><h1>Ti\x00tle</h1>" + _PARA + b"\x00\x01</body></html>",
    "random bytes": random.Random(1).randbytes(100_000),
    "unclosed tags": b"<html><body><div><p>" + _PARA * 3 + b"<div><span><b><i>",
    "garbage": b"<<<>>><html<body>>" + _PARA + b"</ht",
    "5 MB of nested divs": b"<html><body>" + b"<div>" * 1_000_000 + _PARA + b"</div>" * 10,
    "deep tables": b"<html><body>" + b"<table><tr><td>" * 20_000 + _PARA,
    "comment flood": b"<html><body>" + b"<!--" * 100_000 + _PARA,
    "5 MB class name": b'<html><body><div class="' + b"a" * 5_000_000 + b'">' + _PARA + b"</div>",
    "too many elements": b"<html><body>" + b'<span class="date">on 12/10/2020</span>' * 60_000,
    "deep JSON-LD": b'<html><head><script type="application/ld+json">'
    + b"[" * 100_000
    + b"]" * 100_000
    + b"</script></head><body>"
    + _PARA
    + b"</body></html>",
    "bad JSON-LD": b'<html><head><script type="application/ld+json">{"datePublished": '
    b'"2022-13-45", "headline": 5, "@graph": "x"}</script></head><body>' + _PARA + b"</body>",
    "long date-like line": b"<html><body><h1>T</h1><p>Published "
    + b"1" * 200_000
    + b"</p>"
    + _PARA
    + b"</body></html>",
    "entity flood": b"<html><body><p>" + b"&amp;" * 200_000 + b"</p>" + _PARA + b"</body></html>",
    "script only": b"<html><head><script>var a = '<p>hello</p>';</script></head><body></body>",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_gives_an_article_or_a_named_error(name: str) -> None:
    start = time.perf_counter()
    try:
        (article,) = read(HOSTILE[name], name="hostile.html", kind="html").articles
    except UnreadableFileError as err:
        assert str(err)
    else:
        assert article.text.strip()
    assert time.perf_counter() - start < 10


# --- the newsroom-2022 set ------------------------------------------------------------------


@pytest.mark.slow
@newsroom.required
def test_newsroom_2022_web_pages() -> None:
    """Over the set's saved pages: dates, titles, links as the truth says, no furniture in the
    text, the plain-text twin's paragraphs all there, and fast."""
    figures = newsroom.measure("html")
    assert figures.date >= 0.98
    assert figures.title >= 0.97
    assert figures.url == 1
    assert figures.chrome == 0
    assert figures.paragraphs >= 0.99
    assert figures.ms <= 60
