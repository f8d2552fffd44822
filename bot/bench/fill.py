"""Filling a store to a size with passages made from real ones, for measuring at scale.

The real passages (an ingested corpus: text, vector, document) are copied first; beyond them,
each synthetic passage gets

- a vector near real ones: a blend of two real passage vectors plus Gaussian noise,
  renormalized (cosine 0.65-0.85 to its blend), so an IVF index meets clusters shaped like
  real text rather than uniform noise, and no synthetic passage is a near-copy (the
  duplicate merge starts at 0.9);
- a text of words drawn from the real corpus's words at their real frequencies (a Zipf-like
  law), as long as a real passage, so BM25 meets posting lists of realistic lengths.

Everything is seeded: the same real corpus and size give the same fill.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from retrieval.records import NewDocument, NewPassage, Passage
from retrieval.store import Store

SYNTHETIC = "synthetic"
REAL = "real"
# Passages per synthetic document (a real rtqa-2022 article has about 20), and documents per
# write: 20,000 passages a transaction (the store's cost is per row, not per transaction).
PASSAGES_PER_DOCUMENT = 20
DOCUMENTS_PER_WRITE = 1_000
# Noise added to a blend of real vectors: cosine 1/sqrt(1 + s^2), 0.86 down to 0.64.
NOISE = (0.6, 1.2)
# Passages read back from the store at a time.
READ_BATCH = 5_000


@dataclass
class RealPool:
    """The real passages a fill starts from, and what synthetic ones are drawn from."""

    passages: list[Passage]
    vectors: np.ndarray
    words: list[str]
    word_p: np.ndarray
    lengths: np.ndarray

    @classmethod
    def from_store(cls, store: Store) -> RealPool:
        ids = [pid for batch, _ in store.embeddings() for pid in batch.tolist()]
        passages: list[Passage] = []
        for start in range(0, len(ids), READ_BATCH):
            found = store.passages(ids[start : start + READ_BATCH])
            passages.extend(found[i] for i in ids[start : start + READ_BATCH] if i in found)
        if not passages:
            raise ValueError("the source corpus holds no passages")
        vectors = np.vstack([p.vector for p in passages]).astype(np.float32)
        counts: Counter[str] = Counter()
        lengths = []
        for passage in passages:
            words = passage.text.split()
            counts.update(words)
            lengths.append(len(words))
        common = counts.most_common()
        freq = np.asarray([c for _, c in common], dtype=np.float64)
        return cls(
            passages,
            vectors,
            [w for w, _ in common],
            freq / freq.sum(),
            np.asarray(lengths, dtype=np.int64),
        )


class Filler:
    """Writes passages into ``store`` until it holds a given number: the real ones first (in
    their documents), synthetic ones after.

    Args:
        store: An empty store to fill.
        pool: The real passages.
        seed: Seeds the synthetic vectors and words.
        progress: Hears how many passages each write added.
    """

    def __init__(
        self,
        store: Store,
        pool: RealPool,
        *,
        seed: int = 7,
        progress: Callable[[int], None] | None = None,
    ):
        self.store = store
        self.pool = pool
        self.count = store.passage_count()
        self._rng = np.random.default_rng(seed)
        self._real_next = 0
        self._synthetic_docs = 0
        self._progress = progress

    def fill_to(self, size: int) -> int:
        """Add passages until the store holds ``size`` (no more); returns how many it holds."""
        while self.count < size:
            wanted = size - self.count
            if self._real_next < len(self.pool.passages):
                documents = self._real_documents(wanted)
            else:
                documents = self._synthetic_documents(wanted)
            self.store.put_documents(documents)
            added = sum(len(d.passages) for d in documents)
            self.count += added
            if self._progress:
                self._progress(added)
        return self.count

    def _real_documents(self, wanted: int) -> list[NewDocument]:
        """Real passages, grouped back into their documents, up to ``wanted`` of them."""
        budget = min(wanted, DOCUMENTS_PER_WRITE * PASSAGES_PER_DOCUMENT)
        taken = self.pool.passages[self._real_next : self._real_next + budget]
        self._real_next += len(taken)
        by_document: dict[int, list[Passage]] = {}
        for passage in taken:
            by_document.setdefault(passage.document.id, []).append(passage)
        documents = []
        for group in by_document.values():
            source = group[0].document.source
            # A document cut at the size boundary keeps a name of its own per part.
            part = hashlib.sha1(f"{source.path}/{group[0].id}".encode()).hexdigest()[:12]
            documents.append(
                NewDocument(
                    collection=REAL,
                    path=f"{source.path}#{part}",
                    root="/bench/real",
                    content_hash=hashlib.sha256(part.encode()).hexdigest(),
                    date=source.date,
                    title=source.title,
                    title_vector=group[0].document.title_vector,
                    passages=tuple(NewPassage(p.start, p.end, p.text, p.vector) for p in group),
                )
            )
        return documents

    def _synthetic_documents(self, wanted: int) -> list[NewDocument]:
        total = min(wanted, DOCUMENTS_PER_WRITE * PASSAGES_PER_DOCUMENT)
        sizes = [
            min(PASSAGES_PER_DOCUMENT, total - at) for at in range(0, total, PASSAGES_PER_DOCUMENT)
        ]
        vectors = synthetic_vectors(self.pool.vectors, total, self._rng)
        texts = synthetic_texts(self.pool, total, self._rng)
        documents = []
        at = 0
        first_day = date(2022, 1, 1)
        for size in sizes:
            number = self._synthetic_docs
            self._synthetic_docs += 1
            offset = 0
            passages = []
            for text, vector in zip(texts[at : at + size], vectors[at : at + size], strict=True):
                passages.append(NewPassage(offset, offset + len(text), text, vector))
                offset += len(text) + 2
            at += size
            day = first_day + timedelta(days=int(self._rng.integers(0, 365)))
            documents.append(
                NewDocument(
                    collection=SYNTHETIC,
                    path=f"{number:08d}.txt",
                    root="/bench/synthetic",
                    content_hash=hashlib.sha256(f"synthetic-{number}".encode()).hexdigest(),
                    date=day if number % 5 else None,
                    title=None,
                    title_vector=None,
                    passages=tuple(passages),
                )
            )
        return documents


def synthetic_vectors(real: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` unit vectors near ``real`` ones: ``normalize(a + w * b + s * noise)`` for two
    random real vectors ``a``, ``b``, ``w`` in [0, 0.7] and ``s`` in :data:`NOISE`."""
    first = real[rng.integers(0, len(real), n)]
    second = real[rng.integers(0, len(real), n)]
    blend = first + rng.uniform(0.0, 0.7, (n, 1)).astype(np.float32) * second
    blend /= np.linalg.norm(blend, axis=1, keepdims=True)
    noise = rng.standard_normal(blend.shape, dtype=np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    vectors = blend + rng.uniform(*NOISE, (n, 1)).astype(np.float32) * noise
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)


def synthetic_texts(pool: RealPool, n: int, rng: np.random.Generator) -> list[str]:
    """``n`` texts of real words at their real frequencies, of real passages' lengths."""
    lengths = pool.lengths[rng.integers(0, len(pool.lengths), n)]
    picks = rng.choice(len(pool.words), size=int(lengths.sum()), p=pool.word_p).tolist()
    words = pool.words
    texts = []
    at = 0
    for length in lengths.tolist():
        texts.append(" ".join(map(words.__getitem__, picks[at : at + length])) + ".")
        at += length
    return texts


def held_out_queries(real: np.ndarray, n: int, *, seed: int = 99) -> np.ndarray:
    """Query vectors made the way synthetic passages are, but never stored: the "held-out
    passages" recall is measured on, beside encoded questions."""
    return synthetic_vectors(real, n, np.random.default_rng(seed))


def paragraphs(texts: Sequence[str], *, min_chars: int = 21) -> Iterator[str]:
    """Blank-line paragraphs of more than 20 characters (the eval README's baseline units)."""
    for text in texts:
        for block in re.split(r"\n\s*\n", text):
            block = block.strip()
            if len(block) >= min_chars:
                yield block
