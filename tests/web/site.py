"""A small web site on 127.0.0.1 for the fetching tests: stdlib ``http.server``, threaded,
on a port the system picks.

It serves :attr:`Site.pages` (path -> :class:`Page`): bodies with their content type and
headers, ``ETag``/``Last-Modified`` with ``304 Not Modified`` when a conditional request
matches, redirects, slow answers (a bounded sleep, cut short when the site stops), bodies
trickled a piece at a time, and huge bodies streamed without being held in memory. A path
without a page is a 404 (so robots.txt is absent unless a test adds one). Every request is
recorded (:attr:`Site.requests`: method, path, headers) for the tests' assertions.

Nothing here reaches beyond 127.0.0.1, and every sleep and stream is bounded.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

# Bounds on what a page may ask of the server, so a test that goes wrong still ends.
MAX_DELAY = 10.0
MAX_STREAM = 2_000_000_000
_CHUNK = 64 * 1024


@dataclass
class Page:
    """What the site answers for one path.

    Attributes:
        body: The body (a str is sent as UTF-8).
        content_type: The ``Content-Type`` header; ``None`` sends none.
        headers: More headers (they may override ``Content-Length``: a lie about the size).
        status: The status.
        etag, last_modified: Validators sent, and matched against ``If-None-Match`` /
            ``If-Modified-Since`` (a match is a 304).
        redirect: A ``Location``: the answer is a redirect (302 unless ``status`` is 3xx).
        delay: Seconds to wait before answering.
        trickle: Seconds to wait between pieces of ``trickle_size`` bytes of the body.
        stream: Bytes of ``x`` sent after ``body``, generated as they go, with no
            ``Content-Length``: a huge response (until the client hangs up).
    """

    body: bytes | str = b""
    content_type: str | None = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    redirect: str | None = None
    delay: float = 0.0
    trickle: float = 0.0
    trickle_size: int = 1
    stream: int = 0

    @property
    def data(self) -> bytes:
        return self.body.encode() if isinstance(self.body, str) else self.body


@dataclass(frozen=True)
class Request:
    """One request the site received; ``headers`` with lowercased names."""

    method: str
    path: str
    headers: dict[str, str]


class Site:
    """The site; a context manager that starts and stops it.

    ``site.pages["/feed.xml"] = Page(...)`` adds a page (also while it runs);
    ``site.url("/feed.xml")`` is its URL; ``site.requests_to("/feed.xml")`` what was asked.
    """

    def __init__(self, pages: dict[str, Page] | None = None) -> None:
        self.pages: dict[str, Page] = dict(pages or {})
        self.requests: list[Request] = []
        # Body bytes written per path, and the paths whose handler has ended.
        self.sent: dict[str, int] = {}
        self.finished: dict[str, threading.Event] = {}
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def requests_to(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def wait_finished(self, path: str, timeout: float = 5.0) -> bool:
        """Whether the handler of the last request to ``path`` ended within ``timeout``."""
        with self._lock:
            event = self.finished.setdefault(path, threading.Event())
        return event.wait(timeout)

    def start(self) -> Site:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="test-site",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.closing.set()  # cuts every sleep and stream short
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> Site:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)
            self.finished[request.path] = threading.Event()

    def _count(self, path: str, sent: int) -> None:
        with self._lock:
            self.sent[path] = self.sent.get(path, 0) + sent

    def _finish(self, path: str) -> None:
        with self._lock:
            self.finished.setdefault(path, threading.Event()).set()


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # HTTP/1.0: one request a connection, a body without a length ends when it closes.
        protocol_version = "HTTP/1.0"

        def do_GET(self) -> None:
            site._record(Request("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
            try:
                self._answer(site.pages.get(self.path))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client hung up: what a size limit or a timeout does
            finally:
                site._finish(self.path)

        def _answer(self, page: Page | None) -> None:
            if page is None:
                self._send_plain(404, b"not found")
                return
            if page.delay:
                site.closing.wait(min(page.delay, MAX_DELAY))
            if page.redirect is not None:
                self.send_response(page.status if 300 <= page.status < 400 else 302)
                self.send_header("Location", page.redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if self._not_modified(page):
                self.send_response(304)
                if page.etag:
                    self.send_header("ETag", page.etag)
                self.end_headers()
                return
            data = page.data
            self.send_response(page.status)
            if page.content_type:
                self.send_header("Content-Type", page.content_type)
            if page.etag:
                self.send_header("ETag", page.etag)
            if page.last_modified:
                self.send_header("Last-Modified", page.last_modified)
            if not page.stream and "Content-Length" not in page.headers:
                self.send_header("Content-Length", str(len(data)))
            for name, value in page.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self._write_body(page, data)

        def _write_body(self, page: Page, data: bytes) -> None:
            if page.trickle:
                ends = time.monotonic() + MAX_DELAY
                step = max(1, page.trickle_size)
                for start in range(0, len(data), step):
                    if site.closing.is_set() or time.monotonic() > ends:
                        return
                    self._write(data[start : start + step])
                    site.closing.wait(page.trickle)
            else:
                self._write(data)
            left = min(page.stream, MAX_STREAM)
            block = b"x" * _CHUNK
            while left > 0 and not site.closing.is_set():
                piece = block[: min(left, _CHUNK)]
                self._write(piece)
                left -= len(piece)

        def _write(self, data: bytes) -> None:
            self.wfile.write(data)
            self.wfile.flush()
            site._count(self.path, len(data))

        def _not_modified(self, page: Page) -> bool:
            match = self.headers.get("If-None-Match")
            if page.etag and match:
                return page.etag in [m.strip() for m in match.split(",")] or match == "*"
            since = self.headers.get("If-Modified-Since")
            return bool(page.last_modified and since and since == page.last_modified)

        def _send_plain(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self._write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet: the requests are recorded instead

    return Handler


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
