"""Real PDF and Word files for the readers' tests, made by the libraries that write them.

PDFs are drawn with reportlab (two layouts unlike each other and unlike any corpus: a press
release on a letterhead with justified, hyphenated lines and "Page N of M" footers; a report
with a title page, indented paragraphs and no space between them), and edited with pypdf
(encryption, 10,000 blank pages). Word files are made with python-docx, and their zips edited
with zipfile (a zip bomb, a DOCTYPE declaring entities). The newsroom-2022 set's figures are
in tests/readers/newsroom.py.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

# -- text --

# Words with ``|`` where a hyphenator may break them: the line breaker below hyphenates there
# when the word does not fit at the end of a line ("inter-" / "national").
RELEASE_TITLE = "Harbour Authority Opens New Container Terminal"
RELEASE_PARAGRAPHS: list[str | list[str]] = [
    # Broken by hand where the cases are: a word broken by the layout, a compound, a
    # compound whose head is an abbreviation. Every line but the last is justified.
    [
        "The Harbour Authority today opened its new container terminal,",
        "the largest single investment ever made in the port by inter-",
        "national shipping groups, with cranes able to unload the largest",
        "ships now sailing. The operator of the terminal will be the well-",
        "known Meridian Lines, the first customer, with weekly calls from",
        "Rotterdam, Singapore and New York, and next spring a new U.S.-",
        "hosted training centre for crane operators opens on the quay.",
    ],
    "Con|struc|tion took four years and cost 410 million euros, shared between the "
    "Au|thor|ity, the re|gional govern|ment and a con|sor|tium of private in|vestors. Work on "
    "the quay walls started in the spring of 2019; the dredg|ing of the approach channel "
    "was finished last autumn, ahead of the original sched|ule by almost two months.",
    "\u201cThis ter|mi|nal changes what our port can offer,\u201d said Ana Fer|reira, the "
    "Au|thor|ity\u2019s chief ex|ec|u|tive. \u201cShips that used to sail past us to the north "
    "will now call here, and the jobs that come with them will stay in the region for a "
    "gen|er|a|tion.\u201d",
    "The ter|mi|nal will employ about 650 people when it reaches full ca|pac|ity in 2026. "
    "The Au|thor|ity expects the first two hundred trainees to start before the end of the "
    "year, most of them from the towns along the es|tu|ary.",
    "En|vi|ron|men|tal groups have welcomed the shore-power con|nec|tions, which let ships "
    "switch off their engines at the quay. The Au|thor|ity says emis|sions in the harbour "
    "should fall by a third once all berths are equipped, a target it will report on "
    "every year in its sus|tain|abil|ity review.",
    "Trade unions and the Au|thor|ity signed a frame|work agree|ment on working hours last "
    "week. It covers the new ter|mi|nal and the two older ones, and it runs until 2027, "
    "when both sides have agreed to review the shift pat|terns in the light of the first "
    "three years of op|er|a|tion.",
    "Meridian Lines said its first ship, the Aurora Bo|re|alis, would arrive on Monday "
    "morning with about nine thousand con|tain|ers on board. The vessel will be met by the "
    "harbour pilots at the outer buoy and brought to berth 4 on the rising tide.",
    "The Au|thor|ity will hold an open day on the quay on Saturday. Visitors can tour the "
    "control room, watch the cranes at work and take a boat trip around the new basin; "
    "places on the boat are free but must be booked in advance through the website.",
]
RELEASE_DATE_LINE = "Published 14 March 2023"
LETTERHEAD = ["HARBOUR AUTHORITY", "Press Office \u00b7 1 Quay Street \u00b7 Portsmouth"]

REPORT_TITLE = "Water Quality in the Upper Valley"
REPORT_SECTIONS = [
    (
        "1. Summary",
        [
            "Samples taken at forty sites along the river between April and September show "
            "that the water is cleaner than it was five years ago at most of them, but that "
            "nitrate levels below the two large farms have not improved at all since the "
            "last survey.",
            "The council asked for this report after complaints from anglers about the "
            "state of the lower pools. Its findings were presented to the environment "
            "committee in November and are published here in full, with the data tables "
            "in the appendix.",
        ],
    ),
    (
        "2. Method",
        [
            "Each site was sampled every second week by volunteers trained by the river "
            "trust. The samples were kept cold and delivered to the county laboratory "
            "within six hours, where they were tested for nitrate, phosphate, dissolved "
            "oxygen and the bacteria that indicate sewage.",
            "Where a volunteer missed a visit the site was sampled the following week; "
            "fewer than one visit in twenty was missed over the whole season, and no site "
            "missed two in a row, so the figures below are comparable between sites.",
        ],
    ),
    (
        "3. Findings",
        [
            "Dissolved oxygen was above the standard for salmon at thirty-six of the forty "
            "sites. The four sites below the standard are all in the slow stretch above "
            "the mill weir, where the water warms in summer and weed grows thickly.",
            "Nitrate remains the main concern. Below the two farms it averaged eleven "
            "milligrams per litre, close to the limit for drinking water, and it rose "
            "after every heavy rain, which points to run-off from the fields rather than "
            "to any single discharge pipe.",
            "Bacteria counts were low everywhere except at the outfall of the old sewage "
            "works, which the water company has promised to replace by the end of next "
            "year. Swimming below the outfall is not advised until then.",
        ],
    ),
]
REPORT_DATE_LINE = "Date: 3 November 2023"
REPORT_HEADER = "Upper Valley Water Report"


def _words(text: str) -> list[str]:
    return text.split()


def release_text(paragraph: str | list[str]) -> str:
    """A release paragraph as a reader should give it back: on one line, marks gone, the words
    the layout broke whole again, compounds with their hyphen."""
    if isinstance(paragraph, str):
        return " ".join(paragraph.replace("|", "").split())
    text = " ".join(paragraph)
    return text.replace("inter- national", "international").replace("- ", "-")


# -- PDFs with reportlab --


def _wrap(words: Sequence[str], width: float, font: str, size: float) -> list[tuple[str, bool]]:
    """Words broken into lines of at most ``width``, greedily, as a layout program does: a word
    that does not fit is broken at its last break point that does, a ``|`` mark (drawn as a
    hyphen) or a hyphen of a compound (kept).

    Returns (line, is_last_of_paragraph) pairs.
    """
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[tuple[str, bool]] = []
    current: list[str] = []
    queue = list(words)
    while queue:
        word = queue.pop(0)
        shown = word.replace("|", "")
        if stringWidth(" ".join([*current, shown]), font, size) <= width:
            current.append(shown)
            continue
        # Break points: after each "|" (a hyphen is added) or "-" (the hyphen stays).
        points = [i for i, c in enumerate(word) if c in "|-" and 0 < i < len(word) - 1]
        for i in reversed(points):
            head = word[:i].replace("|", "") + "-"
            if stringWidth(" ".join([*current, head]), font, size) <= width:
                current.append(head)
                queue.insert(0, word[i + 1 :])
                break
        else:
            queue.insert(0, word)
        lines.append((" ".join(current), False))
        current = []
    if current:
        lines.append((" ".join(current), True))
    return lines


def press_release_pdf(
    path: Path,
    *,
    title: str = RELEASE_TITLE,
    paragraphs: Sequence[str | list[str]] = RELEASE_PARAGRAPHS,
    date_line: str | None = RELEASE_DATE_LINE,
    metadata_title: str | None = RELEASE_TITLE,
    creation_date: datetime | None = None,
    column_width: float = 300.0,
) -> Path:
    """A press release: a two-line letterhead on every page, a bold title and a date line on
    page 1, justified paragraphs with hyphenated line ends and space between them, a footer
    "Page N of M". A narrow column makes it run to several pages."""
    from reportlab.lib.pagesizes import LETTER
    from reportlab.pdfgen import canvas

    width, height = LETTER
    left, top_margin, bottom_margin = 90.0, 120.0, 80.0
    font, size, leading, after = "Times-Roman", 11.0, 14.0, 8.0
    # Lay out first (to know M of "Page N of M"), then draw.
    pages: list[list[tuple[str, float, float, str, float, bool]]] = [[]]
    y = height - top_margin
    title_lines = _wrap(_words(title), column_width, "Helvetica-Bold", 18)
    for line, _ in title_lines:
        pages[-1].append((line, left, y, "Helvetica-Bold", 18, False))
        y -= 22
    if date_line:
        y -= 4
        pages[-1].append((date_line, left, y, "Helvetica-Oblique", 10, False))
        y -= 26
    for paragraph in paragraphs:
        if isinstance(paragraph, str):
            wrapped = _wrap(_words(paragraph), column_width, font, size)
        else:  # lines broken by hand
            wrapped = [(line, i == len(paragraph) - 1) for i, line in enumerate(paragraph)]
        for line, last in wrapped:
            if y < bottom_margin:
                pages.append([])
                y = height - top_margin
            pages[-1].append((line, left, y, font, size, not last))
            y -= leading
        y -= after
    pdf = canvas.Canvas(str(path), pagesize=LETTER, invariant=1)
    if metadata_title:
        pdf.setTitle(metadata_title)
    pdf.setAuthor("Harbour Authority Press Office")
    for number, lines in enumerate(pages, 1):
        pdf.setFont("Helvetica-Bold", 13)
        pdf.drawString(left, height - 50, LETTERHEAD[0])
        pdf.setFont("Helvetica", 8)
        pdf.drawString(left, height - 63, LETTERHEAD[1])
        pdf.line(left, height - 70, left + column_width, height - 70)
        for text, x, y_pos, face, points, justify in lines:
            if justify:
                _justified(pdf, text, x, y_pos, face, points, column_width)
            else:
                pdf.setFont(face, points)
                pdf.drawString(x, y_pos, text)
        pdf.setFont("Helvetica", 8)
        pdf.drawCentredString(width / 2, 40, f"Page {number} of {len(pages)}")
        pdf.showPage()
    pdf.save()
    if creation_date is not None:
        _set_info(path, {"/CreationDate": creation_date.strftime("D:%Y%m%d%H%M%S+00'00'")})
    return path


def _set_info(path: Path, values: dict[str, str]) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(path))
    writer.add_metadata(values)
    buffer = io.BytesIO()
    writer.write(buffer)
    path.write_bytes(buffer.getvalue())


def _justified(pdf, text: str, x: float, y: float, font: str, size: float, width: float) -> None:
    """A line stretched to ``width`` with word spacing (Tw), as a justifying layout does."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    gaps = text.count(" ")
    extra = (width - stringWidth(text, font, size)) / gaps if gaps else 0.0
    line = pdf.beginText(x, y)
    line.setFont(font, size)
    line.setWordSpace(extra)
    line.textOut(text)
    pdf.drawText(line)


