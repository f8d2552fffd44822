"""What the Slack bot's tests share besides fixtures: HTTP requests to the bot, the bot
served on 127.0.0.1 (:func:`running`), a desk double, and a fake desk over the seeds."""

from __future__ import annotations

import io
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import setup_testing_defaults

import pytest

from bot.slack.config import SlackConfig
from bot.slack.server import SlackWsgi, create_wsgi_app
from retrieval import QuoteDesk
from standins.calls import Call
from standins.payloads import FORM, JSON, action_body, command_body, event_body, signed_headers
from standins.web_api import RESPONSE_METHOD, StandIn
from tests.helpers import SEEDS, FakeEncoder, copy_data_dir, open_desk

SECRET = "test-signing-secret"
# Upper bound on any wait: a listener on the fake desk takes milliseconds.
WAIT = 20.0


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Reply:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    url: str,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    method: str | None = None,
) -> Reply:
    """One HTTP request with a timeout; any status comes back as a Reply."""
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=WAIT) as resp:
            return Reply(resp.status, resp.read().decode())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read().decode())


def call(wsgi: SlackWsgi, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """One POST to /slack/events through the WSGI app, as a server would make it."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.input": io.BytesIO(data),
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
    setup_testing_defaults(environ)
    started: list[str] = []

    def start_response(status: str, _headers: list[tuple[str, str]], _exc: Any = None) -> Any:
        started.append(status)
        return lambda _data: None

    body = b"".join(wsgi(environ, start_response))
    return int(started[0].split()[0]), body


def channel(prefix: str = "C") -> str:
    """A channel of its own for each test (``D`` for a DM), so replies are told apart."""
    return prefix + uuid.uuid4().hex[:10].upper()


@dataclass
class Bot:
    """The running bot and the stand-in it talks to; ``wsgi`` is None for a bot in another
    process."""

    url: str
    slack: StandIn
    wsgi: SlackWsgi | None = None

    def post(
        self,
        body: str,
        *,
        content_type: str = JSON,
        secret: str = SECRET,
        timestamp: int | None = None,
        extra: dict[str, str] | None = None,
    ) -> Reply:
        headers = signed_headers(
            body, secret=secret, timestamp=timestamp, content_type=content_type
        )
        return request(self.url + "/slack/events", body.encode(), {**headers, **(extra or {})})

    def event(self, event: dict[str, Any], *, event_id: str | None = None, **kw: Any) -> Reply:
        return self.post(event_body(event, event_id=event_id), **kw)

    def command(self, name: str, text: str, *, response_url: str, **kw: Any) -> Reply:
        return self.post(
            command_body(name, text, response_url=response_url, **kw), content_type=FORM
        )

    def click(self, action_id: str, value: str, *, response_url: str, **kw: Any) -> Reply:
        return self.post(
            action_body(action_id, value, response_url=response_url, **kw), content_type=FORM
        )

    def response_url(self) -> str:
        return self.slack.response_url(uuid.uuid4().hex)

    def settle(self, timeout: float = WAIT) -> None:
        """Wait until the bot has finished all it started for the requests sent so far."""
        if self.wsgi is not None and self.wsgi.listeners is not None:
            idle = self.wsgi.listeners.wait_idle(timeout=timeout)
        else:  # out of reach: a quiet spell at the stand-in is the best there is
            idle = self.slack.wait_idle(quiet=1.5, timeout=timeout)
        if not idle:
            pytest.fail(f"the bot was still busy after {timeout} s")

    def posts(self, channel: str) -> list[Call]:
        """Every message posted in ``channel``, once the bot is idle."""
        self.settle()
        return self.slack.find("chat.postMessage", channel=channel)

    def responses(self, url: str) -> list[Call]:
        """Every post to ``url`` (a response_url), once the bot is idle."""
        self.settle()
        return self.slack.find(RESPONSE_METHOD, path=url[len(self.slack.url) :])


class DeskDouble:
    """A desk that behaves like ``inner`` except where a test says: ``warm()`` and ``ask()``
    can wait for a gate (at most ``WAIT`` seconds) and then raise."""

    def __init__(
        self,
        inner: QuoteDesk,
        *,
        warm_gate: threading.Event | None = None,
        warm_error: Exception | None = None,
        ask_gate: threading.Event | None = None,
        ask_error: Exception | None = None,
    ):
        self._inner = inner
        self.warm_gate, self.warm_error = warm_gate, warm_error
        self.ask_gate, self.ask_error = ask_gate, ask_error
        self.asked: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def warm(self) -> None:
        if self.warm_gate is not None:
            self.warm_gate.wait(WAIT)
        if self.warm_error is not None:
            raise self.warm_error
        self._inner.warm()

    def ask(self, question: str, **kw: Any) -> Any:
        self.asked.append(question)
        if self.ask_gate is not None:
            self.ask_gate.wait(WAIT)
        if self.ask_error is not None:
            raise self.ask_error
        return self._inner.ask(question, **kw)


@contextmanager
def serving(wsgi: SlackWsgi) -> Iterator[str]:
    """Serve ``wsgi`` on 127.0.0.1 on a free port; yields its base URL."""
    server = make_server(
        "127.0.0.1", 0, wsgi, server_class=ThreadingWSGIServer, handler_class=QuietHandler
    )
    # A short poll interval: shutdown() waits up to one.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def running(
    desk: QuoteDesk | DeskDouble, *, slack: StandIn, config: SlackConfig, ready: bool = True
) -> Iterator[Bot]:
    """A bot of its own on ``desk``, served over HTTP; ``ready``: wait until it is loaded."""
    wsgi = create_wsgi_app(config=config, desk=desk)  # type: ignore[arg-type]
    if ready:
        assert wsgi.ready.wait(WAIT), f"the desk did not load: {wsgi.failed}"
    try:
        with serving(wsgi) as url:
            yield Bot(url=url, slack=slack, wsgi=wsgi)
    finally:
        if wsgi.listeners is not None:
            wsgi.listeners.shutdown(wait=True)


def fake_desk_at(data: Path, *, template: Path | None = None) -> QuoteDesk:
    """A desk over the seeds in ``data`` with :class:`FakeEncoder`: no model, fast.
    ``template``: a data dir holding the seeds (``seeded_data``) to copy there rather than
    ingesting them."""
    if template is not None:
        copy_data_dir(template, data)
    desk = open_desk(data, FakeEncoder())
    if template is None:
        desk.ingest(SEEDS)
    return desk
