"""``quotedesk simulate``: build the requests Slack would send, sign them, dispatch them through
the real Bolt app against a local stand-in of the Web API, and show what the bot posted (and
published: the Home tab).

The stand-in and the payloads come from the support package :mod:`standins`: this module is
imported only when ``quotedesk simulate`` runs."""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from slack_bolt.request import BoltRequest

from bot.slack.app import build_app
from bot.slack.blocks import escape
from bot.slack.config import SlackConfig
from bot.slack.server import ListenerPool
from retrieval import QuoteDesk
from standins.calls import Call
from standins.payloads import (
    FORM,
    JSON,
    USER_ID,
    command_body,
    dm_event,
    event_body,
    home_opened_event,
    mention_event,
    message_event,
    shortcut_body,
    signed_headers,
)
from standins.web_api import StandIn

Kind = Literal["mention", "dm", "command", "thread", "shortcut", "home"]
# How long the harness waits for the bot to finish each request, at most.
WAIT = 120.0


@dataclass(frozen=True)
class Outcome:
    """What happened: Bolt's HTTP answer to the request and the calls the bot made to Slack."""

    status: int
    body: str
    calls: list[Call]


def simulate(
    kind: Kind,
    text: str,
    *,
    desk: QuoteDesk,
    command: str = "/ask",
    follow_ups: Sequence[str] = (),
) -> Outcome:
    """Send the requests of ``kind`` through the Bolt app, one after the other, and wait for
    everything the bot does in response.

    Kinds: ``mention`` (in a channel), ``dm``, ``command`` (``command`` with ``text``),
    ``thread`` (a mention, then each of ``follow_ups`` as a later message in its thread, no
    mention), ``shortcut`` ("Find quotes" on a message saying ``text``) and ``home`` (the
    Home tab opened; ``text`` is ignored).

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
        # Bolt answers Slack first and works on in this pool; each request is finished before
        # the next is sent (a follow-up needs the answer before it on record).
        pool = ListenerPool(max_workers=2)
        app = build_app(config=config, desk=desk, listener_executor=pool)
        first = None
        try:
            for body, content_type in _requests(kind, text, command, follow_ups, slack):
                headers = signed_headers(body, secret=secret, content_type=content_type)
                response = app.dispatch(BoltRequest(body=body, headers=dict(headers)))
                first = first or response
                pool.wait_idle(timeout=WAIT)
        finally:
            pool.shutdown(wait=True)
        calls = [call for call in slack.calls if call.method != "auth.test"]
    assert first is not None
    return Outcome(status=first.status, body=first.body, calls=calls)


def _requests(
    kind: Kind, text: str, command: str, follow_ups: Sequence[str], slack: StandIn
) -> Iterator[tuple[str, str]]:
    """Each request of a simulation, as its body and content type."""
    text = escape(text)  # what Slack does to typed text; the bot reads it back as words
    if kind == "command":
        yield command_body(command, text, response_url=slack.response_url()), FORM
    elif kind == "shortcut":
        yield shortcut_body(text, response_url=slack.response_url()), FORM
    elif kind == "home":
        yield event_body(home_opened_event(user=USER_ID)), JSON
    elif kind == "dm":
        yield event_body(dm_event(text)), JSON
    else:
        asked = mention_event(text)
        yield event_body(asked), JSON
        for later in follow_ups if kind == "thread" else ():
            event = message_event(escape(later), thread_ts=str(asked["ts"]))
            yield event_body(event), JSON


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
        where += [f"user_id {call.params['user_id']}"] if call.params.get("user_id") else []
        yield ""
        yield "→ " + "  ".join([call.method, *where, *flags])
        view = call.params.get("view")
        if view:
            view = _json_or_none(view) if isinstance(view, str) else view
            yield from _blocks((view or {}).get("blocks") or [])
            continue
        blocks = call.params.get("blocks")
        yield from _blocks(blocks) if blocks else [f"  {call.params.get('text', '')}"]


def _blocks(blocks: list[dict[str, Any]]) -> Iterator[str]:
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            text = html.unescape((block.get("text") or {}).get("text", ""))
            button = block.get("accessory") or {}
            if button.get("type") == "button":
                text += f"  [{button['text']['text']}]"
            yield from ("  " + line for line in text.split("\n"))
        elif kind == "header":
            yield "  " + html.unescape(block["text"]["text"]).upper()
        elif kind == "divider":
            yield "  " + "─" * 40
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
