"""A stand-in for Slack on 127.0.0.1, recording every call: the Web API and ``response_url``s
over HTTP (:class:`StandIn`) and, on request, Socket Mode's WebSocket (:class:`SocketModeStandIn`).

It answers ``{"ok": true, ...}`` to every method (``auth.test`` with a bot user id, as Bolt
asks at start; ``apps.connections.open`` with the WebSocket's URL), so the real Bolt app and
``slack_sdk`` clients can run against it. It can also misbehave on purpose, a script of
:class:`Fault` s per method: rate limits, server errors, dropped connections, late answers.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import select
import socket
import struct
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

BOT_USER_ID = "U0QUOTEDESK"
BOT_ID = "B0QUOTEDESK"
TEAM_ID = "T0QUOTEDESK"
APP_ID = "A0QUOTEDESK"
RESPONSE_METHOD = "response_url"


@dataclass(frozen=True)
class Call:
    """One request the stand-in received.

    Attributes:
        method: The Web API method (``chat.postMessage``), or ``response_url``.
        params: The arguments, from a JSON or form body (JSON-encoded form fields decoded).
        path: The request path.
        at: When it arrived (``time.monotonic()``).
        status: The HTTP status answered; 0 for a connection closed without an answer.
        applied: Whether it took effect (a message was posted). False for the attempts a
            :class:`Fault` refused; true for one that did the work and then failed to say so.
    """

    method: str
    params: dict[str, Any]
    path: str
    at: float = field(default_factory=time.monotonic)
    status: int = 200
    applied: bool = True


@dataclass(frozen=True)
class Fault:
    """How the stand-in misbehaves for one call; build one with the class methods.

    Attributes:
        status: Answer with this HTTP status (and ``Retry-After`` for 429); 0 for none.
        retry_after: ``Retry-After`` in seconds, for 429.
        drop: Close the connection without answering.
        delay: Answer this many seconds late (meant to be past the client's timeout).
        applied: Whether the call takes effect all the same: a server that did the work and
            then failed to say so, the case where a retry would post twice.
    """

    status: int = 0
    retry_after: int | None = None
    drop: bool = False
    delay: float = 0.0
    applied: bool = False

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> Fault:
        """429 ``ratelimited``: Slack did nothing and says when to come back."""
        return cls(status=429, retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500, *, applied: bool = False) -> Fault:
        """A 5xx answer."""
        return cls(status=status, applied=applied)

    @classmethod
    def dropped(cls, *, applied: bool = True) -> Fault:
        """The request is read, then the connection is closed without an answer."""
        return cls(drop=True, applied=applied)

    @classmethod
    def late(cls, delay: float, *, applied: bool = True) -> Fault:
        """The answer comes ``delay`` seconds late; by default the work was done."""
        return cls(delay=delay, applied=applied)


class StandIn:
    """The stand-in server. ``api_url`` is for ``SLACK_API_URL``; ``response_url(name)`` makes
    a URL to put in a command or action payload. With ``socket_mode=True`` it also runs a
    :class:`SocketModeStandIn` (``socket``), whose URL ``apps.connections.open`` returns.

    Example:
        >>> with StandIn() as slack:
        ...     WebClient(token="xoxb-1", base_url=slack.api_url).auth_test()["user_id"]
        'U0QUOTEDESK'
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, socket_mode: bool = False):
        self.calls: list[Call] = []
        self._lock = threading.Condition()
        self._last = time.monotonic()  # when the last call arrived (or the stand-in was made)
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
        self,
        method: str | None = None,
        *,
        path: str | None = None,
        applied: bool | None = None,
        **where: Any,
    ) -> list[Call]:
        """The calls to ``method`` (any, without one), at ``path`` if given, that took effect
        or not as ``applied`` says (either, without it), whose params include ``where``."""
        with self._lock:
            return [
                c
                for c in self.calls
                if (method is None or c.method == method)
                and (path is None or c.path == path)
                and (applied is None or c.applied == applied)
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
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
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
            standin.record(Call(method, params, self.path))
            self._answer(method, params)

        def _answer(self, method: str, params: dict[str, Any]) -> None:
            if method == RESPONSE_METHOD:
                self._send(200, "text/plain", "ok")
            else:
                self._send(200, "application/json", json.dumps(standin.answer(method, params)))

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
                    self._answer(method, params)

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


# --- Socket Mode ---------------------------------------------------------------------------

# RFC 6455.
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA
# Bounds: what a Socket Mode client sends is small, and every wait has an end.
_MAX_HANDSHAKE = 16_384
_MAX_FRAME = 1_000_000
_HANDSHAKE_TIMEOUT = 5.0
_POLL = 0.1  # how often idle loops look at their stop flags


@dataclass(frozen=True)
class Ack:
    """A message the app sent back over Socket Mode with an ``envelope_id`` (its ack).

    Attributes:
        envelope_id: The envelope acknowledged.
        message: The whole message, e.g. ``{"envelope_id": "…"}``.
        link: The number of the connection it came on (0 for the first).
        at: When it arrived (``time.monotonic()``).
    """

    envelope_id: str
    message: dict[str, Any]
    link: int
    at: float = field(default_factory=time.monotonic)


class SocketModeStandIn:
    """Slack's Socket Mode server on 127.0.0.1: accepts the WebSocket ``apps.connections.open``
    handed out, says ``hello``, answers pings, delivers envelopes and records the acks. And it
    breaks the connection on demand: :meth:`refresh` (a ``disconnect`` message), :meth:`close`
    (a close frame), :meth:`cut` (the TCP connection dropped: FIN, or RST with ``reset``) and
    :meth:`go_silent` (the peer vanishes: nothing is read or answered any more).

    Example:
        >>> with StandIn(socket_mode=True) as slack:
        ...     ...  # start the app in Socket Mode against slack.api_url
        ...     slack.socket.wait_links(1)
        ...     envelope_id = slack.socket.send_event(json.loads(event_body(mention_event("hi"))))
        ...     slack.socket.wait_ack(envelope_id)
    """

    def __init__(self, host: str = "127.0.0.1"):
        self.acks: list[Ack] = []
        self.links: list[_Link] = []
        self.tickets: list[str] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._listener = socket.create_server((host, 0))
        self._listener.settimeout(_POLL)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._listener.getsockname()[:2]
        return str(host), int(port)

    def new_url(self) -> str:
        """A fresh connection URL, good for one connection, as ``apps.connections.open``
        returns."""
        ticket = uuid.uuid4().hex
        with self._changed:
            self.tickets.append(ticket)
        host, port = self.address
        return f"ws://{host}:{port}/link/?ticket={ticket}"

    def start(self) -> SocketModeStandIn:
        self._thread = threading.Thread(target=self._accept, name="standin-ws", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._changed:
            links = list(self.links)
        for link in links:  # each thread resets its connection on seeing the stop
            link.join(5)
        if self._thread is not None:
            self._thread.join(5)
        self._listener.close()

    # --- what the tests do -----------------------------------------------------------------

    def current(self) -> _Link:
        """The newest connection that is still open (where Slack would deliver)."""
        with self._changed:
            for link in reversed(self.links):
                if link.open:
                    return link
        raise ConnectionError("no open Socket Mode connection")

    def wait_links(self, count: int, *, timeout: float = 15.0) -> bool:
        """Wait until ``count`` connections have been opened in all (hello sent), the newest
        still open; False when ``timeout`` seconds passed first."""

        def ready() -> bool:
            return len(self.links) >= count and self.links[-1].open

        with self._changed:
            return self._changed.wait_for(ready, timeout=timeout)

    def send_event(self, body: dict[str, Any], *, retry_attempt: int = 0) -> str:
        """Deliver an Events API ``body`` (an ``event_callback``) on the current connection, in
        the Socket Mode envelope; returns the envelope id to wait for the ack."""
        envelope_id = str(uuid.uuid4())
        self.current().send_json(
            {
                "envelope_id": envelope_id,
                "type": "events_api",
                "payload": body,
                "accepts_response_payload": False,
                "retry_attempt": retry_attempt,
                "retry_reason": "",
            }
        )
        return envelope_id

    def wait_ack(self, envelope_id: str, *, timeout: float = 15.0) -> Ack | None:
        """The ack of ``envelope_id``, waiting at most ``timeout`` seconds for it."""

        def found() -> Ack | None:
            return next((a for a in self.acks if a.envelope_id == envelope_id), None)

        with self._changed:
            self._changed.wait_for(lambda: found() is not None, timeout=timeout)
            return found()

    def refresh(self, reason: str = "refresh_requested") -> None:
        """Ask the app to reconnect, as Slack does every few hours; the connection stays open
        until the app closes it."""
        self.current().send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "standin"}}
        )

    def close(self, code: int = 1001, reason: str = "going away") -> None:
        """Close the current connection with a close frame (the app answers with its own)."""
        self.current().close(code, reason)

    def cut(self, *, reset: bool = False) -> None:
        """Drop the current TCP connection without a close frame: FIN, or RST when ``reset``."""
        self.current().cut(reset=reset)

    def go_silent(self) -> None:
        """The current connection's peer vanishes: nothing is read or answered, not even
        pings, and no FIN or RST comes (a dead NAT entry, a cable pulled)."""
        self.current().silent = True

    # --- the server ------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed by stop()
            link = _Link(self, conn, number=len(self.links))
            link.start()

    def _redeem(self, ticket: str) -> bool:
        """Each URL opens one connection, as Slack's do."""
        with self._changed:
            if ticket not in self.tickets:
                return False
            self.tickets.remove(ticket)
            return True

    def _opened(self, link: _Link) -> None:
        with self._changed:
            self.links.append(link)
            link.number = len(self.links) - 1
            self._changed.notify_all()

    def _acked(self, link: _Link, message: dict[str, Any]) -> None:
        with self._changed:
            self.acks.append(Ack(str(message["envelope_id"]), message, link.number))
            self._changed.notify_all()

    def _closed(self) -> None:
        with self._changed:
            self._changed.notify_all()


