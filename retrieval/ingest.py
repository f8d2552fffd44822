"""Incremental, idempotent ingestion of a folder into the store.

Unchanged files (same content hash, same passage recipe) are not read twice nor encoded;
changed files replace their passages; files that cannot be read (binary, not UTF-8, larger
than ``MAX_FILE_BYTES``, a symbolic link, a FIFO or device, unreadable, gone) are skipped and
named, and whatever was stored for them stays.

Crash-safe and whole: documents are encoded and committed a group at a time but *staged*,
unseen by readers; the ingest makes them all live in one transaction at its end (with its
removals), so a running bot answers from the corpus as it was until then and switches to the
new one whole. An ingest killed half-way leaves the corpus as it was; the next one takes over
the documents it had staged (same file, same recipe: not encoded again) and finishes the job.
One ingest per collection at a time: a second one started beside it takes over, or drops, what
the first has staged.

A folder's documents go into a *collection*, and a document is named by its collection and its
path relative to the folder: two folders holding ``report.txt`` keep one each. Without a name
given, the collection is the one the folder was ingested into before, else the folder's name
(see :func:`choose_collection`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.documents import (
    Document,
    UnreadableFileError,
    content_hash,
    parse_document,
    read_corpus_file,
    scan_corpus,
)
from retrieval.embedder import Encoder
from retrieval.errors import CollectionError, CorpusNotFoundError
from retrieval.passages import PassageSpan, find_title, split_passages
from retrieval.records import CollectionInfo, NewDocument, NewPassage
from retrieval.store import Store, new_run

log = logging.getLogger(__name__)

# Change when passage cutting or the text given to the encoder changes: stored passages made
# by another recipe are then rebuilt on the next ingest.
PASSAGE_RECIPE = "packed-128-v3"  # v3: titles encoded too
RECIPE_KEY = "passage_recipe"
# Passages encoded and committed together.
GROUP_PASSAGES = 512
# Long enough for any folder's name; a collection is a name, not a path.
MAX_COLLECTION = 255


@dataclass(frozen=True)
class SkippedFile:
    path: str
    reason: str


@dataclass
class IngestReport:
    """What one ingest run did (to the documents of ``collection``)."""

    collection: str = ""
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[SkippedFile] = field(default_factory=list)
    encoded: int = 0
    # Documents an ingest that died had staged, taken over without encoding them again.
    resumed: int = 0
    passages: int = 0
    seconds: float = 0.0

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        return (
            f"{self.collection}: {self.added} added, {self.changed} changed, "
            f"{self.unchanged} unchanged, "
            f"{len(self.skipped)} skipped, {self.removed} removed; "
            f"{self.encoded} passages encoded"
            + (
                f" ({self.resumed} documents resumed from an interrupted ingest)"
                if self.resumed
                else ""
            )
            + ", "
            f"{self.passages} in the corpus; {self.seconds:.1f}s"
        )


@dataclass
class _Pending:
    doc: Document
    title: str | None
    spans: list[PassageSpan]


@dataclass
class Progress:
    """Callbacks a front end passes to show progress; all optional."""

    on_total: Callable[[int], None] | None = None
    on_encoded: Callable[[int], None] | None = None
    on_skip: Callable[[SkippedFile], None] | None = None


def ingest(
    folder: str | Path,
    *,
    store: Store,
    embedder: Encoder,
    prune: bool = False,
    progress: Progress | None = None,
    collection: str | None = None,
) -> IngestReport:
    """Bring the store's collection of ``folder`` in line with the text files under it.

    Args:
        folder: A folder (searched recursively for .txt and .md) or a single file (its
            folder's collection, its name as path).
        store: Where documents, passages and embeddings are kept.
        embedder: Encodes new passages.
        prune: Remove stored documents of this collection whose files are gone.
        progress: Callbacks for a progress display.
        collection: The collection's name; by default, see :func:`choose_collection`.

    Raises:
        CorpusNotFoundError: ``folder`` does not exist.
        CollectionError: ``collection`` is not a usable name, or (without one) the folder's
            name is the collection of another folder.

    Example:
        >>> report = ingest("seeds", store=store, embedder=embedder)
        >>> print(report.summary())
        seeds: 5 added, 0 changed, 0 unchanged, 0 skipped, 0 removed; ...
    """
    started = time.perf_counter()
    progress = progress or Progress()
    root = Path(folder).expanduser()
    if not root.exists():
        raise CorpusNotFoundError(f"no such folder: {root}")
    root = root.resolve()
    base = root if root.is_dir() else root.parent
    name = choose_collection(base, store.collections(), collection)
    report = IngestReport(collection=name)

    recipe = f"{PASSAGE_RECIPE}/{embedder.name}"
    same_recipe = store.meta(RECIPE_KEY) == recipe
    known = store.stored_files(name)
    # A run's name starts with its recipe's digest: staged work of another recipe is not
    # taken over.
    prefix = hashlib.sha256(recipe.encode()).hexdigest()[:16]
    run = new_run(prefix)
    leftovers = store.staged_files(name)

    seen: set[str] = set()
    moved: list[str] = []
    pending: list[_Pending] = []
    taken: list[int] = []
    for file, problem in scan_corpus(root):
        rel = file.relative_to(base).as_posix()
        seen.add(rel)
        try:
            if problem:
                raise UnreadableFileError(problem)
            data = read_corpus_file(file)
            digest = content_hash(data)
            previous = known.get(rel)
            if previous and same_recipe and previous.content_hash == digest:
                report.unchanged += 1
                if previous.root != str(base):
                    moved.append(rel)
                continue
            left = leftovers.get(rel)
            if (
                left is not None
                and left.content_hash == digest
                and (left.ingest_run or "").startswith(prefix)
            ):
                taken.append(left.document_id)
                continue
            doc = parse_document(rel, data)
        except (OSError, UnreadableFileError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            skipped = SkippedFile(rel, reason)
            report.skipped.append(skipped)
            # The name quoted: a file name can hold a terminal escape sequence too.
            log.warning("skipped %r: %s", rel, reason)
            if progress.on_skip:
                progress.on_skip(skipped)
            continue
        title, paragraphs = find_title(doc)
        spans = split_passages(doc.text, paragraphs, embedder.count_tokens)
        pending.append(_Pending(doc, title, spans))

    discarded = store.resume_staged(name, run=run, take=taken)
    report.resumed = len(taken)
    if taken or discarded:
        log.info(
            "%s: an earlier ingest was interrupted; %d of its documents taken over, %d dropped",
            name,
            len(taken),
            discarded,
        )
    if progress.on_total:
        progress.on_total(sum(len(p.spans) for p in pending))
    for group in _groups(pending):
        _store_group(group, name, str(base), run, store, embedder, progress, report)
    published = store.publish(
        run,
        collection=name,
        keep=seen if prune else None,
        # The collection was named to be read from here now: its next ingest finds it by folder.
        moved=moved,
        root=str(base),
        meta={RECIPE_KEY: recipe},
    )
    report.added, report.changed, report.removed = (
        published.added,
        published.replaced,
        published.removed,
    )
    report.passages = store.passage_count()
    report.seconds = time.perf_counter() - started
    return report


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
        chosen = given.strip()
        if not chosen or len(chosen) > MAX_COLLECTION or not chosen.isprintable():
            raise CollectionError(
                f"a collection is named by 1 to {MAX_COLLECTION} printable characters, "
                f"not {given!r}"
            )
        return chosen
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


def _groups(pending: list[_Pending]) -> list[list[_Pending]]:
    groups: list[list[_Pending]] = [[]]
    size = 0
    for item in pending:
        if size >= GROUP_PASSAGES:
            groups.append([])
            size = 0
        groups[-1].append(item)
        size += len(item.spans)
    return [g for g in groups if g]


def _store_group(
    group: list[_Pending],
    collection: str,
    root: str,
    run: str,
    store: Store,
    embedder: Encoder,
    progress: Progress,
    report: IngestReport,
) -> None:
    texts = [item.doc.text[span.start : span.end] for item in group for span in item.spans]
    vectors = iter(embedder.encode(texts, progress=progress.on_encoded))
    title_vectors = iter(embedder.encode([item.title for item in group if item.title]))
    documents = [
        NewDocument(
            collection=collection,
            path=item.doc.path,
            root=root,
            content_hash=item.doc.content_hash,
            date=item.doc.date,
            title=item.title,
            title_vector=next(title_vectors) if item.title else None,
            passages=tuple(
                NewPassage(
                    span.start, span.end, item.doc.text[span.start : span.end], next(vectors)
                )
                for span in item.spans
            ),
        )
        for item in group
    ]
    store.stage_documents(documents, run=run)
    report.encoded += len(texts)
