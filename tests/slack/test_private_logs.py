"""What the bot logs while it answers: nobody's question, quote or user id (unless
``QUOTEDESK_LOG_QUESTIONS=1``), every logger at DEBUG, and each listener's lines naming the
Slack event and the corpus version; ``quotedesk serve --log-format json`` writes nothing but
JSON lines. (Tokens and secrets: ``test_security.py``.)"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import logs
from bot.slack.blocks import ACTION_MORE
from bot.slack.config import SlackConfig
from retrieval import QuoteDesk
from standins.payloads import USER_ID, dm_event, mention_event
from standins.processes import HOST, serve_process
from standins.web_api import StandIn
from tests.helpers import ROOT
from tests.slack.helpers import SECRET, WAIT, Bot, channel, running
from tests.slack.served import DEBUG_LOGGERS

QUESTION = "why did Zanzibarian flamingos skip the meeting?"
HINTED = "Zanzibarian flamingos since:yesterday"
# Words of the questions no log line has any other reason to hold.
WORDS = ("Zanzibarian", "flamingos", "yesterday")


@pytest.fixture(params=[False, True], ids=["private", "questions-logged"])
def captured(request: pytest.FixtureRequest) -> Iterator[tuple[io.StringIO, bool]]:
    """Every log record of this process, at DEBUG, through the handler ``quotedesk``
    installs (JSON), with questions logged or not; the bot is built afterwards, so its
    listeners' loggers are at DEBUG too."""
    questions: bool = request.param
    buffer = io.StringIO()
    handler = logs.make_handler(buffer, log_format="json", questions=questions)
    root = logging.getLogger()
    loggers = [root, *(logging.getLogger(name) for name in DEBUG_LOGGERS)]
    levels = [logger.level for logger in loggers]
    root.addHandler(handler)
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    try:
        yield buffer, questions
    finally:
        root.removeHandler(handler)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def conversation(bot: Bot) -> dict[str, str]:
    """A mention, a DM, /ask, a question with a filter that cannot be read (its hint) and a
    forged button; the ids of the requests, once the bot has answered them all."""
    ids = {"mention": f"EvLOGS{uuid.uuid4().hex[:10].upper()}"}
    ids["hinted"] = ids["mention"] + "H"
    assert bot.event(mention_event(QUESTION, channel=channel()), event_id=ids["mention"]).status
    assert bot.event(dm_event(QUESTION, channel=channel("D"))).status == 200
    assert bot.command("/ask", QUESTION, response_url=bot.response_url()).status == 200
    hinted = mention_event(HINTED, channel=channel())
    assert bot.event(hinted, event_id=ids["hinted"]).status == 200
    forged = '{"q": "' + QUESTION + '", "k": "forged"'
    assert bot.click(ACTION_MORE, forged, response_url=bot.response_url()).status == 200
    bot.settle()
    return ids


def test_no_question_or_user_id_is_logged_unless_asked_for(
    fake_desk: QuoteDesk,
    slack: StandIn,
    slack_config: SlackConfig,
    captured: tuple[io.StringIO, bool],
) -> None:
    buffer, questions = captured
    with running(fake_desk, slack=slack, config=slack_config) as bot:
        ids = conversation(bot)
    text = buffer.getvalue()
    found = [json.loads(line) for line in text.splitlines()]  # every line is JSON
    if questions:  # Slack's libraries' payloads too
        assert any(line["logger"].startswith("slack_sdk") for line in found)
        # (No line needs a user id, logged or not: the filter's net is tests/test_logs.py's.)
        assert all(word in text for word in WORDS)
        return
    assert not any(
        line["level"] == "DEBUG" and line["logger"].startswith("slack") for line in found
    )
    assert [word for word in WORDS if word in text] == []
    assert USER_ID not in text
    # The listener's lines name the event and the corpus version; a button its trigger.
    version = fake_desk.store.corpus_version()
    hint = [line for line in found if "the asker can fix it" in line["message"]]
    assert [(line["message"], line["event_id"], line["corpus_version"]) for line in hint] == [
        ("not answered, the asker can fix it (QueryError)", ids["hinted"], version)
    ]
    assert hint[0]["logger"].startswith("quotedesk:")  # the listener's own logger
    [button] = [line for line in found if "ignored a button" in line["message"]]
    assert str(button["event_id"]).endswith(".trigger")
    assert button["corpus_version"] == version
    # Outside a request, no event: a line logged here, after them all.
    logging.getLogger("bot.tests").warning("after")
    assert json.loads(buffer.getvalue().splitlines()[-1])["event_id"] is None


@pytest.mark.slow  # the real `quotedesk serve` (gunicorn, the model, its first ingest)
def test_serve_log_format_json_writes_only_json_lines(tmp_path: Path, slack: StandIn) -> None:
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "QUOTEDESK_LOG_QUESTIONS")
        },
        "QUOTEDESK_DATA_DIR": str(tmp_path / "data"),
        "SLACK_BOT_TOKEN": "xoxb-served",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "WEB_CONCURRENCY": "1",
    }
    # The ONNX encoder built first: the core announces a build on stderr as plain text.
    build = [sys.executable, "-m", "bot", "model", "build"]
    subprocess.run(build, env=env, cwd=ROOT, check=True, capture_output=True, timeout=600)
    command = [sys.executable, "-m", "bot", "-v", "--log-format", "json", "serve", "--host", HOST]
    with serve_process(
        log=tmp_path / "serve.log",
        env=env,
        command=command,
        args=["--threads", "2"],
        cwd=ROOT,
        healthy_within=150,
    ) as served:
        bot = Bot(url=served.url, slack=slack)
        where = channel()
        assert bot.event(mention_event(QUESTION, channel=where), event_id="EvSERVEDJSON").status
        assert slack.wait_for("chat.postMessage", channel=where, timeout=WAIT * 3)
        assert bot.event(mention_event(HINTED, channel=channel())).status == 200
        slack.wait_idle(quiet=1.0, timeout=WAIT)
        served.stop()
        text = served.log_path.read_text()
    found: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        try:
            found.append(json.loads(line))
        except ValueError:
            pytest.fail(f"line {number} of serve's output is not JSON: {line!r}")
    loggers = {line["logger"] for line in found}
    assert {"gunicorn.error", "gunicorn.access"} <= loggers, loggers
    access = [line for line in found if line["logger"] == "gunicorn.access"]
    assert {(line["method"], line["path"]) for line in access} >= {("POST", "/slack/events")}
    assert all("?" not in line["message"] for line in access)
    assert {line["pid"] for line in access} != {found[0]["pid"]}  # the worker's lines too
    assert [word for word in WORDS if word in text] == [] and USER_ID not in text
    hint = [line for line in found if "the asker can fix it" in line["message"]]
    assert hint and hint[0]["event_id"] and hint[0]["corpus_version"]
