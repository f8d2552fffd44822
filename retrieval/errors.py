"""Errors the core raises; front ends turn them into one clear line for the user."""

from __future__ import annotations


class QuotedeskError(Exception):
    """Base class: a problem the user can act on, with a message that says what to do."""


class ModelNotFoundError(QuotedeskError):
    """The sentence-transformers model folder is missing or unreadable."""


class DataDirError(QuotedeskError):
    """The data directory cannot be created, read or written."""


class CorpusNotFoundError(QuotedeskError):
    """The folder to ingest does not exist."""


class EmptyQuestionError(QuotedeskError):
    """The question has no words in it."""
