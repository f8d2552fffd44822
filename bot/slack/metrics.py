"""What an operator watches: ``/metrics`` in Prometheus's text format (``quotedesk serve`` on its
port, ``quotedesk socket`` on ``PORT`` when one is given), through ``prometheus_client``.

Counted as the bot works (names prefixed ``quotedesk_``):

- ``questions_total{outcome}``: questions answered in Slack (``answered``) or not
  (``abstained``: nothing relevant enough to quote), whatever asked them;
- ``answer_seconds``: how long the desk took to answer (the whole ``desk.ask``), and
  ``answer_stage_seconds{stage}`` each stage of it (``encode``, ``dense``, ``lexical``,
  ``ranking``); ``answers_in_progress``: answers being built now;
- ``slack_events_total{type,outcome}``: requests from Slack by type (the event's, the
  interactive payload's, or the slash command) and what became of them: ``handled`` (passed
  to the listeners), ``duplicate`` (an ``event_id`` already handled: dropped), ``error`` (a
  listener failed unexpectedly, besides ``handled``), ``rejected`` (refused before Bolt saw
  it: a bad signature, too big, not shaped like Slack's; its type is not read: ``other``);
- ``slack_api_calls_total{method,outcome}``: Web API calls (``ok``, ``error``) after their
  retries, and ``slack_api_retries_total{method,reason}`` each retry (``rate_limited``,
  ``server_error``, ``connection``); ``response_url`` posts count as the method ``response_url``.

Read when scraped (:class:`CorpusCollector`): ``corpus_info{version}``, ``corpus_passages``,
``corpus_documents``, ``newest_document_age_seconds``, ``index_info{kind}`` and
``index_build_seconds`` (when the desk says).

Label values are bounded: unknown event and payload types, and commands other than ``/ask`` and
``/sources``, are ``other``.

gunicorn's workers are processes and a scrape reaches one of them: ``quotedesk serve`` turns on
``prometheus_client``'s multiprocess mode (:func:`multiprocess`), so each worker writes its
counts to a file in a directory of their own and a scrape sums them all. The metric objects are
made on first use (:func:`_made`), once per process, so that mode can be chosen after this module
is imported and tests building several apps in one process count into the same ones.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from slack_bolt import BoltContext
from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from retrieval import QuoteDesk

NAMESPACE = "quotedesk"
METRICS_PATH = "/metrics"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# prometheus_client's switch to multiprocess mode (its directory).
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

STAGES = ("encode", "dense", "lexical", "ranking")
# Event types the manifest subscribes to, and those Slack sends every app.
EVENT_TYPES = frozenset(
    {"app_mention", "message", "app_home_opened", "app_uninstalled", "tokens_revoked"}
)
# Interactive payloads: buttons, shortcuts, views, menus.
PAYLOAD_TYPES = frozenset(
    {
        "block_actions",
        "message_action",
        "shortcut",
        "view_submission",
        "view_closed",
        "block_suggestion",
        "interactive_message",
    }
)
COMMANDS = frozenset({"/ask", "/sources"})
OTHER = "other"

# Seconds: an answer takes tens of milliseconds on the seeds, a second is slow.
ANSWER_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

log = logging.getLogger(__name__)

# Where this process's metrics are registered (plain mode; multiprocess mode reads the files).
REGISTRY = CollectorRegistry(auto_describe=True)


@dataclass(frozen=True)
class _Metrics:
    questions: Counter
    answer_seconds: Histogram
    stage_seconds: Histogram
    in_progress: Gauge
    events: Counter
    api_calls: Counter
    retries: Counter


_lock = threading.Lock()
_metrics: _Metrics | None = None


def _made() -> _Metrics:
    """The metric objects, made on first use (once per process)."""
    global _metrics
    if _metrics is not None:
        return _metrics
    with _lock:
        if _metrics is None:
            ns, reg = NAMESPACE, REGISTRY
            _metrics = _Metrics(
                questions=Counter(
                    "questions",
                    "Questions answered in Slack, by outcome.",
                    ["outcome"],
                    namespace=ns,
                    registry=reg,
                ),
                answer_seconds=Histogram(
                    "answer_seconds",
                    "Seconds to answer a question.",
                    buckets=ANSWER_BUCKETS,
                    namespace=ns,
                    registry=reg,
                ),
                stage_seconds=Histogram(
                    "answer_stage_seconds",
                    "Seconds of each stage of answering.",
                    ["stage"],
                    buckets=STAGE_BUCKETS,
                    namespace=ns,
                    registry=reg,
                ),
                in_progress=Gauge(
                    "answers_in_progress",
                    "Answers being built now.",
                    multiprocess_mode="livesum",  # the live workers', summed
                    namespace=ns,
                    registry=reg,
                ),
                events=Counter(
                    "slack_events",
                    "Requests from Slack, by type and outcome.",
                    ["type", "outcome"],
                    namespace=ns,
                    registry=reg,
                ),
                api_calls=Counter(
                    "slack_api_calls",
                    "Slack Web API calls (after retries), by method and outcome.",
                    ["method", "outcome"],
                    namespace=ns,
                    registry=reg,
                ),
                retries=Counter(
                    "slack_api_retries",
                    "Slack Web API calls retried, by method and reason.",
                    ["method", "reason"],
                    namespace=ns,
                    registry=reg,
                ),
            )
    return _metrics


# --- what the code calls -------------------------------------------------------------------


def observe_answer(answer: Any, seconds: float) -> None:
    """Count a question the bot answered (``answer.answered``) or abstained on, the seconds the
    desk took, and each stage's (``answer.timings``)."""
    made = _made()
    made.questions.labels("answered" if answer.answered else "abstained").inc()
    made.answer_seconds.observe(seconds)
    for stage, spent in getattr(answer, "timings", ()):
        if stage in STAGES:
            made.stage_seconds.labels(stage).observe(spent)


