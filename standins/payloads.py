"""Requests as Slack sends them (events, slash commands, button clicks), signed with the
signing secret the way Slack signs them. Used by ``quotedesk simulate``, ``quotedesk bench``,
the soak and the tests."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from standins.workspace import APP_ID, BOT_USER_ID, TEAM_ID

USER_ID = "U0ASKER"
CHANNEL_ID = "C0GENERAL"
DM_CHANNEL_ID = "D0ASKER"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

_serial = itertools.count(1)


def signed_headers(
    body: str, *, secret: str, timestamp: int | None = None, content_type: str = JSON
) -> dict[str, str]:
    """The headers Slack sends with ``body``: an HMAC-SHA256 of ``v0:{timestamp}:{body}``.

    Example:
        >>> signed_headers("{}", secret="s", timestamp=1)["X-Slack-Signature"][:3]
        'v0='
    """
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    assert signature is not None  # None only for a None timestamp or body
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": signature,
    }


def next_ts() -> str:
    """A message timestamp, unique in this process."""
    return f"{int(time.time())}.{next(_serial):06d}"


def event_body(event: dict[str, Any], *, event_id: str | None = None) -> str:
    """An Events API ``event_callback`` envelope around ``event``."""
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{int(time.time())}{next(_serial):06d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
    )


def mention_event(
    question: str,
    *,
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
    ts: str | None = None,
    thread_ts: str | None = None,
    bot_user_id: str = BOT_USER_ID,
) -> dict[str, Any]:
    """An ``app_mention``: ``<@BOT> question``, in a thread when ``thread_ts`` is given."""
    ts = ts or next_ts()
    event: dict[str, Any] = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{bot_user_id}> {question}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def dm_event(
    question: str, *, channel: str = DM_CHANNEL_ID, user: str = USER_ID, **extra: Any
) -> dict[str, Any]:
    """A direct ``message`` to the bot (``extra`` adds fields such as ``subtype``)."""
    ts = next_ts()
    return {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": question,
        "ts": ts,
        "event_ts": ts,
        "channel": channel,
        **extra,
    }


def message_event(
    text: str,
    *,
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
    thread_ts: str | None = None,
    channel_type: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``message`` a person writes in a conversation (``message.channels``,
    ``message.groups``, ``message.im``), in a thread when ``thread_ts`` is given; the channel
    type follows the id (``D``: im, ``G``: group, else channel) unless given."""
    ts = next_ts()
    kind = channel_type or {"D": "im", "G": "group"}.get(channel[:1], "channel")
    event: dict[str, Any] = {
        "type": "message",
        "channel_type": kind,
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel": channel,
        **extra,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def home_opened_event(*, user: str = USER_ID, tab: str = "home") -> dict[str, Any]:
    """``app_home_opened``: a person opened the bot's Home (or Messages) tab."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user[1:],
        "tab": tab,
        "event_ts": next_ts(),
    }


def shortcut_body(
    text: str,
    *,
    response_url: str,
    callback_id: str = "find_quotes",
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
    author: str = "U0AUTHOR",
) -> str:
    """A message shortcut (``message_action``) on a message saying ``text``, form-encoded as
    ``payload=…``."""
    ts = next_ts()
    payload = {
        "type": "message_action",
        "token": "legacy-verification-token",
        "action_ts": ts,
        "team": {"id": TEAM_ID, "domain": "standin"},
        "user": {"id": user, "name": "asker", "team_id": TEAM_ID},
        "channel": {"id": channel, "name": "general"},
        "callback_id": callback_id,
        "trigger_id": f"{next(_serial)}.trigger",
        "message_ts": ts,
        "message": {"type": "message", "user": author, "ts": ts, "text": text},
        "response_url": response_url,
    }
    return urlencode({"payload": json.dumps(payload)})


def home_action_body(action_id: str, value: str, *, user: str = USER_ID) -> str:
    """A ``block_actions`` click on a button of the Home tab: no channel, no response_url."""
    ts = next_ts()
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "asker", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "team": {"id": TEAM_ID, "domain": "standin"},
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": f"{next(_serial)}.trigger",
        "view": {"type": "home", "id": "V0HOME", "callback_id": "", "team_id": TEAM_ID},
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "recent",
                "value": value,
                "action_ts": ts,
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def command_body(
    command: str,
    text: str,
    *,
    response_url: str,
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
) -> str:
    """A slash command, form-encoded as Slack posts it."""
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM_ID,
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "asker",
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "response_url": response_url,
            "trigger_id": f"{next(_serial)}.trigger",
        }
    )


def action_body(
    action_id: str,
    value: str,
    *,
    response_url: str,
    ephemeral: bool = False,
    channel: str = CHANNEL_ID,
    user: str = USER_ID,
) -> str:
    """A ``block_actions`` click on a button, form-encoded as ``payload=…``."""
    ts = next_ts()
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": "asker", "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "team": {"id": TEAM_ID, "domain": "standin"},
        "container": {
            "type": "message",
            "message_ts": ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        },
        "channel": {"id": channel, "name": "general"},
        "trigger_id": f"{next(_serial)}.trigger",
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "actions",
                "value": value,
                "action_ts": ts,
            }
        ],
    }
    if not ephemeral:
        payload["message"] = {"type": "message", "ts": ts, "text": "", "blocks": []}
    return urlencode({"payload": json.dumps(payload)})
