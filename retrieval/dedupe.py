"""Merging near-duplicate passages: syndicated or rewritten copies of one story are shown once,
with every source listed."""

from __future__ import annotations

import re

import numpy as np

from retrieval.fusion import Candidate

# Cosine similarity above which two passages from different documents say the same thing.
# Rewrites of one paragraph score 0.9+; different paragraphs of one story stay below 0.85.
DUPLICATE_COSINE = 0.9
# Or: this share of the smaller passage's distinct words found in the other (passages packed
# from copies of one story may start and end at different paragraphs).
DUPLICATE_OVERLAP = 0.6
_WORD = re.compile(r"\w+")


def merge_duplicates(
    ranked: list[Candidate], *, limit: int | None = None
) -> list[tuple[Candidate, list[Candidate]]]:
    """Group ``ranked`` into (best candidate, its copies in other documents), in rank order.

    With ``limit``, at most that many groups are made; the rest of ``ranked`` is only searched
    for copies of them (comparing every pair of a hundred candidates cost more than a search).
    """
    groups: list[tuple[Candidate, list[Candidate]]] = []
    words: list[set[str]] = []
    for candidate in ranked:
        mine = set(_WORD.findall(candidate.row.text.lower()))
        for (lead, copies), theirs in zip(groups, words, strict=True):
            documents = {lead.row.document_id, *(c.row.document_id for c in copies)}
            if candidate.row.document_id in documents:
                continue
            if _same(candidate, lead, mine, theirs):
                copies.append(candidate)
                break
        else:
            if limit is None or len(groups) < limit:
                groups.append((candidate, []))
                words.append(mine)
    return groups


def _same(a: Candidate, b: Candidate, a_words: set[str], b_words: set[str]) -> bool:
    if float(np.dot(a.vector, b.vector)) >= DUPLICATE_COSINE:
        return True
    smaller = min(len(a_words), len(b_words))
    return bool(smaller) and len(a_words & b_words) / smaller >= DUPLICATE_OVERLAP
