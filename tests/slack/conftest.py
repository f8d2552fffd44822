"""The Slack bot over real HTTP: the WSGI app ``quotedesk serve`` runs, on 127.0.0.1, against a
stand-in of Slack's Web API that records every call.

Two tiers. ``bot`` answers from a desk over the seeds with :class:`FakeEncoder` (no model):
protocol tests use it and run in seconds. ``model_bot`` answers with the real model: tests that
check what an answer says use it and carry ``@pytest.mark.slow``.

The bot acknowledges first and answers afterwards, so a test never concludes from the HTTP reply
alone: :meth:`Bot.settle` waits until the listeners that the requests started have finished
(exactly, through the app's :class:`ListenerPool`), then the calls recorded are all there are.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.config import SlackConfig
from retrieval import QuoteDesk
from standins.web_api import StandIn
from tests.slack.helpers import SECRET, Bot, fake_desk_at, running


@pytest.fixture(scope="session")
def slack() -> Iterator[StandIn]:
    with StandIn() as standin:
        yield standin


@pytest.fixture(scope="session")
def slack_config(slack: StandIn) -> SlackConfig:
    return SlackConfig(bot_token="xoxb-test", signing_secret=SECRET, api_url=slack.api_url)


@pytest.fixture(scope="session")
def fake_desk(tmp_path_factory: pytest.TempPathFactory, seeded_data: Path) -> QuoteDesk:
    """Shared: tests must not change its corpus."""
    return fake_desk_at(tmp_path_factory.mktemp("fake-desk") / "data", template=seeded_data)


@pytest.fixture(scope="session")
def bot(fake_desk: QuoteDesk, slack: StandIn, slack_config: SlackConfig) -> Iterator[Bot]:
    """The bot on the fake desk: for everything but what answers say."""
    with running(fake_desk, slack=slack, config=slack_config) as fast:
        yield fast


@pytest.fixture(scope="session")
def model_bot(seed_desk: QuoteDesk, slack: StandIn, slack_config: SlackConfig) -> Iterator[Bot]:
    """The bot with the real model (slow tests only)."""
    with running(seed_desk, slack=slack, config=slack_config) as real:
        yield real
