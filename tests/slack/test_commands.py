"""``quotedesk simulate`` (the harness on the fake desk; the command with the real model) and
``quotedesk serve`` (gunicorn, as a real subprocess, with the real model)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.slack.blocks import USAGE
from bot.slack.simulate import as_json, as_text, simulate
from retrieval import QuoteDesk
from standins.payloads import event_body, mention_event
from standins.processes import serve_process
from standins.web_api import StandIn
from tests.helpers import ROOT
from tests.slack.helpers import SECRET, Bot

BAKU = "why did Baku skip the Washington meeting?"


# --- the harness, on the fake desk -----------------------------------------------------------


def test_simulated_mention_is_answered_once_in_its_thread(fake_desk: QuoteDesk) -> None:
    outcome = simulate("mention", BAKU, desk=fake_desk)
    assert outcome.status == 200
    [post] = outcome.calls
    assert post.method == "chat.postMessage"
    assert post.params["channel"] == "C0GENERAL" and post.params["thread_ts"]
    text = "\n".join(as_text(outcome))
    assert f"→ chat.postMessage  channel C0GENERAL  thread_ts {post.params['thread_ts']}" in text
    assert f"*Q:* {BAKU}" in text
    assert "[More quotes] [👍] [👎]" in text


def test_simulated_thread_answers_the_follow_up_with_its_thread(fake_desk: QuoteDesk) -> None:
    outcome = simulate("thread", BAKU, desk=fake_desk, follow_ups=["who made those remarks?"])
    first, second = outcome.calls
    assert first.params["thread_ts"] == second.params["thread_ts"]
    text = "\n".join(as_text(outcome))
    assert f"🧵 Read with this thread’s earlier question: “{BAKU}”" in text


def test_simulated_shortcut_answers_privately(fake_desk: QuoteDesk) -> None:
    outcome = simulate("shortcut", BAKU, desk=fake_desk)
    [private] = outcome.calls
    assert private.params["response_type"] == "ephemeral"
    assert "[Share in channel]" in "\n".join(as_text(outcome))


def test_simulated_home_shows_the_tab_as_text(fake_desk: QuoteDesk) -> None:
    outcome = simulate("home", "", desk=fake_desk)
    [published] = outcome.calls
    assert published.method == "views.publish"
    text = "\n".join(as_text(outcome))
    assert "→ views.publish  user_id U0ASKER" in text and "documents" in text


def test_simulated_dm_as_json_gives_the_raw_payloads(fake_desk: QuoteDesk) -> None:
    lines = [json.loads(line) for line in as_json(simulate("dm", BAKU, desk=fake_desk))]
    assert lines[0] == {"response": {"status": 200, "body": ""}}
    [post] = lines[1:]
    assert post["method"] == "chat.postMessage"
    assert post["params"]["channel"].startswith("D")
    assert post["params"]["blocks"][0] == {
        "type": "section",
        "text": {"type": "mrkdwn", "text": f"*Q:* {BAKU}"},
    }


def test_simulated_ask_answers_privately(fake_desk: QuoteDesk) -> None:
    outcome = simulate("command", BAKU, desk=fake_desk, command="/ask")
    [response] = outcome.calls
    text = "\n".join(as_text(outcome))
    assert "→ response_url  response_type ephemeral" in text
    assert "[Share in channel] [More quotes] [👍] [👎]" in text


def test_simulated_ask_without_words_is_acknowledged_with_the_usage(fake_desk: QuoteDesk) -> None:
    outcome = simulate("command", "", desk=fake_desk, command="/ask")
    assert outcome.calls == []
    lines = list(as_text(outcome))
    assert lines[0] == "HTTP 200, acknowledged with this message:"
    assert lines[1] == "  " + USAGE


def test_simulated_text_is_typed_text_not_markup(fake_desk: QuoteDesk) -> None:
    # As in Slack, "<!channel>" typed in a question is escaped on the way in: it stays in the
    # question, is shown, and is never sent as a ping.
    outcome = simulate("mention", "<!channel> why did Baku skip the meeting?", desk=fake_desk)
    [post] = outcome.calls
    assert post.params["blocks"][0]["text"]["text"] == (
        "*Q:* &lt;!channel&gt; why did Baku skip the meeting?"
    )
    assert "  *Q:* <!channel> why did Baku skip the meeting?" in list(as_text(outcome))


def test_simulated_unreadable_filter_shows_its_hint(fake_desk: QuoteDesk) -> None:
    outcome = simulate("dm", "Baku since:yesterday", desk=fake_desk)
    [post] = outcome.calls
    assert post.params["text"] == "since: takes a date as YYYY-MM-DD, not 'yesterday'"


# --- the command, with the real model --------------------------------------------------------


@pytest.fixture
def seed_env(seed_desk: QuoteDesk, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Point the CLI at the shared seed desk's database (read only here)."""
    monkeypatch.setenv("DATABASE_URL", seed_desk.settings.database_url)
    return ["--data-dir", str(seed_desk.settings.data_dir)]


