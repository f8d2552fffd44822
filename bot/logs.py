"""Logs an operator can keep: one line a record, as text or as JSON, with the Slack event and the
corpus version it belongs to, and no personal data.

:func:`configure` (the ``quotedesk`` group calls it) installs one handler on the root logger,
with :class:`TextFormatter` or :class:`JsonFormatter` and :class:`PrivacyFilter`; ``quotedesk
serve`` gives gunicorn's error and access logs the same (:mod:`bot.slack.gunicorn_log`).

Personal data: what people ask (questions, the quotes answering them) and who they are (Slack
user ids). Unless questions are to be logged (``QUOTEDESK_LOG_QUESTIONS=1``), the filter

- drops the DEBUG records of the libraries that log whole payloads (``slack_bolt`` and
  ``slack_sdk`` log request bodies and Web API arguments, ``urllib3`` and ``websocket`` what
  goes over the wire); their INFO and above are kept;
- leaves out the personal detail our own code attaches to a record with :func:`personal`
  (``logger.info("not answered (%s)", kind, extra=personal(question))``): the message says
  what happened, the detail says to whom and about what;
- replaces anything shaped like a Slack user id (``U…``, ``W…``) with ``[user]``, in the
  message and in the stack trace: a safety net, not the design.

With questions logged, the detail follows the message (``…: the question``) and nothing is
dropped or replaced.

Context: :func:`bind` sets the Slack event id and the corpus version in :mod:`contextvars`
(a Bolt middleware does, :mod:`bot.slack.log_context`); every record logged in that context
carries them (``event_id`` and ``corpus_version`` in JSON, ``[Ev… v…]`` after a text line).

Importing this module changes nothing; :func:`configure` does.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, Literal

LogFormat = Literal["text", "json"]
FORMATS: tuple[LogFormat, ...] = ("text", "json")
# Today's text lines, with the context after them.
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"

# Libraries whose DEBUG records carry payloads (request bodies, API arguments, frames).
PAYLOAD_LOGGERS = frozenset({"slack_bolt", "slack_sdk", "urllib3", "websocket"})
# Slack user ids (U… for people, W… in Enterprise Grid): a capital, then capitals and digits,
# at least one a digit (so "WARNING" or "UPDATED" is no id).
USER_ID = re.compile(r"\b[UW](?=[A-Z0-9]*[0-9])[A-Z0-9]{6,14}\b")
REDACTED_USER = "[user]"
# The record attributes this module reads and sets.
PERSONAL = "quotedesk_personal"
FIELDS = "quotedesk_fields"
_DONE = "quotedesk_private"
# What the command line tells the operator on stderr, as records when logs are JSON
# (bot.cli.common.notice): let through at INFO, -v or not, as it would be printed.
CLI_LOGGER = "bot.cli"
# Characters of the corpus version shown in a text line.
SHORT_VERSION = 8

EVENT_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "quotedesk_event_id", default=None
)
CORPUS_VERSION: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "quotedesk_corpus_version", default=None
)


@dataclass(frozen=True)
class LogSettings:
    """How this process logs: ``format`` (``text`` or ``json``) and whether questions, quotes
    and user ids may be logged (``questions``)."""

    format: LogFormat = "text"
    questions: bool = False


_settings = LogSettings()


def settings() -> LogSettings:
    """What :func:`configure` was last told (the defaults before): gunicorn's logs follow it."""
    return _settings


def bind(*, event_id: str | None, corpus_version: str | None) -> None:
    """Set the context of the records logged from here on in this context (see
    :mod:`contextvars`: a copy of the context, a thread's own, or the listener's Bolt runs).

    Example:
        >>> ctx = contextvars.copy_context()
        >>> ctx.run(bind, event_id="Ev1", corpus_version="v9")
        >>> ctx[EVENT_ID], EVENT_ID.get()
        ('Ev1', None)
    """
    EVENT_ID.set(event_id)
    CORPUS_VERSION.set(corpus_version)


def personal(detail: object) -> dict[str, object]:
    """``extra=`` for a record whose personal ``detail`` (a question, a quote, a button's
    value) is logged only with questions logged; the message itself must hold none.

    Example:
        >>> personal("why?")
        {'quotedesk_personal': 'why?'}
    """
    return {PERSONAL: str(detail)}


def fields(**values: object) -> dict[str, object]:
    """``extra=`` for a record with fields of its own (JSON keys; text shows the message)."""
    return {FIELDS: values}


def redact(text: str) -> str:
    """``text`` with anything shaped like a Slack user id replaced.

    Example:
        >>> redact("<@U0ASKER> asked W012AB3CD; WARNING, C0CHANNEL and Ev0123 stay")
        '<@[user]> asked [user]; WARNING, C0CHANNEL and Ev0123 stay'
    """
    return USER_ID.sub(REDACTED_USER, text)


