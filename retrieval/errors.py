"""Errors the core raises; front ends turn them into one clear line for the user.

Two families: :class:`UserError` is something the person asking can fix (the CLI exits 2, chat
prints a hint and goes on, Slack replies with the hint); any other :class:`QuotedeskError` is a
problem with the environment (data directory, model, database; the CLI exits 1).
"""

from __future__ import annotations


class QuotedeskError(Exception):
    """Base class: a problem someone can act on, with a message that says what to do."""


class UserError(QuotedeskError, ValueError):
    """Bad input from whoever asked: the message is a hint they can follow."""


class EmptyQuestionError(UserError):
    """The question has no words in it."""


class QuestionTooLongError(UserError):
    """The question is longer than anyone asks (see ``RetrievalConfig.max_question_chars``)."""


class QueryError(UserError):
    """A filter or time expression that cannot be read, e.g. ``since:yesterday``."""


class CorpusNotFoundError(UserError):
    """The folder to ingest does not exist."""


class InvalidArgumentError(UserError):
    """An argument out of its range, e.g. ``k`` of 0 or an unknown mode."""


class SourceNotFoundError(UserError):
    """No stored document has the name asked for (or several collections do)."""


class FetchFailedError(UserError):
    """A URL given to ingest could not be fetched: refused by robots.txt, an HTTP error, too
    large, not a web address; the message says which."""


class ModelNotFoundError(QuotedeskError):
    """The sentence-transformers model folder is missing or unreadable."""


class DataDirError(QuotedeskError):
    """The data directory or the database cannot be created, read or written."""


class CollectionError(UserError):
    """A collection cannot be chosen as asked: a bad name, or a folder that would update a
    collection ingested from another folder."""


class SchemaError(QuotedeskError):
    """The database's schema is not the one this release of quotedesk reads."""


class SchemaBehindError(SchemaError):
    """The database was made by an older release (or before migrations): ``quotedesk db
    upgrade`` brings it up to date."""


class SchemaAheadError(SchemaError):
    """The database was upgraded by a newer release, at a revision this one does not know."""
