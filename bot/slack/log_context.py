"""Every line the bot logs while handling a Slack request names that request's event and the
corpus version answering it (:func:`bot.logs.bind`).

:func:`log_context` is a Bolt middleware setting both in :mod:`contextvars`. Two things make
them reach the right lines and no others, both in :class:`LoggedApp`:

- Bolt runs listeners in its listener executor, and a thread pool's threads do not inherit
  the submitter's context (Bolt's ``ThreadListenerRunner`` submits a plain closure): the
  executor is wrapped to run each listener in a copy of the context it was submitted from;
- a server's thread handles one request after another: each dispatch runs in a copy of the
  thread's context, so what it set is gone when it returns (a health check after it, or the
  refusal of a forged request, names no event).
"""

from __future__ import annotations

import contextvars
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, TypeVar

from slack_bolt import App, BoltRequest, BoltResponse

from bot import logs
from retrieval import QuoteDesk

T = TypeVar("T")

# Bolt's own default for its listener executor.
LISTENER_THREADS = 5
# Seconds the corpus version is read again after (it changes when an ingest goes live).
VERSION_TTL = 2.0
# What of an id is kept: Slack's ids are short and plain; anything else is cut.
_ID = re.compile(r"[^A-Za-z0-9._:-]")
MAX_ID = 64


class ContextExecutor(Executor):
    """``inner``, running each function submitted in a copy of the submitter's context.

    Example:
        >>> var = contextvars.ContextVar("var", default="unset")
        >>> pool = ContextExecutor(ThreadPoolExecutor(max_workers=1))
        >>> _ = var.set("the submitter's")
        >>> pool.submit(var.get).result()
        "the submitter's"
        >>> pool.shutdown()
    """

    def __init__(self, inner: Executor):
        self.inner = inner

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        return self.inner.submit(contextvars.copy_context().run, fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.inner.shutdown(wait=wait, cancel_futures=cancel_futures)


class LoggedApp(App):  # type: ignore[misc]
    """Bolt's ``App``, carrying the logging context into its listeners and keeping each
    request's to itself (see the module's docstring). Its listener executor is
    ``listener_executor`` (Bolt's default, a pool of five threads, when None), wrapped."""

    def __init__(self, *, listener_executor: Executor | None = None, **kwargs: Any):
        inner = listener_executor or ThreadPoolExecutor(max_workers=LISTENER_THREADS)
        super().__init__(listener_executor=ContextExecutor(inner), **kwargs)

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        return contextvars.copy_context().run(super().dispatch, req)


def request_id(body: dict[str, Any]) -> str | None:
    """What names a request in the logs: an event's ``event_id``, an interaction's or a
    command's ``trigger_id``, else its type (``block_actions``, ``view_closed``…).

    Example:
        >>> request_id({"type": "event_callback", "event_id": "Ev0123"})
        'Ev0123'
        >>> request_id({"type": "block_actions", "trigger_id": "123.456.ab\\ncd"})
        '123.456.abcd'
        >>> request_id({"type": "view_closed"}), request_id({})
        ('view_closed', None)
    """
    for key in ("event_id", "trigger_id", "type"):
        value = body.get(key)
        if isinstance(value, str) and value:
            return _ID.sub("", value)[:MAX_ID] or None
    return None


def log_context(desk: QuoteDesk, *, ttl: float = VERSION_TTL) -> Callable[..., None]:
    """Middleware: :func:`bot.logs.bind` the request's id (:func:`request_id`) and the
    corpus version of ``desk`` (read at most once every ``ttl`` seconds; None when it cannot
    be read: the request goes on, it is only a log's context)."""
    lock = threading.Lock()
    cached: list[Any] = [float("-inf"), None]  # read at, version

    def version() -> str | None:
        now = time.monotonic()
        with lock:
            if now - cached[0] < ttl:
                return cached[1]
        try:
            value = desk.store.corpus_version()
        except Exception:  # the database's trouble shows where the bot uses it
            return cached[1]
        with lock:
            cached[:] = [now, value]
        return value

    def middleware(body: dict[str, Any], next: Callable[[], None]) -> None:
        logs.bind(event_id=request_id(body), corpus_version=version())
        next()

    return middleware