def report_pdf(path: Path, *, with_metadata: bool = True) -> Path:
    """A report: a title page (large title, a date line, the author), then pages with a running
    header, a bare page number at the foot, numbered headings and paragraphs told apart only by
    a first-line indent (no space between them)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    body = ParagraphStyle(
        "body", fontName="Times-Roman", fontSize=10.5, leading=13, firstLineIndent=18
    )
    heading = ParagraphStyle(
        "heading",
        fontName="Helvetica-Bold",
        fontSize=13,
        leading=16,
        spaceBefore=10,
        spaceAfter=4,
    )
    big = ParagraphStyle("big", fontName="Helvetica-Bold", fontSize=26, leading=32)
    small = ParagraphStyle("small", fontName="Helvetica", fontSize=11, leading=14)

    def later_page(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica-Oblique", 8)
        canvas.drawString(doc.leftMargin, A4[1] - 40, REPORT_HEADER)
        canvas.drawRightString(A4[0] - doc.rightMargin, 30, str(doc.page))
        canvas.restoreState()

    story: list = [Spacer(1, 200), Paragraph(REPORT_TITLE, big), Spacer(1, 20)]
    story += [Paragraph(REPORT_DATE_LINE, small), Paragraph("Upper Valley River Trust", small)]
    story.append(PageBreak())
    for name, paragraphs in REPORT_SECTIONS * 2:  # twice: enough for three pages of body
        story.append(Paragraph(name, heading))
        story += [Paragraph(text, body) for text in paragraphs]
    doc = SimpleDocTemplate(
        str(path),
        pagesize=A4,
        title=REPORT_TITLE if with_metadata else "",
        author="Upper Valley River Trust",
        invariant=1,
        topMargin=70,
        bottomMargin=60,
        leftMargin=72,
        rightMargin=300,
    )
    doc.build(story, onLaterPages=later_page)
    return path


def scan_pdf(path: Path) -> Path:
    """A page that is a picture: shapes and an image drawn, no text layer."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    picture = Image.new("L", (60, 80), color=230)
    for i in range(0, 60, 4):
        picture.putpixel((i, 40), 0)
    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    pdf.drawImage(ImageReader(picture), 50, 300, width=480, height=480)
    pdf.rect(60, 100, 300, 40, fill=1)
    pdf.showPage()
    pdf.save()
    return path


