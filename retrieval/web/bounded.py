"""Decompression in bounded memory: :class:`BoundedDecoder`, a response body (gzip or
deflate) inflated step by step, and :func:`gunzip_bounded`, a whole gzip file (a
``sitemap.xml.gz``). Either stops at its limit: a gzip bomb (1 MB that inflates to 1 GB) is
refused after ``limit`` bytes rather than inflated whole.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

__all__ = ["BoundedDecoder", "TooLargeError", "gunzip_bounded"]


class TooLargeError(Exception):
    """More output than the limit (:attr:`BoundedDecoder.overflow` keeps what fitted)."""


class BoundedDecoder:
    """Decompresses a body in bounded steps: each step yields at most what is left of the
    limit (plus one byte, to know it was passed), so a gzip bomb is refused after ``limit``
    bytes rather than inflated whole. httpx's own decoders inflate each chunk completely.

    Raises:
        ValueError: (when made) A ``Content-Encoding`` other than gzip, deflate or identity.
    """

    def __init__(self, encoding: str, limit: int) -> None:
        self._limit = limit
        self._total = 0
        self._raw = False
        self._started = False
        # What fitted under the limit of the piece that passed it (for a truncated read).
        self.overflow = b""
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        codings = [c for c in codings if c != "identity"]
        if not codings:
            self._z: zlib._Decompress | None = None
        elif codings in (["gzip"], ["x-gzip"], ["deflate"]):
            # MAX_WBITS | 32: a gzip or zlib header, whichever is there. "deflate" is meant to
            # be zlib, but some servers send a raw stream; tried on the first chunk.
            self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)
            self._raw = codings == ["deflate"]
        else:
            # Only gzip and deflate are asked for (Accept-Encoding); anything else is a server
            # ignoring it.
            raise ValueError(f"unsupported Content-Encoding {encoding!r}")

    def feed(self, data: bytes) -> Iterator[bytes]:
        """``data``'s decompressed bytes, as they come.

        Raises:
            TooLargeError: Past the limit.
            zlib.error: The compressed stream is corrupt.
        """
        if self._z is None:
            yield self._count(data)
            return
        if self._raw and not self._started:
            self._started = True
            try:
                zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(data[:64], 1)
            except zlib.error:
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
        while data:
            if self._z.eof:
                # Concatenated gzip members (RFC 1952 allows several).
                data = self._z.unused_data + data
                self._z = zlib.decompressobj(zlib.MAX_WBITS | 32)
            out = self._z.decompress(data, self._limit - self._total + 1)
            data = self._z.unconsumed_tail
            if out:
                yield self._count(out)
            if not out and not data:
                break

    def finish(self) -> bool:
        """Whether the compressed stream was complete."""
        return self._z is None or self._z.eof

    def _count(self, out: bytes) -> bytes:
        room = self._limit - self._total
        self._total += len(out)
        if self._total > self._limit:
            self.overflow = out[: max(room, 0)]
            raise TooLargeError
        return out


def gunzip_bounded(data: bytes, limit: int) -> bytes:
    """``data`` (gzip) decompressed, refusing more than ``limit`` bytes of output.

    Raises:
        ValueError: Not gzip, cut short, or larger than ``limit`` once decompressed.
    """
    decoder = BoundedDecoder("gzip", limit)
    try:
        out = b"".join(decoder.feed(data))
    except TooLargeError:
        raise ValueError(f"larger than {limit:,} bytes once decompressed") from None
    except zlib.error as exc:
        raise ValueError(f"not valid gzip ({exc})") from None
    if not decoder.finish():
        raise ValueError("the gzip stream is cut short")
    return out
