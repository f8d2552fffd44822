"""The PDF reader on real PDFs made by reportlab and pypdf (tests/readers/make_files.py), and
on the newsroom set when it is there (slow)."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import random
import re
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from retrieval.readers import Article, UnreadableFileError, read_articles
from retrieval.readers import pdf as pdf_reader
from tests.readers import make_files, newsroom


def read(path: Path) -> Article:
    return read_articles(path.name, path.read_bytes()).articles[0]


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("release")
    return make_files.press_release_pdf(
        folder / "release.pdf", creation_date=datetime(2023, 3, 20, 10, 0)
    )


# -- text, title, date --


def test_press_release_paragraphs_come_back_whole(release: Path) -> None:
    article = read(release)
    expected = [make_files.release_text(p) for p in make_files.RELEASE_PARAGRAPHS]
    assert article.text.split("\n\n") == expected


def test_press_release_furniture_and_metadata_lines_are_left_out(release: Path) -> None:
    text = read(release).text
    for furniture in [*make_files.LETTERHEAD, "Page 1 of 2", "Page 2 of 2", "Published"]:
        assert furniture not in text
    assert make_files.RELEASE_TITLE not in text  # the title is metadata


def test_hyphens_at_line_ends(release: Path) -> None:
    text = read(release).text
    # Broken by the layout: joined again; compounds: kept.
    for word in ["international", "sustainability", "connections", "operation", "Authority"]:
        assert word in text
    for compound in ["well-known", "U.S.-hosted"]:
        assert compound in text
    assert not re.search(r"\w- \w", text)


def test_written_date_wins_over_creation_date(release: Path) -> None:
    article = read(release)
    assert article.title == make_files.RELEASE_TITLE
    # "Published 14 March 2023" on page 1; the file was made on the 20th.
    assert article.date == date(2023, 3, 14)


def test_without_date_line_or_metadata_title(tmp_path: Path) -> None:
    path = make_files.press_release_pdf(
        tmp_path / "r.pdf",
        date_line=None,
        metadata_title=None,
        creation_date=datetime(2023, 3, 20, 10, 0),
    )
    article = read(path)
    assert article.date == date(2023, 3, 20)  # CreationDate
    assert article.title == make_files.RELEASE_TITLE  # the large type atop page 1
    assert article.text.startswith("The Harbour Authority today opened")


def test_one_page_letterhead_goes_with_the_title(tmp_path: Path) -> None:
    path = make_files.press_release_pdf(
        tmp_path / "r.pdf", paragraphs=make_files.RELEASE_PARAGRAPHS[:2], metadata_title=None
    )
    article = read(path)
    assert article.title == make_files.RELEASE_TITLE
    assert not any(line in article.text for line in make_files.LETTERHEAD)
    assert article.text.startswith("The Harbour Authority today opened")


def test_a_letterhead_stamped_on_after_the_text_is_left_out(tmp_path: Path) -> None:
    # A one-page release whose bold letterhead, larger than the body, is drawn last: no
    # repetition across pages shows it, its position and type do.
    from reportlab.pdfgen import canvas

    path = tmp_path / "stamped.pdf"
    pdf = canvas.Canvas(str(path), invariant=1)
    pdf.setTitle("Ferry timetable changes")
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, 700, "Ferry timetable changes")
    pdf.setFont("Times-Roman", 10)
    body = [
        "The ferry to the island will run every forty minutes in summer, the operator said,",
        "after a season of complaints about crowded boats and long queues at the pier.",
    ]
    for n, line in enumerate(body):
        pdf.drawString(72, 670 - 12 * n, line)
    pdf.setFont("Helvetica-Bold", 11)
    pdf.drawString(72, 805, "COASTAL COURIER — PRESS OFFICE")  # A4: in the top margin
    pdf.showPage()
    pdf.save()
    (article,) = read_articles(path.name, path.read_bytes()).articles
    assert article.title == "Ferry timetable changes"
    assert "PRESS OFFICE" not in article.text and "forty minutes in summer" in article.text


@pytest.mark.parametrize("with_metadata", [True, False])
def test_report_with_title_page_and_indented_paragraphs(
    tmp_path: Path, with_metadata: bool
) -> None:
    article = read(make_files.report_pdf(tmp_path / "report.pdf", with_metadata=with_metadata))
    paragraphs = article.text.split("\n\n")
    assert article.title == make_files.REPORT_TITLE
    assert article.date == date(2023, 11, 3)  # "Date: 3 November 2023", not the file's 2000
    for heading, texts in make_files.REPORT_SECTIONS:
        assert heading in paragraphs
        for text in texts:
            assert text in paragraphs  # told apart by their first-line indent alone
    assert make_files.REPORT_HEADER not in article.text
    assert "Date:" not in article.text
    assert not any(re.fullmatch(r"\d+", p) for p in paragraphs)  # page numbers


# -- files that are skipped --


def test_scan_is_named(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="a scan: no text layer"):
        read(make_files.scan_pdf(tmp_path / "scan.pdf"))


def test_encrypted_with_a_password_is_skipped(tmp_path: Path) -> None:
    path = make_files.encrypted_pdf(tmp_path / "locked.pdf", user_password="secret")
    with pytest.raises(UnreadableFileError, match="^encrypted: it needs a password"):
        read(path)


def test_encrypted_with_empty_user_password_is_read(tmp_path: Path) -> None:
    path = make_files.encrypted_pdf(tmp_path / "open.pdf", user_password="")
    article = read(path)
    assert article.text == "A short note about the harbour and its new cranes."
    assert article.title == "A short note"


@pytest.mark.skipif(
    importlib.util.find_spec("cryptography") is not None,
    reason="cryptography is installed: AES files are read",
)
def test_aes_without_cryptography_is_named(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="^encrypted: with AES"):
        read(make_files.aes_encrypted_pdf(tmp_path / "aes.pdf"))


def test_broken_cross_reference_table_is_still_read(tmp_path: Path, release: Path) -> None:
    broken = make_files.broken_xref_pdf(tmp_path / "broken.pdf")
    assert read(broken).text == read(release).text


def test_garbage_and_truncated_files_are_damaged(tmp_path: Path, release: Path) -> None:
    with pytest.raises(UnreadableFileError, match="^a damaged PDF: "):
        read(make_files.garbage_pdf(tmp_path / "garbage.pdf"))
    data = release.read_bytes()
    for cut in (len(data) // 2, len(data) - 300):
        with pytest.raises(UnreadableFileError, match="^a damaged PDF: "):
            read_articles("cut.pdf", data[:cut])


def test_ten_thousand_pages_are_refused_fast(tmp_path_factory: pytest.TempPathFactory) -> None:
    path = make_files.many_pages_pdf(tmp_path_factory.mktemp("many") / "many.pdf")
    data = path.read_bytes()
    started = time.perf_counter()
    with pytest.raises(UnreadableFileError, match=r"^10,000 pages, more than the 2,000 read"):
        read_articles("many.pdf", data)
    assert time.perf_counter() - started < 0.5


def test_page_and_text_limits(release: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf_reader, "MAX_PDF_PAGES", 1)
    with pytest.raises(UnreadableFileError, match="^2 pages, more than the 1 read"):
        read(release)
    monkeypatch.setattr(pdf_reader, "MAX_PDF_PAGES", 10)
    monkeypatch.setattr(pdf_reader, "MAX_EXTRACTED_CHARS", 500)
    with pytest.raises(UnreadableFileError, match="^more than 500 characters"):
        read(release)


def test_damaged_bytes_raise_only_unreadable(release: Path) -> None:
    data = release.read_bytes()
    rng = random.Random(7)
    for _ in range(12):
        damaged = bytearray(data)
        for _ in range(20):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        with contextlib.suppress(UnreadableFileError):  # anything else fails the test
            read_articles("damaged.pdf", bytes(damaged))


def test_pypdf_warnings_stay_out_of_the_terminal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from pypdf import PdfReader

    broken = make_files.broken_xref_pdf(tmp_path / "broken.pdf")
    with caplog.at_level(logging.WARNING, logger="pypdf"):
        PdfReader(broken, strict=False).pages[0].extract_text()
        assert any(r.name.startswith("pypdf") for r in caplog.records)  # pypdf does warn
        caplog.clear()
        read(broken)
        assert not [r for r in caplog.records if r.name.startswith("pypdf")]
        assert logging.getLogger("pypdf").level == logging.WARNING  # restored after the call


# -- joining lines --


@pytest.mark.parametrize(
    ("left", "right", "joined"),
    [
        ("the inter-", "national fund", "the international fund"),
        ("a well-", "known name", "a well-known name"),
        ("a U.S.-", "hosted event", "a U.S.-hosted event"),
        ("the Covid-", "19 rules", "the Covid-19 rules"),
        ("an anti-", "American rally", "an anti-American rally"),
        ("the state-of-the-", "art plant", "the state-of-the-art plant"),
        ("prices --", "and wages", "prices -- and wages"),
        ("the plan\u2014", "which failed", "the plan\u2014which failed"),
        ("a soft\u00ad", "hyphen", "a softhyphen"),
        ("a line", "and the next", "a line and the next"),
    ],
)
def test_glue(left: str, right: str, joined: str) -> None:
    assert pdf_reader._glue(left, right, set(), set()) == joined


def test_glue_uses_the_documents_own_words() -> None:
    # "Washington" written whole elsewhere: a capitalised word broken by the layout.
    assert pdf_reader._glue("in Wash-", "ington", {"washington"}, set()) == "in Washington"
    # "pop-up" written with its hyphen elsewhere: a compound.
    assert pdf_reader._glue("a pop-", "up shop", {"pop", "up"}, {"pop-up"}) == "a pop-up shop"


# -- the newsroom set --


@pytest.mark.slow
@newsroom.required
def test_newsroom_pdfs() -> None:
    figures = newsroom.measure("pdf")
    assert figures.date >= 0.98
    assert figures.title >= 0.97
    assert figures.chrome == 0
    assert figures.paragraphs >= 0.99
    assert figures.ms < 250  # some 35 ms here; generous for a loaded machine
