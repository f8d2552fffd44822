"""The WSGI app ``quotedesk serve`` runs under gunicorn: ``POST /slack/events`` (events, slash
commands and interactivity, as the manifest names it), ``GET /healthz`` and ``GET /metrics``
(:mod:`bot.slack.metrics`, summed over gunicorn's workers).

Every request to ``/slack/events`` is checked here before Bolt sees it, whatever Bolt's own
settings: its body is read in bounded memory (413 over ``MAX_BODY``, declared or chunked), its
signature verified with the signing secret (401 when wrong, missing or older than five
minutes; the app refuses to start without a secret), and a signed body that is not a JSON
object or a form, or not shaped like Slack's payloads (:mod:`bot.slack.shape`), gets a 400.
Bolt would raise on those, and a 500 makes Slack retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import parse_body

from bot.slack import metrics
from bot.slack.app import build_app
from bot.slack.config import SWITCH_INTERVAL, SlackConfig, SlackConfigError
from bot.slack.retention import HistoryPruner
from bot.slack.shape import shape_problem
from bot.store import BotStore
from retrieval import QuoteDesk, Settings

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = metrics.METRICS_PATH
# Slack's payloads are far smaller; anything bigger is not from Slack.
MAX_BODY = 1_000_000
NO_SECRET = (
    "SLACK_SIGNING_SECRET is not set: the HTTP server verifies every request with it and "
    "will not start without it"
)
# Slack signs the time it sent a request; an older (or later) one is a replay: Slack's rule.
MAX_CLOCK_SKEW = 5 * 60

# Bolt's own default for its listener executor.
LISTENER_THREADS = 5

log = logging.getLogger(__name__)

T = TypeVar("T")


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener executor, counting the listeners still running.

    Bolt acknowledges a request and runs its listener here afterwards, so the HTTP reply says
    nothing about whether the bot has finished answering; :meth:`wait_idle` does. Bolt submits
    the listener before it returns the acknowledgement, so once a reply has been received,
    waiting for idle covers everything that request started. Bolt is given it as
    ``build_app(config=config, desk=desk, listener_executor=pool)``.

    Example:
        >>> pool = ListenerPool(max_workers=1)
        >>> go = threading.Event()
        >>> _ = pool.submit(go.wait)
        >>> pool.busy
        1
        >>> go.set()
        >>> pool.wait_idle(timeout=10), pool.busy
        (True, 0)
        >>> pool.shutdown()
    """

    def __init__(self, max_workers: int = LISTENER_THREADS):
        super().__init__(max_workers=max_workers, thread_name_prefix="quotedesk-listener")
        self._busy = 0
        self._changed = threading.Condition()

    @property
    def busy(self) -> int:
        """Listeners submitted and not finished."""
        with self._changed:
            return self._busy

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        with self._changed:
            self._busy += 1
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:
            self._finished()
            raise
        future.add_done_callback(lambda _: self._finished())
        return future

    def wait_idle(self, *, timeout: float) -> bool:
        """Wait until no listener is running; False when ``timeout`` seconds passed first."""
        with self._changed:
            return self._changed.wait_for(lambda: self._busy == 0, timeout=timeout)

    def _finished(self) -> None:
        with self._changed:
            self._busy -= 1
            self._changed.notify_all()


