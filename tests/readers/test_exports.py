"""The JSON Lines and JSON export reader (retrieval/readers/exports.py)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from retrieval.readers import UnreadableFileError, exports, read_articles
from retrieval.readers.base import Extraction
from tests.readers import newsroom

BODY = "The council voted on Friday.\n\nThe mayor was pleased with the vote."


def jsonl(*records: object) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records).encode()


def read(data: bytes, kind: str = "jsonl") -> Extraction:
    return exports.read(data, name=f"x.{kind}", kind=kind)


def test_jsonl_records_are_articles_numbered_by_line() -> None:
    found = read(
        jsonl(
            {
                "title": "Vote",
                "url": "https://e.com/vote",
                "published": "2022-07-01T23:30:00-05:00",
                "text": BODY,
            },
            "",
            {
                "headline": "Second",
                "link": "https://e.com/2",
                "pubDate": "Fri, 08 Jul 2022",
                "body": "B.",
            },
        )
    )
    first, second = found.articles
    assert (first.title, first.url, first.date, first.record) == (
        "Vote",
        "https://e.com/vote",
        date(2022, 7, 1),  # as written, not moved to UTC
        "1",
    )
    assert first.text == BODY and first.body_start == 0
    assert (second.title, second.date, second.record) == ("Second", date(2022, 7, 8), "3")
    assert found.skipped == []


def test_bad_lines_are_skipped_and_named_by_line_number() -> None:
    found = read(
        jsonl(
            {"title": "Good", "text": "Good text."},
            "{not json",
            "[1, 2]",
            {"title": "No text field", "summary": "a teaser"},
            {"title": "Empty", "text": "   "},
            "",
            {"title": "Also good", "content": "More text."},
        )
        + b"\n\xff\xfe{}\n"
        + b"[" * 100_000
    )
    assert [a.record for a in found.articles] == ["1", "7"]
    reasons = {s.record: s.reason for s in found.skipped}
    assert set(reasons) == {"2", "3", "4", "5", "8", "9"}
    assert reasons["2"].startswith("not valid JSON")
    assert reasons["3"] == "not a JSON object"
    assert reasons["4"].startswith("no text field")
    assert reasons["5"] == "empty text"
    assert reasons["8"].startswith("not valid UTF-8")
    assert reasons["9"] == "JSON nested too deeply"


def test_a_file_with_no_readable_record_is_unreadable_with_the_reasons() -> None:
    with pytest.raises(UnreadableFileError, match=r"#1: not valid JSON.*#2: no text field"):
        read_articles("x.jsonl", jsonl("nope", {"title": "t"}))


@pytest.mark.parametrize(
    "record",
    [
        {"Title": "T", "URL": "https://e.com/t", "Date": "2022-07-01", "Text": "Words."},
        {
            "headline": "T",
            "canonical_url": "https://e.com/t",
            "publishedAt": "2022-07-01",
            "article_body": "Words.",
        },
        {
            "name": "T",
            "permalink": "https://e.com/t",
            "datePublished": "2022-07-01",
            "articleBody": "Words.",
        },
        {
            "title": "T",
            "webUrl": "https://e.com/t",
            "publication_date": "2022-07-01",
            "full_text": "Words.",
        },
        {"title": "T", "link": "https://e.com/t", "created_at": "2022-07-01", "bodyText": "Words."},
        {
            "title": "T",
            "link": "https://e.com/t",
            "firstPublishedDate": "2022-07-01",
            "body": ["Words."],
        },
        {
            "title": {"main": "T"},
            "web_url": "https://e.com/t",
            "pub_date": "2022-07-01",
            "text": "Words.",
        },
        {
            "_source": {
                "title": "T",
                "url": "https://e.com/t",
                "published_at": "2022-07-01",
                "content": "Words.",
            }
        },
        {
            "id": 1,
            "attributes": {
                "title": "T",
                "url": "https://e.com/t",
                "date": "2022-07-01",
                "body": "Words.",
            },
        },
        {
            "date": {"$date": "2022-07-01T10:00:00Z"},
            "title": "T",
            "url": "https://e.com/t",
            "text": "Words.",
        },
    ],
    ids=lambda r: ",".join(r) if isinstance(r, dict) else str(r),
)
def test_field_name_variants(record: dict[str, object]) -> None:
    (article,) = read(jsonl(record)).articles
    assert (article.title, article.url, article.date, article.text) == (
        "T",
        "https://e.com/t",
        date(2022, 7, 1),
        "Words.",
    )


def test_what_is_not_the_articles_own_is_not_taken() -> None:
    (article,) = read(
        jsonl(
            {
                "author": {"name": "A. Writer", "url": "https://e.com/writers/a"},
                "source": {"name": "Daily Wire Service"},
                "updated": "2022-07-09",
                "url": "/2022/07/01/vote",  # a path: opens nothing
                "text": "Words.",
            }
        )
    ).articles
    assert (article.title, article.url, article.date) == (None, None, None)


def test_plain_body_paragraphs_at_blank_lines_else_at_lines() -> None:
    (blank, lines, repeated) = read(
        jsonl(
            {"text": "One\nstill one.\n\nTwo."},
            {"text": "One.\nTwo.\r\nThree."},
            {"title": "The vote", "text": "The vote\n\nWords."},
        )
    ).articles
    assert blank.text == "One still one.\n\nTwo."
    assert lines.text == "One.\n\nTwo.\n\nThree."
    assert repeated.text == "Words."  # the headline repeated as the first line is not text


def test_a_body_cut_short_by_the_api_is_skipped() -> None:
    found = read(jsonl({"title": "T", "content": "The council voted on… [+2345 chars]"}))
    assert found.articles == [] and "cut short" in found.skipped[0].reason


def test_wordpress_rest_export(web: None) -> None:
    posts = [
        {
            "id": 7,
            "date": "2022-07-01T21:00:00",
            "date_gmt": "2022-07-02T01:00:00",
            "guid": {"rendered": "https://blog.example.com/?p=7"},
            "link": "https://blog.example.com/2022/07/01/vote/",
            "title": {"rendered": "Mayor&#8217;s plan <em>wins</em>"},
            "content": {
                "rendered": "<p>The mayor&#8217;s plan won the vote on Friday by a wide margin."
                "</p>\n"
                "<p>Opponents said they would keep fighting it in the courts next year.</p>",
                "protected": False,
            },
            "excerpt": {"rendered": "<p>A teaser.</p>"},
            "author": 3,
            "_links": {"self": [{"href": "https://blog.example.com/wp-json/wp/v2/posts/7"}]},
        }
    ]
    (article,) = read(json.dumps(posts).encode(), "json").articles
    assert article.title == "Mayor\u2019s plan wins"
    assert article.url == "https://blog.example.com/2022/07/01/vote/"
    assert article.date == date(2022, 7, 1)
    assert article.record == "1"
    assert "The mayor\u2019s plan won the vote on Friday by a wide margin." in article.text
    assert "Opponents said they would keep fighting it in the courts next year." in article.text
    assert "<p>" not in article.text and "teaser" not in article.text


def test_guardian_api_like_export() -> None:
    response = {
        "response": {
            "status": "ok",
            "total": 2,
            "results": [
                {
                    "id": "world/2022/jul/01/vote",
                    "sectionName": "World news",
                    "webPublicationDate": "2022-07-01T22:30:00Z",
                    "webTitle": "Council votes",
                    "webUrl": "https://www.theguardian.com/world/2022/jul/01/vote",
                    "apiUrl": "https://content.guardianapis.com/world/2022/jul/01/vote",
                    "fields": {
                        "trailText": "A teaser",
                        "bodyText": "The council voted.",
                        "byline": "A",
                    },
                },
                {"id": "x", "webTitle": "No body asked for", "fields": {"trailText": "Teaser"}},
            ],
        }
    }
    found = read(json.dumps(response).encode(), "json")
    (article,) = found.articles
    assert (article.title, article.url, article.date, article.text, article.record) == (
        "Council votes",
        "https://www.theguardian.com/world/2022/jul/01/vote",
        date(2022, 7, 1),
        "The council voted.",
        "1",
    )
    assert [(s.record, s.reason[:13]) for s in found.skipped] == [("2", "no text field")]


@pytest.mark.parametrize(
    "document",
    [
        {"items": [{"title": "T", "text": "Words."}]},
        {"Articles": [{"title": "T", "text": "Words."}]},
        {"hits": {"total": 1, "hits": [{"_source": {"title": "T", "text": "Words."}}]}},
        {"meta": {"page": 1}, "stuff": [{"title": "T", "text": "Words."}]},
        [{"title": "T", "text": "Words."}],
    ],
)
def test_json_records_found_under_common_keys(document: object) -> None:
    (article,) = read(json.dumps(document).encode(), "json").articles
    assert (article.title, article.text, article.record) == ("T", "Words.", "1")


def test_a_json_file_of_one_article_is_that_article() -> None:
    (article,) = read(
        json.dumps({"title": "T", "tags": [{"name": "x"}], "body": "Words."}).encode(), "json"
    ).articles
    assert (article.title, article.text, article.record) == ("T", "Words.", None)


def test_json_lines_under_json_and_json_under_jsonl() -> None:
    lines = jsonl({"title": "A", "text": "One."}, {"title": "B", "text": "Two."})
    assert [a.title for a in read(lines, "json").articles] == ["A", "B"]
    pretty = json.dumps([{"title": "A", "text": "One."}], indent=2).encode()
    assert [a.title for a in read(pretty, "jsonl").articles] == ["A"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[" * 100_000, "JSON nested too deeply"),
        (b'{"status": "ok"}', "no list of articles"),
        (b"\x00\x01binary", "binary file"),
        (b'{"a": "caf\xe9"}', "not valid UTF-8"),
    ],
)
def test_unreadable_json(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFileError, match=reason):
        read(data, "json")


def test_html_body_goes_through_the_web_reader(web: None) -> None:
    (article,) = read(
        jsonl(
            {
                "title": "T",
                "body": "<p>The council voted on Friday after a long debate in the chamber.</p>"
                "<p>The mayor said she was pleased with the outcome of it.</p>",
            }
        )
    ).articles
    assert article.title == "T" and article.record == "1"
    assert "The council voted on Friday after a long debate in the chamber." in article.text
    assert "<p>" not in article.text


def test_records_past_the_limit_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(exports, "MAX_RECORDS", 2)
    found = read(jsonl(*({"text": f"Text {n}."} for n in range(5))))
    assert [a.record for a in found.articles] == ["1", "2"]
    assert [s.record for s in found.skipped] == ["3"] and "past the 2" in found.skipped[0].reason


# --- the newsroom set -----------------------------------------------------------------------


@pytest.mark.slow
@newsroom.required
def test_newsroom_exports(web: None) -> None:
    figures = newsroom.measure("jsonl")
    assert figures.skipped == 0
    assert figures.date == figures.title == figures.url == 1
    assert figures.paragraphs >= 0.99
