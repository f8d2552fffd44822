"""What the answers say, with the real model (slow): the right story, its source and date."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bot.slack.blocks import ACTION_SHARE, NOT_FOUND
from standins.payloads import dm_event, mention_event
from tests.slack.helpers import Bot, channel

pytestmark = pytest.mark.slow

BAKU = "why did Baku skip the Washington meeting?"
# The two copies of the story that answers BAKU; both are undated.
BAKU_SOURCES = ("000_11112fc514e6e23b.txt · undated", "001_cf87b5f311defa2c.txt · undated")


def quotes(params: dict[str, Any]) -> list[str]:
    """The quote blocks' texts."""
    texts = [b.get("text", {}).get("text", "") for b in params["blocks"]]
    return [t for t in texts if t.startswith("> ")]


def first_source(params: dict[str, Any]) -> str:
    """The context line under the first quote, without its "📄 "."""
    blocks = params["blocks"]
    first = next(i for i, b in enumerate(blocks) if b.get("text", {}).get("text", "")[:2] == "> ")
    return str(blocks[first + 1]["elements"][0]["text"]).removeprefix("📄 ")


def test_mention_quotes_the_story_with_its_source_and_undated(model_bot: Bot) -> None:
    where = channel()
    model_bot.event(mention_event(BAKU, channel=where))
    [post] = model_bot.posts(where)
    assert first_source(post.params) in BAKU_SOURCES
    first = quotes(post.params)[0]
    assert "Washington" in first
    assert re.search(r"\*[^*\n]+\*", first)  # the best-answering sentence, in bold


def test_dm_quotes_the_story(model_bot: Bot) -> None:
    where = channel("D")
    model_bot.event(dm_event(BAKU, channel=where))
    [post] = model_bot.posts(where)
    assert first_source(post.params) in BAKU_SOURCES


def test_ask_quotes_the_story_privately(model_bot: Bot) -> None:
    url = model_bot.response_url()
    model_bot.command("/ask", BAKU, response_url=url)
    [response] = model_bot.responses(url)
    assert first_source(response.params) in BAKU_SOURCES
    assert ACTION_SHARE in json.dumps(response.params["blocks"])


def test_off_topic_question_says_nothing_was_found(model_bot: Bot) -> None:
    where = channel()
    model_bot.event(mention_event("what is the best recipe for banana bread?", channel=where))
    [post] = model_bot.posts(where)
    assert NOT_FOUND in json.dumps(post.params["blocks"], ensure_ascii=False)
    assert post.params["text"].startswith(NOT_FOUND)


# 2023-11-30 12:00 UTC: the week of 002 (2023-11-28), the only seed dated that week.
IN_THE_WEEK_OF_002 = "1701345600.000100"


def test_this_week_is_the_week_of_the_message(model_bot: Bot) -> None:
    where = channel()
    question = "what happened this week?"
    model_bot.event(mention_event(question, channel=where, ts=IN_THE_WEEK_OF_002))
    [post] = model_bot.posts(where)
    assert first_source(post.params) == "002_7344d3f17e8d7f1e.txt · 2023-11-28"
    said = json.dumps(post.params["blocks"], ensure_ascii=False)
    assert 'Preferring documents from 2023-11-27 to 2023-12-03 (\\"this week\\")' in said