def signature_is_valid(
    secret: str, body: bytes, timestamp: str, signature: str, *, now: float | None = None
) -> bool:
    """Whether ``signature`` is Slack's for ``body`` sent at ``timestamp``, within five minutes
    of ``now``: ``v0=`` and the HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing
    secret.

    Unlike ``slack_sdk``'s verifier, which raises on a timestamp that is no number or a
    signature with non-ASCII characters, this one finds any header value merely invalid.

    Example:
        >>> mac = hmac.new(b"s", b"v0:1:{}", hashlib.sha256).hexdigest()
        >>> signature_is_valid("s", b"{}", "1", "v0=" + mac, now=1)
        True
    """
    if not secret or not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) < 16):
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > MAX_CLOCK_SKEW:
        return False
    expected = hmac.new(
        secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(("v0=" + expected).encode(), signature.encode("utf-8", "replace"))


class Refused(Exception):
    """A request answered with ``status`` before it reaches Bolt."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def read_body(environ: WSGIEnvironment, *, limit: int = MAX_BODY) -> bytes:
    """The request's body, never more than ``limit`` bytes of it read.

    Raises:
        Refused: 413 when the body is (or is declared) longer than ``limit``; 400 for a
            Content-Length that is no length or a body shorter than it; 411 for a chunked
            body a server cannot end for us (gunicorn can; wsgiref's development server
            cannot, and reading would wait for the client to hang up).
    """
    stream = environ.get("wsgi.input")
    declared = str(environ.get("CONTENT_LENGTH") or "").strip()
    if declared:
        if not declared.isdigit() or len(declared) > 15:
            raise Refused(400, "Bad Request")
        length = int(declared)
        if length > limit:
            raise Refused(413, "Payload Too Large")
        data = stream.read(length) if stream is not None and length else b""
        if len(data) != length:
            raise Refused(400, "Bad Request")
        return bytes(data)
    if "chunked" not in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower():
        return b""
    if stream is None or not environ.get("wsgi.input_terminated"):
        raise Refused(411, "Length Required")
    data = stream.read(limit + 1)  # the server ends the stream at the last chunk
    if len(data) > limit:
        raise Refused(413, "Payload Too Large")
    return bytes(data)


class SlackWsgi:
    """Routes requests to the Bolt app and answers health checks.

    Args:
        app: The Bolt app.
        ready: Set once the model and the index are loaded; until then /healthz is 503.
        signing_secret: Every request to /slack/events must be signed with it.
        listeners: The app's listener executor, when it is a :class:`ListenerPool`.
        desk: The desk the app answers from, whose corpus ``/metrics`` describes.

    Attributes:
        failed: Why loading failed (/healthz stays 503), or None.
        warmer: The thread loading the model and the index, once started.
        pruner: The thread forgetting old deliveries and feedback, once started.

    Raises:
        SlackConfigError: ``signing_secret`` is empty: there is no serving Slack over HTTP
            without checking who sent each request.
    """

    def __init__(
        self,
        app: App,
        *,
        ready: threading.Event,
        signing_secret: str,
        listeners: ListenerPool | None = None,
        desk: QuoteDesk | None = None,
    ):
        if not signing_secret.strip():
            raise SlackConfigError(NO_SECRET)
        self.app = app
        self.ready = ready
        self.listeners = listeners
        self.failed: str | None = None
        self.warmer: threading.Thread | None = None
        self.pruner: HistoryPruner | None = None
        self._secret = signing_secret
        self.corpus = metrics.CorpusCollector(desk) if desk is not None else None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = WsgiHttpRequest(environ)
        if request.path == METRICS_PATH and request.method in ("GET", "HEAD"):
            page, content_type = metrics.render(self.corpus)  # unsigned, as /healthz
            return _respond(start_response, 200, page, content_type=content_type)
        if request.path == HEALTH_PATH and request.method in ("GET", "HEAD"):
            status, body = self._health()
        elif request.path == EVENTS_PATH and request.method == "POST":
            status, body = self._dispatch(request)
        elif request.path in (HEALTH_PATH, EVENTS_PATH, METRICS_PATH):
            status, body = 405, "Method Not Allowed"
        else:
            status, body = 404, "Not Found"
        return _respond(start_response, status, body)

    def _health(self) -> tuple[int, str]:
        if self.failed:
            return 503, json.dumps({"ok": False, "status": "failed", "error": self.failed})
        if not self.ready.is_set():
            return 503, json.dumps({"ok": False, "status": "loading"})
        return 200, json.dumps({"ok": True, "status": "ready"})

    def _dispatch(self, request: WsgiHttpRequest) -> tuple[int, str]:
        try:
            data = read_body(request.environ)
        except Refused as refused:
            metrics.count_event(metrics.OTHER, "rejected")
            return refused.status, refused.reason
        headers = request.get_headers()
        if not signature_is_valid(
            self._secret,
            data,
            str(headers.get("x-slack-request-timestamp") or ""),
            str(headers.get("x-slack-signature") or ""),
        ):
            # Nothing of the request is logged: it is not Slack's, and it may be anything.
            log.info("refused a request without a valid signature (wrong, missing or stale)")
            metrics.count_event(metrics.OTHER, "rejected")
            return 401, "Unauthorized"
        # Signed with our secret from here on: Slack's, or whoever holds the secret.
        try:
            raw = data.decode("utf-8")
            body = parse_body(raw, str(headers.get("content-type") or ""))
            problem = shape_problem(body) if isinstance(body, dict) else "not an object"
            if problem is None:
                bolt_request = BoltRequest(body=raw, query=request.query_string, headers=headers)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError):
            problem = "not UTF-8, JSON or a form"
        if problem is not None:
            log.warning("refused a signed request that is not shaped like Slack's: %s", problem)
            metrics.count_event(metrics.OTHER, "rejected")
            return 400, "Bad Request"
        response = self.app.dispatch(bolt_request)
        return response.status, response.body


def _respond(
    start_response: StartResponse, status: int, body: str | bytes, *, content_type: str = ""
) -> list[bytes]:
    from http import HTTPStatus

    data = body.encode() if isinstance(body, str) else body
    if not content_type:
        json_body = data.startswith(b"{")
        content_type = "application/json" if json_body else "text/plain;charset=utf-8"
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("content-type", content_type), ("content-length", str(len(data)))],
    )
    return [data]


def create_wsgi_app(
    *,
    config: SlackConfig | None = None,
    settings: Settings | None = None,
    desk: QuoteDesk | None = None,
) -> SlackWsgi:
    """The WSGI app, loading the model and index in the background right away (gunicorn calls
    this in each worker; /healthz turns 200 when loading is done).

    Any WSGI server serves it, e.g. ``wsgiref.simple_server.make_server("127.0.0.1", 3000,
    create_wsgi_app()).serve_forever()``; with no arguments it needs Slack's credentials in the
    environment and loads the model, so there is no example to run here:
    ``tests/slack/conftest.py`` serves one on a fake desk.
    """
    config = config or SlackConfig.from_env("http")
    if not config.signing_secret.strip():  # before build_app calls Slack: refuse at once
        raise SlackConfigError(NO_SECRET)
    desk = desk or QuoteDesk(settings or Settings.resolve())
    ready = threading.Event()
    listeners = ListenerPool()
    records = BotStore(desk.store)
    app = build_app(config=config, desk=desk, listener_executor=listeners, records=records)
    wsgi = SlackWsgi(
        app, ready=ready, signing_secret=config.signing_secret, listeners=listeners, desk=desk
    )
    # Each worker prunes: a DELETE of rows already gone costs nothing.
    wsgi.pruner = HistoryPruner(records, days=config.retention_days).start()

    def warm() -> None:
        try:
            desk.warm()
        except Exception as exc:
            log.exception("could not load the model and the index")
            wsgi.failed = f"{exc.__class__.__name__}: {exc}"
        else:
            ready.set()

    wsgi.warmer = threading.Thread(target=warm, name="quotedesk-warm", daemon=True)
    wsgi.warmer.start()
    return wsgi


def serve(
    *,
    config: SlackConfig,
    settings: Settings,
    host: str = "0.0.0.0",
    port: int = 3000,
    workers: int = 1,
    threads: int = 4,
) -> None:
    """Run :func:`create_wsgi_app` under gunicorn (threaded workers) until stopped.

    Each worker builds its app after the fork and loads the model and index at once, in the
    background, so /healthz tells the platform when it may send traffic. (Loading torch
    before forking, as ``--preload`` would, is not safe with its thread pools.)
    """
    sys.setswitchinterval(SWITCH_INTERVAL)  # before the fork: workers inherit it
    # Each worker counts into its own files in a fresh directory, which /metrics sums.
    with metrics.multiprocess():
        options = gunicorn_options(host=host, port=port, workers=workers, threads=threads)
        run_gunicorn(
            lambda: create_wsgi_app(config=config, settings=settings),
            {**options, "child_exit": metrics.child_exit},
        )


def gunicorn_options(
    *, host: str, port: int, workers: int, threads: int, loglevel: str = "info"
) -> dict[str, object]:
    """How ``quotedesk serve`` runs gunicorn (the tests run it the same way)."""
    from bot.slack.gunicorn_log import GunicornLogger

    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": loglevel,
        # Its logs as the process's (text or JSON), no personal data, no query strings.
        "logger_class": GunicornLogger,
        # The first load of the model can take a while on a small machine.
        "timeout": 120,
        # gunicorn's control socket is one path per user: two servers on a host would clash.
        "control_socket_disable": True,
    }


def run_gunicorn(load: Callable[[], SlackWsgi], options: dict[str, object]) -> None:
    """Serve what ``load`` builds (called in each worker, after the fork) until stopped."""
    from gunicorn.app.base import BaseApplication

    class Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> SlackWsgi:
            return load()

    Gunicorn().run()
