"""Saying nothing rather than quoting noise: when no candidate is close enough to the question,
the answer offers the closest documents as "might be related" instead of quotes."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.config import RetrievalConfig
from retrieval.rank.candidate import Candidate
from retrieval.records import Source


def abstains(ranked: Sequence[Candidate], *, config: RetrievalConfig) -> bool:
    """True when no candidate reaches ``config.min_similarity`` (cosine to the question)."""
    return max((c.similarity for c in ranked), default=0.0) < config.min_similarity


def related_sources(ranked: Sequence[Candidate], *, config: RetrievalConfig) -> tuple[Source, ...]:
    """The first ``config.related`` distinct documents of ``ranked``."""
    # By id: two collections may each hold a document of the same path.
    seen: dict[int, Source] = {}
    for c in ranked:
        seen.setdefault(c.passage.document.id, c.passage.document.source)
    return tuple(list(seen.values())[: config.related])
