"""Fetcher: robots.txt, the User-Agent, conditional requests, limits, timeouts, redirects,
schemes; against the local site (tests/web/site.py)."""

from __future__ import annotations

import gzip
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from retrieval.web.bounded import gunzip_bounded
from retrieval.web.cache import CachedResponse, JsonFileCache, MemoryCache
from retrieval.web.errors import FetchError, RobotsDisallowedError
from retrieval.web.fetch import FetchConfig, Fetcher, default_user_agent
from retrieval.web.urls import check_url, is_http_url
from tests.web.helpers import TEST_CONFIG
from tests.web.site import Page, Site, closed_port

ROBOTS = "/robots.txt"


def fetcher_with(**changes: Any) -> Fetcher:
    return Fetcher(config=replace(TEST_CONFIG, **changes), cache=MemoryCache())


# -- who is asking ----------------------------------------------------------------------


def test_the_user_agent_names_quotedesk_and_its_version(site: Site, fetcher: Fetcher):
    site.pages["/page"] = Page("<html>hi</html>")
    fetcher.fetch(site.url("/page"))
    agents = {r.headers["user-agent"] for r in site.requests}
    assert len(agents) == 1  # robots.txt and the page alike
    agent = agents.pop()
    assert agent == default_user_agent()
    assert agent.startswith("quotedesk/") and "github.com/quotedesk/quotedesk" in agent
    assert fetcher.config.robots_token == "quotedesk"


# -- robots.txt ---------------------------------------------------------------------------


