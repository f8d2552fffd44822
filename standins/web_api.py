"""A stand-in for Slack's Web API and ``response_url`` s on 127.0.0.1, over HTTP, recording
every call (:class:`StandIn`).

It answers ``{"ok": true, ...}`` to every method (``auth.test`` with a bot user id, as Bolt
asks at start; ``apps.connections.open`` with the URL of its Socket Mode stand-in), so the real
Bolt app and ``slack_sdk`` clients can run against it. It can also misbehave on purpose, a
script of :class:`~standins.faults.Fault` s per method.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from standins.calls import Call, CallLog
from standins.faults import Fault
from standins.socket_mode import SocketModeStandIn
from standins.workspace import BOT_ID, BOT_USER_ID, TEAM_ID

RESPONSE_METHOD = "response_url"


class StandIn(CallLog):
    """The stand-in server. ``api_url`` is for ``SLACK_API_URL``; ``response_url(name)`` makes
    a URL to put in a command or action payload. With ``socket_mode=True`` it also runs a
    :class:`~standins.socket_mode.SocketModeStandIn` (``socket``), whose URL
    ``apps.connections.open`` returns. The calls it received: see
    :class:`~standins.calls.CallLog`.

    Example:
        >>> from slack_sdk import WebClient
        >>> with StandIn() as slack:
        ...     WebClient(token="xoxb-1", base_url=slack.api_url).auth_test()["user_id"]
        'U0QUOTEDESK'
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, socket_mode: bool = False):
        super().__init__()
        self._ts = 0
        self._faults: dict[str, deque[Fault]] = {}
        self._stopping = threading.Event()  # wakes the handlers sleeping on a late answer
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.socket = SocketModeStandIn(host) if socket_mode else None

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
        if self.socket is not None:
            self.socket.start()
        # A short poll interval: stop() waits up to one.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        if self.socket is not None:
            self.socket.stop()

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def fail(self, method: str, *faults: Fault) -> None:
        """Script the next calls to ``method`` (or ``response_url``): the first call gets the
        first fault, and so on; calls after the last fault are answered normally."""
        with self._lock:
            self._faults.setdefault(method, deque()).extend(faults)

    def next_fault(self, method: str) -> Fault | None:
        with self._lock:
            script = self._faults.get(method)
            return script.popleft() if script else None

    def next_ts(self) -> str:
        with self._lock:
            self._ts += 1
            return f"1700000000.{self._ts:06d}"

    def clear(self) -> None:
        """Forget the calls and the faults still scripted."""
        with self._lock:
            super().clear()
            self._faults.clear()

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
        if method == "apps.connections.open":
            if self.socket is None:
                return {"ok": False, "error": "socket_mode_not_enabled"}
            return {"ok": True, "url": self.socket.new_url()}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = params.get("ts") or self.next_ts()
            message = {k: params[k] for k in ("text", "blocks", "thread_ts") if k in params}
            channel = params.get("channel")
            if isinstance(channel, str) and channel[:1] in ("U", "W"):
                channel = "D" + channel[1:]  # a post to a person lands in their DM with the app
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        return {"ok": True}


def _handler(standin: StandIn) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            raw = self.rfile.read(int(self.headers.get("content-length") or 0)).decode()
            params = _params(raw, self.headers.get("content-type") or "")
            if self.path.startswith("/api/"):
                method = self.path[len("/api/") :].split("?")[0]
            elif self.path.startswith("/response/"):
                method = RESPONSE_METHOD
            else:
                self.send_error(404)
                return
            fault = standin.next_fault(method)
            if fault is not None:
                self._misbehave(fault, method, params)
                return
            reply = None if method == RESPONSE_METHOD else standin.answer(method, params)
            standin.record(Call(method, params, self.path, reply=reply))
            self._answer(reply)

        def _answer(self, reply: dict[str, Any] | None) -> None:
            if reply is None:
                self._send(200, "text/plain", "ok")
            else:
                self._send(200, "application/json", json.dumps(reply))

        def _misbehave(self, fault: Fault, method: str, params: dict[str, Any]) -> None:
            status = 0 if fault.drop else (fault.status or 200)
            standin.record(Call(method, params, self.path, status=status, applied=fault.applied))
            if fault.drop:
                self.close_connection = True  # no answer: the client sees the socket close
                with contextlib.suppress(OSError):
                    self.connection.shutdown(socket.SHUT_RDWR)
            elif fault.status == 429:
                body = json.dumps({"ok": False, "error": "ratelimited"})
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                self._send(429, "application/json", body, headers)
            elif fault.status:
                self._send(fault.status, "text/plain", f"HTTP {fault.status} from the stand-in")
            else:
                # Late: the client has given up by now; it finds a closed socket, or not.
                standin._stopping.wait(fault.delay)
                with contextlib.suppress(OSError):
                    late = None if method == RESPONSE_METHOD else standin.answer(method, params)
                    self._answer(late)

        def _send(
            self, status: int, content_type: str, body: str, headers: dict[str, str] | None = None
        ) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
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
