"""The plain-text and Markdown reader (retrieval/readers/plain.py)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from retrieval.documents import Document, parse_document
from retrieval.passages import find_title
from retrieval.readers import UnreadableFileError, read_articles
from retrieval.readers.base import Article
from retrieval.readers.plain import read, read_markdown, read_text
from tests.readers import newsroom

ROOT = Path(__file__).resolve().parents[2]
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
SHARED = ROOT.parent / "shared/eval"
RTQA = SHARED / "rtqa-2022/corpus"


def paragraphs(article: Article) -> list[tuple[int, int]]:
    """The paragraph spans the old pipeline finds from the article's body_start."""
    return Document("f", article.text, "", article.date, article.body_start).paragraphs()


def assert_same_as_old(name: str, data: bytes) -> None:
    doc = parse_document(name, data)
    title, spans = find_title(doc)
    article = read_text(data, name=name)
    assert article.text == doc.text
    assert article.title == title
    assert article.date == doc.date
    assert paragraphs(article) == spans
    assert article.url is None and article.record is None


def md(text: str) -> Article:
    return read_markdown(text.encode(), name="n.md")


# --- .txt: exactly the old reading ----------------------------------------------------------


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_seeds_read_as_the_old_functions_read_them(path: Path) -> None:
    assert_same_as_old(path.name, path.read_bytes())


@pytest.mark.parametrize(
    "text",
    [
        " date 2022-07-01 A title\n\nThe body, long enough.\n\nMore.",
        " date 2022-07-01\nA title\n\nBody.",
        " date 2022-13-45 Impossible date\n\nBody.",
        "\ufeffTitle\r\n\r\nBody\rmore\r\n",
        "One paragraph only, no title.",
        "A first paragraph\nthat is on two lines\n\nBody.",
        " ".join(["word"] * 26) + "\n\nBody.",
        "   \n\n  Indented title  \n\n\n  Body  ",
        " date 2022-07-01",
        "x\n\ny",
    ],
)
def test_text_edge_cases_match_the_old_functions(text: str) -> None:
    data = text.encode()
    try:
        parse_document("f.txt", data)
    except ValueError as exc:
        with pytest.raises(UnreadableFileError, match=re.escape(str(exc))):
            read_text(data)
        return
    assert_same_as_old("f.txt", data)


def test_text_keeps_header_and_title_in_the_text_before_body_start() -> None:
    article = read_text(b" date 2022-07-01 A title\n\nThe body.")
    assert article.text == " date 2022-07-01 A title\n\nThe body."
    assert (article.title, article.date) == ("A title", date(2022, 7, 1))
    assert article.text[article.body_start :].strip() == "The body."
    untitled = read_text(b" date 2022-07-01 Only one paragraph here.")
    assert untitled.title is None and untitled.body_start == len(" date 2022-07-01 ")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"abc\x00def", "binary file (contains NUL bytes)"),
        (b"caf\xe9 au lait", "not valid UTF-8 (byte 3)"),
        (b"  \n\n ", "empty file"),
        (b" date 2022-07-01 ", "empty file"),
    ],
)
def test_text_refuses_what_the_old_reader_refused(data: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFileError, match=re.escape(reason)):
        read(data, name="f.txt", kind="text")


def test_read_articles_dispatches_txt_and_md() -> None:
    assert read_articles("a.txt", b"Title\n\nBody.").articles[0].title == "Title"
    assert read_articles("a.md", b"# T\n\nBody.").articles[0].title == "T"


@pytest.mark.slow
@pytest.mark.skipif(not RTQA.is_dir(), reason="rtqa-2022 not present")
def test_rtqa_corpus_reads_as_the_old_functions_read_it() -> None:
    for path in sorted(RTQA.glob("*.txt")):
        assert_same_as_old(path.name, path.read_bytes())


# --- Markdown -------------------------------------------------------------------------------


def test_front_matter_gives_metadata_and_is_never_in_the_text() -> None:
    article = md(
        "---\n"
        'title: "Vote: the council decides"\n'
        "url: https://example.com/2022/07/01/vote\n"
        "date: 2022-07-01\n"
        "tags: [council, budget]\n"
        "---\n\n"
        "The council voted on Friday.\n\nThe mayor was pleased.\n"
    )
    assert article.title == "Vote: the council decides"
    assert article.url == "https://example.com/2022/07/01/vote"
    assert article.date == date(2022, 7, 1)
    assert article.text == "The council voted on Friday.\n\nThe mayor was pleased."
    assert article.body_start == 0 and article.record is None


@pytest.mark.parametrize("key", ["published", "pubDate", "published_at", "Date", "publishDate"])
def test_front_matter_date_keys(key: str) -> None:
    article = md(f"---\n{key}: 2022-07-01T23:30:00-05:00\n---\n\nBody text.\n")
    assert article.date == date(2022, 7, 1)  # the date as written, not moved to UTC


@pytest.mark.parametrize("key", ["link", "canonical_url", "URL"])
def test_front_matter_link_keys(key: str) -> None:
    assert md(f"---\n{key}: https://e.com/a\n---\n\nBody.\n").url == "https://e.com/a"


def test_front_matter_link_that_is_a_path_is_no_link() -> None:
    assert md("---\nurl: /2022/07/vote/\n---\n\nBody.\n").url is None


def test_front_matter_date_never_guessed() -> None:
    assert md("---\ntitle: T\ndate: July 2022\nupdated: 2022-07-05\n---\n\nBody.\n").date is None
    assert md("Just a note written on 2022-07-01.\n\nMore.").date is None


