"""The parts of RFC 6455 a WebSocket server needs, over a plain socket: reading the opening
handshake, the ``Sec-WebSocket-Accept`` answer, and server frames out, client frames in."""

from __future__ import annotations

import base64
import hashlib
import socket
import struct

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
# Bounds: what a Socket Mode client sends is small.
MAX_HANDSHAKE = 16_384
MAX_FRAME = 1_000_000

BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
UNAUTHORIZED = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"


def read_handshake(sock: socket.socket) -> tuple[str, dict[str, str]] | None:
    """The path and the headers (names lowercased) of the HTTP request on ``sock``; None when
    the connection closes first or the request is over ``MAX_HANDSHAKE`` bytes."""
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = sock.recv(4096)
        if not chunk or len(request) + len(chunk) > MAX_HANDSHAKE:
            return None
        request += chunk
    head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    parts = head[0].split(" ")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in head[1:])
    }
    return (parts[1] if len(parts) > 1 else ""), headers


def switching_protocols(key: str) -> bytes:
    """The server's answer to a handshake with ``Sec-WebSocket-Key: key``."""
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
    ).encode()


def frame(opcode: int, payload: bytes) -> bytes:
    """A server frame (never masked), final, of ``opcode``."""
    head = bytes([0x80 | opcode])
    if len(payload) < 126:
        head += bytes([len(payload)])
    elif len(payload) < 1 << 16:
        head += bytes([126]) + struct.pack("!H", len(payload))
    else:
        head += bytes([127]) + struct.pack("!Q", len(payload))
    return head + payload


def parse_frame(data: bytes) -> tuple[int, bytes, bytes] | None:
    """``(opcode, unmasked payload, rest)`` of the first whole frame in ``data``, or None when
    it is not all there yet.

    Raises:
        OSError: A frame over ``MAX_FRAME`` bytes: not from a Socket Mode client.
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
    if length > MAX_FRAME:
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