class _Link:
    """One WebSocket connection of :class:`SocketModeStandIn`, served by its own thread; only
    that thread closes the socket (closing it under another thread's ``select`` is a race)."""

    def __init__(self, server: SocketModeStandIn, sock: socket.socket, *, number: int):
        self.server = server
        self.sock = sock
        self.number = number
        self.path = ""
        self.open = False  # handshake done and not closed by either side
        self.silent = False
        self._close_sent = False
        self._cut: bool | None = None  # a cut asked for: True for RST, False for FIN
        self._done = threading.Event()
        self._send_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="standin-ws-link", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def send_json(self, message: dict[str, Any]) -> None:
        self._send(_TEXT, json.dumps(message).encode())

    def close(self, code: int, reason: str) -> None:
        """Send a close frame; the thread waits for the app's, then closes the socket."""
        self._close_sent = True
        self._send(_CLOSE, struct.pack("!H", code) + reason.encode())

    def cut(self, *, reset: bool) -> None:
        """Have the thread drop the connection, and wait (a little) until it has."""
        self.open = False
        self._cut = reset
        self._done.wait(2 * _POLL + 1)

    def _send(self, opcode: int, payload: bytes) -> None:
        with self._send_lock:
            self.sock.sendall(_frame(opcode, payload))

    def _run(self) -> None:
        try:
            if self._handshake():
                self.open = True
                self.server._opened(self)
                self.send_json(
                    {
                        "type": "hello",
                        "num_connections": 1,
                        "debug_info": {"host": "standin", "approximate_connection_time": 3600},
                        "connection_info": {"app_id": APP_ID},
                    }
                )
                self._serve()
        except OSError:
            pass  # the app went away
        finally:
            self.open = False
            with contextlib.suppress(OSError):
                if self._cut:  # linger 0: close() sends RST instead of FIN
                    self.sock.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                elif self._cut is False:
                    self.sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                self.sock.close()
            self._done.set()
            self.server._closed()

    def _handshake(self) -> bool:
        self.sock.settimeout(_HANDSHAKE_TIMEOUT)
        request = b""
        while b"\r\n\r\n" not in request:
            chunk = self.sock.recv(4096)
            if not chunk or len(request) + len(chunk) > _MAX_HANDSHAKE:
                return False
            request += chunk
        head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
        parts = head[0].split(" ")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head[1:])
        }
        self.path = parts[1] if len(parts) > 1 else ""
        ticket = dict(parse_qsl(self.path.partition("?")[2])).get("ticket", "")
        key = headers.get("sec-websocket-key", "")
        if headers.get("upgrade", "").lower() != "websocket" or not key:
            self.sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return False
        if not self.server._redeem(ticket):
            self.sock.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
            return False
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        self.sock.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        self.sock.settimeout(None)
        return True

    def _serve(self) -> None:
        buffer = b""
        while self._cut is None and not self.server._stop.is_set():
            if self.silent:  # neither read nor answer until cut or stopped
                self.server._stop.wait(_POLL)
                continue
            ready, _, _ = select.select([self.sock], [], [], _POLL)
            if not ready:
                continue
            chunk = self.sock.recv(65536)
            if not chunk:
                return  # the app closed the TCP connection
            buffer += chunk
            while (parsed := _parse_frame(buffer)) is not None:
                opcode, payload, buffer = parsed
                if not self._on_frame(opcode, payload):
                    return
        if self._cut is None:
            self._cut = True  # the stand-in stops: reset whatever is left

    def _on_frame(self, opcode: int, payload: bytes) -> bool:
        """Handle one frame from the app; False once the connection is over."""
        if opcode == _PING:
            self._send(_PONG, payload)
        elif opcode == _CLOSE:
            self.open = False
            if not self._close_sent:  # the app closes: answer with a close frame
                with contextlib.suppress(OSError):
                    self._send(_CLOSE, payload[:2])
            return False
        elif opcode == _TEXT:
            with contextlib.suppress(ValueError):
                message = json.loads(payload.decode())
                if isinstance(message, dict) and "envelope_id" in message:
                    self.server._acked(self, message)
        return True