def test_broken_yaml_of_key_value_lines_is_still_metadata() -> None:
    article = md("---\ntitle: Vote: what now\ndate: 2022-07-01\n---\n\nBody text.\n")
    assert (article.title, article.date) == ("Vote: what now", date(2022, 7, 1))
    assert article.text == "Body text."


def test_a_block_between_rules_that_is_no_mapping_stays_text() -> None:
    article = md("---\nA line of prose between two rules.\n---\n\nMore text.\n")
    # (Markdown reads it as a rule and a heading: the heading is then the title.)
    assert article.title == "A line of prose between two rules."
    assert article.text == "More text."


def test_front_matter_too_large_is_not_metadata() -> None:
    big = "---\n" + "key: value\n" * 7000 + "title: Hidden\n---\n\nBody.\n"
    article = md(big)
    assert article.title != "Hidden" and "Body." in article.text


def test_empty_front_matter() -> None:
    assert md("---\n---\n\nBody text.\n").text == "Body text."


@pytest.mark.parametrize(
    ("text", "title", "url", "body"),
    [
        pytest.param(
            '+++\ntitle = "T"\ndate = 2022-07-01\nurl = "https://e.com/t"\n+++\n\nBody.\n',
            "T",
            "https://e.com/t",
            "Body.",
            id="toml",
        ),
        pytest.param(
            "Title: The vote\nDate: 2022-07-01\nLink: https://e.com/v\n\nBody text.\n",
            "The vote",
            "https://e.com/v",
            "Body text.",
            id="multimarkdown",
        ),
    ],
)
def test_toml_and_multimarkdown_metadata(text: str, title: str, url: str, body: str) -> None:
    article = md(text)
    assert (article.title, article.date, article.url, article.text) == (
        title,
        date(2022, 7, 1),
        url,
        body,
    )


def test_a_first_line_with_a_colon_is_not_metadata() -> None:
    prose = md("Update: the council met again.\n\nBody text.\n")
    assert "Update: the council met again." in prose.text + (prose.title or "")


def test_markdown_becomes_plain_words() -> None:
    article = md(
        "# Title\n\n"
        "The *council* voted **on Friday**, [according to](https://x.com/a) the `clerk`"
        " ![a photo](p.jpg) <b>and</b> &amp; \\*more\\*.\nA wrapped line.\n\n"
        "## A subheading\n\n"
        "1. First point\n2. Second point\n\n"
        "- a bullet\n  - nested bullet\n\n"
        "> A quoted sentence.\n\n"
        "```\npasted statement\n```\n\n"
        "<div class='ad'>Advertisement</div>\n\n"
        "<!-- a comment -->\n\n"
        "---\n\n"
        "| Name | Votes |\n|---|---|\n| Smith | 12 |\n"
    )
    assert article.title == "Title"
    assert article.text.split("\n\n") == [
        "The council voted on Friday, according to the clerk and & *more*. A wrapped line.",
        "A subheading",
        "1. First point",
        "2. Second point",
        "a bullet",
        "nested bullet",
        "A quoted sentence.",
        "pasted statement",
        "Name | Votes",
        "Smith | 12",
    ]
    for markup in ("https://x.com", "p.jpg", "a photo", "**", "`", "Advertisement", "comment"):
        assert markup not in article.text


def test_title_from_front_matter_then_heading_then_first_line() -> None:
    both = md("---\ntitle: The vote\n---\n\n# The Vote\n\nBody.\n")
    assert (both.title, both.text) == ("The vote", "Body.")  # the heading not repeated
    other = md("---\ntitle: The vote\n---\n\n# Another heading\n\nBody.\n")
    assert (other.title, other.text) == ("The vote", "Another heading\n\nBody.")
    setext = md("The vote\n========\n\nBody.\n")
    assert (setext.title, setext.text) == ("The vote", "Body.")
    line = md("The vote\n\nBody.\n")
    assert (line.title, line.text) == ("The vote", "Body.")
    wrapped = md("A first paragraph\nwrapped on two lines.\n\nBody.\n")
    assert wrapped.title is None and wrapped.text.startswith("A first paragraph wrapped")
    alone = md("Only one paragraph.\n")
    assert (alone.title, alone.text) == (None, "Only one paragraph.")


def test_markdown_keeps_the_old_date_header() -> None:
    article = md(" date 2022-07-01 The vote\n\nThe council *voted*.\n")
    assert (article.date, article.title, article.text) == (
        date(2022, 7, 1),
        "The vote",
        "The council voted.",
    )


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("---\ntitle: Only metadata\n---\n", "a title and no text"),
        ("![just a picture](p.jpg)\n", "no text found"),
        ("", "empty file"),
    ],
)
def test_markdown_without_text_is_unreadable(text: str, reason: str) -> None:
    with pytest.raises(UnreadableFileError, match=reason):
        md(text)


def test_hostile_front_matter_is_refused_quietly() -> None:
    laughs = "".join(
        f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n"
        for p, n in zip("abcdefg", "bcdefgh", strict=True)
    )
    article = md("---\na: &a [x,x,x,x,x,x,x,x,x]\n" + laughs + "title: *h\n---\n\nBody.\n")
    assert article.title is None and article.text == "Body."
    # libyaml's C loader crashes the process on this; it is not YAML that is parsed.
    deep = md("---\ntitle: " + "[" * 50_000 + "\n---\n\nBody.\n")
    assert (deep.title, deep.text) == (None, "Body.")


# --- the newsroom set -----------------------------------------------------------------------


@pytest.mark.slow
@newsroom.required
def test_newsroom_notes() -> None:
    figures = newsroom.measure("md")
    assert figures.date == figures.title == figures.url == 1
    assert figures.paragraphs >= 0.99
