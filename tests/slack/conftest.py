"""The Slack bot over real HTTP: the WSGI app ``quotedesk serve`` runs, on 127.0.0.1, against a
stand-in of Slack's Web API that records every call."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from bot.slack.config import SlackConfig
from bot.slack.payloads import FORM, JSON, action_body, command_body, event_body, signed_headers
from bot.slack.server import SlackWsgi, create_wsgi_app
from bot.slack.standin import RESPONSE_METHOD, Call, StandIn
from retrieval import QuoteDesk

SECRET = "test-signing-secret"


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


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
    """One HTTP request with a timeout; any status comes back as a Reply."""
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return Reply(resp.status, resp.read().decode())
    except urllib.error.HTTPError as exc:
        return Reply(exc.code, exc.read().decode())


@dataclass
class Bot:
    """The running bot and the stand-in it talks to."""

    url: str
    wsgi: SlackWsgi
    slack: StandIn

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

    def command(self, name: str, text: str, *, response_url: str) -> Reply:
        return self.post(command_body(name, text, response_url=response_url), content_type=FORM)

    def click(self, action_id: str, value: str, *, response_url: str, **kw: Any) -> Reply:
        return self.post(
            action_body(action_id, value, response_url=response_url, **kw), content_type=FORM
        )

    def response_url(self) -> str:
        return self.slack.response_url(uuid.uuid4().hex)

    def responses(self, url: str, *, count: int = 1, timeout: float = 15.0) -> list[Call]:
        """Wait for ``count`` posts to ``url`` (a response_url)."""
        path = url[len(self.slack.url) :]
        return self.slack.wait_for(RESPONSE_METHOD, path=path, count=count, timeout=timeout)


@contextmanager
def serving(wsgi: SlackWsgi) -> Iterator[str]:
    """Serve ``wsgi`` on 127.0.0.1 on a free port; yields its base URL."""
    server = make_server(
        "127.0.0.1", 0, wsgi, server_class=ThreadingWSGIServer, handler_class=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def slack() -> Iterator[StandIn]:
    with StandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
def slack_config(slack: StandIn) -> SlackConfig:
    return SlackConfig(bot_token="xoxb-test", signing_secret=SECRET, api_url=slack.api_url)


@pytest.fixture(scope="session")
def bot(seed_desk: QuoteDesk, slack: StandIn, slack_config: SlackConfig) -> Iterator[Bot]:
    wsgi = create_wsgi_app(config=slack_config, desk=seed_desk)
    assert wsgi.ready.wait(60), "the model and index did not load"
    with serving(wsgi) as url:
        yield Bot(url=url, wsgi=wsgi, slack=slack)
