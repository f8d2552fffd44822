"""``/metrics``: what the bot counts as it answers over HTTP and in Socket Mode, the corpus
gauges read when scraped, and the sums over ``quotedesk serve``'s workers.

The in-process bot is shared by the tests of this process, so each test reads what its own
requests added: the difference between a scrape before and one after.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from bot.slack import metrics, socket_mode
from bot.slack.app import build_app
from bot.slack.config import SlackConfig
from bot.slack.server import ListenerPool
from bot.slack.socket_mode import SocketModeHandler, run_socket_mode
from retrieval import QuoteDesk
from standins.faults import Fault
from standins.payloads import dm_event, event_body, mention_event, message_event
from standins.processes import free_port, serve_process
from standins.web_api import StandIn
from tests.helpers import ROOT
from tests.slack.helpers import SECRET, WAIT, Bot, channel, request

BAKU = "why did Baku skip the Washington meeting?"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    """Every sample on ``url``'s /metrics page, by name and labels; the page must be 200 in
    Prometheus's text format."""
    with urllib.request.urlopen(url + "/metrics", timeout=WAIT) as response:
        assert response.status == 200
        assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def added(before: Samples, after: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    """What ``name``'s samples gained between two scrapes, those that changed."""
    keys = {labels for sample, labels in [*before, *after] if sample == name}
    gained = {k: after.get((name, k), 0.0) - before.get((name, k), 0.0) for k in keys}
    return {k: v for k, v in gained.items() if v}


def labels(**pairs: str) -> frozenset[tuple[str, str]]:
    return frozenset(pairs.items())


EVENTS = "quotedesk_slack_events_total"
QUESTIONS = "quotedesk_questions_total"
ANSWER_COUNT = "quotedesk_answer_seconds_count"
STAGE_COUNT = "quotedesk_answer_stage_seconds_count"
API_CALLS = "quotedesk_slack_api_calls_total"
RETRIES = "quotedesk_slack_api_retries_total"


# --- over HTTP, in process -------------------------------------------------------------------


def test_metrics_is_prometheus_text_with_every_metric(bot: Bot) -> None:
    samples = scrape(bot.url)
    names = {name for name, _ in samples}
    assert {
        "quotedesk_answer_seconds_count",
        "quotedesk_answers_in_progress",
        "quotedesk_corpus_info",
        "quotedesk_corpus_passages",
        "quotedesk_corpus_documents",
        "quotedesk_newest_document_age_seconds",
        "quotedesk_index_info",
    } <= names
    assert request(bot.url + "/metrics", b"", method="POST").status == 405


def test_corpus_gauges_describe_the_desk(bot: Bot, fake_desk: QuoteDesk) -> None:
    samples = scrape(bot.url)
    version = fake_desk.store.corpus_version()
    assert version and value(samples, "quotedesk_corpus_info", version=version) == 1
    assert value(samples, "quotedesk_corpus_passages") == fake_desk.store.passage_count() > 0
    documents = sum(c.documents for c in fake_desk.summary())
    assert value(samples, "quotedesk_corpus_documents") == documents > 0
    assert 0 <= value(samples, "quotedesk_newest_document_age_seconds") < 7 * 86400
    assert value(samples, "quotedesk_index_info", kind="flat") == 1


def test_index_build_seconds_is_what_the_desk_says(
    bot: Bot, fake_desk: QuoteDesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake_desk, "last_index_seconds", 1.25, raising=False)
    assert value(scrape(bot.url), "quotedesk_index_build_seconds") == 1.25
    monkeypatch.setattr(fake_desk, "last_index_seconds", None, raising=False)
    assert ("quotedesk_index_build_seconds", frozenset()) not in scrape(bot.url)


def test_counts_a_mention_a_dm_a_command_a_duplicate_and_a_bad_signature(bot: Bot) -> None:
    bot.settle()
    before = scrape(bot.url)
    where, dm = channel(), channel("D")
    mention = event_body(mention_event(BAKU, channel=where))
    assert bot.post(mention).status == 200
    assert bot.event(dm_event(BAKU, channel=dm)).status == 200
    url = bot.response_url()
    assert bot.command("/ask", BAKU, response_url=url).status == 200
    assert bot.post(mention, extra={"X-Slack-Retry-Num": "1"}).status == 200  # a retry
    assert bot.post(mention, secret="wrong").status == 401
    assert len(bot.posts(where)) == 1 and len(bot.posts(dm)) == 1 and bot.responses(url)
    after = scrape(bot.url)

    assert added(before, after, EVENTS) == {
        labels(type="app_mention", outcome="handled"): 1,
        labels(type="message", outcome="handled"): 1,
        labels(type="/ask", outcome="handled"): 1,
        labels(type="app_mention", outcome="duplicate"): 1,
        labels(type="other", outcome="rejected"): 1,
    }
    assert sum(added(before, after, QUESTIONS).values()) == 3
    assert added(before, after, ANSWER_COUNT) == {labels(): 3}
    assert added(before, after, STAGE_COUNT) == {
        labels(stage=stage): 3 for stage in ("encode", "dense", "lexical", "ranking")
    }
    calls = added(before, after, API_CALLS)
    assert calls[labels(method="chat.postMessage", outcome="ok")] == 2
    assert calls[labels(method="response_url", outcome="ok")] == 1
    assert value(after, "quotedesk_answers_in_progress") == 0


def test_answered_and_abstained_are_told_apart(bot: Bot) -> None:
    bot.settle()
    before = scrape(bot.url)
    answered, abstained = channel(), channel()
    bot.event(mention_event(BAKU, channel=answered))
    bot.event(mention_event("zqxj vbnm wrtp?", channel=abstained))
    assert len(bot.posts(answered)) == 1 and len(bot.posts(abstained)) == 1
    assert added(before, scrape(bot.url), QUESTIONS) == {
        labels(outcome="answered"): 1,
        labels(outcome="abstained"): 1,
    }


def test_web_api_errors_and_retries_are_counted(bot: Bot) -> None:
    bot.settle()
    before = scrape(bot.url)
    # A 503 is retried; the 500 after it is not (the post may have gone through): the bot
    # apologises with a post that works.
    bot.slack.fail("chat.postMessage", Fault.server_error(503), Fault.server_error(500))
    where = channel()
    bot.event(mention_event(BAKU, channel=where))
    bot.settle()
    after = scrape(bot.url)
    assert added(before, after, RETRIES) == {
        labels(method="chat.postMessage", reason="server_error"): 1
    }
    assert added(before, after, API_CALLS) == {
        labels(method="chat.postMessage", outcome="error"): 1,
        labels(method="chat.postMessage", outcome="ok"): 1,
    }


def test_event_types_are_bounded() -> None:
    assert metrics.event_type({"type": "event_callback", "event": {"type": "reaction_added"}}) == (
        "other"
    )
    assert metrics.event_type({"type": "event_callback", "event": "x"}) == "other"
    assert metrics.event_type({"command": "/sources"}) == "/sources"
    assert metrics.event_type({"command": "/" + "x" * 500}) == "other"
    assert metrics.event_type({"type": "message_action"}) == "message_action"
    assert metrics.event_type({}) == "other"


def test_the_core_never_imports_prometheus() -> None:
    from tests.test_layers import graph

    assert not {
        module
        for module, imported in graph().items()
        if module.startswith("retrieval") and any(i.startswith("prometheus") for i in imported)
    }


# --- Socket Mode -----------------------------------------------------------------------------


@pytest.fixture
def socket_slack() -> Iterator[StandIn]:
    with StandIn(socket_mode=True) as slack:
        assert slack.socket is not None
        yield slack


@pytest.mark.slow
def test_socket_mode_opens_one_connection_at_a_time(
    fake_desk: QuoteDesk, socket_slack: StandIn
) -> None:
    """``apps.connections.open`` once at start and once per reconnect, whatever broke."""
    socket = socket_slack.socket
    assert socket is not None
    config = SlackConfig(bot_token="xoxb-test", app_token="xapp-test", api_url=socket_slack.api_url)
    pool = ListenerPool(max_workers=1)
    app = build_app(config=config, desk=fake_desk, listener_executor=pool)
    handler = SocketModeHandler(app, app_token=config.app_token)

    def opened() -> int:
        time.sleep(1.0)  # the client's monitor looks at once, then every few seconds
        return len(socket_slack.find("apps.connections.open"))

    try:
        handler.connect()
        assert socket.wait_links(1, timeout=WAIT)
        assert opened() == 1
        breaks: list[Callable[[], object]] = [
            socket.refresh,
            socket.close,
            lambda: socket.cut(reset=True),
        ]
        for links, broken in enumerate(breaks, start=2):
            broken()
            assert socket.wait_links(links, timeout=WAIT)
            assert opened() == links
    finally:
        assert handler.close(timeout=WAIT)
        pool.shutdown(wait=True)


@pytest.mark.slow
def test_socket_mode_serves_metrics_and_health_on_its_port(
    fake_desk: QuoteDesk, socket_slack: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket = socket_slack.socket
    assert socket is not None
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    seen: dict[str, object] = {}

    def start(handler: SocketModeHandler) -> None:
        # In place of blocking: connect, answer one mention, scrape, stop.
        handler.connect()
        try:
            assert socket.wait_links(1, timeout=WAIT)
            health = request(url + "/healthz")
            seen["health"] = (health.status, health.json())
            before = scrape(url)
            where = channel()
            body = json.loads(event_body(mention_event(BAKU, channel=where)))
            assert socket.wait_ack(socket.send_event(body), timeout=WAIT)
            assert socket_slack.wait_for("chat.postMessage", channel=where, timeout=WAIT)
            deadline = time.monotonic() + WAIT  # the answer is counted right before its post
            while time.monotonic() < deadline:
                after = scrape(url)
                if added(before, after, QUESTIONS):
                    break
                time.sleep(0.05)
            seen["events"] = added(before, after, EVENTS)
            seen["questions"] = sum(added(before, after, QUESTIONS).values())
            seen["passages"] = value(after, "quotedesk_corpus_passages")
        finally:
            assert handler.close(timeout=WAIT)

    monkeypatch.setattr(socket_mode.SocketModeHandler, "start", start)
    config = SlackConfig(bot_token="xoxb-test", app_token="xapp-test", api_url=socket_slack.api_url)
    run_socket_mode(config=config, desk=fake_desk, host="127.0.0.1", port=port)

    assert seen["health"] == (200, {"ok": True, "status": "connected"})
    assert seen["events"] == {labels(type="app_mention", outcome="handled"): 1}
    assert seen["questions"] == 1
    assert seen["passages"] == fake_desk.store.passage_count()
    with pytest.raises(OSError):  # stopped with the bot
        urllib.request.urlopen(url + "/metrics", timeout=WAIT)


# --- quotedesk serve, two workers --------------------------------------------------------------


@pytest.mark.slow
def test_serve_sums_the_counts_of_its_workers(tmp_path: Path, slack: StandIn) -> None:
    """Every scrape, whichever worker answers it, shows every worker's counts."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", metrics.MULTIPROC_ENV)},
        "QUOTEDESK_DATA_DIR": str(tmp_path / "data"),
        "SLACK_BOT_TOKEN": "xoxb-served",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "WEB_CONCURRENCY": "2",
        "TMPDIR": str(scratch),  # where serve makes the workers' metrics directory
    }
    with serve_process(
        log=tmp_path / "serve.log", env=env, args=["--threads", "2"], cwd=ROOT, healthy_within=300
    ) as process:
        served = Bot(url=process.url, slack=slack)
        [directory] = scratch.glob("quotedesk-metrics-*")

        def counting_workers() -> int:
            """Workers that have handled a message event (each counts into files of its own)."""
            counted = 0
            for path in directory.glob("counter_*.db"):
                for family in MultiProcessCollector.merge([str(path)], accumulate=True):
                    counted += any(
                        sample.name == EVENTS
                        and sample.labels == {"type": "message", "outcome": "handled"}
                        and sample.value > 0
                        for sample in family.samples
                    )
            return counted

        # Unanswered messages in a channel, until both workers have handled some.
        sent = Counter[str]()
        where = channel()
        while counting_workers() < 2 and sent["message"] < 200:
            reply = served.event(message_event("nothing to answer here", channel=where))
            assert reply.status == 200
            sent["message"] += 1
        assert counting_workers() == 2, "one worker took every request"
        mentions = [channel() for _ in range(2)]
        bodies = [event_body(mention_event(BAKU, channel=c)) for c in mentions]
        for body in bodies:
            assert served.post(body).status == 200
        assert served.post(bodies[0], extra={"X-Slack-Retry-Num": "1"}).status == 200
        assert served.post(bodies[0], secret="wrong").status == 401
        for where in mentions:
            assert slack.wait_for("chat.postMessage", channel=where, timeout=120)
        served.settle()

        for _ in range(6):  # each scrape reaches one worker or the other
            samples = scrape(process.url)
            assert value(samples, EVENTS, type="message", outcome="handled") == sent["message"]
            assert value(samples, EVENTS, type="app_mention", outcome="handled") == 2
            assert value(samples, EVENTS, type="app_mention", outcome="duplicate") == 1
            assert value(samples, EVENTS, type="other", outcome="rejected") == 1
            assert value(samples, QUESTIONS, outcome="answered") == 2
            assert value(samples, ANSWER_COUNT) == 2
            assert value(samples, API_CALLS, method="chat.postMessage", outcome="ok") == 2
            assert value(samples, "quotedesk_corpus_passages") > 0
    assert not directory.exists(), "serve left its metrics directory behind"
