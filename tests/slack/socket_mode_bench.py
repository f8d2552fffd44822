"""Socket Mode adapters compared on the stand-in: how long each takes to notice a broken
connection and answer again, and how much CPU the process burns meanwhile.

    PYTHONPATH=. python -m tests.slack.socket_mode_bench                 # every sync adapter
    PYTHONPATH=. python -m tests.slack.socket_mode_bench -a builtin -f fin --limit 90

Each run: connect, answer a mention, break the connection (``-f``), wait for the new one
(``recover``), answer a mention on it (``answered``). ``cpu`` is the process's CPU time from
the break to the new connection, and ``cpu %`` that over the wall time (100 % is one core
spinning). The app is a minimal Bolt app (one listener posting "pong"): only the transport is
measured. The async adapters (``websockets``, ``aiohttp``) need ``aiohttp`` and ``websockets``
installed and an ``AsyncApp``; they are measured the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.socket_mode import SocketModeHandler
from standins.payloads import event_body, mention_event
from standins.web_api import StandIn

APP_TOKEN = "xapp-bench"
ADAPTERS = ["builtin", "builtin-ping2", "websocket-client", "quotedesk"]
ASYNC_ADAPTERS = ["websockets", "aiohttp"]
FAULTS = ["refresh", "close", "fin", "rst", "silent"]


@dataclass
class Result:
    adapter: str
    fault: str
    recover: float | None  # seconds from the break to the new connection
    answered: float | None  # seconds from the break to the reply on the new connection
    cpu: float  # process CPU seconds from the break to the new connection (or the limit)
    wall: float

    def row(self) -> str:
        def s(x: float | None) -> str:
            return "never" if x is None else f"{x:.1f} s"

        share = 100 * self.cpu / self.wall if self.wall else 0.0
        return (
            f"| {self.adapter} | {self.fault} | {s(self.recover)} | {s(self.answered)} "
            f"| {self.cpu:.2f} s | {share:.0f} % |"
        )


class Running:
    """A started adapter: ``stop()`` ends it."""

    def __init__(self, stop: Callable[[], None]):
        self.stop = stop


def sync_app(slack: StandIn) -> App:
    app = App(client=WebClient(token="xoxb-bench", base_url=slack.api_url))

    @app.event("app_mention")
    def pong(event: dict[str, Any], client: WebClient) -> None:
        client.chat_postMessage(channel=event["channel"], text="pong")

    return app


def start_sync(name: str, slack: StandIn) -> Running:
    app = sync_app(slack)
    handler: Any
    if name == "builtin":
        from slack_bolt.adapter.socket_mode import SocketModeHandler as Builtin

        handler = Builtin(app, APP_TOKEN)
    elif name == "builtin-ping2":
        from slack_bolt.adapter.socket_mode import SocketModeHandler as Builtin

        handler = Builtin(app, APP_TOKEN, ping_interval=2)
    elif name == "websocket-client":
        from slack_bolt.adapter.socket_mode.websocket_client import (
            SocketModeHandler as WebSocketClient,
        )

        handler = WebSocketClient(app, APP_TOKEN)
    else:
        handler = SocketModeHandler(app, app_token=APP_TOKEN)
    handler.connect()

    def stop() -> None:
        closer = threading.Thread(target=handler.close, daemon=True)
        closer.start()
        closer.join(10)

    return Running(stop)


def start_async(name: str, slack: StandIn) -> Running:
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    if name == "websockets":
        from slack_bolt.adapter.socket_mode.websockets import AsyncSocketModeHandler
    else:
        from slack_bolt.adapter.socket_mode.aiohttp import (  # type: ignore[assignment]
            AsyncSocketModeHandler,
        )
    loop = asyncio.new_event_loop()
    done = asyncio.Event()

    async def main() -> None:
        app = AsyncApp(client=AsyncWebClient(token="xoxb-bench", base_url=slack.api_url))

        @app.event("app_mention")
        async def pong(event: dict[str, Any], client: AsyncWebClient) -> None:
            await client.chat_postMessage(channel=event["channel"], text="pong")

        handler = AsyncSocketModeHandler(app, APP_TOKEN)
        await handler.connect_async()
        await asyncio.wait_for(done.wait(), 600)
        await asyncio.wait_for(handler.close_async(), 10)

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()

    def stop() -> None:
        loop.call_soon_threadsafe(done.set)
        thread.join(15)

    return Running(stop)


def mention(slack: StandIn, number: int, *, timeout: float) -> bool:
    """Send a mention on the current connection; True once it was acked and answered."""
    assert slack.socket is not None
    channel = f"CBENCH{number}"
    envelope = slack.socket.send_event(
        json.loads(event_body(mention_event("ping", channel=channel)))
    )
    if slack.socket.wait_ack(envelope, timeout=timeout) is None:
        return False
    return bool(slack.wait_for("chat.postMessage", channel=channel, timeout=timeout))


def measure(adapter: str, fault: str, *, limit: float) -> Result:
    with StandIn(socket_mode=True) as slack:
        assert slack.socket is not None
        start = start_async if adapter in ASYNC_ADAPTERS else start_sync
        running = start(adapter, slack)
        try:
            if not slack.socket.wait_links(1, timeout=15) or not mention(slack, 1, timeout=15):
                raise RuntimeError(f"{adapter}: did not connect and answer")
            time.sleep(0.5)  # settle: the first ping, the ack's send
            links = len(slack.socket.links)
            t0, cpu0 = time.monotonic(), time.process_time()
            faults: dict[str, Callable[[], object]] = {
                "refresh": slack.socket.refresh,
                "close": slack.socket.close,
                "fin": lambda: slack.socket.cut(reset=False),  # type: ignore[union-attr]
                "rst": lambda: slack.socket.cut(reset=True),  # type: ignore[union-attr]
                "silent": slack.socket.go_silent,
            }
            faults[fault]()
            back = slack.socket.wait_links(links + 1, timeout=limit)
            t1, cpu1 = time.monotonic(), time.process_time()
            answered = back and mention(slack, 2, timeout=15)
            t2 = time.monotonic()
        finally:
            running.stop()
    return Result(
        adapter,
        fault,
        recover=t1 - t0 if back else None,
        answered=t2 - t0 if answered else None,
        cpu=cpu1 - cpu0,
        wall=t1 - t0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-a", "--adapter", action="append", choices=ADAPTERS + ASYNC_ADAPTERS)
    parser.add_argument("-f", "--fault", action="append", choices=FAULTS)
    parser.add_argument("--limit", type=float, default=90.0, help="longest wait to reconnect")
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)  # the adapters log every reconnect
    print("| adapter | break | recover | answered | cpu | cpu % |")
    print("|---|---|---|---|---|---|")
    for adapter in args.adapter or ADAPTERS:
        for fault in args.fault or FAULTS:
            print(measure(adapter, fault, limit=args.limit).row(), flush=True)


if __name__ == "__main__":
    main()
