"""Is a signed request body shaped like Slack's? Bolt assumes so: given ``"actions": []``, an
``"event": null`` or a number where a string belongs, its matchers and logging raise, and the
request ends in a 500 (which Slack would retry). Only Slack, or whoever holds the signing
secret, gets this far; :func:`shape_problem` turns such a body into a 400 before Bolt sees it.

The rules are Slack's documented payload shapes, for the fields Bolt and the listeners read:
each is checked only when present, and ``null`` is accepted where Slack sends it.
"""

from __future__ import annotations

from typing import Any

# Fields that are strings wherever they appear (in the body, its event, an authorization).
_STRINGS = frozenset(
    {
        "type",
        "token",
        "team_id",
        "api_app_id",
        "enterprise_id",
        "event_id",
        "callback_id",
        "trigger_id",
        "response_url",
        "action_id",
        "block_id",
        "command",
        "text",
        "user_id",
        "channel_id",
        "challenge",
        "subtype",
        "channel_type",
        "bot_id",
        "ts",
        "thread_ts",
        "event_ts",
        "user_team",
        "tab",
        "function_execution_id",
    }
)
# Objects, and the string fields of each that Bolt or a listener reads.
_OBJECTS: dict[str, frozenset[str]] = {
    "team": frozenset({"id", "enterprise_id", "domain"}),
    "channel": frozenset({"id", "name"}),
    "container": frozenset({"type", "channel_id", "message_ts"}),
    "message": frozenset({"type", "ts", "thread_ts", "subtype", "text", "user", "bot_id"}),
    "edited": frozenset({"user", "ts"}),
    "enterprise": frozenset({"id", "name"}),
    "view": frozenset({"type", "id", "callback_id", "team_id", "app_installed_team_id"}),
    "user": frozenset({"id", "team_id", "name", "username"}),
    "bot_profile": frozenset({"id", "app_id", "team_id"}),
}
# Of those, the ones that are a string id in some payloads (an event's "user", "team" and
# "channel"; a legacy "enterprise").
_OR_STRING = frozenset({"user", "team", "channel", "enterprise"})
# Ids the bot stores (a delivery's event id; who voted, where), in columns of 64 characters
# (PostgreSQL enforces it). Slack's are a dozen characters long.
MAX_ID = 64
_STORED_IDS = frozenset({"event_id", "user_id", "channel_id"})
_STORED_OBJECT_IDS = frozenset({"user", "channel"})
# Message timestamps the bot stores (where a thread starts, where its answer went), in columns
# of 32 characters. Slack's are 17 ("1701302400.000100").
MAX_TS = 32
_STORED_TS = frozenset({"ts", "thread_ts"})
# Never null: Bolt reads them as soon as they are present.
_NEVER_NULL = frozenset({"event", "view", "actions", "authorizations"})

# What each interactive payload must carry for Bolt to tell which listener it is for.
_CALLBACK_ID = frozenset(
    {
        "interactive_message",
        "dialog_submission",
        "dialog_cancellation",
        "dialog_suggestion",
        "shortcut",
        "message_action",
        "workflow_step_edit",
    }
)
_VIEW = frozenset({"view_submission", "view_closed", "workflow_step_save"})
_ACTIONS = frozenset({"block_actions", "interactive_message"})


def shape_problem(body: dict[str, Any]) -> str | None:
    """What in ``body`` is not shaped like Slack's payloads, or None when nothing is.

    Example:
        >>> shape_problem({"type": "block_actions", "actions": []})
        'block_actions without actions'
        >>> shape_problem({"type": "event_callback", "event": {"type": "app_mention"}})
    """
    problem = _object_problem(body, "body")
    if problem:
        return problem
    kind = body.get("type")
    # Bolt reads the event and the authorizations as it reads the body (team, enterprise).
    event = body.get("event")
    if isinstance(event, dict):
        problem = _object_problem(event, "event")
        if problem:
            return problem
    for number, authorization in enumerate(body.get("authorizations") or ()):
        problem = _object_problem(authorization, f"authorizations[{number}]")
        if problem:
            return problem
    actions: list[Any] = body.get("actions") or []  # a list: _object_problem checked
    if kind in _ACTIONS and not actions:
        return f"{kind} without actions"
    for number, action in enumerate(actions):
        if not isinstance(action, dict):
            return f"actions[{number}] is not an object"
        for key in ("action_id", "block_id", "type", "action_ts"):
            if not isinstance(action.get(key, ""), str):
                return f"actions[{number}].{key} is not a string"
    if kind == "block_actions" and not isinstance(actions[0].get("action_id"), str):
        return "block_actions without an action_id"
    if kind in _CALLBACK_ID and not isinstance(body.get("callback_id"), str):
        return f"{kind} without a callback_id"
    if kind in _VIEW and not isinstance((body.get("view") or {}).get("callback_id"), str):
        return f"{kind} without a view's callback_id"
    if kind == "block_suggestion" and not isinstance(body.get("action_id"), str):
        return "block_suggestion without an action_id"
    return None


def _object_problem(obj: object, where: str) -> str | None:
    if not isinstance(obj, dict):
        return f"{where} is not an object"
    for key, value in obj.items():
        if value is None:
            if key in _NEVER_NULL:
                return f"{where}.{key} is null"
            continue
        if key in _STRINGS and not isinstance(value, str):
            return f"{where}.{key} is not a string"
        if key in _STORED_IDS and len(value) > MAX_ID:
            return f"{where}.{key} is longer than {MAX_ID} characters"
        if key in _STORED_TS and len(value) > MAX_TS:
            return f"{where}.{key} is longer than {MAX_TS} characters"
        if key in _OBJECTS:
            if isinstance(value, str) and key in _OR_STRING:
                continue
            if not isinstance(value, dict):
                return f"{where}.{key} is not an object"
            for field in _OBJECTS[key]:
                if not isinstance(value.get(field, ""), str | None):
                    return f"{where}.{key}.{field} is not a string"
            if key in _STORED_OBJECT_IDS and len(value.get("id") or "") > MAX_ID:
                return f"{where}.{key}.id is longer than {MAX_ID} characters"
        if key in ("actions", "authorizations") and not isinstance(value, list):
            return f"{where}.{key} is not a list"
        if key == "event" and not isinstance(value, dict):
            return f"{where}.event is not an object"
    return None
