"""How a source, its date and a follow-up's context are written, the same on the terminal and
in Slack."""

from __future__ import annotations

from collections.abc import Sequence

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


def context_label(context: Sequence[str]) -> str:
    """The line saying a follow-up was read with its thread's earlier questions.

    Example:
        >>> context_label(["why did Baku skip the Washington meeting?"])
        'Read with this thread’s earlier question: “why did Baku skip the Washington meeting?”'
    """
    quoted = " · ".join(f"“{question}”" for question in context)
    many = "questions" if len(context) > 1 else "question"
    return f"Read with this thread’s earlier {many}: {quoted}"