def _frame(opcode: int, payload: bytes) -> bytes:
    """A server frame (never masked), final, of ``opcode``."""
    head = bytes([0x80 | opcode])
    if len(payload) < 126:
        head += bytes([len(payload)])
    elif len(payload) < 1 << 16:
        head += bytes([126]) + struct.pack("!H", len(payload))
    else:
        head += bytes([127]) + struct.pack("!Q", len(payload))
    return head + payload


def _parse_frame(data: bytes) -> tuple[int, bytes, bytes] | None:
    """``(opcode, unmasked payload, rest)`` of the first whole frame in ``data``, or None when
    it is not all there yet.

    Raises:
        OSError: A frame over ``_MAX_FRAME`` bytes: not from a Socket Mode client.
    """
    if len(data) < 2:
        return None
    opcode, masked, length = data[0] & 0x0F, data[1] & 0x80, data[1] & 0x7F
    offset = 2
    if length == 126:
        if len(data) < 4:
            return None
        (length,) = struct.unpack("!H", data[2:4])
        offset = 4
    elif length == 127:
        if len(data) < 10:
            return None
        (length,) = struct.unpack("!Q", data[2:10])
        offset = 10
    if length > _MAX_FRAME:
        raise OSError(f"a frame of {length} bytes")
    mask = b""
    if masked:
        mask, offset = data[offset : offset + 4], offset + 4
    if len(data) < offset + length:
        return None
    payload = data[offset : offset + length]
    if masked:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return opcode, payload, data[offset + length :]
