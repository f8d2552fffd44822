"""A stand-in for Slack's Web API and ``response_url``s on 127.0.0.1, recording every call.

It answers ``{"ok": true, ...}`` to every method (``auth.test`` with a bot user id, as Bolt
asks at start), so the real Bolt app and ``slack_sdk`` clients can run against it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER_ID = "U0QUOTEDESK"
BOT_ID = "B0QUOTEDESK"
TEAM_ID = "T0QUOTEDESK"
RESPONSE_METHOD = "response_url"


@dataclass(frozen=True)
class Call:
    """One request the stand-in received.

    Attributes:
        method: The Web API method (``chat.postMessage``), or ``response_url``.
        params: The arguments, from a JSON or form body (JSON-encoded form fields decoded).
        path: The request path.
    """

    method: str
    params: dict[str, Any]
    path: str
    at: float = field(default_factory=time.monotonic)


class StandIn:
    """The stand-in server. ``api_url`` is for ``SLACK_API_URL``; ``response_url(name)`` makes
    a URL to put in a command or action payload.

    Example:
        >>> with StandIn() as slack:
        ...     WebClient(token="xoxb-1", base_url=slack.api_url).auth_test()["user_id"]
        'U0QUOTEDESK'
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0):
        self.calls: list[Call] = []
        self._lock = threading.Condition()
        self._last = time.monotonic()  # when the last call arrived (or the stand-in was made)
        self._ts = 0
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.url + "/api/"

    def response_url(self, name: str = "1") -> str:
        return f"{self.url}/response/{name}"

    def start(self) -> StandIn:
        # A short poll interval: stop() waits up to one.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._last = time.monotonic()
            self._lock.notify_all()

    def next_ts(self) -> str:
        with self._lock:
            self._ts += 1
            return f"1700000000.{self._ts:06d}"

    def find(
        self, method: str | None = None, *, path: str | None = None, **where: Any
    ) -> list[Call]:
        """The calls to ``method`` (any, without one), at ``path`` if given, whose params
        include ``where``."""
        with self._lock:
            return [
                c
                for c in self.calls
                if (method is None or c.method == method)
                and (path is None or c.path == path)
                and all(c.params.get(key) == value for key, value in where.items())
            ]

    def wait_for(
        self,
        method: str | None = None,
        *,
        count: int = 1,
        timeout: float = 15.0,
        path: str | None = None,
        **where: Any,
    ) -> list[Call]:
        """Wait (at most ``timeout`` seconds) until ``count`` matching calls arrived."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = self.find(method, path=path, **where)
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    return found
                self._lock.wait(left)

    def wait_idle(self, *, quiet: float = 1.0, timeout: float = 15.0) -> bool:
        """Wait until no call has arrived for ``quiet`` seconds, counted from now at the
        earliest; False when ``timeout`` seconds passed first.

        For a bot out of reach (another process). In this process, waiting for the bot's
        listeners (``ListenerPool.wait_idle``) is exact; this is only a quiet spell.
        """
        start = time.monotonic()
        deadline = start + timeout
        with self._lock:
            while True:
                now = time.monotonic()
                calm_at = max(self._last, start) + quiet
                if now >= calm_at:
                    return True
                if now >= deadline:
                    return False
                self._lock.wait(min(calm_at, deadline) - now)

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """What the stand-in replies to ``method``."""
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://quotedesk-standin.slack.com/",
                "team": "Stand-in",
                "user": "quotedesk",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "is_enterprise_install": False,
            }
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = params.get("ts") or self.next_ts()
            message = {k: params[k] for k in ("text", "blocks", "thread_ts") if k in params}
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
        return {"ok": True}


def _handler(standin: StandIn) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
            params = _params(raw, self.headers.get("content-type") or "")
            if self.path.startswith("/api/"):
                method = self.path[len("/api/") :].split("?")[0]
                standin.record(Call(method, params, self.path))
                self._send("application/json", json.dumps(standin.answer(method, params)))
            elif self.path.startswith("/response/"):
                standin.record(Call(RESPONSE_METHOD, params, self.path))
                self._send("text/plain", "ok")
            else:
                self.send_error(404)

        def _send(self, content_type: str, body: str) -> None:
            data = body.encode()
            self.send_response(200)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # calls are recorded; stderr stays quiet

    return Handler


def _params(raw: str, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        data = json.loads(raw)
        return data if isinstance(data, dict) else {"body": data}
    params: dict[str, Any] = dict(parse_qsl(raw, keep_blank_values=True))
    for key in ("blocks", "attachments"):  # form posts carry these JSON-encoded
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params