@contextlib.contextmanager
def answering() -> Iterator[None]:
    """Counts an answer in progress while the block runs."""
    gauge = _made().in_progress
    gauge.inc()
    try:
        yield
    finally:
        gauge.dec()


def event_type(body: Mapping[str, Any]) -> str:
    """The ``type`` label of a request from Slack, from its body (as Bolt parses it).

    Example:
        >>> event_type({"type": "event_callback", "event": {"type": "app_mention"}})
        'app_mention'
        >>> event_type({"command": "/ask"}), event_type({"command": "/weather"})
        ('/ask', 'other')
        >>> event_type({"type": "block_actions"}), event_type({"type": "surprise"})
        ('block_actions', 'other')
    """
    kind = body.get("type")
    if kind == "event_callback":
        event = body.get("event")
        kind = event.get("type") if isinstance(event, Mapping) else None
        return kind if isinstance(kind, str) and kind in EVENT_TYPES else OTHER
    if "command" in body:
        command = body.get("command")
        return command if isinstance(command, str) and command in COMMANDS else OTHER
    return kind if isinstance(kind, str) and kind in PAYLOAD_TYPES else OTHER


def count_event(kind: str, outcome: str) -> None:
    """Count a request from Slack of type ``kind`` (see :func:`event_type`)."""
    _made().events.labels(kind, outcome).inc()


def count_api_call(method: str, outcome: str) -> None:
    """Count a Web API call (after its retries): ``ok`` or ``error``."""
    _made().api_calls.labels(method, outcome).inc()


def count_retry(method: str, reason: str) -> None:
    """Count a retry of a Web API call: ``rate_limited``, ``server_error`` or ``connection``."""
    _made().retries.labels(method, reason).inc()


def count_handled(body: dict[str, Any], context: BoltContext, next: Callable[[], None]) -> None:
    """Bolt middleware, after the one dropping duplicates: counts a request the listeners get,
    and makes the request's ``WebClient`` count its calls (Bolt makes a plain one for each
    request, with the settings of the app's, which is a :class:`CountingWebClient`)."""
    count_event(event_type(body), "handled")
    client = context.client
    if type(client) is WebClient:
        # The same object, counting: CountingWebClient has no state of its own.
        client.__class__ = CountingWebClient
    next()


class CountingWebClient(WebClient):
    """slack_sdk's ``WebClient``, counting each call by method and outcome (and nothing else:
    :func:`count_handled` turns Bolt's clients into one)."""

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:  # type: ignore[override]
        try:
            response = super().api_call(api_method, **kwargs)
        except Exception:
            count_api_call(api_method, "error")
            raise
        ok = isinstance(response.data, dict) and response.data.get("ok") is True
        count_api_call(api_method, "ok" if ok else "error")
        return response


# --- the corpus, read when scraped ---------------------------------------------------------


class CorpusCollector:
    """The corpus and index gauges of ``desk``, read when scraped: the corpus version (one
    small query), the passages (counted once per corpus version), the summary (kept per corpus
    version by the desk) and the index the desk has loaded (no query)."""

    def __init__(self, desk: QuoteDesk):
        self.desk = desk
        self._passages: tuple[str | None, int] | None = None

    def collect(self) -> Iterator[Metric]:
        try:
            yield from self._corpus()
        except Exception:  # a scrape is no reason to fail: the other metrics still go out
            log.warning("could not read the corpus for /metrics", exc_info=True)
        yield from self._index()

    def _corpus(self) -> Iterator[Metric]:
        desk = self.desk
        version = desk.store.corpus_version()
        yield InfoMetricFamily(
            f"{NAMESPACE}_corpus", "The corpus version.", value={"version": version or ""}
        )
        cached = self._passages
        if cached is None or cached[0] != version:
            cached = (version, desk.store.passage_count())
            self._passages = cached
        yield GaugeMetricFamily(
            f"{NAMESPACE}_corpus_passages", "Passages in the corpus.", value=cached[1]
        )
        summary = desk.summary()
        yield GaugeMetricFamily(
            f"{NAMESPACE}_corpus_documents",
            "Documents in the corpus.",
            value=sum(collection.documents for collection in summary),
        )
        ingested = [c.ingested for c in summary if c.ingested is not None]
        if ingested:
            newest = max(_aware(when) for when in ingested)
            yield GaugeMetricFamily(
                f"{NAMESPACE}_newest_document_age_seconds",
                "Seconds since the newest document was ingested.",
                value=max(0.0, (datetime.now(UTC) - newest).total_seconds()),
            )

    def _index(self) -> Iterator[Metric]:
        # The desk's loaded index, as it is: None until it has loaded one (desk.warm()).
        index = getattr(self.desk, "_index", None)
        kind = getattr(getattr(index, "dense", None), "kind", None)
        if isinstance(kind, str):
            yield InfoMetricFamily(
                f"{NAMESPACE}_index", "The kind of dense index loaded.", value={"kind": kind}
            )
        seconds = getattr(self.desk, "last_index_seconds", None)
        if isinstance(seconds, int | float):
            yield GaugeMetricFamily(
                f"{NAMESPACE}_index_build_seconds",
                "Seconds the last load or build of the index took.",
                value=float(seconds),
            )


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


