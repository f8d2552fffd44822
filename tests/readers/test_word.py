"""The Word reader on real .docx files made by python-docx and zipfile
(tests/readers/make_files.py), and on the newsroom set when it is there (slow)."""

from __future__ import annotations

import zipfile
from datetime import date
from pathlib import Path

import pytest

from retrieval.readers import Article, UnreadableFileError, UnsupportedKindError, read_articles
from retrieval.readers import word as word_reader
from tests.readers import make_files, newsroom


def read(path: Path) -> Article:
    return read_articles(path.name, path.read_bytes()).articles[0]


@pytest.fixture(scope="module")
def article(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_files.article_docx(tmp_path_factory.mktemp("word") / "article.docx")


def test_blocks_in_document_order(article: Path) -> None:
    expected = [
        *make_files.DOC_PARAGRAPHS,
        "The three phases",
        *make_files.DOC_BULLETS,
        *(" | ".join(row) for row in make_files.DOC_TABLE),
        make_files.DOC_CLOSING,
    ]
    assert read(article).text.split("\n\n") == expected


def test_title_and_date_from_core_properties(article: Path) -> None:
    found = read(article)
    assert found.title == make_files.DOC_TITLE
    assert found.date == date(2023, 5, 9)
    assert make_files.DOC_TITLE not in found.text  # the first heading is the title


def test_header_and_footer_are_not_text(article: Path) -> None:
    text = read(article).text
    assert "City Gazette" not in text
    assert "Page 1" not in text


def test_without_core_properties(tmp_path: Path) -> None:
    found = read(make_files.article_docx(tmp_path / "a.docx", core_title=None, created=None))
    assert found.title == make_files.DOC_TITLE  # from the Heading 1 that opens it
    assert not found.text.startswith(make_files.DOC_TITLE)
    # python-docx's template dates (2013-12-23) say nothing of this document.
    assert found.date is None


def test_date_line_wins_and_leaves_the_text(tmp_path: Path) -> None:
    path = make_files.article_docx(
        tmp_path / "a.docx", title=None, date_line="Published: 11 May 2023"
    )
    found = read(path)
    assert found.date == date(2023, 5, 11)  # not created, the 9th
    assert found.title == make_files.DOC_TITLE
    assert "Published" not in found.text
    assert found.text.startswith(make_files.DOC_PARAGRAPHS[0])


def test_tracked_changes_links_and_content_controls(tmp_path: Path) -> None:
    found = read(make_files.tracked_changes_docx(tmp_path / "t.docx"))
    assert found.text.split("\n\n") == [
        "Kept words, inserted words, a linked phrase and a filled-in value.",
        "A paragraph inside a content control.",
        "The last paragraph.",
    ]


def test_merged_cell_once(tmp_path: Path) -> None:
    found = read(make_files.merged_cells_docx(tmp_path / "m.docx"))
    assert found.text.split("\n\n") == ["Results by phase", "One | 5 km | 2.1 million"]


# -- files that are refused --


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    path = make_files.zip_bomb_docx(tmp_path / "bomb.docx")
    with pytest.raises(UnreadableFileError, match=r"^a zip bomb: unzips \d+ times its size"):
        read(path)


def test_zip_bomb_by_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = make_files.zip_bomb_docx(tmp_path / "bomb.docx", inflated=2_000_000)
    monkeypatch.setattr(word_reader, "MAX_ZIP_RATIO", 10**6)
    monkeypatch.setattr(word_reader, "MAX_UNZIPPED_BYTES", 1_000_000)
    with pytest.raises(UnreadableFileError, match=r"^a zip bomb: [\d,]+ bytes unzipped"):
        read(path)


def test_zip_with_too_many_members(tmp_path: Path) -> None:
    path = make_files.many_members_docx(tmp_path / "many.docx")
    with pytest.raises(UnreadableFileError, match=r"^a zip bomb: [\d,]+ members"):
        read(path)


def test_entity_declarations_are_refused(tmp_path: Path) -> None:
    path = make_files.entity_docx(tmp_path / "laughs.docx")
    with pytest.raises(UnreadableFileError, match="word/document.xml declares a DOCTYPE"):
        read(path)


def test_doctype_in_utf16_is_refused(tmp_path: Path) -> None:
    source = make_files.article_docx(tmp_path / "a.docx")
    with zipfile.ZipFile(source) as original:
        xml = original.read("word/document.xml").decode("utf-8").split("?>", 1)[1]
    utf16 = ('<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE w:document []>' + xml).encode(
        "utf-16"
    )
    path = make_files._rewrite_zip(source, tmp_path / "u.docx", {"word/document.xml": utf16})
    with pytest.raises(UnreadableFileError, match="declares a DOCTYPE"):
        read(path)


def test_doctype_in_a_part_not_named_xml_is_refused(tmp_path: Path) -> None:
    source = make_files.article_docx(tmp_path / "a.docx")
    part = make_files.BILLION_LAUGHS + b"<root>&lol9;</root>"
    path = make_files._rewrite_zip(source, tmp_path / "p.docx", {"customXml/item9.dat": part})
    with pytest.raises(UnreadableFileError, match="customXml/item9.dat declares a DOCTYPE"):
        read(path)


def test_not_a_word_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="^not a Word file: no word/document.xml"):
        read(make_files.not_word_zip(tmp_path / "x.docx"))
    with pytest.raises(UnreadableFileError, match="^not a Word file: not a zip"):
        read_articles("x.docx", b"PK\x03\x04" + bytes(300))


def test_damaged_xml(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="^a damaged Word file: "):
        read(make_files.broken_xml_docx(tmp_path / "b.docx"))


def test_text_limit(article: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(word_reader, "MAX_EXTRACTED_CHARS", 300)
    with pytest.raises(UnreadableFileError, match="^more than 300 characters"):
        read(article)


def test_old_binary_word_is_not_a_kind_read() -> None:
    with pytest.raises(UnsupportedKindError, match=r"\(\.doc\)"):
        read_articles("memo.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))


# -- the newsroom set --


@pytest.mark.slow
@newsroom.required
def test_newsroom_word_files() -> None:
    figures = newsroom.measure("docx")
    assert figures.date >= 0.98
    assert figures.title >= 0.97
    assert figures.chrome == 0
    assert figures.paragraphs >= 0.99
    assert figures.ms < 150  # some 13 ms here