def test_a_url_robots_disallows_is_refused_and_never_requested(site: Site, fetcher: Fetcher):
    site.pages[ROBOTS] = Page("User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.pages["/private/memo"] = Page("secret")
    site.pages["/public"] = Page("<html>ok</html>")

    with pytest.raises(RobotsDisallowedError) as caught:
        fetcher.fetch(site.url("/private/memo"))
    assert "disallowed by" in caught.value.reason and "robots.txt" in caught.value.reason
    assert "quotedesk" in str(caught.value)
    assert isinstance(caught.value, FetchError)
    assert fetcher.fetch(site.url("/public")).body == b"<html>ok</html>"
    assert site.paths() == [ROBOTS, "/public"]  # robots.txt once; the memo never asked for


def test_rules_for_quotedesk_by_name_apply(site: Site, fetcher: Fetcher):
    site.pages[ROBOTS] = Page(
        "User-agent: otherbot\nDisallow:\n\nUser-agent: quotedesk\nDisallow: /\n",
        content_type="text/plain",
    )
    site.pages["/a"] = Page("a")
    with pytest.raises(RobotsDisallowedError):
        fetcher.fetch(site.url("/a"))


def test_a_redirect_to_a_disallowed_path_is_refused(site: Site, fetcher: Fetcher):
    site.pages[ROBOTS] = Page("User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    site.pages["/go"] = Page(redirect="/private/x")
    site.pages["/private/x"] = Page("secret")
    with pytest.raises(RobotsDisallowedError, match="redirected to"):
        fetcher.fetch(site.url("/go"))
    assert "/private/x" not in site.paths()


@pytest.mark.parametrize("status", [404, 401, 403, 410])
def test_robots_unavailable_4xx_allows_everything(site: Site, fetcher: Fetcher, status: int):
    # RFC 9309 2.3.1.3: a 4xx robots.txt is "unavailable": crawlers may access anything.
    site.pages[ROBOTS] = Page("no", status=status)
    site.pages["/a"] = Page("a")
    assert fetcher.fetch(site.url("/a")).body == b"a"


@pytest.mark.parametrize("status", [500, 503, 429])
def test_robots_unreachable_disallows_everything_until_it_recovers(site: Site, status: int):
    # RFC 9309 2.3.1.4: a 5xx robots.txt is "unreachable": crawlers must assume complete
    # disallow. 429 is taken as the same.
    site.pages[ROBOTS] = Page("down", status=status)
    site.pages["/a"] = Page("a")
    with fetcher_with(robots_retry=0.0) as fetcher:
        with pytest.raises(RobotsDisallowedError, match=f"HTTP {status}.*RFC 9309"):
            fetcher.fetch(site.url("/a"))
        assert "/a" not in site.paths()
        site.pages[ROBOTS] = Page("User-agent: *\nAllow: /\n", content_type="text/plain")
        assert fetcher.fetch(site.url("/a")).body == b"a"


def test_robots_is_fetched_once_per_host(site: Site, fetcher: Fetcher):
    site.pages[ROBOTS] = Page("User-agent: *\nDisallow: /x\n", content_type="text/plain")
    for path in ("/a", "/b", "/c"):
        site.pages[path] = Page(path)
        fetcher.fetch(site.url(path))
    assert site.paths().count(ROBOTS) == 1


def test_robots_redirects_are_followed(site: Site, fetcher: Fetcher):
    site.pages[ROBOTS] = Page(redirect="/real-robots.txt", status=301)
    site.pages["/real-robots.txt"] = Page("User-agent: *\nDisallow: /no\n", content_type=None)
    site.pages["/no"] = Page("no")
    with pytest.raises(RobotsDisallowedError):
        fetcher.fetch(site.url("/no"))


def test_crawl_delay_is_waited_between_requests_and_bounded(site: Site):
    site.pages[ROBOTS] = Page("User-agent: *\nCrawl-delay: 3600\n", content_type="text/plain")
    site.pages["/a"] = Page("a")
    site.pages["/b"] = Page("b")
    waits: list[float] = []
    config = replace(TEST_CONFIG, max_crawl_delay=0.5)
    with Fetcher(config=config, sleep=waits.append) as fetcher:
        fetcher.fetch(site.url("/a"))
        fetcher.fetch(site.url("/b"))
    # After robots.txt, before /a; after /a, before /b: each at most the bound, not an hour.
    assert len(waits) == 2
    assert all(0.3 < w <= 0.5 for w in waits)


def test_no_crawl_delay_means_no_wait(site: Site):
    site.pages[ROBOTS] = Page("User-agent: *\nDisallow:\n", content_type="text/plain")
    site.pages["/a"] = Page("a")
    waits: list[float] = []
    with Fetcher(config=TEST_CONFIG, sleep=waits.append) as fetcher:
        fetcher.fetch(site.url("/a"))
        fetcher.fetch(site.url("/a"))
    assert waits == []


# -- conditional requests -----------------------------------------------------------------


def test_the_second_fetch_is_conditional_and_gets_a_304(site: Site, fetcher: Fetcher):
    modified = "Tue, 02 Jan 2024 10:00:00 GMT"
    site.pages["/feed.xml"] = Page(
        "<rss/>", content_type="application/rss+xml", etag='"v1"', last_modified=modified
    )
    first = fetcher.fetch(site.url("/feed.xml"))
    assert (first.status, first.body, first.not_modified) == (200, b"<rss/>", False)
    assert (first.etag, first.last_modified) == ('"v1"', modified)
    assert first.content_type == "application/rss+xml"

    second = fetcher.fetch(site.url("/feed.xml"))
    sent = site.requests_to("/feed.xml")[-1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == modified
    assert (second.status, second.body, second.not_modified, second.unchanged) == (
        304,
        None,
        True,
        True,
    )
    assert second.content_hash == first.content_hash

    site.pages["/feed.xml"] = Page("<rss>new</rss>", etag='"v2"')
    third = fetcher.fetch(site.url("/feed.xml"))
    assert (third.status, third.body, third.unchanged) == (200, b"<rss>new</rss>", False)


def test_conditional_false_and_remember_false(site: Site, fetcher: Fetcher, cache: MemoryCache):
    site.pages["/p"] = Page("p", etag='"e"')
    fetched = fetcher.fetch(site.url("/p"), remember=False)
    assert cache.get(site.url("/p")) is None
    fetcher.remember(fetched)  # once the caller has stored what it fetched
    assert cache.get(site.url("/p")) is not None
    assert fetcher.fetch(site.url("/p"), conditional=False).status == 200
    assert "if-none-match" not in site.requests_to("/p")[-1].headers


def test_the_same_bytes_without_validators_are_seen_unchanged(site: Site, fetcher: Fetcher):
    site.pages["/plain"] = Page("same")
    assert not fetcher.fetch(site.url("/plain")).unchanged
    again = fetcher.fetch(site.url("/plain"))
    assert again.status == 200 and again.body == b"same" and again.unchanged


def test_validators_are_kept_under_the_url_that_answered(site: Site, fetcher: Fetcher):
    site.pages["/old-feed"] = Page(redirect="/feed", status=301)
    site.pages["/feed"] = Page("<rss/>", etag='"f"')
    first = fetcher.fetch(site.url("/old-feed"))
    assert first.url == site.url("/feed") and first.requested_url == site.url("/old-feed")
    second = fetcher.fetch(site.url("/old-feed"))
    assert second.not_modified and second.url == site.url("/feed")


def test_json_file_cache_survives_a_new_process(tmp_path: Path, site: Site):
    path = tmp_path / "cache" / "fetch.jsonl"
    site.pages["/feed"] = Page("<rss/>", etag='"f"')
    with Fetcher(config=TEST_CONFIG, cache=JsonFileCache(path)) as fetcher:
        fetcher.fetch(site.url("/feed"))
    assert path.stat().st_mode & 0o777 == 0o600
    with Fetcher(config=TEST_CONFIG, cache=JsonFileCache(path)) as fetcher:
        assert fetcher.fetch(site.url("/feed")).not_modified


def test_json_file_cache_ignores_torn_lines_and_compacts(tmp_path: Path):
    path = tmp_path / "fetch.jsonl"
    cache = JsonFileCache(path)
    when = datetime(2024, 1, 2, tzinfo=UTC)
    for n in range(300):
        cache.put("http://x/feed", CachedResponse(f'"{n}"', None, "h", when))
    with path.open("a") as out:
        out.write('{"url": "http://x/torn", "etag')  # a crash mid-write
    reopened = JsonFileCache(path)
    assert reopened.get("http://x/feed") == CachedResponse('"299"', None, "h", when)
    assert reopened.get("http://x/torn") is None
    assert len(path.read_text().splitlines()) == 1  # compacted


# -- limits -------------------------------------------------------------------------------


def test_a_declared_length_over_the_limit_is_refused_before_reading(site: Site):
    site.pages["/big"] = Page("small really", headers={"Content-Length": "50000000"})
    with fetcher_with(max_bytes=1000) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(site.url("/big"))
    assert "too large" in caught.value.reason and "50,000,000" in caught.value.reason


def test_a_huge_streamed_body_is_stopped_soon_after_the_limit(site: Site):
    site.pages["/huge"] = Page(b"", content_type="text/plain", stream=1_000_000_000)
    started = time.monotonic()
    with fetcher_with(max_bytes=100_000) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(site.url("/huge"))
    assert caught.value.reason == "too large: more than the limit of 100,000 bytes"
    assert time.monotonic() - started < 2
    assert site.wait_finished("/huge")  # the server saw the client hang up
    # What the server wrote before noticing is socket buffers' worth, not the gigabyte.
    assert site.sent["/huge"] < 64_000_000


def test_a_gzip_bomb_is_refused_after_the_limit(site: Site):
    bomb = gzip.compress(b"\0" * 20_000_000, compresslevel=9)  # ~20 KB on the wire
    site.pages["/bomb"] = Page(bomb, headers={"Content-Encoding": "gzip"})
    with fetcher_with(max_bytes=1_000_000) as fetcher, pytest.raises(FetchError, match="too large"):
        fetcher.fetch(site.url("/bomb"))


def test_a_gzip_body_is_decompressed(site: Site, fetcher: Fetcher):
    site.pages["/z"] = Page(gzip.compress(b"hello " * 1000), headers={"Content-Encoding": "gzip"})
    assert fetcher.fetch(site.url("/z")).body == b"hello " * 1000
    assert site.requests_to("/z")[0].headers["accept-encoding"] == "gzip, deflate"


def test_gunzip_bounded():
    assert gunzip_bounded(gzip.compress(b"abc"), 3) == b"abc"
    with pytest.raises(ValueError, match="larger than 2 bytes"):
        gunzip_bounded(gzip.compress(b"abc"), 2)
    with pytest.raises(ValueError, match="cut short"):
        gunzip_bounded(gzip.compress(b"abc" * 100)[:20], 1000)


# -- time ---------------------------------------------------------------------------------


def test_a_server_that_does_not_answer_times_out(site: Site):
    site.pages["/slow"] = Page("late", delay=5.0)
    started = time.monotonic()
    with fetcher_with(timeout=0.3) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(site.url("/slow"))
    assert caught.value.reason == "timed out: no answer within 0.3 s"
    assert time.monotonic() - started < 2


def test_a_trickled_body_is_cut_off_at_the_deadline(site: Site):
    # A byte every 50 ms: each read is quick, the whole is not.
    site.pages["/drip"] = Page(b"x" * 1000, trickle=0.05)
    started = time.monotonic()
    with fetcher_with(timeout=0.4) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(site.url("/drip"))
    assert caught.value.reason.startswith("timed out")
    assert time.monotonic() - started < 2


# -- redirects ----------------------------------------------------------------------------


def test_redirects_are_followed_to_the_final_url(site: Site, fetcher: Fetcher):
    site.pages["/a"] = Page(redirect="/b", status=301)
    site.pages["/b"] = Page(redirect=site.url("/c"), status=307)
    site.pages["/c"] = Page("c")
    fetched = fetcher.fetch(site.url("/a"))
    assert (fetched.url, fetched.body) == (site.url("/c"), b"c")


def test_a_redirect_loop_is_named(site: Site, fetcher: Fetcher):
    site.pages["/a"] = Page(redirect="/b")
    site.pages["/b"] = Page(redirect="/a")
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(site.url("/a"))
    assert caught.value.reason.startswith("redirect loop: ")
    assert caught.value.reason.count("->") == 2
    assert site.paths().count("/a") == 1


def test_too_many_redirects(site: Site, fetcher: Fetcher):
    for n in range(10):
        site.pages[f"/{n}"] = Page(redirect=f"/{n + 1}")
    with pytest.raises(FetchError, match=r"too many redirects \(more than 5\)"):
        fetcher.fetch(site.url("/0"))
    assert site.paths() == [ROBOTS, "/0", "/1", "/2", "/3", "/4", "/5"]


def test_a_redirect_to_another_scheme_is_refused(site: Site, fetcher: Fetcher):
    site.pages["/leak"] = Page(redirect="file:///etc/passwd")
    with pytest.raises(FetchError, match=r"redirected to file:.*etc/passwd: not an http\(s\)"):
        fetcher.fetch(site.url("/leak"))


# -- what is fetched ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "data:text/plain,hello",
        "ftp://127.0.0.1/x",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "127.0.0.1/page",
        "//127.0.0.1/page",
        "http:///no-host",
    ],
)
def test_only_http_and_https_are_fetched(fetcher: Fetcher, url: str):
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert "http(s)" in caught.value.reason or "no host" in caught.value.reason
    assert not is_http_url(url)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_private_addresses_are_refused_by_default(site: Site, host: str):
    # A hostile feed could link to the host's own network (an admin page, the cloud metadata
    # service at 169.254.169.254): what is fetched ends up quoted in the chat.
    site.pages["/admin"] = Page("secret")
    config = replace(TEST_CONFIG, allow_private_addresses=False)
    with Fetcher(config=config) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(site.url("/admin").replace("127.0.0.1", host))
    assert "not a public address" in caught.value.reason
    assert "allow_private_addresses" in caught.value.reason
    assert site.requests == []


def test_a_redirect_to_a_private_address_is_refused(site: Site):
    checked: list[str] = []

    class Public(Fetcher):
        # The site plays a public host; only the redirect's target is checked for real.
        def _check_address(self, url: str, target: httpx.URL) -> None:
            checked.append(str(target))
            if target.host != "127.0.0.1":
                super()._check_address(url, target)

    site.pages["/go"] = Page(redirect="http://localhost:9/")
    config = replace(TEST_CONFIG, allow_private_addresses=False)
    with Public(config=config) as fetcher, pytest.raises(FetchError, match="not a public"):
        fetcher.fetch(site.url("/go"))
    assert checked == [site.url("/go"), "http://localhost:9/"]


def test_the_schemes_can_be_narrowed_to_https(site: Site):
    with fetcher_with(schemes=frozenset({"https"})) as fetcher, pytest.raises(FetchError) as caught:
        fetcher.fetch(site.url("/a"))
    assert caught.value.reason == "not an http(s) URL (http:); only https is fetched"
    assert site.requests == []
    with pytest.raises(ValueError, match="schemes"):
        FetchConfig(schemes=frozenset({"http", "ftp"}))


def test_check_url_drops_the_fragment():
    assert str(check_url(" https://Example.com/a#top ")) == "https://example.com/a"


def test_http_errors_carry_the_status(site: Site, fetcher: Fetcher):
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(site.url("/missing"))
    assert caught.value.reason == "HTTP 404 Not Found"
    assert caught.value.status == 404
    assert str(caught.value) == f"{site.url('/missing')}: HTTP 404 Not Found"


def test_connection_refused_is_said_in_words(fetcher: Fetcher):
    url = f"http://127.0.0.1:{closed_port()}/feed"
    with pytest.raises(FetchError) as caught:
        fetcher.fetch(url)
    assert caught.value.reason.startswith("connection refused")


def test_the_content_type_and_charset_are_split(site: Site, fetcher: Fetcher):
    site.pages["/p"] = Page("x", content_type="Text/HTML; Charset=ISO-8859-1")
    fetched = fetcher.fetch(site.url("/p"))
    assert (fetched.content_type, fetched.charset) == ("text/html", "ISO-8859-1")


def test_config_is_checked():
    with pytest.raises(ValueError, match="max_bytes"):
        FetchConfig(max_bytes=0)
    with pytest.raises(ValueError, match="timeout"):
        FetchConfig(timeout=-1)
