"""Merging near-duplicate passages: syndicated or rewritten copies of one story are shown once,
with every source listed."""

from __future__ import annotations

import re

import numpy as np

from retrieval.rank.candidate import Candidate
from retrieval.tuning import RetrievalConfig

_WORD = re.compile(r"\w+")

Group = tuple[Candidate, list[Candidate]]


def merge_duplicates(
    ranked: list[Candidate], *, config: RetrievalConfig, limit: int | None = None
) -> list[Group]:
    """Group ``ranked`` into (best candidate, its copies in other documents), in rank order.

    Two passages of different documents are copies when their cosine reaches
    ``config.duplicate_cosine``, or when it reaches ``config.duplicate_overlap_cosine`` and
    the other holds ``config.duplicate_overlap`` of the smaller one's distinct words. With
    ``limit``, at most that many groups are made; the rest of ``ranked`` is only searched for
    copies of them (comparing every pair of a hundred candidates cost more than a search).
    """
    if not ranked:
        return []
    # Every candidate's cosine to a lead is computed at once when the lead is chosen, and a
    # candidate's words are read only when a cosine falls short: per pair, Python did both.
    vectors = np.stack([c.passage.vector for c in ranked]).astype(np.float32, copy=False)
    groups: list[Group] = []
    leads: list[int] = []
    # As Python floats: compared one by one below, numpy scalars cost more than the test.
    cosines: list[list[float]] = []
    documents: list[set[int]] = []
    words: dict[int, set[str]] = {}

    def words_of(i: int) -> set[str]:
        found = words.get(i)
        if found is None:
            found = words[i] = set(_WORD.findall(ranked[i].passage.text.lower()))
        return found

    same, near = config.duplicate_cosine, config.duplicate_overlap_cosine
    below = min(same, near)  # no copy under this cosine: most pairs end at the first test
    for i, candidate in enumerate(ranked):
        for g, (_, copies) in enumerate(groups):
            cosine = cosines[g][i]
            if cosine < below or candidate.document_id in documents[g]:
                continue
            if cosine >= same or (
                cosine >= near
                and _overlap(words_of(i), words_of(leads[g])) >= config.duplicate_overlap
            ):
                copies.append(candidate)
                documents[g].add(candidate.document_id)
                break
        else:
            if limit is None or len(groups) < limit:
                groups.append((candidate, []))
                leads.append(i)
                cosines.append((vectors @ vectors[i]).tolist())
                documents.append({candidate.document_id})
    return groups


def _overlap(a: set[str], b: set[str]) -> float:
    """The share of the smaller set's words the other holds (0 when either is empty)."""
    smaller = min(len(a), len(b))
    return len(a & b) / smaller if smaller else 0.0
