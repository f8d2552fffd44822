"""Incremental, idempotent ingestion of a folder into the store.

Every file under the folder is read by the reader of its kind (:mod:`retrieval.readers`: plain
text, Markdown, web pages, PDFs, Word files, JSON exports, feeds); a file of a kind quotedesk
does not read is named, never passed over. A file holding several articles (an export, a
feed) gives a document per article, named ``file#N`` after its record. Unchanged files (same
content hash, same passage recipe) are not read twice nor encoded; changed files replace their
passages; files that cannot be read (damaged, encrypted, binary, larger than a reader's limit,
a symbolic link, a FIFO or device, unreadable, gone) are skipped and named, and whatever was
stored for them stays.

Crash-safe and whole: the run is a :class:`~retrieval.batch.Batch`, staged a group at a time
and made live at once (see :mod:`retrieval.batch`).

A folder's documents go into a *collection*, and a document is named by its collection and its
path relative to the folder: two folders holding ``report.txt`` keep one each. Without a name
given, the collection is the one the folder was ingested into before, else the folder's name
(see :func:`choose_collection`).
"""

from __future__ import annotations

import time
from pathlib import Path

from retrieval.batch import (
    GROUP_PASSAGES,
    MULTI_ARTICLE_KINDS,
    PASSAGE_RECIPE,
    RECIPE_KEY,
    Batch,
    IngestReport,
    Progress,
    SkippedFile,
)
from retrieval.documents import peek_corpus_file, read_corpus_file, scan_corpus
from retrieval.embedder import Encoder
from retrieval.errors import CollectionError, CorpusNotFoundError
from retrieval.readers import KINDS, UnreadableFileError, kind_of, max_bytes
from retrieval.records import CollectionInfo
from retrieval.store import Store

__all__ = [
    "GROUP_PASSAGES",
    "MULTI_ARTICLE_KINDS",
    "PASSAGE_RECIPE",
    "RECIPE_KEY",
    "Batch",
    "IngestReport",
    "Progress",
    "SkippedFile",
    "choose_collection",
    "collection_name",
    "ingest",
]

# Long enough for any folder's name; a collection is a name, not a path.
MAX_COLLECTION = 255


def ingest(
    folder: str | Path,
    *,
    store: Store,
    encoder: Encoder,
    prune: bool = False,
    progress: Progress | None = None,
    collection: str | None = None,
) -> IngestReport:
    """Bring the store's collection of ``folder`` in line with the text files under it.

    Args:
        folder: A folder (searched recursively for .txt and .md) or a single file (its
            folder's collection, its name as path).
        store: Where documents, passages and embeddings are kept.
        encoder: Encodes new passages.
        prune: Remove stored documents of this collection whose files are gone.
        progress: Callbacks for a progress display.
        collection: The collection's name; by default, see :func:`choose_collection`.

    Raises:
        CorpusNotFoundError: ``folder`` does not exist.
        CollectionError: ``collection`` is not a usable name, or (without one) the folder's
            name is the collection of another folder.

    In use: ``ingest("seeds", store=store, encoder=encoder).summary()`` starts ``"seeds: 5
    added, 0 changed, 0 unchanged, 0 skipped, 0 removed; "`` into an empty store. It needs an
    encoder (the model), so there is no example to run here: ``tests/test_ingest.py`` ingests
    with a fake one.
    """
    started = time.perf_counter()
    progress = progress or Progress()
    root = Path(folder).expanduser()
    if not root.exists():
        raise CorpusNotFoundError(f"no such folder: {root}")
    root = root.resolve()
    base = root if root.is_dir() else root.parent
    name = choose_collection(base, store.collections(), collection)
    batch = Batch(store=store, encoder=encoder, collection=name, root=str(base), progress=progress)
    for file, problem in scan_corpus(root):
        rel = file.relative_to(base).as_posix()
        if progress.on_read:
            progress.on_read(rel)
        try:
            if problem:
                raise UnreadableFileError(problem)
            batch.add_file(rel, *_read_file(file, rel))
        except (OSError, UnreadableFileError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            batch.skip_file(rel, reason)
    return batch.finish(prune=prune, started=started)


def _read_file(file: Path, rel: str) -> tuple[bytes, str | None]:
    """A file's bytes and kind. A file whose suffix names no kind is first peeked at: it is
    read whole only if its first bytes show a kind quotedesk reads."""
    kind = KINDS.get(file.suffix.lower())
    if kind is None:
        kind = kind_of(rel, peek_corpus_file(file))
        if kind is None:
            return b"", None
    data = read_corpus_file(file, max_bytes=max_bytes(kind))
    return data, kind_of(rel, data[:1024])


def choose_collection(
    base: Path, collections: list[CollectionInfo], given: str | None = None
) -> str:
    """The collection an ingest of the folder ``base`` goes into.

    ``given`` when given (a folder may be moved into, or shared with, any collection). Else
    the collection this folder was ingested into before, found by its path, so its next
    ingest encodes nothing; else the folder's name, which reads well in listings and stays
    the same from one machine or checkout to the next. A folder's name that is already the
    collection of *another* folder is refused rather than taken: the two would overwrite
    each other's files of the same name.

    Raises:
        CollectionError: ``given`` is empty or too long; or a new folder's name is another
            folder's collection; or the folder went into several collections before.

    Example:
        >>> choose_collection(Path("/srv/seeds"), [])
        'seeds'
    """
    if given is not None:
        return collection_name(given)
    folder = str(base)
    before = [c.name for c in collections if folder in c.roots]
    name = base.name or folder
    if len(before) == 1:
        return before[0]
    if before:
        if name in before:
            return name
        raise CollectionError(
            f"{folder} was ingested into the collections {', '.join(before)}: "
            "choose one with --collection NAME"
        )
    clash = next((c for c in collections if c.name == name), None)
    if clash is not None:
        raise CollectionError(
            f'the collection "{name}" holds documents ingested from {", ".join(clash.roots)}, '
            f"not {folder}: --collection {name} updates it from this folder, "
            "--collection OTHER_NAME keeps both"
        )
    return name


def collection_name(given: str) -> str:
    """``given`` as a collection's name, trimmed.

    Raises:
        CollectionError: It is empty, too long or holds characters that cannot be printed.
    """
    chosen = given.strip()
    if not chosen or len(chosen) > MAX_COLLECTION or not chosen.isprintable():
        raise CollectionError(
            f"a collection is named by 1 to {MAX_COLLECTION} printable characters, not {given!r}"
        )
    return chosen
