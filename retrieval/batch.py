"""One ingest run into one collection: documents considered one at a time (unchanged ones
passed over, changed ones read by their kind's reader, cut into passages), encoded and staged a
group at a time, then made live at once.

Crash-safe and whole: documents are encoded and committed a group at a time but *staged*,
unseen by readers; the run makes them all live in one transaction at its end (with its
removals), so a running bot answers from the corpus as it was until then and switches to the
new one whole. A run killed half-way leaves the corpus as it was; the next one takes over the
documents it had staged (same content, same recipe: not encoded again) and finishes the job.
One run per collection at a time: a second one started beside it takes over, or drops, what
the first has staged.

Used by the folder ingest (:mod:`retrieval.ingest`) and by the ingest of fetched pages and
feeds (:mod:`retrieval.web.ingest`).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.documents import content_hash, paragraph_spans, read_corpus_file
from retrieval.embedder import Encoder
from retrieval.passages import PassageSpan, split_passages
from retrieval.readers import Article, UnreadableFileError, kind_of, max_bytes, read_articles
from retrieval.records import NewDocument, NewPassage, StoredFile
from retrieval.store import Store, new_run

log = logging.getLogger(__name__)

# Change when passage cutting or the text given to the encoder changes: stored passages made
# by another recipe are then rebuilt on the next ingest.
PASSAGE_RECIPE = "packed-128-v3"  # v3: titles encoded too
RECIPE_KEY = "passage_recipe"
# Passages encoded and committed together.
GROUP_PASSAGES = 512


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


# Kinds whose files hold several articles, each a document named ``file#record``.
MULTI_ARTICLE_KINDS = frozenset({"jsonl", "json", "feed"})
# A multi-article record's content hash: the file's digest, then the record's. The file's half
# lets an unchanged file be passed over unread; the record's, an unchanged record of a changed
# file be kept without encoding it again.
_HALF = 32


@dataclass
class _Pending:
    path: str
    content_hash: str
    article: Article
    spans: list[PassageSpan]

    @property
    def title(self) -> str | None:
        return self.article.title


@dataclass
class Progress:
    """Callbacks a front end passes to show progress; all optional."""

    on_total: Callable[[int], None] | None = None
    on_encoded: Callable[[int], None] | None = None
    on_skip: Callable[[SkippedFile], None] | None = None
    # Called with each file's name as it is read (reading comes before encoding).
    on_read: Callable[[str], None] | None = None


class Batch:
    """One ingest run into one collection: documents considered one at a time (unchanged ones
    passed over, changed ones read, cut and encoded a group at a time), then made live at once
    by :meth:`finish`.

    Used by the folder ingest here and by the ingest of fetched pages and feeds
    (:mod:`retrieval.web.ingest`).
    """

    def __init__(
        self,
        *,
        store: Store,
        encoder: Encoder,
        collection: str,
        root: str,
        progress: Progress | None = None,
    ) -> None:
        self.store = store
        self.encoder = encoder
        self.collection = collection
        self.root = root
        self.progress = progress or Progress()
        self.report = IngestReport(collection=collection)
        recipe = f"{PASSAGE_RECIPE}/{encoder.name}"
        self.recipe = recipe
        self.same_recipe = store.meta(RECIPE_KEY) == recipe
        self.known = store.stored_files(collection)
        self.by_file: dict[str, list[str]] = {}
        for path in self.known:
            if "#" in path:
                self.by_file.setdefault(path.rsplit("#", 1)[0], []).append(path)
        # A run's name starts with its recipe's digest: staged work of another recipe is not
        # taken over.
        self.prefix = hashlib.sha256(recipe.encode()).hexdigest()[:16]
        self.run = new_run(self.prefix)
        self.leftovers = store.staged_files(collection)
        self.seen: set[str] = set()
        self.moved: list[str] = []
        self.pending: list[_Pending] = []
        self.taken: list[int] = []
        # Unchanged documents stored before their texts were kept: read again at the end.
        self.backfill: list[tuple[str, StoredFile]] = []

    # -- considering documents ------------------------------------------------------------------

    def add_file(self, rel: str, data: bytes, kind: str | None) -> None:
        """Consider the file ``rel`` (its bytes and kind): unchanged, taken over, or read.

        Raises:
            UnreadableFileError: The file (or, for one article, that article) can't be read.
        """
        self.seen.add(rel)
        if kind is None:
            read_articles(rel, data)  # names the kind it is not
        digest = content_hash(data)
        if kind in MULTI_ARTICLE_KINDS:
            self._add_records(rel, data, kind, digest)
            return
        if self._unchanged(rel, digest) or self._taken_over(rel, digest):
            return
        extraction = read_articles(rel, data, kind=kind)
        article = extraction.articles[0]
        if len(extraction.articles) > 1:
            raise UnreadableFileError("several articles in a file of a one-article kind")
        self.add_article(rel, digest, article)

    def _add_records(self, rel: str, data: bytes, kind: str, digest: str) -> None:
        paths = self.by_file.get(rel, [])
        self.seen.update(paths)  # kept, as a file's documents are, if it can't be read now
        if (
            paths
            and self.same_recipe
            and all(
                self.known[p].content_hash[:_HALF] == digest[:_HALF] and self.known[p].has_text
                for p in paths
            )
        ):
            self.report.unchanged += len(paths)
            self.moved.extend(p for p in paths if self.known[p].root != self.root)
            return
        extraction = read_articles(rel, data, kind=kind)
        for problem in extraction.skipped:
            self.skip_file(f"{rel}#{problem.record}", problem.reason)
        for article in extraction.articles:
            path = f"{rel}#{article.record}"
            record_digest = digest[:_HALF] + article_digest(article)[:_HALF]
            self.seen.add(path)
            previous = self.known.get(path)
            if (
                previous is not None
                and self.same_recipe
                and previous.has_text
                and previous.content_hash[_HALF:] == record_digest[_HALF:]
            ):
                self.report.unchanged += 1
                if previous.root != self.root:
                    self.moved.append(path)
                continue
            if self._taken_over(path, record_digest):
                continue
            self.add_article(path, record_digest, article)

    def add_record(self, path: str, article: Article) -> None:
        """Consider one article read elsewhere (a fetched page, a feed's entry) as the document
        ``path``: passed over when stored unchanged, else cut to be encoded."""
        digest = article_digest(article)
        self.seen.add(path)
        if self._unchanged(path, digest) or self._taken_over(path, digest):
            return
        self.add_article(path, digest, article)

    def _unchanged(self, path: str, digest: str) -> bool:
        previous = self.known.get(path)
        if previous is None or not self.same_recipe or previous.content_hash != digest:
            return False
        self.report.unchanged += 1
        if previous.root != self.root:
            self.moved.append(path)
        if not previous.has_text:
            self.backfill.append((path, previous))
        return True

    def _taken_over(self, path: str, digest: str) -> bool:
        left = self.leftovers.get(path)
        if (
            left is not None
            and left.content_hash == digest
            and (left.ingest_run or "").startswith(self.prefix)
        ):
            self.taken.append(left.document_id)
            self.seen.add(path)
            return True
        return False

    def add_article(self, path: str, digest: str, article: Article) -> None:
        """Cut ``article`` into passages, to be encoded and stored as the document ``path``."""
        self.seen.add(path)
        paragraphs = paragraph_spans(article.text, article.body_start)
        spans = split_passages(article.text, paragraphs, self.encoder.count_tokens)
        if not spans:
            raise UnreadableFileError("no text to quote in it")
        self.pending.append(_Pending(path, digest, article, spans))

    def skip_file(self, path: str, reason: str) -> None:
        """Name ``path`` (a file, or a record ``file#N``) as skipped, with why."""
        skipped = SkippedFile(path, reason)
        self.report.skipped.append(skipped)
        # The name quoted: a file name can hold a terminal escape sequence too.
        log.warning("skipped %r: %s", path, reason)
        if self.progress.on_skip:
            self.progress.on_skip(skipped)

    # -- storing ------------------------------------------------------------------------------

    def finish(self, *, prune: bool = False, started: float | None = None) -> IngestReport:
        """Encode and stage what was read, then make it all live at once.

        Args:
            prune: Remove the collection's documents that were not seen in this run.
            started: When the run started (``time.perf_counter()``), for the report.
        """
        started = time.perf_counter() if started is None else started
        store, name, report, progress = self.store, self.collection, self.report, self.progress
        discarded = store.resume_staged(name, run=self.run, take=self.taken)
        report.resumed = len(self.taken)
        if self.taken or discarded:
            log.info(
                "%s: an earlier ingest was interrupted; %d of its documents taken over, %d dropped",
                name,
                len(self.taken),
                discarded,
            )
        if progress.on_total:
            progress.on_total(sum(len(p.spans) for p in self.pending))
        for group in _groups(self.pending):
            _store_group(group, name, self.root, self.run, store, self.encoder, progress, report)
        published = store.publish(
            self.run,
            collection=name,
            keep=self.seen if prune else None,
            # The collection was named to be read from here now: its next ingest finds it by
            # folder.
            moved=self.moved,
            root=self.root,
            meta={RECIPE_KEY: self.recipe},
        )
        if published.changed or discarded:
            # Cheap beside what the ingest took; the planner's picture of the tables stays
            # true as the corpus grows from seeds to an archive.
            store.refresh_statistics()
        self._fill_texts()
        report.added, report.changed, report.removed = (
            published.added,
            published.replaced,
            published.removed,
        )
        report.passages = store.passage_count()
        report.seconds = time.perf_counter() - started
        return report

    def _fill_texts(self) -> None:
        """Documents stored before their texts were kept get them now (read again, not
        encoded), so that ``quotedesk show`` can print them."""
        texts: dict[int, tuple[str, str | None]] = {}
        for path, previous in self.backfill:
            file = Path(self.root, path)
            try:
                data = read_corpus_file(file, max_bytes=max_bytes(kind_of(path)))
                if content_hash(data) != previous.content_hash:
                    continue
                article = read_articles(path, data).articles[0]
            except (OSError, UnreadableFileError):
                continue
            texts[previous.document_id] = (article.text, article.url)
        self.store.fill_texts(texts)


def article_digest(article: Article) -> str:
    """A digest of everything stored of an article: its text and what is cited with it."""
    parts = (
        article.text,
        article.title or "",
        article.date.isoformat() if article.date else "",
        article.url or "",
    )
    return hashlib.sha256("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


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
    encoder: Encoder,
    progress: Progress,
    report: IngestReport,
) -> None:
    texts = [item.article.text[span.start : span.end] for item in group for span in item.spans]
    vectors = iter(encoder.encode(texts, progress=progress.on_encoded))
    title_vectors = iter(encoder.encode([item.title for item in group if item.title]))
    documents = [
        NewDocument(
            collection=collection,
            path=item.path,
            root=root,
            content_hash=item.content_hash,
            date=item.article.date,
            title=item.title,
            title_vector=next(title_vectors) if item.title else None,
            passages=tuple(
                NewPassage(
                    span.start, span.end, item.article.text[span.start : span.end], next(vectors)
                )
                for span in item.spans
            ),
            url=item.article.url,
            text=item.article.text,
        )
        for item in group
    ]
    store.stage_documents(documents, run=run)
    report.encoded += len(texts)