def simple_pdf(
    path: Path, text: str = "A short note about the harbour and its new cranes."
) -> Path:
    """One page, one line of text, a title in the metadata."""
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), invariant=1)
    pdf.setTitle("A short note")
    pdf.setFont("Helvetica", 11)
    pdf.drawString(72, 700, text)
    pdf.showPage()
    pdf.save()
    return path


def encrypted_pdf(
    path: Path, *, user_password: str, owner_password: str = "owner", algorithm: str = "RC4-128"
) -> Path:
    """The simple PDF encrypted by pypdf (an empty user password opens without asking)."""
    from pypdf import PdfReader, PdfWriter

    source = simple_pdf(path.with_name(path.stem + "-plain.pdf"))
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password, owner_password, algorithm=algorithm)
    with path.open("wb") as out:
        writer.write(out)
    return path


def aes_encrypted_pdf(path: Path) -> Path:
    """A PDF whose encryption dictionary says AES (empty user password).

    pypdf writes AES only with the cryptography package; without it, the RC4 file's dictionary
    is edited to name AESV2, which is what a reader without that package meets.
    """
    data = encrypted_pdf(path.with_name(path.stem + "-rc4.pdf"), user_password="").read_bytes()
    aes = b"/V 4\n/R 4\n/CF << /StdCF << /CFM /AESV2 /Length 16 >> >>\n/StmF /StdCF\n/StrF /StdCF\n"
    path.write_bytes(data.replace(b"/V 2\n/R 3\n", aes, 1))
    return path


