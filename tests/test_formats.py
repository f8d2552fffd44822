"""A newsroom's folder as it is: every kind of file ingested through the whole pipeline, with
titles, dates and links, one document per article, the rest named with why."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from retrieval.excerpts import excerpt
from tests.helpers import RECORDS, MakeDesk
from tests.readers import make_files


def test_every_kind_is_read_with_its_title_date_and_link(
    make_desk: MakeDesk, newsroom: Path
) -> None:
    desk, _ = make_desk()
    report = desk.ingest(newsroom)
    reasons = {s.path: s.reason for s in report.skipped}
    assert set(reasons) == {"exports/week.jsonl#2", "photo.png", "scan.pdf"}
    assert reasons["photo.png"] == "not a kind of file quotedesk reads (.png)"
    assert "no text layer" in reasons["scan.pdf"]
    assert report.added == 6
    sources = {s.source.path: s.source for s in desk.sources()}
    assert {path: (s.title, s.date, s.url) for path, s in sources.items()} == {
        "web/strike.html": (
            "Harbour strike ends",
            date(2022, 7, 6),
            "https://courier.example/2022/07/06/harbour-strike-ends",
        ),
        "exports/week.jsonl#1": (
            "Bridge reopens after repairs",
            date(2022, 7, 8),
            "https://courier.example/bridge",
        ),
        "exports/week.jsonl#3": (
            "Library extends its hours",
            date(2022, 7, 9),
            "https://courier.example/library",
        ),
        "notes/ferry.md": (
            "Ferry timetable changes",
            date(2022, 7, 5),
            "https://courier.example/ferry",
        ),
        # A PDF and a Word file carry no link.
        "release.pdf": (make_files.RELEASE_TITLE, date(2023, 3, 14), None),
        "transcript.docx": (make_files.DOC_TITLE, date(2023, 5, 9), None),
    }


def test_quotes_are_verbatim_from_the_stored_text_and_carry_links(
    make_desk: MakeDesk, newsroom: Path
) -> None:
    desk, _ = make_desk()
    desk.ingest(newsroom)
    answer = desk.ask("dock workers strike pay rise", k=5)
    first = answer.quotes[0]
    assert first.source.path == "web/strike.html"
    assert first.to_dict()["url"] == "https://courier.example/2022/07/06/harbour-strike-ends"
    for quote in answer.quotes:
        stored = desk.stored_text(quote.source.path)
        assert stored.text is not None
        assert stored.text[quote.start : quote.end] == quote.text
    # Furniture and front matter are never quoted.
    texts = " ".join(q.text for q in desk.ask("Home World rights reserved", k=10).quotes)
    assert "All rights reserved" not in texts and "Home World" not in texts
    ferry = desk.stored_text("notes/ferry.md").text or ""
    assert "title:" not in ferry and "**" not in ferry and "forty minutes" in ferry
    assert "https://x.example" not in ferry


def test_an_unchanged_folder_is_not_read_again_and_one_changed_record_alone_is_encoded(
    make_desk: MakeDesk, newsroom: Path
) -> None:
    desk, encoder = make_desk()
    desk.ingest(newsroom)
    again = desk.ingest(newsroom)
    assert (again.added, again.changed, again.unchanged, again.encoded) == (0, 0, 6, 0)
    records = [dict(RECORDS[0], text="The bridge stays closed until August."), *RECORDS[1:]]
    (newsroom / "exports" / "week.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    changed = desk.ingest(newsroom)
    assert (changed.added, changed.changed, changed.unchanged) == (0, 1, 5)
    assert [s.path for s in changed.skipped if "#" in s.path] == ["exports/week.jsonl#2"]
    text = desk.stored_text("exports/week.jsonl#1").text
    assert text == "The bridge stays closed until August."


def test_show_prints_the_part_around_a_quote(make_desk: MakeDesk, newsroom: Path) -> None:
    desk, _ = make_desk()
    desk.ingest(newsroom)
    quote = desk.ask("backlog of ships in the bay", k=1).quotes[0]
    stored = desk.stored_text(quote.source.path)
    part = excerpt(stored, around=quote.start, context=10)
    assert part.passage == (quote.start, quote.end)
    assert stored.text is not None
    assert part.text == stored.text[part.start : part.end]
    assert quote.text in part.text


def test_a_document_stored_before_texts_were_kept_gets_its_text_on_the_next_ingest(
    make_desk: MakeDesk, corpus: Path
) -> None:
    desk, encoder = make_desk()
    desk.ingest(corpus)
    # As revision 0005 leaves a document stored before it: no text, no link.
    ids = {t.document_id: ("", None) for t in desk.store.stored_files("corpus").values()}
    with desk.store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE documents SET text = NULL")
    assert desk.stored_text("000_11112fc514e6e23b.txt").text is None
    before = encoder.encoded
    report = desk.ingest(corpus)
    assert report.unchanged == len(ids) and encoder.encoded == before
    stored = desk.stored_text("000_11112fc514e6e23b.txt")
    assert stored.text == (corpus / "000_11112fc514e6e23b.txt").read_text()


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>
<rss version="2.0"><channel><title>&d;</title><item><title>&d;</title>
<description>&d;</description></item></channel></rss>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>x</title><item><title>&secret;</title>
<description>&secret;</description></item></channel></rss>"""


def test_hostile_files_are_each_skipped_and_named_and_lose_nothing_else(
    make_desk: MakeDesk, newsroom: Path
) -> None:
    hostile = newsroom / "hostile"
    hostile.mkdir()
    (hostile / "broken.html").write_bytes(b"<html><body><div><p>\x00\xff<<<</div></span>" * 50)
    (hostile / "laughs.xml").write_bytes(BILLION_LAUGHS)
    (hostile / "external.rss").write_bytes(EXTERNAL_ENTITY)
    # Made aside (the builders leave the files they start from beside what they make).
    made = newsroom.parent / "made"
    made.mkdir()
    for build, name in (
        (make_files.zip_bomb_docx, "bomb.docx"),
        (make_files.entity_docx, "entities.docx"),
        (make_files.garbage_pdf, "garbage.pdf"),
        (make_files.many_pages_pdf, "long.pdf"),
        (make_files.broken_xref_pdf, "xref.pdf"),
    ):
        build(made / name).rename(hostile / name)
    (hostile / "lines.jsonl").write_text(
        '{"title": "Ok", "text": "The night bus returns to the old town route from Monday."}\n'
        "{broken\n"
        '{"title": "No text here"}\n'
    )
    # xref.pdf: a damaged cross-reference table that can be rebuilt; read, not skipped.
    desk, _ = make_desk()
    report = desk.ingest(newsroom)
    reasons = {s.path: s.reason for s in report.skipped}
    for name, words in {
        "hostile/laughs.xml": "entit",
        "hostile/external.rss": "entit",
        "hostile/bomb.docx": "zip bomb",
        "hostile/entities.docx": "entit",
        "hostile/garbage.pdf": "damaged",
        "hostile/long.pdf": "pages",
        "hostile/lines.jsonl#2": "JSON",
        "hostile/lines.jsonl#3": "text",
    }.items():
        assert words.lower() in reasons.get(name, "").lower(), (name, reasons.get(name))
    paths = {s.source.path for s in desk.sources()}
    assert {"hostile/lines.jsonl#1", "hostile/xref.pdf", "web/strike.html"} <= paths
    # Every good file of the folder is in, as without the hostile ones; the broken page is
    # read for what text it has or named.
    assert ("hostile/broken.html" in paths) != ("hostile/broken.html" in reasons)
    assert report.added == 6 + 2 + ("hostile/broken.html" in paths)
