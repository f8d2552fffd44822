"""The two ways tests wait for the bot to be idle: they must say "busy" while it is."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from bot.slack.server import ListenerPool
from standins.calls import Call
from standins.web_api import StandIn


@pytest.fixture
def pool() -> Iterator[ListenerPool]:
    pool = ListenerPool(max_workers=2)
    yield pool
    pool.shutdown(wait=True)


def test_pool_is_busy_until_its_listeners_finish(pool: ListenerPool) -> None:
    gate = threading.Event()
    pool.submit(gate.wait, 10)
    pool.submit(gate.wait, 10)
    assert pool.busy == 2
    assert pool.wait_idle(timeout=0.05) is False
    gate.set()
    assert pool.wait_idle(timeout=10) is True
    assert pool.busy == 0


def test_a_failing_listener_still_counts_as_finished(pool: ListenerPool) -> None:
    def fail() -> None:
        raise RuntimeError("listener failed")

    future = pool.submit(fail)
    assert pool.wait_idle(timeout=10) is True
    assert isinstance(future.exception(), RuntimeError)


def test_queued_listeners_count_too(pool: ListenerPool) -> None:
    # Two threads, three listeners: the third waits in the queue and is busy all the same.
    gate = threading.Event()
    for _ in range(3):
        pool.submit(gate.wait, 10)
    assert pool.busy == 3
    gate.set()
    assert pool.wait_idle(timeout=10) is True


@pytest.mark.slow  # waits out real quiet spells
def test_standin_is_idle_only_after_a_quiet_spell() -> None:
    with StandIn() as slack:
        started = time.monotonic()
        assert slack.wait_idle(quiet=0.2, timeout=5) is True
        assert time.monotonic() - started >= 0.2  # counted from the call, not from the past

        def chatter() -> None:
            for _ in range(10):
                slack.record(Call("chat.postMessage", {}, "/api/chat.postMessage"))
                time.sleep(0.05)

        thread = threading.Thread(target=chatter)
        thread.start()
        assert slack.wait_idle(quiet=0.2, timeout=0.3) is False  # calls keep coming
        thread.join()
        assert slack.wait_idle(quiet=0.2, timeout=5) is True