def broken_xref_pdf(path: Path) -> Path:
    """The press release with its cross-reference table's offsets shifted: a reader must
    rebuild it by scanning the file."""
    data = press_release_pdf(path.with_name(path.stem + "-good.pdf")).read_bytes()
    start = data.rindex(b"\nxref") + 1
    end = data.index(b"trailer", start)
    table = data[start:end]
    # Every offset one digit wrong: each entry points into the middle of another object.
    broken = bytes(
        (b - 48 + 3) % 10 + 48 if 48 <= b <= 57 and i % 20 == 3 else b for i, b in enumerate(table)
    )
    path.write_bytes(data[:start] + broken + data[end:])
    return path


def garbage_pdf(path: Path) -> Path:
    """A PDF header on noise: nothing to rebuild from."""
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n")
    return path


def many_pages_pdf(path: Path, pages: int = 10_000) -> Path:
    """Blank pages, more than any reader should walk."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=10, height=10)
    with path.open("wb") as out:
        writer.write(out)
    return path


# -- Word files with python-docx --

DOC_TITLE = "Council Approves New Cycle Lanes"
DOC_PARAGRAPHS = [
    "The city council voted on Tuesday to build twelve kilometres of protected cycle lanes "
    "over the next three years, after a debate that lasted most of the evening.",
    "Supporters said the lanes would make the school run safer; shop owners on the high "
    "street worried about losing parking spaces in front of their doors.",
]
DOC_BULLETS = [
    "Phase one: the ring road, from the station to the hospital.",
    "Phase two: the high street and the market square.",
    "Phase three: links to the three secondary schools.",
]
DOC_TABLE = [
    ["Phase", "Length", "Cost"],
    ["One", "5 km", "2.1 million"],
    ["Two", "4 km", "1.8 million"],
]
DOC_CLOSING = (
    "Work on the first phase is due to start in the spring, once the contracts have been "
    "signed and the utility companies have moved their cables."
)


def article_docx(
    path: Path,
    *,
    title: str | None = DOC_TITLE,
    core_title: str | None = DOC_TITLE,
    created: datetime | None = datetime(2023, 5, 9, 8, 30),
    date_line: str | None = None,
) -> Path:
    """A Word article: a title heading, paragraphs, a subheading, a bullet list, a table and
    a closing paragraph; the core properties' title and created date when given."""
    import docx

    document = docx.Document()
    if title:
        document.add_heading(title, level=1)
    if date_line:
        document.add_paragraph(date_line)
    for text in DOC_PARAGRAPHS:
        document.add_paragraph(text)
    document.add_heading("The three phases", level=2)
    for text in DOC_BULLETS:
        document.add_paragraph(text, style="List Bullet")
    table = document.add_table(rows=len(DOC_TABLE), cols=len(DOC_TABLE[0]))
    for row, values in zip(table.rows, DOC_TABLE, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph(DOC_CLOSING)
    document.sections[0].header.paragraphs[0].text = "City Gazette \u2014 internal copy"
    document.sections[0].footer.paragraphs[0].text = "Page 1"
    properties = document.core_properties
    properties.title = core_title or ""
    if created is not None:
        properties.created = created
    document.save(str(path))
    return path


def _rewrite_zip(source: Path, path: Path, changes: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as out:
        for item in original.infolist():
            data = changes.pop(item.filename, None)
            out.writestr(item, original.read(item) if data is None else data)
        for name, data in changes.items():
            out.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return path


def zip_bomb_docx(path: Path, *, inflated: int = 20_000_000) -> Path:
    """A real Word file with a member of ``inflated`` zero bytes: a few kB on disk."""
    source = article_docx(path.with_name(path.stem + "-plain.docx"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(buffer, "w") as out:
        for item in original.infolist():
            out.writestr(item, original.read(item))
        member_info = zipfile.ZipInfo("word/media/image1.bin")
        member_info.compress_type = zipfile.ZIP_DEFLATED
        with out.open(member_info, "w", force_zip64=True) as member:
            chunk = bytes(1 << 20)
            for _ in range(inflated >> 20):
                member.write(chunk)
    path.write_bytes(buffer.getvalue())
    return path


def many_members_docx(path: Path, members: int = 10_001) -> Path:
    """A Word file padded with thousands of empty members."""
    source = article_docx(path.with_name(path.stem + "-plain.docx"))
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(path, "w") as out:
        for item in original.infolist():
            out.writestr(item, original.read(item))
        for i in range(members):
            out.writestr(f"customXml/pad{i}.txt", b"")
    return path


BILLION_LAUGHS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b"<!DOCTYPE w:document [\n"
    b'  <!ENTITY lol "lol">\n'
    + b"".join(
        b'  <!ENTITY lol%d "%s">\n' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>\n"
)


def entity_docx(path: Path) -> Path:
    """A Word file whose document.xml declares nested entities (a "billion laughs") and uses
    the last one in a paragraph."""
    source = article_docx(path.with_name(path.stem + "-plain.docx"))
    with zipfile.ZipFile(source) as original:
        xml = original.read("word/document.xml")
    body = xml.split(b"?>", 1)[1]
    body = body.replace(b"Council Approves", b"Council &lol9; Approves", 1)
    return _rewrite_zip(source, path, {"word/document.xml": BILLION_LAUGHS + body})


TRACKED_PARAGRAPH = (
    '<w:r><w:t xml:space="preserve">Kept words, </w:t></w:r>'
    '<w:ins w:id="1" w:author="Ed" w:date="2023-05-09T08:00:00Z">'
    '<w:r><w:t xml:space="preserve">inserted words, </w:t></w:r></w:ins>'
    '<w:del w:id="2" w:author="Ed" w:date="2023-05-09T08:00:00Z">'
    '<w:r><w:delText xml:space="preserve">deleted words, </w:delText></w:r></w:del>'
    '<w:hyperlink w:anchor="top"><w:r><w:t>a linked phrase</w:t></w:r></w:hyperlink>'
    '<w:r><w:t xml:space="preserve"> and a </w:t></w:r>'
    '<w:sdt><w:sdtPr><w:alias w:val="Control"/></w:sdtPr><w:sdtContent>'
    "<w:r><w:t>filled-in value</w:t></w:r></w:sdtContent></w:sdt>"
    '<w:r><w:t xml:space="preserve">.</w:t></w:r>'
)
TRACKED_BLOCK = (
    "<w:sdt><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>A paragraph inside a content control."
    "</w:t></w:r></w:p></w:sdtContent></w:sdt>"
)


def tracked_changes_docx(path: Path) -> Path:
    """A Word file with a tracked insertion and deletion, a hyperlink and content controls (a
    run-level one, and one around a whole paragraph), which a reader of plain runs misses."""
    import docx

    document = docx.Document()
    document.add_paragraph("PLACEHOLDER")
    document.add_paragraph("The last paragraph.")
    document.core_properties.title = "Tracked"
    source = path.with_name(path.stem + "-plain.docx")
    document.save(str(source))
    with zipfile.ZipFile(source) as original:
        xml = original.read("word/document.xml").decode("utf-8")
    placeholder = "<w:r><w:t>PLACEHOLDER</w:t></w:r></w:p>"
    assert placeholder in xml
    xml = xml.replace(placeholder, TRACKED_PARAGRAPH + "</w:p>" + TRACKED_BLOCK, 1)
    return _rewrite_zip(source, path, {"word/document.xml": xml.encode("utf-8")})


def merged_cells_docx(path: Path) -> Path:
    """A table whose first row is one cell merged across three columns."""
    import docx

    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 2))
    merged.text = "Results by phase"
    for cell, value in zip(table.rows[1].cells, ["One", "5 km", "2.1 million"], strict=True):
        cell.text = value
    document.save(str(path))
    return path


def broken_xml_docx(path: Path) -> Path:
    """A Word file whose document.xml is cut off in the middle."""
    source = article_docx(path.with_name(path.stem + "-plain.docx"))
    with zipfile.ZipFile(source) as original:
        xml = original.read("word/document.xml")
    return _rewrite_zip(source, path, {"word/document.xml": xml[: len(xml) // 2]})


def not_word_zip(path: Path) -> Path:
    """A zip that is not a Word file (no word/document.xml)."""
    with zipfile.ZipFile(path, "w") as out:
        out.writestr("readme.txt", "hello")
    return path
