"""Merging near-duplicate passages: syndicated or rewritten copies of one story are shown once,
with every source listed."""

from __future__ import annotations

import re

import numpy as np

from retrieval.config import RetrievalConfig
from retrieval.rank.candidate import Candidate

_WORD = re.compile(r"\w+")

Group = tuple[Candidate, list[Candidate]]


def merge_duplicates(
    ranked: list[Candidate], *, config: RetrievalConfig, limit: int | None = None
) -> list[Group]:
    """Group ``ranked`` into (best candidate, its copies in other documents), in rank order.

    Two passages of different documents are copies when their cosine reaches
    ``config.duplicate_cosine`` or when the other holds ``config.duplicate_overlap`` of the
    smaller one's distinct words. With ``limit``, at most that many groups are made; the rest
    of ``ranked`` is only searched for copies of them (comparing every pair of a hundred
    candidates cost more than a search).
    """
    groups: list[Group] = []
    words: list[set[str]] = []
    for candidate in ranked:
        mine = set(_WORD.findall(candidate.passage.text.lower()))
        for (lead, copies), theirs in zip(groups, words, strict=True):
            documents = {lead.document_id, *(c.document_id for c in copies)}
            if candidate.document_id in documents:
                continue
            if _same(candidate, lead, mine, theirs, config):
                copies.append(candidate)
                break
        else:
            if limit is None or len(groups) < limit:
                groups.append((candidate, []))
                words.append(mine)
    return groups


def _same(
    a: Candidate, b: Candidate, a_words: set[str], b_words: set[str], config: RetrievalConfig
) -> bool:
    if float(np.dot(a.passage.vector, b.passage.vector)) >= config.duplicate_cosine:
        return True
    smaller = min(len(a_words), len(b_words))
    return bool(smaller) and len(a_words & b_words) / smaller >= config.duplicate_overlap
