"""Slack settings from the environment."""

from __future__ import annotations

import pytest

from bot.slack.config import (
    DEFAULT_API_URL,
    DEFAULT_CLAIM_DEADLINE,
    SlackConfig,
    SlackConfigError,
)
from retrieval.errors import InvalidArgumentError


def test_http_needs_token_and_secret() -> None:
    with pytest.raises(SlackConfigError) as error:
        SlackConfig.from_env("http", {})
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set" in str(error.value)


def test_names_only_what_is_missing() -> None:
    with pytest.raises(SlackConfigError) as error:
        SlackConfig.from_env("socket", {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": " "})
    assert str(error.value).startswith("SLACK_APP_TOKEN is not set")
    assert "SLACK_BOT_TOKEN" not in str(error.value)


def test_api_url_defaults_to_slack_and_gets_its_trailing_slash() -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assert SlackConfig.from_env("http", env).api_url == DEFAULT_API_URL
    staged = SlackConfig.from_env("http", {**env, "SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert staged.api_url == "http://127.0.0.1:9/api/"


def test_the_claim_deadline_is_45_seconds_unless_set() -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    assert SlackConfig.from_env("http", env).claim_deadline == DEFAULT_CLAIM_DEADLINE == 45
    assert SlackConfig(bot_token="xoxb-1").claim_deadline == 45
    for value, seconds in ((" ", 45.0), ("3", 3.0), ("2.5", 2.5)):
        found = SlackConfig.from_env("http", {**env, "QUOTEDESK_CLAIM_DEADLINE": value})
        assert found.claim_deadline == seconds


@pytest.mark.parametrize("value", ["0", "-3", "soon", "nan", "inf"])
def test_a_claim_deadline_that_is_no_number_of_seconds_is_a_clear_error(value: str) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    with pytest.raises(InvalidArgumentError, match="QUOTEDESK_CLAIM_DEADLINE must be"):
        SlackConfig.from_env("http", {**env, "QUOTEDESK_CLAIM_DEADLINE": value})


def test_serve_without_credentials_fails_with_one_clear_line(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from bot.cli import cli

    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set" in result.output
    result = CliRunner().invoke(cli, ["socket"])
    assert result.exit_code == 1
    assert "SLACK_BOT_TOKEN and SLACK_APP_TOKEN are not set" in result.output


def test_manifest_names_the_events_commands_and_url() -> None:
    from pathlib import Path

    import yaml

    manifest = yaml.safe_load((Path(__file__).parents[2] / "slack" / "manifest.yml").read_text())
    settings = manifest["settings"]
    url = "https://YOUR-HOST/slack/events"
    assert settings["event_subscriptions"]["request_url"] == url
    assert settings["interactivity"] == {"is_enabled": True, "request_url": url}
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_mention",
        "message.channels",
        "message.groups",
        "message.im",
    }
    commands = {c["command"]: c["url"] for c in manifest["features"]["slash_commands"]}
    assert commands == {"/ask": url, "/sources": url}
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history"} <= scopes


def test_procfile_runs_web_socket_worker_and_release() -> None:
    from pathlib import Path

    lines = (Path(__file__).parents[2] / "Procfile").read_text().splitlines()
    assert lines == [
        "web: quotedesk serve",
        "socket: quotedesk socket",
        # Keeps the collections named in QUOTEDESK_FOLLOW current (default: the seeds).
        "worker: quotedesk follow",
        "release: quotedesk db upgrade && quotedesk ingest seeds",
    ]
