"""What tests share besides fixtures: paths, the golden set, and embedders for tests.

``FakeEmbedder`` is small and deterministic (hashed words): tests that need no real model use
it and stay fast. Tests with the real model carry ``@pytest.mark.slow``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from retrieval.records import Document, Passage, Source

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
GOLDEN = Path(__file__).resolve().parent / "golden" / "seeds.jsonl"

_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """A deterministic stand-in for the sentence encoder: each lowercased word is hashed to a
    signed dimension, the sum is normalized. Texts sharing words are close; no model, no torch.

    Example:
        >>> e = FakeEmbedder()
        >>> float(e.encode(["Baku withdrew"])[0] @ e.encode_query("Baku")[0]) > 0.5
        True
    """

    name = "fake-hashed-words"

    def __init__(self, dimension: int = 384, *, max_tokens: int = 256):
        self.dimension = dimension
        self.max_tokens = max_tokens
        self.encoded = 0
        self.texts: list[str] = []

    def count_tokens(self, text: str) -> int:
        # About as many word pieces as the real tokenizer makes of news text.
        return len(_WORD.findall(text)) * 5 // 4

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        self.encoded += len(texts)
        self.texts.extend(texts)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                slot, sign = _word_slot(word, self.dimension)
                vectors[row, slot] += sign
            norm = float(np.linalg.norm(vectors[row]))
            if norm:
                vectors[row] /= norm
        if progress and len(texts):
            progress(len(texts))
        return vectors

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text])


@functools.lru_cache(maxsize=1 << 16)
def _word_slot(word: str, dimension: int) -> tuple[int, float]:
    # Cached: the fast tier encodes the same seeds in hundreds of tests.
    digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little") % dimension, 1.0 if digest[4] & 1 else -1.0


class CountingEmbedder:
    """The real embedder, counting how many texts it encodes."""

    def __init__(self, inner: Any):
        self._inner = inner
        self.encoded = 0
        self.texts: list[str] = []
        self.name = inner.name
        self.dimension = inner.dimension
        self.max_tokens = inner.max_tokens

    def count_tokens(self, text: str) -> int:
        return int(self._inner.count_tokens(text))

    def encode(
        self, texts: Sequence[str], *, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        self.encoded += len(texts)
        self.texts.extend(texts)
        return np.asarray(self._inner.encode(texts, progress=progress))

    def encode_query(self, text: str) -> np.ndarray:
        self.encoded += 1
        self.texts.append(text)
        return np.asarray(self._inner.encode_query(text))


def golden(kind: str = "in_domain") -> list[dict[str, Any]]:
    """The seed golden set's in-domain (default) or off-topic questions."""
    rows = [json.loads(line) for line in GOLDEN.read_text().splitlines() if line.strip()]
    if kind == "off_topic":
        return [r for r in rows if r.get("off_topic")]
    return [r for r in rows if not r.get("off_topic")]


def make_passage(
    pid: int,
    *,
    text: str = "t",
    day: date | None = None,
    document: int | None = None,
    vector: Sequence[float] | None = None,
    title_vector: Sequence[float] | None = None,
    title: str | None = None,
) -> Passage:
    """A hand-made passage record (document ``document``, default one per passage)."""
    doc_id = pid if document is None else document
    return Passage(
        id=pid,
        document=Document(
            id=doc_id,
            source=Source(f"{doc_id}.txt", day, title),
            title_vector=None if title_vector is None else unit(title_vector),
        ),
        start=0,
        end=len(text),
        text=text,
        vector=unit(vector if vector is not None else [1.0, 0.0]),
    )


def unit(values: Sequence[float]) -> np.ndarray:
    vector = np.asarray(values, dtype=np.float32)
    return vector / (float(np.linalg.norm(vector)) or 1.0)
