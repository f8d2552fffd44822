"""A stand-in for Slack's Socket Mode server on 127.0.0.1 (:class:`SocketModeStandIn`): the
WebSocket that ``apps.connections.open`` hands out, with the envelopes it delivers and the acks
it records, and the ways a connection breaks, on demand."""

from __future__ import annotations

import contextlib
import json
import select
import socket
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from standins import websocket
from standins.websocket import CLOSE, PING, PONG, TEXT
from standins.workspace import APP_ID

# Every wait has an end.
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

    It is used from :class:`~standins.web_api.StandIn` with ``socket_mode=True``: once an app
    in Socket Mode has connected (``slack.socket.wait_links(1)``), ``envelope_id =
    slack.socket.send_event(event)`` delivers an event and ``slack.socket.wait_ack(envelope_id)``
    waits for the app's ack. That needs a running app, so there is no example to run here:
    ``tests/slack/test_socket_mode.py`` does it.
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

    def send_interactive(self, payload: dict[str, Any]) -> str:
        """Deliver an interactive ``payload`` (a button click, a shortcut) on the current
        connection, in the Socket Mode envelope; returns the envelope id to wait for the ack."""
        envelope_id = str(uuid.uuid4())
        self.current().send_json(
            {
                "envelope_id": envelope_id,
                "type": "interactive",
                "payload": payload,
                "accepts_response_payload": True,
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
        self._send(TEXT, json.dumps(message).encode())

    def close(self, code: int, reason: str) -> None:
        """Send a close frame; the thread waits for the app's, then closes the socket."""
        self._close_sent = True
        self._send(CLOSE, struct.pack("!H", code) + reason.encode())

    def cut(self, *, reset: bool) -> None:
        """Have the thread drop the connection, and wait (a little) until it has."""
        self.open = False
        self._cut = reset
        self._done.wait(2 * _POLL + 1)

    def _send(self, opcode: int, payload: bytes) -> None:
        with self._send_lock:
            self.sock.sendall(websocket.frame(opcode, payload))

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
        request = websocket.read_handshake(self.sock)
        if request is None:
            return False
        self.path, headers = request
        ticket = dict(parse_qsl(self.path.partition("?")[2])).get("ticket", "")
        key = headers.get("sec-websocket-key", "")
        if headers.get("upgrade", "").lower() != "websocket" or not key:
            self.sock.sendall(websocket.BAD_REQUEST)
            return False
        if not self.server._redeem(ticket):
            self.sock.sendall(websocket.UNAUTHORIZED)
            return False
        self.sock.sendall(websocket.switching_protocols(key))
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
            while (parsed := websocket.parse_frame(buffer)) is not None:
                opcode, payload, buffer = parsed
                if not self._on_frame(opcode, payload):
                    return
        if self._cut is None:
            self._cut = True  # the stand-in stops: reset whatever is left

    def _on_frame(self, opcode: int, payload: bytes) -> bool:
        """Handle one frame from the app; False once the connection is over."""
        if opcode == PING:
            self._send(PONG, payload)
        elif opcode == CLOSE:
            self.open = False
            if not self._close_sent:  # the app closes: answer with a close frame
                with contextlib.suppress(OSError):
                    self._send(CLOSE, payload[:2])
            return False
        elif opcode == TEXT:
            with contextlib.suppress(ValueError):
                message = json.loads(payload.decode())
                if isinstance(message, dict) and "envelope_id" in message:
                    self.server._acked(self, message)
        return True
