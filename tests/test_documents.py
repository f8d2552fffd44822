from __future__ import annotations

from datetime import date

import pytest

from retrieval.documents import UnreadableFileError, parse_date_header, parse_document
from retrieval.sentences import sentence_spans


@pytest.mark.parametrize(
    ("text", "expected", "body"),
    [
        (" date 2023-11-28 US Secretary", date(2023, 11, 28), "US Secretary"),
        ("date 2021-10-21 Accuses U.S.", date(2021, 10, 21), "Accuses U.S."),
        (" date 2023-02-17\nRussia on Friday", date(2023, 2, 17), "\nRussia on Friday"),
        ("\ufeff date 2023-02-17 Text", date(2023, 2, 17), "Text"),
        (
            "Aleksashenko, a former central businessman",
            None,
            "Aleksashenko, a former central businessman",
        ),
        ("A date 2023-01-01 in the middle", None, "A date 2023-01-01 in the middle"),
        (" date 2023-13-45 impossible", None, "impossible"),
        (" date 2023-11-28x glued", None, " date 2023-11-28x glued"),
    ],
)
def test_date_header(text, expected, body):
    doc = parse_document("f.txt", text.encode())
    assert doc.date == expected
    assert doc.text[doc.body_start :] == body


def test_header_offset_example():
    assert parse_date_header(" date 2023-11-28 US") == (date(2023, 11, 28), 17)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n\n ", "empty"),
        (b" date 2023-01-01 ", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
        (b"caf\xe9 au lait", "UTF-8"),
    ],
)
def test_unreadable_files_say_why(data, reason):
    with pytest.raises(UnreadableFileError, match=reason):
        parse_document("bad.txt", data)


def test_paragraph_spans_are_verbatim_and_trimmed():
    text = " date 2023-01-01 First para\nstill first.\n\n  \n Second para.  \n\nThird."
    doc = parse_document("f.txt", text.encode())
    assert [doc.text[a:b] for a, b in doc.paragraphs()] == [
        "First para\nstill first.",
        "Second para.",
        "Third.",
    ]


def test_crlf_files_read_like_lf():
    doc = parse_document("f.txt", b"One.\r\n\r\nTwo.")
    assert [doc.text[a:b] for a, b in doc.paragraphs()] == ["One.", "Two."]


def test_sentences_keep_abbreviations_and_quotes():
    text = "The U.S. official said “no.” Then Mr. Miller left. Done"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "The U.S. official said “no.”",
        "Then Mr. Miller left.",
        "Done",
    ]
