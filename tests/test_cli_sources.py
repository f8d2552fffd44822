"""The CLI over a newsroom's files: link-aware citations in every output, ``show``, ``ingest
URL`` and ``follow``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import Run
from tests.web.site import Page, Site

STRIKE = "https://courier.example/2022/07/06/harbour-strike-ends"
# In the page's own words: the fake encoder (hashed words) finds it above the abstain line.
STRIKE_QUESTION = "why did dock workers end the three-week strike that had closed the harbour?"
BACKLOG_QUESTION = "how long will the backlog of ships waiting in the bay take to clear?"


def lines(output: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_sources_json_rows_gain_url_and_keep_their_fields(run: Run, newsroom: Path) -> None:
    assert run("ingest", str(newsroom)).exit_code == 0
    rows = {row["source"]: row for row in lines(run("sources", "--json").stdout)}
    assert rows["web/strike.html"] == {
        "source": "web/strike.html",
        "date": "2022-07-06",
        "title": "Harbour strike ends",
        "collection": "newsroom",
        "url": STRIKE,
        "passages": rows["web/strike.html"]["passages"],
    }
    assert rows["release.pdf"]["url"] is None
    plain = run("sources").stdout
    assert STRIKE in plain and "exports/week.jsonl#3" in plain


def test_ask_shows_the_link_under_the_quote_and_json_carries_it(
    run: Run,
    newsroom: Path,
) -> None:
    run("ingest", str(newsroom))
    answer = lines(run("ask", "--json", STRIKE_QUESTION).stdout)[0]
    first = answer["quotes"][0]
    assert (first["source"], first["url"], first["title"]) == (
        "web/strike.html",
        STRIKE,
        "Harbour strike ends",
    )
    shown = run("ask", STRIKE_QUESTION).stdout
    assert f"Harbour strike ends — {STRIKE}" in shown


def test_show_prints_the_stored_text_a_quote_is_cut_from(run: Run, newsroom: Path) -> None:
    run("ingest", str(newsroom))
    quote = lines(run("ask", "--json", "-k", "1", BACKLOG_QUESTION).stdout)[0]["quotes"][0]
    whole = lines(run("show", "--json", quote["source"]).stdout)[0]
    assert whole["text"][quote["start"] : quote["end"]] == quote["text"]
    assert (whole["url"], whole["passage"]) == (STRIKE, None)
    around = lines(run("show", "--json", quote["source"], "--around", str(quote["start"])).stdout)
    assert around[0]["passage"] == [quote["start"], quote["end"]]
    assert quote["text"] in around[0]["text"]
    shown = run("show", quote["source"], "--around", str(quote["start"]))
    assert shown.exit_code == 0 and quote["text"][:40] in shown.stdout and STRIKE in shown.stdout
    missing = run("show", "nope.txt")
    assert missing.exit_code == 2 and "`quotedesk sources` lists them" in missing.stderr
    outside = run("show", quote["source"], "--around", "999999")
    assert outside.exit_code == 2 and "no passage" in outside.stderr


def test_ingest_url_and_follow_once(run: Run, site: Site) -> None:
    site.pages["/story"] = Page(
        "<html><head><title>Ferry strike</title>"
        '<meta property="article:published_time" content="2022-07-01"></head><body><article>'
        "<p>Ferry crews walked out on Friday over rosters, stranding island commuters.</p>"
        "<p>The operator said talks would resume on Monday with a mediator present.</p>"
        "</article></body></html>",
        etag='"v1"',
    )
    url = site.url("/story")
    refused = run("ingest", url)
    assert refused.exit_code == 2 and "private" in refused.stderr
    done = run("ingest", url, "--allow-private-addresses", "--collection", "web")
    assert done.exit_code == 0, done.output
    assert "web: 1 added" in done.stderr
    rows = lines(run("sources", "--json").stdout)
    assert [(r["source"], r["url"], r["date"]) for r in rows if r["collection"] == "web"] == [
        (url, url, "2022-07-01")
    ]
    again = run("follow", url, "--once", "--allow-private-addresses", "--collection", "web")
    assert again.exit_code == 0, again.output
    assert "web: 0 added, 0 changed, 1 unchanged" in again.stderr
    assert site.requests_to("/story")[-1].headers.get("if-none-match") == '"v1"'


def test_follow_refuses_a_bad_interval_or_target_in_one_line(run: Run) -> None:
    result = run("follow", "seeds", "--every", "soon")
    assert result.exit_code == 2 and "--every" in result.output
    missing = run("follow", "/no/such/folder", "--once")
    assert missing.exit_code == 2 and "no such folder" in missing.output
    assert "Traceback" not in missing.output


@pytest.mark.parametrize("target", ["ftp://example.org/feed", "file:///etc/passwd"])
def test_only_web_addresses_are_fetched(run: Run, target: str) -> None:
    result = run("ingest", target)
    # Not a URL quotedesk fetches, so read as a path: there is no such folder.
    assert result.exit_code == 2 and "no such folder" in result.stderr
