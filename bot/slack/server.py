"""The WSGI app ``quotedesk serve`` runs under gunicorn: ``POST /slack/events`` (events, slash
commands and interactivity, as the manifest names it) and ``GET /healthz``.

Malformed requests get a 4xx here: Bolt would raise on a body that isn't JSON or a form.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from slack_bolt import App
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.request import BoltRequest
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

from bot.slack.app import build_app
from bot.slack.config import SlackConfig
from retrieval import QuoteDesk, Settings

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's payloads are far smaller; anything bigger is not from Slack.
MAX_BODY = 1_000_000

# Bolt's own default for its listener executor.
LISTENER_THREADS = 5

log = logging.getLogger(__name__)

T = TypeVar("T")


class ListenerPool(ThreadPoolExecutor):
    """Bolt's listener executor, counting the listeners still running.

    Bolt acknowledges a request and runs its listener here afterwards, so the HTTP reply says
    nothing about whether the bot has finished answering; :meth:`wait_idle` does. Bolt submits
    the listener before it returns the acknowledgement, so once a reply has been received,
    waiting for idle covers everything that request started.

    Example:
        >>> pool = ListenerPool()
        >>> app = build_app(config=config, desk=desk, listener_executor=pool)
        >>> pool.wait_idle(timeout=10)
        True
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


class SlackWsgi:
    """Routes requests to the Bolt app and answers health checks.

    Args:
        app: The Bolt app.
        ready: Set once the model and the index are loaded; until then /healthz is 503.
        signing_secret: To tell a forged malformed request (401) from a genuine one (400).
        listeners: The app's listener executor, when it is a :class:`ListenerPool`.

    Attributes:
        failed: Why loading failed (/healthz stays 503), or None.
        warmer: The thread loading the model and the index, once started.
    """

    def __init__(
        self,
        app: App,
        *,
        ready: threading.Event,
        signing_secret: str,
        listeners: ListenerPool | None = None,
    ):
        self.app = app
        self.ready = ready
        self.listeners = listeners
        self.failed: str | None = None
        self.warmer: threading.Thread | None = None
        self._verifier = SignatureVerifier(signing_secret)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = WsgiHttpRequest(environ)
        if request.path == HEALTH_PATH and request.method in ("GET", "HEAD"):
            status, body = self._health()
        elif request.path == EVENTS_PATH and request.method == "POST":
            status, body = self._dispatch(request)
        elif request.path in (HEALTH_PATH, EVENTS_PATH):
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
        length = int(request.environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY:
            return 413, "Payload Too Large"
        headers = request.get_headers()
        try:
            raw = request.get_body()
        except UnicodeDecodeError:
            return 400, "Bad Request"
        try:
            if not isinstance(parse_body(raw, str(headers.get("content-type") or "")), dict):
                return self._malformed(raw, headers)
            bolt_request = BoltRequest(body=raw, query=request.query_string, headers=headers)
        except (ValueError, TypeError, AttributeError, KeyError):  # not JSON, not a form, …
            return self._malformed(raw, headers)
        response = self.app.dispatch(bolt_request)
        return response.status, response.body

    def _malformed(self, raw: str, headers: Mapping[str, object]) -> tuple[int, str]:
        valid = self._verifier.is_valid(
            body=raw,
            timestamp=str(headers.get("x-slack-request-timestamp") or ""),
            signature=str(headers.get("x-slack-signature") or ""),
        )
        return (400, "Bad Request") if valid else (401, "Unauthorized")


def _respond(start_response: StartResponse, status: int, body: str) -> list[bytes]:
    from http import HTTPStatus

    data = body.encode()
    content_type = "application/json" if body.startswith("{") else "text/plain;charset=utf-8"
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

    Example:
        >>> from wsgiref.simple_server import make_server
        >>> make_server("127.0.0.1", 3000, create_wsgi_app()).serve_forever()
    """
    config = config or SlackConfig.from_env("http")
    desk = desk or QuoteDesk(settings or Settings.resolve())
    ready = threading.Event()
    listeners = ListenerPool()
    app = build_app(config=config, desk=desk, listener_executor=listeners)
    wsgi = SlackWsgi(app, ready=ready, signing_secret=config.signing_secret, listeners=listeners)

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
    from gunicorn.app.base import BaseApplication

    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "gthread",
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
        # The first load of the model can take a while on a small machine.
        "timeout": 120,
        # gunicorn's control socket is one path per user: two servers on a host would clash.
        "control_socket_disable": True,
    }

    class Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> SlackWsgi:
            return create_wsgi_app(config=config, settings=settings)

    Gunicorn().run()
