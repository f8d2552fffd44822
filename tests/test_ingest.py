from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from retrieval import documents
from retrieval.errors import CorpusNotFoundError


def test_second_ingest_of_unchanged_folder_encodes_nothing(make_desk, corpus):
    desk, counting = make_desk()
    first = desk.ingest(corpus)
    assert (first.added, first.changed, first.unchanged) == (5, 0, 0)
    titled = sum(1 for info in desk.sources() if info.source.title)
    # Each passage once, and each document's title once.
    assert counting.encoded == first.encoded + titled
    assert first.encoded == first.passages > 0
    version = desk.store.corpus_version()

    again = desk.ingest(corpus)
    assert (again.added, again.changed, again.unchanged, again.encoded) == (0, 0, 5, 0)
    assert counting.encoded == first.encoded + titled
    assert desk.store.corpus_version() == version
    assert "5 unchanged" in again.summary()


def test_changed_file_replaces_its_passages(make_desk, corpus):
    desk, counting = make_desk()
    desk.ingest(corpus)
    path = corpus / "004_6db652f8069ebf00.txt"
    path.write_text(" date 2024-05-01 The zebra crossing on Main Street was repainted in purple.\n")
    report = desk.ingest(corpus)
    assert (report.changed, report.unchanged) == (1, 4)
    assert report.encoded == 1
    answer = desk.ask("what colour was the zebra crossing painted?")
    assert answer.quotes[0].source.path == "004_6db652f8069ebf00.txt"
    assert answer.quotes[0].source.date.isoformat() == "2024-05-01"
    assert not any("Zakharova" in q.text and q.source.path.startswith("004") for q in answer.quotes)


def test_removed_file_is_pruned_only_when_asked(make_desk, corpus):
    desk, _ = make_desk()
    desk.ingest(corpus)
    (corpus / "003_f5d439a893dfd6cf.txt").unlink()
    kept = desk.ingest(corpus)
    assert kept.removed == 0 and desk.store.document_count() == 5
    pruned = desk.ingest(corpus, prune=True)
    assert pruned.removed == 1
    assert [s.source.path for s in desk.sources()] == [
        "000_11112fc514e6e23b.txt",
        "001_cf87b5f311defa2c.txt",
        "002_7344d3f17e8d7f1e.txt",
        "004_6db652f8069ebf00.txt",
    ]
    answer = desk.ask("KAMAZ truck production centre")
    assert all(not q.source.path.startswith("003") for q in answer.quotes)


def test_bad_files_are_skipped_named_and_lose_nothing(make_desk, corpus):
    desk, _ = make_desk()
    desk.ingest(corpus)
    good = desk.store.passage_count()
    (corpus / "002_7344d3f17e8d7f1e.txt").write_bytes(b"\xff\xfe not utf-8 \x80")
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "sub").mkdir()
    (corpus / "sub" / "image.md").write_bytes(b"\x89PNG\x00\x00")
    (corpus / "notes.pdf").write_bytes(b"%PDF")  # a PDF with nothing after its signature
    (corpus / "table.xlsx").write_bytes(b"PK\x03\x04")  # a kind quotedesk does not read
    skipped_seen = []
    from retrieval import Progress

    report = desk.ingest(corpus, progress=Progress(on_skip=skipped_seen.append))
    assert sorted(s.path for s in report.skipped) == [
        "002_7344d3f17e8d7f1e.txt",
        "empty.txt",
        "notes.pdf",
        "sub/image.md",
        "table.xlsx",
    ]
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons["table.xlsx"] == "not a kind of file quotedesk reads (.xlsx)"
    assert reasons["notes.pdf"].startswith("a damaged PDF")
    assert skipped_seen == report.skipped
    assert "5 skipped" in report.summary()
    # The stored version of the now-unreadable file is kept.
    assert desk.store.passage_count() == good
    assert (
        desk.ask("What did Blinken ask Aliyev on the phone?")
        .quotes[0]
        .source.path.startswith("002")
    )


