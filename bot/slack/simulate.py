"""``quotedesk simulate``: build the request Slack would send, sign it, dispatch it through the
real Bolt app against a local stand-in of the Web API, and show what the bot posted.

The stand-in and the payloads come from the support package :mod:`standins`: this module is
imported only when ``quotedesk simulate`` runs."""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from slack_bolt.request import BoltRequest

from bot.slack.app import build_app
from bot.slack.blocks import escape
from bot.slack.config import SlackConfig
from retrieval import QuoteDesk
from standins.calls import Call
from standins.payloads import (
    FORM,
    JSON,
    command_body,
    dm_event,
    event_body,
    mention_event,
    signed_headers,
)
from standins.web_api import StandIn

Kind = Literal["mention", "dm", "command"]


@dataclass(frozen=True)
class Outcome:
    """What happened: Bolt's HTTP answer to the request and the calls the bot made to Slack."""

    status: int
    body: str
    calls: list[Call]


def simulate(kind: Kind, text: str, *, desk: QuoteDesk, command: str = "/ask") -> Outcome:
    """Send one request through the Bolt app and wait for everything it does in response.

    ``text`` is what a person types: it is escaped as Slack escapes it (``&``, ``<``, ``>``),
    so ``<!channel>`` stays text, as in Slack.

    ``simulate("mention", "why did Baku skip the meeting?", desk=desk).calls[0].method`` is
    ``'chat.postMessage'``: the answer posted. It needs a desk with a corpus, so there is no
    example to run here: ``tests/slack/test_commands.py`` simulates each kind on a fake desk.
    """
    secret = secrets.token_hex(16)
    with StandIn() as slack:
        config = SlackConfig(
            bot_token="xoxb-simulated", signing_secret=secret, api_url=slack.api_url
        )
        # Bolt answers Slack first and works on in this executor; shutting it down waits.
        executor = ThreadPoolExecutor(max_workers=2)
        app = build_app(config=config, desk=desk, listener_executor=executor)
        text = escape(text)  # what Slack does to typed text; the bot reads it back as words
        if kind == "command":
            body = command_body(command, text, response_url=slack.response_url())
            content_type = FORM
        else:
            event = mention_event(text) if kind == "mention" else dm_event(text)
            body, content_type = event_body(event), JSON
        headers = signed_headers(body, secret=secret, content_type=content_type)
        response = app.dispatch(BoltRequest(body=body, headers=dict(headers)))
        executor.shutdown(wait=True)
        calls = [call for call in slack.calls if call.method != "auth.test"]
    return Outcome(status=response.status, body=response.body, calls=calls)


def as_json(outcome: Outcome) -> Iterator[str]:
    """One JSON object per line: Bolt's answer, then each call with its raw payload."""
    yield json.dumps({"response": {"status": outcome.status, "body": outcome.body}})
    for call in outcome.calls:
        yield json.dumps({"method": call.method, "params": call.params}, ensure_ascii=False)


def as_text(outcome: Outcome) -> Iterator[str]:
    """The answer and every posted message, blocks rendered as lines."""
    response = _json_or_none(outcome.body)
    if response and response.get("blocks"):
        yield f"HTTP {outcome.status}, acknowledged with this message:"
        yield from _blocks(response["blocks"])
    else:
        yield f"HTTP {outcome.status}" + (f": {outcome.body}" if outcome.body else "")
    for call in outcome.calls:
        where = [f"{k} {call.params[k]}" for k in ("channel", "thread_ts") if call.params.get(k)]
        flags = [f"{k} {call.params[k]}" for k in ("response_type",) if k in call.params]
        flags += [k for k in ("replace_original", "delete_original") if call.params.get(k)]
        yield ""
        yield "→ " + "  ".join([call.method, *where, *flags])
        blocks = call.params.get("blocks")
        yield from _blocks(blocks) if blocks else [f"  {call.params.get('text', '')}"]


def _blocks(blocks: list[dict[str, Any]]) -> Iterator[str]:
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            text = html.unescape(block.get("text", {}).get("text", ""))
            yield from ("  " + line for line in text.split("\n"))
        elif kind == "context":
            yield "  " + "  ".join(html.unescape(e.get("text", "")) for e in block["elements"])
        elif kind == "actions":
            yield "  " + " ".join(f"[{e['text']['text']}]" for e in block["elements"])
        else:
            yield f"  ({kind} block)"


def _json_or_none(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