class PrivacyFilter(logging.Filter):
    """A handler's filter: the personal data a record may carry dropped, unless
    ``questions`` (see the module's docstring); and the record stamped with its context
    (``event_id``, ``corpus_version``). It settles a record's message (``msg`` the final
    text, ``args`` none), so every handler after it shows the same."""

    def __init__(self, *, questions: bool = False):
        super().__init__()
        self.questions = questions

    def filter(self, record: logging.LogRecord) -> bool:
        if (
            not self.questions
            and record.levelno < logging.INFO
            and record.name.partition(".")[0] in PAYLOAD_LOGGERS
        ):
            return False
        if getattr(record, _DONE, False):
            return True
        if getattr(record, "event_id", None) is None:
            record.event_id = EVENT_ID.get()
        if getattr(record, "corpus_version", None) is None:
            record.corpus_version = CORPUS_VERSION.get()
        try:
            message = record.getMessage()
        except Exception:  # bad arguments: the handler reports it (logging's handleError)
            return True
        detail = getattr(record, PERSONAL, None)
        if self.questions and detail:
            message = f"{message}: {detail}"
        if record.exc_info and not record.exc_text:
            record.exc_text = _PLAIN.formatException(record.exc_info)
        if not self.questions:
            message = redact(message)
            if record.exc_text:
                record.exc_text = redact(record.exc_text)
            if record.stack_info:
                record.stack_info = redact(record.stack_info)
        record.msg, record.args = message, None
        setattr(record, _DONE, True)
        return True


_PLAIN = logging.Formatter()


def _context(record: logging.LogRecord) -> tuple[str | None, str | None]:
    event_id = getattr(record, "event_id", None) or EVENT_ID.get()
    version = getattr(record, "corpus_version", None) or CORPUS_VERSION.get()
    return event_id, version


class TextFormatter(logging.Formatter):
    """``LEVEL logger: message``, then the context when there is one: ``[Ev0123 v3f2a9c1e]``
    (the event id, ``v`` and the start of the corpus version).

    Example:
        >>> record = logging.LogRecord("bot", logging.INFO, "", 0, "answered", None, None)
        >>> record.event_id, record.corpus_version = "Ev0123", "3f2a9c1e5b7d"
        >>> TextFormatter().format(record)
        'INFO bot: answered [Ev0123 v3f2a9c1e]'
    """

    def __init__(self, fmt: str = TEXT_FORMAT, datefmt: str | None = None):
        super().__init__(fmt, datefmt)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        line = super().formatMessage(record)
        event_id, version = _context(record)
        context = " ".join(
            part for part in (event_id, version and "v" + version[:SHORT_VERSION]) if part
        )
        return f"{line} [{context}]" if context else line


class JsonFormatter(logging.Formatter):
    """One JSON object a line (ASCII, so no character of a message can split it): ``time``
    (ISO 8601, UTC), ``level``, ``logger``, ``message``, ``pid``, ``event_id`` and
    ``corpus_version`` (null outside a Slack request), ``exc_info`` (the stack trace, when
    there is one) and the record's own :func:`fields`.

    Example:
        >>> record = logging.LogRecord("bot", logging.INFO, "", 0, "hi %s", ("you",), None)
        >>> record.created = 0
        >>> line = json.loads(JsonFormatter().format(record))
        >>> line["time"], line["level"], line["logger"], line["message"], line["event_id"]
        ('1970-01-01T00:00:00.000Z', 'INFO', 'bot', 'hi you', None)
    """

    def format(self, record: logging.LogRecord) -> str:
        event_id, version = _context(record)
        when = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        entry: dict[str, Any] = {
            "time": when.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
            "event_id": event_id,
            "corpus_version": version,
        }
        extra = getattr(record, FIELDS, None)
        if isinstance(extra, Mapping):
            entry.update((str(k), v) for k, v in extra.items() if k not in entry)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exc_info"] = record.exc_text
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=True, default=str)


def make_formatter(log_format: LogFormat) -> logging.Formatter:
    """The formatter of ``log_format`` (``text`` or ``json``)."""
    return JsonFormatter() if log_format == "json" else TextFormatter()


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`configure` installs (told apart from anyone else's)."""


def make_handler(
    stream: IO[str], *, log_format: LogFormat = "text", questions: bool = False
) -> logging.Handler:
    """A handler writing to ``stream`` in ``log_format`` through :class:`PrivacyFilter`: the
    one :func:`configure` installs (a test can install it on its own buffer)."""
    handler = _Handler(stream)
    handler.setFormatter(make_formatter(log_format))
    handler.addFilter(PrivacyFilter(questions=questions))
    return handler


def configure(
    *,
    level: int = logging.ERROR,
    log_format: LogFormat = "text",
    questions: bool = False,
    stream: IO[str] | None = None,
) -> logging.Handler | None:
    """Log at ``level`` and above to ``stream`` (stderr) in ``log_format``, through
    :class:`PrivacyFilter`; returns the handler installed.

    As :func:`logging.basicConfig`, nothing is installed when the root logger already has a
    handler of someone else's (a test's, an embedding application's): None then, and
    :func:`settings` stays the defaults (whoever installed that handler decides how this
    process logs). A second call replaces the handler of the first. In JSON, Python's
    warnings are logged too (``py.warnings``) and so is what the command line tells the
    operator (``bot.cli``, at INFO), so every line on stderr is JSON.
    """
    global _settings
    _settings = LogSettings()
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    if root.handlers:
        return None
    _settings = LogSettings(format=log_format, questions=questions)
    handler = make_handler(
        stream if stream is not None else sys.stderr, log_format=log_format, questions=questions
    )
    root.addHandler(handler)
    root.setLevel(level)
    if log_format == "json":
        logging.captureWarnings(True)
        logging.getLogger("py.warnings").setLevel(logging.WARNING)
        logging.getLogger(CLI_LOGGER).setLevel(min(level, logging.INFO))
    return handler