def test_unreadable_file_is_skipped(make_desk, corpus, monkeypatch):
    # Permission bits do not stop root (CI), so the open itself fails here.
    real = os.open

    def refusing_open(path, flags, *args):  # type: ignore[no-untyped-def]
        if Path(path).name == "000_11112fc514e6e23b.txt":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, flags, *args)

    monkeypatch.setattr(documents.os, "open", refusing_open)
    desk, _ = make_desk()
    report = desk.ingest(corpus)
    assert [(s.path, s.reason) for s in report.skipped] == [
        ("000_11112fc514e6e23b.txt", "Permission denied")
    ]
    assert report.added == 4


def test_index_is_rebuilt_from_the_database_without_encoding(make_desk, corpus):
    desk, counting = make_desk()
    desk.ingest(corpus)
    encoded = counting.encoded
    for cache in desk.settings.data_dir.glob("index-*.faiss"):
        cache.unlink()
    fresh, fresh_counting = make_desk()  # same data dir, new process-like desk
    answer = fresh.ask("why did Baku skip the Washington meeting?")
    assert answer.answered
    # Only the question (and its quotes' sentences, for highlighting) were encoded.
    stored = {p.text for p in fresh.store.passages(range(1, 10_000)).values()}
    assert fresh_counting.texts[0] == "why did Baku skip the Washington meeting?"
    assert not stored & set(fresh_counting.texts)
    assert counting.encoded == encoded
    assert list(desk.settings.data_dir.glob("index-*.faiss"))


def test_corpus_change_in_another_desk_is_seen(make_desk, corpus):
    writer, _ = make_desk()
    reader, _ = make_desk()
    writer.ingest(corpus)
    assert reader.ask("KAMAZ trucks").answered
    (corpus / "new.txt").write_text(
        "The lighthouse keeper counted 412 seagulls on Tuesday morning."
    )
    writer.ingest(corpus)
    # The reader answers from the indexes it has while it builds the new ones beside them.
    seagulls = "how many seagulls did the lighthouse keeper count?"
    assert all(q.source.path != "new.txt" for q in reader.ask(seagulls).quotes)
    assert reader.wait_for_indexes(60)
    assert reader.ask(seagulls).quotes[0].source.path == "new.txt"


def test_missing_folder_is_a_clear_error(make_desk, tmp_path):
    desk, _ = make_desk()
    with pytest.raises(CorpusNotFoundError, match="no such folder"):
        desk.ingest(tmp_path / "nope")


def test_markdown_in_nested_folders_is_ingested_and_hidden_files_are_not(make_desk, tmp_path):
    desk, _ = make_desk()
    folder = tmp_path / "notes"
    (folder / "deep" / "er").mkdir(parents=True)
    (folder / "deep" / "er" / "memo.md").write_text("# Memo\n\nThe budget for 2025 is 3 million.")
    (folder / ".hidden.txt").write_text("secret")
    (folder / ".git").mkdir()
    (folder / ".git" / "notes.txt").write_text("secret too")
    report = desk.ingest(folder)
    assert report.added == 1
    assert [s.source.path for s in desk.sources()] == ["deep/er/memo.md"]


def test_a_single_file_is_ingested_by_its_name(make_desk, corpus):
    desk, _ = make_desk()
    report = desk.ingest(corpus / "002_7344d3f17e8d7f1e.txt")
    assert (report.added, report.skipped) == (1, [])
    assert [s.source.path for s in desk.sources()] == ["002_7344d3f17e8d7f1e.txt"]
    again = desk.ingest(corpus / "002_7344d3f17e8d7f1e.txt")
    assert (again.added, again.unchanged, again.encoded) == (0, 1, 0)


def test_titles_are_encoded_and_go_with_their_document(make_desk, corpus):
    desk, _ = make_desk()
    desk.ingest(corpus)
    titled, vectors = desk.store.titled_document_count()
    assert titled == vectors > 0
    # The document loses its title: its old title vector goes with the old row.
    (corpus / "003_f5d439a893dfd6cf.txt").write_text("One paragraph, no title line at all.\n")
    desk.ingest(corpus)
    assert desk.store.titled_document_count() == (titled - 1, vectors - 1)