@pytest.mark.slow
def test_simulate_mention_prints_the_threaded_answer(seed_env: list[str]) -> None:
    result = CliRunner().invoke(cli, ["simulate", "mention", BAKU, *seed_env])
    assert result.exit_code == 0, result.output
    assert "→ chat.postMessage  channel C0GENERAL  thread_ts " in result.output
    assert "000_11112fc514e6e23b.txt · undated" in result.output
    assert "[More quotes]" in result.output


@pytest.mark.slow
def test_simulate_dm_json_gives_the_raw_payloads(seed_env: list[str]) -> None:
    result = CliRunner().invoke(cli, ["simulate", "dm", BAKU, "--json", *seed_env])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines[0]["response"]["status"] == 200
    [post] = [line for line in lines[1:] if line.get("method") == "chat.postMessage"]
    assert post["params"]["channel"].startswith("D")
    assert post["params"]["blocks"][0]["type"] == "section"


@pytest.mark.slow
def test_simulate_command_ask(seed_env: list[str]) -> None:
    result = CliRunner().invoke(cli, ["simulate", "command", "/ask", BAKU, *seed_env])
    assert result.exit_code == 0, result.output
    assert "→ response_url  response_type ephemeral" in result.output
    assert "[Share in channel]" in result.output
    empty = CliRunner().invoke(cli, ["simulate", "command", "/ask", *seed_env])
    assert "acknowledged with this message" in empty.output and "/ask" in empty.output


@pytest.fixture
def served(tmp_path: Path, slack: StandIn) -> Iterator[Bot]:
    """``quotedesk serve`` on an empty data directory (it ingests the seeds first)."""
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "QUOTEDESK_DATA_DIR": str(tmp_path / "data"),
        "SLACK_BOT_TOKEN": "xoxb-served",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "WEB_CONCURRENCY": "1",
    }
    with serve_process(
        log=tmp_path / "serve.log", env=env, args=["--threads", "2"], cwd=ROOT, healthy_within=150
    ) as process:
        yield Bot(url=process.url, slack=slack)  # in another process: settle() waits for quiet


@pytest.mark.slow
def test_serve_answers_a_signed_mention_once(served: Bot) -> None:
    """The issue's "done when", against the real `quotedesk serve`."""
    event = mention_event(BAKU, channel="C0SERVED")
    body = event_body(event, event_id="EvServedOnce")
    assert served.post(body).status == 200
    assert served.slack.wait_for("chat.postMessage", channel="C0SERVED", timeout=30)
    [post] = served.posts("C0SERVED")  # after a quiet spell: the one and only
    params = post.params
    assert params["thread_ts"] == event["ts"]
    blocks = json.dumps(params["blocks"], ensure_ascii=False)
    assert (
        "000_11112fc514e6e23b.txt · undated" in blocks
        or "001_cf87b5f311defa2c.txt · undated" in blocks
    )

    retry = served.post(body, extra={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"})
    assert retry.status == 200
    assert len(served.posts("C0SERVED")) == 1

    assert served.post(body, secret="wrong").status == 401
