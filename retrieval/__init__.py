"""quotedesk's retrieval core: corpus loading, passages, embeddings, index and answers.

It knows nothing of Slack or terminals; front ends render the :class:`Answer` it returns.
"""

from __future__ import annotations

from retrieval.answer import Answer, Quote, Source, SourceInfo
from retrieval.config import Mode, RetrievalConfig, Settings
from retrieval.engine import QuoteDesk
from retrieval.errors import QuotedeskError, UserError
from retrieval.ingest import IngestReport, Progress

__all__ = [
    "Answer",
    "IngestReport",
    "Mode",
    "Progress",
    "Quote",
    "QuoteDesk",
    "QuotedeskError",
    "RetrievalConfig",
    "Settings",
    "Source",
    "SourceInfo",
    "UserError",
]
