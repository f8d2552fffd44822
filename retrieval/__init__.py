"""quotedesk's retrieval core: corpus loading, passages, embeddings, index and answers.

It knows nothing of Slack or terminals; front ends render the :class:`Answer` it returns.

The names below are imported when first used (PEP 562): ``import retrieval.tuning`` for a
command's options does not pull in the engine's database, index and model libraries, which
is most of a cold ``quotedesk ask``'s start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrieval.answer import Answer, Quote, Source, SourceInfo
    from retrieval.engine import QuoteDesk
    from retrieval.errors import QuotedeskError, UserError
    from retrieval.ingest import IngestReport, Progress
    from retrieval.settings import Settings
    from retrieval.tuning import Mode, RetrievalConfig

_HOMES = {
    "Answer": "retrieval.answer",
    "Quote": "retrieval.answer",
    "Source": "retrieval.answer",
    "SourceInfo": "retrieval.answer",
    "Mode": "retrieval.tuning",
    "RetrievalConfig": "retrieval.tuning",
    "Settings": "retrieval.settings",
    "QuoteDesk": "retrieval.engine",
    "QuotedeskError": "retrieval.errors",
    "UserError": "retrieval.errors",
    "IngestReport": "retrieval.ingest",
    "Progress": "retrieval.ingest",
}

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
