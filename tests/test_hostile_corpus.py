"""Corpus folders with files that are not documents: each is skipped and named, the run never
hangs, and the rest is ingested. (Binary files, invalid UTF-8 and a permission error are in
``test_ingest``.)"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from retrieval import IngestReport, QuoteDesk
from retrieval import ingest as ingest_module
from retrieval.documents import (
    MAX_FILE_BYTES,
    SYMLINK,
    UnreadableFileError,
    read_corpus_file,
    scan_corpus,
)
from retrieval.errors import CorpusNotFoundError

SEED_FILES = 5
# No ingest of a handful of small files takes this long; one that hangs fails instead.
LIMIT = 60.0

MakeDesk = Callable[..., tuple[QuoteDesk, object]]


def ingest_within(desk: QuoteDesk, folder: Path, timeout: float = LIMIT) -> IngestReport:
    """``desk.ingest(folder)``, failing the test rather than hanging on a FIFO or a loop."""
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["report"] = desk.ingest(folder)
        except BaseException as exc:  # handed to the test below
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        pytest.fail(f"ingest still running after {timeout} s")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    report = outcome["report"]
    assert isinstance(report, IngestReport)
    return report


def skipped(report: IngestReport) -> dict[str, str]:
    return {s.path: s.reason for s in report.skipped}


def test_a_50_mb_file_is_skipped_unread_and_named(make_desk: MakeDesk, corpus: Path) -> None:
    big = corpus / "server.log.txt"
    with big.open("wb") as f:  # sparse: 50 MB long, nothing written
        f.truncate(50_000_000)
    desk, _ = make_desk()
    report = ingest_within(desk, corpus)
    assert skipped(report) == {"server.log.txt": "larger than 10 MB (50.0 MB): not read"}
    assert report.added == SEED_FILES


def test_reading_is_bounded_even_when_the_size_lies(tmp_path: Path) -> None:
    # A file that grows after it was measured (here: a limit below its size, as fstat saw it
    # at open) is never read past the limit.
    path = tmp_path / "a.txt"
    path.write_bytes(b"x" * 1000)
    with pytest.raises(UnreadableFileError, match="larger than"):
        read_corpus_file(path, max_bytes=999)
    assert read_corpus_file(path, max_bytes=1000) == b"x" * 1000
    assert MAX_FILE_BYTES == 10_000_000


def test_symlinks_are_named_and_never_followed(make_desk: MakeDesk, corpus: Path) -> None:
    outside = corpus.parent / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("The launch code is 0000, said nobody ever.\n")
    (corpus / "loop").symlink_to(corpus, target_is_directory=True)  # a folder loop
    (corpus / "a.txt").symlink_to(corpus / "b.txt")  # a file loop
    (corpus / "b.txt").symlink_to(corpus / "a.txt")
    (corpus / "environ.txt").symlink_to("/proc/self/environ")  # would leak the tokens
    (corpus / "secret.txt").symlink_to(outside / "secret.txt")
    (corpus / "elsewhere").symlink_to(outside, target_is_directory=True)
    (corpus / "gone.md").symlink_to(corpus / "nothing-here.md")
    (corpus / "picture.png").symlink_to(outside / "secret.txt")  # any kind: named too
    desk, _ = make_desk()
    report = ingest_within(desk, corpus)
    assert skipped(report) == {
        name: SYMLINK
        for name in (
            "a.txt",
            "b.txt",
            "elsewhere",
            "environ.txt",
            "gone.md",
            "loop",
            "picture.png",
            "secret.txt",
        )
    }
    assert report.added == SEED_FILES
    assert all("launch code" not in q.text for q in desk.ask("launch code", k=10).quotes)


def test_a_symlinked_root_is_followed(make_desk: MakeDesk, corpus: Path, tmp_path: Path) -> None:
    # Named on the command line, on purpose: the one link that is followed.
    link = tmp_path / "corpus-link"
    link.symlink_to(corpus, target_is_directory=True)
    desk, _ = make_desk()
    assert ingest_within(desk, link).added == SEED_FILES


def test_a_fifo_is_named_and_never_waited_on(make_desk: MakeDesk, corpus: Path) -> None:
    os.mkfifo(corpus / "pipe.txt")
    desk, _ = make_desk()
    report = ingest_within(desk, corpus)
    assert skipped(report) == {"pipe.txt": "a FIFO, not a regular file"}
    assert report.added == SEED_FILES


def test_a_fifo_named_alone_is_named(make_desk: MakeDesk, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.txt")
    desk, _ = make_desk()
    report = ingest_within(desk, tmp_path / "pipe.txt")
    assert skipped(report) == {"pipe.txt": "a FIFO, not a regular file"}


def test_a_device_is_named_and_never_opened(make_desk: MakeDesk, corpus: Path) -> None:
    try:
        os.mknod(corpus / "null.txt", stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except (PermissionError, AttributeError):
        pytest.skip("cannot make a device node here (needs root outside a restricted sandbox)")
    desk, _ = make_desk()
    report = ingest_within(desk, corpus)
    assert skipped(report) == {"null.txt": "a character device, not a regular file"}
    assert report.added == SEED_FILES


def test_a_file_that_disappears_mid_ingest_is_named(
    make_desk: MakeDesk, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doomed = corpus / "002_7344d3f17e8d7f1e.txt"
    real = ingest_module.scan_corpus

    def scan_then_delete(root: Path) -> Iterator[tuple[Path, str | None]]:
        for path, why in real(root):
            if path == doomed:
                path.unlink()  # listed, then gone before it is read
            yield path, why

    monkeypatch.setattr(ingest_module, "scan_corpus", scan_then_delete)
    desk, _ = make_desk()
    report = ingest_within(desk, corpus)
    assert skipped(report) == {"002_7344d3f17e8d7f1e.txt": "No such file or directory"}
    assert report.added == SEED_FILES - 1


def test_a_folder_that_cannot_be_listed_is_named(
    make_desk: MakeDesk, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (corpus / "locked").mkdir()
    (corpus / "locked" / "inside.txt").write_text("Never read.\n")
    real = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        # Root ignores permission bits (CI), so the listing itself fails here.
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    desk, _ = make_desk()
    report = ingest_within(desk, corpus)
    assert skipped(report) == {"locked": "a folder that cannot be read (Permission denied)"}
    assert report.added == SEED_FILES


def test_a_root_folder_that_cannot_be_listed_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def scandir(path):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(CorpusNotFoundError, match="cannot read the folder .*Permission denied"):
        list(scan_corpus(tmp_path))


def test_everything_at_once_and_the_order_is_sorted(make_desk: MakeDesk, corpus: Path) -> None:
    (corpus / "sub" / "deeper").mkdir(parents=True)
    (corpus / "sub" / "deeper" / "note.md").write_text("A note about the zebra crossing.\n")
    (corpus / "sub" / "zz.txt").write_bytes(b"\xff\xfe not utf-8")
    (corpus / "sub" / "loop").symlink_to(corpus / "sub", target_is_directory=True)
    os.mkfifo(corpus / "sub" / "pipe.md")
    (corpus / "sub-file.txt").write_text("Beside the folder, sorted after its contents.\n")
    names = [p.relative_to(corpus).as_posix() for p, _ in scan_corpus(corpus)]
    assert names == sorted(names, key=lambda n: Path(n).parts)
    desk, _ = make_desk()
    report = ingest_within(desk, corpus)
    assert skipped(report) == {
        "sub/loop": SYMLINK,
        "sub/pipe.md": "a FIFO, not a regular file",
        "sub/zz.txt": "not valid UTF-8 (byte 0)",
    }
    assert report.added == SEED_FILES + 2