# --- the page ------------------------------------------------------------------------------


class _Collectors:
    def __init__(self, collectors: Iterable[Any]):
        self.collectors = list(collectors)

    def collect(self) -> Iterator[Metric]:
        for collector in self.collectors:
            yield from collector.collect()


def is_multiprocess() -> bool:
    """Whether this process counts into multiprocess mode's files."""
    return values.ValueClass is not values.MutexValue and bool(os.environ.get(MULTIPROC_ENV))


def render(corpus: CorpusCollector | None = None) -> tuple[bytes, str]:
    """The page ``/metrics`` answers: its body and content type. In multiprocess mode, every
    worker's counts summed; ``corpus``'s gauges as this process reads them."""
    _made()  # every metric on the page, even before its first count
    if is_multiprocess():
        summed = CollectorRegistry(auto_describe=False)
        MultiProcessCollector(summed, path=os.environ[MULTIPROC_ENV])
        counted: Any = summed
    else:
        counted = REGISTRY
    page = _Collectors([counted, *([corpus] if corpus is not None else [])])
    return generate_latest(page), CONTENT_TYPE


# --- gunicorn's workers --------------------------------------------------------------------


@contextlib.contextmanager
def multiprocess() -> Iterator[str]:
    """Multiprocess mode in a fresh temporary directory, for the processes forked inside the
    block (gunicorn's workers); the directory is removed when the block ends in this process
    (a forked worker leaving it through ``sys.exit`` leaves it be). Before any metric is used
    in this process."""
    if _metrics is not None:
        raise RuntimeError("multiprocess mode must be chosen before any metric is used")
    owner = os.getpid()
    directory = tempfile.mkdtemp(prefix="quotedesk-metrics-")
    before = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = directory
    # Chosen when prometheus_client was imported, maybe before the variable was set.
    values.ValueClass = values.MultiProcessValue()
    try:
        yield directory
    finally:
        if os.getpid() == owner:
            shutil.rmtree(directory, ignore_errors=True)
            if before is None:
                os.environ.pop(MULTIPROC_ENV, None)
            else:
                os.environ[MULTIPROC_ENV] = before


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn's ``child_exit`` hook (in the arbiter): a dead worker's live gauges are
    dropped (its counts stay in the sums)."""
    if is_multiprocess():
        mark_process_dead(worker.pid)


# --- a small server of its own (quotedesk socket) ------------------------------------------


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


Health = Callable[[], tuple[int, dict[str, Any]]]


def metrics_app(corpus: CorpusCollector | None, health: Health | None = None) -> Any:
    """A WSGI app answering ``GET /metrics`` and, given ``health`` (its status and JSON body),
    ``GET /healthz``."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == METRICS_PATH and method in ("GET", "HEAD"):
            status, body, content_type = 200, *render(corpus)
        elif path == "/healthz" and health is not None and method in ("GET", "HEAD"):
            code, state = health()
            status, body, content_type = code, json.dumps(state).encode(), "application/json"
        else:
            status, body, content_type = 404, b"Not Found", "text/plain;charset=utf-8"
        from http import HTTPStatus

        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [("content-type", content_type), ("content-length", str(len(body)))],
        )
        return [body]

    return app


def serve_metrics(
    host: str, port: int, *, corpus: CorpusCollector | None, health: Health | None = None
) -> WSGIServer:
    """Serve :func:`metrics_app` on ``host``:``port`` in a daemon thread; ``shutdown()`` and
    ``server_close()`` stop it."""
    server = make_server(
        host, port, metrics_app(corpus, health), server_class=_Server, handler_class=_Quiet
    )
    thread = threading.Thread(
        target=server.serve_forever, args=(0.5,), name="quotedesk-metrics", daemon=True
    )
    thread.start()
    return server
