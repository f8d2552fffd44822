"""Reading corpus files: the date header, paragraphs with offsets, and what to skip."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from retrieval.errors import CorpusNotFoundError
from retrieval.readers.base import UnreadableFileError

# The largest file read. A document is held whole in memory (its bytes, its text, then its
# passages), and 10 MB of text is some 1.7 million words, tens of thousands of passages and
# minutes of encoding: an article, a report or a book is far smaller, so a bigger file is a
# log, a dump or a mistake. Skipped unread and named, rather than read in bounded pieces
# whose passages nobody would want quoted.
MAX_FILE_BYTES = 10_000_000
SYMLINK = "a symbolic link: not followed"

# Never follow a symlink (see scan_corpus); never wait on a FIFO opened by mistake.
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NOFOLLOW", 0)
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFLNK: SYMLINK,
}

# ` date YYYY-MM-DD` at the very start of the file; the rest of the line is text.
_DATE_HEADER = re.compile(r"\A\ufeff? ?date (\d{4}-\d{2}-\d{2})(?:[ \t]+|(?=\n)|\Z)")
_PARAGRAPH = re.compile(r"\S(?:.*?\S)?(?=\s*\n[ \t]*\n|\s*\Z)", re.DOTALL)


@dataclass(frozen=True)
class Document:
    """One corpus file, decoded.

    Attributes:
        path: Path relative to the ingested folder, with forward slashes.
        text: The whole decoded file; passage offsets point into it.
        content_hash: SHA-256 of the file's bytes.
        date: Publication date from the header, or ``None`` when the file has none.
        body_start: Offset where the text starts, after the date header.
    """

    path: str
    text: str
    content_hash: str
    date: date | None
    body_start: int

    def paragraphs(self) -> list[tuple[int, int]]:
        """Spans of the blank-line separated paragraphs, whitespace trimmed."""
        return paragraph_spans(self.text, self.body_start)


def paragraph_spans(text: str, start: int = 0) -> list[tuple[int, int]]:
    """Spans of the blank-line separated paragraphs of ``text`` from ``start``, trimmed."""
    return [(m.start(), m.end()) for m in _PARAGRAPH.finditer(text, start)]


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_document(path: str, data: bytes) -> Document:
    """Decode one file's bytes into a :class:`Document`.

    Raises:
        UnreadableFileError: The file is empty, binary or not valid UTF-8.
    """
    if b"\x00" in data[:8192]:
        raise UnreadableFileError("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"not valid UTF-8 (byte {exc.start})") from exc
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    published, body_start = parse_date_header(text)
    if not text[body_start:].strip():
        raise UnreadableFileError("empty file")
    return Document(
        path=path,
        text=text,
        content_hash=content_hash(data),
        date=published,
        body_start=body_start,
    )


def parse_date_header(text: str) -> tuple[date | None, int]:
    """Return the header's date (``None`` when absent or invalid) and where the text starts.

    Example:
        >>> parse_date_header(" date 2023-11-28 US Secretary")
        (datetime.date(2023, 11, 28), 17)
    """
    match = _DATE_HEADER.match(text)
    if not match:
        return None, 0
    try:
        return date.fromisoformat(match.group(1)), match.end()
    except ValueError:
        # A header with an impossible date: never guess, keep the file undated.
        return None, match.end()


def scan_corpus(root: Path) -> Iterator[tuple[Path, str | None]]:
    """What to ingest under ``root``: each file, recursively, in sorted order, with ``None``;
    or with why it can't be read, for anything that should be named rather than silently
    passed over. Whether a file is of a kind quotedesk reads is the readers' to say
    (:mod:`retrieval.readers`): a file of another kind is named too, never passed over.

    Hidden files and folders are ignored. Symbolic links below ``root`` are never followed,
    neither to files nor to folders, and are named: a link can lead out of the corpus (to
    ``/proc/self/environ`` or a key file, which would then be quoted to anyone who asks) or
    back into it (a loop). ``root`` itself is taken as given, link or not: it was named on
    purpose. A folder that cannot be listed is named too.

    Raises:
        CorpusNotFoundError: ``root`` is a folder that cannot be listed.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     root = Path(folder)
        ...     for name in ("b.txt", ".hidden", "a.txt"):
        ...         (root / name).touch()
        ...     (root / "c.txt").symlink_to(root / "a.txt")
        ...     [(p.name, why) for p, why in scan_corpus(root)]
        [('a.txt', None), ('b.txt', None), ('c.txt', 'a symbolic link: not followed')]
    """
    if not root.is_dir():
        yield root, None  # one file, or not a file at all: reading it says which
        return
    entries, why = _listing(root)
    if why:
        raise CorpusNotFoundError(f"cannot read the folder {root}: {why}")
    # Depth-first, each folder's entries by name (the order of sorted(rglob())), with a stack
    # of listings rather than recursion: no depth limit to hit.
    stack = [iter(entries)]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        if entry.name.startswith("."):
            continue
        path = Path(entry.path)
        if entry.is_symlink():
            yield path, SYMLINK
        elif entry.is_dir(follow_symlinks=False):
            entries, why = _listing(path)
            if why:
                yield path, why
            stack.append(iter(entries))
        else:
            yield path, None  # a FIFO or a device too: reading it names it


def _listing(folder: Path) -> tuple[list[os.DirEntry[str]], str | None]:
    try:
        with os.scandir(folder) as listing:
            return sorted(listing, key=lambda e: e.name), None
    except OSError as exc:
        return [], f"a folder that cannot be read ({exc.strerror or exc})"


def iter_corpus_files(root: Path) -> Iterator[Path]:
    """The readable-looking files :func:`scan_corpus` finds under ``root``."""
    for path, why in scan_corpus(root):
        if why is None:
            yield path


def read_corpus_file(path: Path, *, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, read in bounded memory.

    Raises:
        UnreadableFileError: ``path`` is a symbolic link, not a regular file (a FIFO, a
            device, a folder) or larger than ``max_bytes``.
        OSError: It cannot be opened or read (gone, no permission); ``strerror`` says why.
    """
    # lstat first, so a device is never even opened (opening some has effects); then the
    # open itself refuses a link and never blocks, and fstat checks what was opened.
    _check_kind(path.lstat().st_mode)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # swapped for a link since lstat
            raise UnreadableFileError(SYMLINK) from exc
        raise
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(stream.fileno())
        _check_kind(info.st_mode)
        if info.st_size > max_bytes:
            raise UnreadableFileError(_too_large(info.st_size, max_bytes))
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:  # it grew while being read
        raise UnreadableFileError(_too_large(len(data), max_bytes))
    return data


def peek_corpus_file(path: Path, size: int = 1024) -> bytes:
    """The first ``size`` bytes of the regular file at ``path`` (to tell its kind), with the
    checks of :func:`read_corpus_file`.
    """
    _check_kind(path.lstat().st_mode)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UnreadableFileError(SYMLINK) from exc
        raise
    with os.fdopen(fd, "rb") as stream:
        _check_kind(os.fstat(stream.fileno()).st_mode)
        return stream.read(size)


def _check_kind(mode: int) -> None:
    if not stat.S_ISREG(mode):
        kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
        raise UnreadableFileError(kind if kind == SYMLINK else f"{kind}, not a regular file")


def _too_large(size: int, limit: int) -> str:
    return f"larger than {limit / 1e6:g} MB ({size / 1e6:.1f} MB): not read"
