"""How a source and its date are written, the same on the terminal and in Slack."""

from __future__ import annotations

from retrieval.records import Source

UNDATED = "undated"


def date_label(source: Source) -> str:
    """The source's publication date, or "undated": never a guessed date.

    Example:
        >>> date_label(Source("a.txt", None))
        'undated'
    """
    return source.date.isoformat() if source.date else UNDATED


def source_label(source: Source) -> str:
    """``path · date``, e.g. ``000_1111.txt · 2023-11-28``."""
    return f"{source.path} · {date_label(source)}"
