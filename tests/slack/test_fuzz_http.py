"""``/slack/events`` fuzzed (hypothesis): signed and unsigned random bodies and headers, called
through the WSGI app itself (fast, no sockets). Whatever comes, the answer is a 2xx or a 4xx,
never a 5xx nor an exception, and nothing unsigned gets past the signature check."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tests.fuzzing  # noqa: F401  (the profile, before any @settings)
from bot.slack.blocks import ACTION_DOWN, ACTION_MORE, ACTION_SHARE, ACTION_UP
from bot.slack.server import SlackWsgi
from standins.payloads import FORM, JSON, signed_headers
from tests.slack.helpers import SECRET, Bot, call

# Fuzzing runs for a bounded time: the full suite, not the fast tier.
pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=150,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

TYPES = [
    "event_callback",
    "url_verification",
    "ssl_check",
    "block_actions",
    "block_suggestion",
    "view_submission",
    "view_closed",
    "shortcut",
    "message_action",
    "interactive_message",
    "dialog_submission",
    "app_rate_limited",
    "nonsense",
]
EVENT_TYPES = ["app_mention", "message", "app_home_opened", "tokens_revoked", "reaction_added"]
SUBTYPES = [None, "file_share", "thread_broadcast", "bot_message", "message_changed"]
ACTION_IDS = [ACTION_MORE, ACTION_SHARE, ACTION_UP, ACTION_DOWN, "other"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=40),
)
anything = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def sometimes(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``value``, or anything at all in its place."""
    return st.one_of(value, anything)


@st.composite
def slack_shaped(draw: st.DrawFn) -> dict[str, Any]:
    """A payload shaped like Slack's, any of whose fields may be anything."""
    body: dict[str, Any] = {"type": draw(sometimes(st.sampled_from(TYPES)))}
    if draw(st.booleans()):
        body["event"] = draw(
            sometimes(
                st.fixed_dictionaries(
                    {
                        "type": sometimes(st.sampled_from(EVENT_TYPES)),
                        "channel": sometimes(st.sampled_from(["C0FUZZ", "D0FUZZ"])),
                        "channel_type": sometimes(st.sampled_from(["im", "channel"])),
                        "user": sometimes(st.just("U0FUZZ")),
                        "text": sometimes(st.text(max_size=60)),
                        "ts": sometimes(st.just("1701345600.000100")),
                    },
                    optional={
                        "subtype": sometimes(st.sampled_from(SUBTYPES)),
                        "thread_ts": sometimes(st.just("1701345600.000001")),
                        "bot_id": anything,
                        "edited": anything,
                    },
                )
            )
        )
        body["event_id"] = draw(sometimes(st.text(min_size=1, max_size=20).map("EvFuzz".__add__)))
    if draw(st.booleans()):
        body["actions"] = draw(
            sometimes(
                st.lists(
                    sometimes(
                        st.fixed_dictionaries(
                            {
                                "action_id": sometimes(st.sampled_from(ACTION_IDS)),
                                "value": sometimes(st.text(max_size=80)),
                            }
                        )
                    ),
                    max_size=2,
                )
            )
        )
        body["response_url"] = "http://127.0.0.1:9/nowhere"  # never reached: closed port
    for key in ("user", "channel", "container", "team", "view", "callback_id", "action_id"):
        if draw(st.booleans()):
            body[key] = draw(anything)
    return body


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    """A body and the content type it is sent with (not always the right one)."""
    kind = draw(st.sampled_from(["json", "payload", "command", "text", "bytes"]))
    if kind == "json":
        data = json.dumps(draw(st.one_of(slack_shaped(), anything))).encode()
    elif kind == "payload":
        data = urlencode({"payload": json.dumps(draw(slack_shaped()))}).encode()
    elif kind == "command":
        fields = draw(
            st.dictionaries(
                st.sampled_from(["command", "text", "user_id", "channel_id", "response_url"]),
                st.text(max_size=30),
            )
        )
        data = urlencode(fields).encode()
    elif kind == "text":
        data = draw(st.text(max_size=200)).encode("utf-8", "surrogatepass")
    else:
        data = draw(st.binary(max_size=200))
    content_type = draw(
        st.one_of(
            st.sampled_from([JSON, FORM, "text/plain", "application/json; charset=utf-8", ""]),
            st.text(max_size=30).filter(lambda t: "\n" not in t and "\r" not in t),
        )
    )
    return data, content_type


@pytest.fixture
def wsgi(bot: Bot) -> SlackWsgi:
    assert bot.wsgi is not None
    return bot.wsgi


@FUZZ
@given(bodies())
def test_signed_random_bodies_get_2xx_or_4xx(
    wsgi: SlackWsgi, bot: Bot, caplog: pytest.LogCaptureFixture, body: tuple[bytes, str]
) -> None:
    data, content_type = body
    headers = signed_headers(data.decode("utf-8", "replace"), secret=SECRET)
    # Signed over the exact bytes sent, even when they are not UTF-8.
    from bot.slack.server import signature_is_valid

    if not signature_is_valid(
        SECRET, data, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]
    ):
        import hashlib
        import hmac

        stamp = headers["X-Slack-Request-Timestamp"]
        mac = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + data, hashlib.sha256)
        headers["X-Slack-Signature"] = "v0=" + mac.hexdigest()
    headers["Content-Type"] = content_type
    with caplog.at_level(logging.ERROR):
        status, _ = call(wsgi, data, headers)
        bot.settle()
    assert 200 <= status < 500, status
    # No listener failed in a way Bolt had to catch (it logs those at ERROR).
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


@FUZZ
@given(
    bodies(),
    st.dictionaries(
        st.sampled_from(
            [
                "X-Slack-Request-Timestamp",
                "X-Slack-Signature",
                "X-Slack-Retry-Num",
                "Content-Type",
                "X-Forwarded-For",
            ]
        ),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=80),
    ),
)
def test_unsigned_random_requests_are_401(
    wsgi: SlackWsgi, body: tuple[bytes, str], headers: dict[str, str]
) -> None:
    data, _ = body
    status, _ = call(wsgi, data, headers)
    assert status == 401


@FUZZ
@given(st.integers(min_value=301, max_value=10**9), st.sampled_from([-1, 1]))
def test_signed_but_old_or_future_requests_are_401(wsgi: SlackWsgi, age: int, sign: int) -> None:
    data = json.dumps({"type": "url_verification", "challenge": "c"}).encode()
    headers = signed_headers(data.decode(), secret=SECRET, timestamp=int(time.time()) - sign * age)
    assert call(wsgi, data, headers)[0] == 401
