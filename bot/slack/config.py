"""The Slack settings, from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from retrieval.errors import QuotedeskError

# Seconds a thread holds the interpreter before another may run (Python's default: 0.005),
# set by serve and socket. Acknowledging Slack is short Python work among the long stretches
# of answering; at 1 ms an acknowledgement waits less for answers in other threads (see
# BENCHMARKS.md, "Slack over HTTP").
SWITCH_INTERVAL = 0.001

DEFAULT_API_URL = "https://slack.com/api/"
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
    """Credentials and the Web API's address.

    Attributes:
        bot_token: ``SLACK_BOT_TOKEN`` (``xoxb-…``).
        signing_secret: ``SLACK_SIGNING_SECRET``; verifies that HTTP requests come from Slack.
        app_token: ``SLACK_APP_TOKEN`` (``xapp-…``), for Socket Mode only.
        api_url: ``SLACK_API_URL``, the Web API base URL, always ending in ``/``.

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

    def __post_init__(self) -> None:
        # slack_sdk joins base_url and the method name without adding a slash.
        if not self.api_url.endswith("/"):
            object.__setattr__(self, "api_url", self.api_url + "/")

    @classmethod
    def from_env(cls, mode: Mode = "http", env: Mapping[str, str] | None = None) -> SlackConfig:
        """Read the settings ``mode`` needs.

        Raises:
            SlackConfigError: Naming every required variable that is unset or empty.
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
        )
