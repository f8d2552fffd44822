"""Ranking: pure functions of records, vectors and a :class:`~retrieval.tuning.RetrievalConfig`
(no database, no model): evidence (``candidate``), fusion (``fuse``), near-duplicates
(``dedupe``), highlights (``highlight``) and abstention (``abstain``)."""

from __future__ import annotations

from retrieval.rank.abstain import abstains, asks_only_for_time, related_sources
from retrieval.rank.candidate import Candidate, gather
from retrieval.rank.dedupe import merge_duplicates
from retrieval.rank.fuse import fuse
from retrieval.rank.highlight import choose, sentences_to_encode, tied_sentences

__all__ = [
    "Candidate",
    "abstains",
    "asks_only_for_time",
    "choose",
    "fuse",
    "gather",
    "merge_duplicates",
    "related_sources",
    "sentences_to_encode",
    "tied_sentences",
]
