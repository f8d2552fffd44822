"""Conversations against the real ``quotedesk serve`` (gunicorn, the real model), with requests
signed as Slack signs them and the stand-in of Slack's Web API: a follow-up in a thread, a
help channel, a channel mapped to one collection, the "Find quotes" shortcut, the Home tab,
and a vote that ``quotedesk feedback export`` turns into a case ``quotedesk eval`` reads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.slack.blocks import ACTION_UP
from standins.payloads import (
    FORM,
    event_body,
    home_opened_event,
    mention_event,
    message_event,
    shortcut_body,
)
from standins.processes import serve_process
from standins.web_api import RESPONSE_METHOD, StandIn
from tests.helpers import ROOT, SEEDS
from tests.slack.helpers import SECRET, WAIT, Bot

pytestmark = pytest.mark.slow

BAKU = "why did Baku skip the Washington meeting?"
WIRED = "C0WIREONLY"
HELP = "C0HELPDESK"


def quotedesk(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Bot, dict[str, str]]]:
    """The seeds and a wire folder ingested, one channel mapped to the wire, one help channel
    on the seeds; then ``quotedesk serve`` on that data directory."""
    root = tmp_path_factory.mktemp("served-conversations")
    wire = root / "wire"
    wire.mkdir()
    (wire / "wire-baku.txt").write_text(
        "Wire: Baku said it would not attend the Washington meeting of foreign ministers.\n\n"
        "Wire: the glacier water treaty was approved by the Kyrgyz parliament.\n",
        encoding="utf-8",
    )
    with StandIn() as slack:
        env = {
            **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            "QUOTEDESK_DATA_DIR": str(root / "data"),
            "SLACK_BOT_TOKEN": "xoxb-served",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.api_url,
            "WEB_CONCURRENCY": "1",
        }
        quotedesk(env, "ingest", str(SEEDS))
        quotedesk(env, "ingest", str(wire))
        quotedesk(env, "channels", "set", WIRED, "wire")
        quotedesk(env, "channels", "set", HELP, "seeds", "--answer-questions")
        with serve_process(
            log=root / "serve.log", env=env, args=["--threads", "2"], cwd=ROOT, healthy_within=150
        ) as process:
            yield Bot(url=process.url, slack=slack), env


def wait_posts(bot: Bot, where: str, count: int) -> list[Any]:
    found = bot.slack.wait_for("chat.postMessage", channel=where, count=count, timeout=WAIT * 3)
    assert len(found) >= count, f"{len(found)} posts in {where}, expected {count}"
    return found


def contexts(params: dict[str, Any]) -> list[str]:
    return [e["text"] for b in params["blocks"] if b["type"] == "context" for e in b["elements"]]


def test_a_follow_up_in_the_thread_is_answered_with_it_and_its_vote_exported(
    served: tuple[Bot, dict[str, str]], tmp_path: Path
) -> None:
    bot, env = served
    where = "C0SERVEDTHREAD"
    first = mention_event(BAKU, channel=where)
    assert bot.event(first).status == 200
    wait_posts(bot, where, 1)
    follow_up = message_event("who made those remarks?", channel=where, thread_ts=first["ts"])
    assert bot.event(follow_up).status == 200
    second = wait_posts(bot, where, 2)[1].params
    for block in Block.parse_all(second["blocks"]):
        block.validate_json()
    assert second["thread_ts"] == first["ts"]
    assert f"🧵 Read with this thread’s earlier question: “{BAKU}”" in contexts(second)
    quotes = [b["text"]["text"] for b in second["blocks"][1:] if b["type"] == "section"]
    assert any("O’Brien" in quote for quote in quotes[:3])
    # A vote on it, then the case it becomes.
    up = next(
        e["value"]
        for b in second["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ACTION_UP
    )
    voted = bot.response_url()
    assert bot.click(ACTION_UP, up, response_url=voted, channel=where).status == 200
    assert bot.slack.wait_for(RESPONSE_METHOD, path=voted[len(bot.slack.url) :], timeout=WAIT)
    exported = tmp_path / "cases.jsonl"
    quotedesk(env, "feedback", "export", "--output", str(exported))
    [case] = [json.loads(line) for line in exported.read_text().splitlines()]
    assert case["question"] == "who made those remarks?" and case["thread"] == [BAKU]
    assert case["vote"] == "up" and case["approved"]["text"]
    scored = quotedesk(env, "eval", str(exported), "--json")
    assert json.loads(scored.stdout.splitlines()[0])["approved_kept"] == 1.0


def test_a_mapped_channel_quotes_only_its_collection(served: tuple[Bot, dict[str, str]]) -> None:
    bot, _ = served
    bot.event(mention_event(BAKU, channel=WIRED))
    [post] = wait_posts(bot, WIRED, 1)
    sources = [c for c in contexts(post.params) if c.startswith("📄")]
    assert sources and all("wire-baku.txt" in c for c in sources)


def test_a_help_channel_answers_a_question_without_a_mention(
    served: tuple[Bot, dict[str, str]],
) -> None:
    bot, _ = served
    question = message_event(BAKU, channel=HELP)
    bot.event(question)
    [post] = wait_posts(bot, HELP, 1)
    assert post.params["thread_ts"] == question["ts"]


def test_the_shortcut_and_the_home_tab(served: tuple[Bot, dict[str, str]]) -> None:
    bot, _ = served
    url = bot.response_url()
    claim = "Azerbaijan walked out of the Washington talks over biased remarks"
    assert (
        bot.post(shortcut_body(claim, response_url=url, user="U0SHORT"), content_type=FORM).status
        == 200
    )
    [private] = bot.slack.wait_for(RESPONSE_METHOD, path=url[len(bot.slack.url) :], timeout=WAIT)
    assert private.params["response_type"] == "ephemeral"
    assert bot.event(home_opened_event(user="U0SHORT")).status == 200
    [published] = bot.slack.wait_for("views.publish", user_id="U0SHORT", timeout=WAIT)
    view = published.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    View(**view).validate_json()
    assert claim in json.dumps(view, ensure_ascii=False)


def test_unsigned_conversation_requests_are_refused(served: tuple[Bot, dict[str, str]]) -> None:
    bot, _ = served
    body = event_body(message_event(BAKU, channel=HELP))
    assert bot.post(body, secret="not-the-secret").status == 401
