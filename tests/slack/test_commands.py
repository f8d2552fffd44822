"""``quotedesk simulate`` and ``quotedesk serve`` (gunicorn, as a real subprocess)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.slack.payloads import event_body, mention_event
from bot.slack.standin import StandIn
from retrieval import QuoteDesk
from tests.slack.conftest import SECRET, Bot, request

BAKU = "why did Baku skip the Washington meeting?"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def seed_env(seed_desk: QuoteDesk, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Point the CLI at the shared seed desk's database (read only here)."""
    monkeypatch.setenv("DATABASE_URL", seed_desk.settings.database_url)
    return ["--data-dir", str(seed_desk.settings.data_dir)]


def test_simulate_mention_prints_the_threaded_answer(seed_env: list[str]) -> None:
    result = CliRunner().invoke(cli, ["simulate", "mention", BAKU, *seed_env])
    assert result.exit_code == 0, result.output
    assert "→ chat.postMessage  channel C0GENERAL  thread_ts " in result.output
    assert "000_11112fc514e6e23b.txt · undated" in result.output
    assert "[More quotes]" in result.output


def test_simulate_dm_json_gives_the_raw_payloads(seed_env: list[str]) -> None:
    result = CliRunner().invoke(cli, ["simulate", "dm", BAKU, "--json", *seed_env])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert lines[0]["response"]["status"] == 200
    [post] = [line for line in lines[1:] if line.get("method") == "chat.postMessage"]
    assert post["params"]["channel"].startswith("D")
    assert post["params"]["blocks"][0]["type"] == "section"


def test_simulate_command_ask(seed_env: list[str]) -> None:
    result = CliRunner().invoke(cli, ["simulate", "command", "/ask", BAKU, *seed_env])
    assert result.exit_code == 0, result.output
    assert "→ response_url  response_type ephemeral" in result.output
    assert "[Share in channel]" in result.output
    empty = CliRunner().invoke(cli, ["simulate", "command", "/ask", *seed_env])
    assert "acknowledged with this message" in empty.output and "/ask" in empty.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path, slack: StandIn) -> Iterator[Bot]:
    """``quotedesk serve`` on an empty data directory (it ingests the seeds first)."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        "PORT": str(port),
        "QUOTEDESK_DATA_DIR": str(tmp_path / "data"),
        "SLACK_BOT_TOKEN": "xoxb-served",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "WEB_CONCURRENCY": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--threads", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "serve.log", "w"),  # noqa: SIM115
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if request(url + "/healthz").status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.25)
        else:
            pytest.fail(
                "quotedesk serve never became healthy:\n" + (tmp_path / "serve.log").read_text()
            )
        yield Bot(url=url, wsgi=None, slack=slack)  # type: ignore[arg-type]
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def test_serve_answers_a_signed_mention_once(served: Bot) -> None:
    """The issue's "done when", against the real `quotedesk serve`."""
    event = mention_event(BAKU, channel="C0SERVED")
    body = event_body(event, event_id="EvServedOnce")
    assert served.post(body).status == 200
    posts = served.slack.wait_for("chat.postMessage", channel="C0SERVED", timeout=30)
    assert len(posts) == 1
    params = posts[0].params
    assert params["thread_ts"] == event["ts"]
    blocks = json.dumps(params["blocks"], ensure_ascii=False)
    assert (
        "000_11112fc514e6e23b.txt · undated" in blocks
        or "001_cf87b5f311defa2c.txt · undated" in blocks
    )

    retry = served.post(body, extra={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "timeout"})
    assert retry.status == 200
    time.sleep(1.5)
    assert len(served.slack.find("chat.postMessage", channel="C0SERVED")) == 1

    assert served.post(body, secret="wrong").status == 401
