"""The Slack bot's settings, from the environment: its credentials, the Web API's address, how
long it keeps its records (``QUOTEDESK_RETENTION_DAYS``) and how long an unanswered event's
claim holds (``QUOTEDESK_CLAIM_DEADLINE``)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from retrieval.errors import InvalidArgumentError, QuotedeskError

# Seconds a thread holds the interpreter before another may run (Python's default: 0.005),
# set by serve and socket. Acknowledging Slack is short Python work among the long stretches
# of answering; at 1 ms an acknowledgement waits less for answers in other threads (see
# BENCHMARKS.md, "Slack over HTTP").
SWITCH_INTERVAL = 0.001

DEFAULT_API_URL = "https://slack.com/api/"
# Handled Slack deliveries and feedback are kept this many days: Slack retries a delivery
# within minutes, and a month of feedback is enough to read; older rows are personal data
# (user and channel ids, questions) kept for nothing.
DEFAULT_RETENTION_DAYS = 30
# Seconds a claim on an event (or a message) holds while its handling has not finished; then
# Slack's retry may take it over, to be answered by another replica: the first one died.
# Longer than a live replica takes to answer, even against a slow Slack (a search of about a
# second; each Web API call gives up after retry.TIMEOUT, 10 s, and waits out a rate limit of
# 10 s at most), so that a slow answer is not answered twice; shorter than the minute after
# which Slack retries a delivery it got no acknowledgement for (then again after five), so
# that the retry finds the claim expired.
DEFAULT_CLAIM_DEADLINE = 45.0
Mode = Literal["http", "socket"]

# What each way of running needs: HTTP verifies signatures, Socket Mode opens a websocket.
REQUIRED: dict[Mode, tuple[str, ...]] = {
    "http": ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
    "socket": ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN"),
}


class SlackConfigError(QuotedeskError):
    """Slack credentials are missing from the environment."""


@dataclass(frozen=True)
class SlackConfig:
    """Credentials, the Web API's address, and the retention of the bot's records.

    Attributes:
        bot_token: ``SLACK_BOT_TOKEN`` (``xoxb-…``).
        signing_secret: ``SLACK_SIGNING_SECRET``; verifies that HTTP requests come from Slack.
        app_token: ``SLACK_APP_TOKEN`` (``xapp-…``), for Socket Mode only.
        api_url: ``SLACK_API_URL``, the Web API base URL, always ending in ``/``.
        retention_days: ``QUOTEDESK_RETENTION_DAYS``: days handled deliveries and feedback
            are kept (a whole number, at least 1; :data:`DEFAULT_RETENTION_DAYS` when unset).
        claim_deadline: ``QUOTEDESK_CLAIM_DEADLINE``: seconds after which a claim on an
            event that was never finished may be taken over by Slack's retry (more than 0;
            :data:`DEFAULT_CLAIM_DEADLINE` when unset).

    Example:
        >>> SlackConfig.from_env(
        ...     "http", {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
        ... ).api_url
        'https://slack.com/api/'
    """

    bot_token: str
    signing_secret: str = ""
    app_token: str = ""
    api_url: str = DEFAULT_API_URL
    retention_days: int = DEFAULT_RETENTION_DAYS
    claim_deadline: float = DEFAULT_CLAIM_DEADLINE

    def __post_init__(self) -> None:
        # slack_sdk joins base_url and the method name without adding a slash.
        if not self.api_url.endswith("/"):
            object.__setattr__(self, "api_url", self.api_url + "/")

    @classmethod
    def from_env(cls, mode: Mode = "http", env: Mapping[str, str] | None = None) -> SlackConfig:
        """Read the settings ``mode`` needs.

        Raises:
            SlackConfigError: Naming every required variable that is unset or empty.
            InvalidArgumentError: ``QUOTEDESK_RETENTION_DAYS`` is not a whole number of days
                of at least 1, or ``QUOTEDESK_CLAIM_DEADLINE`` not a number of seconds above 0.
        """
        env = os.environ if env is None else env
        missing = [name for name in REQUIRED[mode] if not env.get(name, "").strip()]
        if missing:
            names = " and ".join(missing)
            verb = "is" if len(missing) == 1 else "are"
            raise SlackConfigError(
                f"{names} {verb} not set: quotedesk {'socket' if mode == 'socket' else 'serve'} "
                "needs the Slack app's credentials in the environment (see README, Slack)"
            )
        return cls(
            bot_token=env["SLACK_BOT_TOKEN"].strip(),
            signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip(),
            app_token=env.get("SLACK_APP_TOKEN", "").strip(),
            api_url=env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL,
            retention_days=parse_retention(env.get("QUOTEDESK_RETENTION_DAYS")),
            claim_deadline=parse_claim_deadline(env.get("QUOTEDESK_CLAIM_DEADLINE")),
        )


def parse_retention(value: str | None) -> int:
    """Days of ``QUOTEDESK_RETENTION_DAYS`` (:data:`DEFAULT_RETENTION_DAYS` when unset or blank).

    Raises:
        InvalidArgumentError: ``value`` is not a whole number of days, at least 1.

    Example:
        >>> parse_retention(" 7 "), parse_retention(None)
        (7, 30)
    """
    raw = (value or "").strip()
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if days < 1:
        raise InvalidArgumentError(
            f"QUOTEDESK_RETENTION_DAYS must be a whole number of days, at least 1, not {raw!r}"
        )
    return days


def parse_claim_deadline(value: str | None) -> float:
    """Seconds of ``QUOTEDESK_CLAIM_DEADLINE`` (:data:`DEFAULT_CLAIM_DEADLINE` when unset or
    blank).

    Raises:
        InvalidArgumentError: ``value`` is not a finite number of seconds above 0.

    Example:
        >>> parse_claim_deadline(" 3 "), parse_claim_deadline("0.5"), parse_claim_deadline(None)
        (3.0, 0.5, 45.0)
    """
    raw = (value or "").strip()
    if not raw:
        return DEFAULT_CLAIM_DEADLINE
    try:
        seconds = float(raw)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < math.inf:
        raise InvalidArgumentError(
            f"QUOTEDESK_CLAIM_DEADLINE must be a number of seconds above 0, not {raw!r}"
        )
    return seconds
