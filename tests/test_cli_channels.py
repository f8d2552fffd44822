"""``quotedesk channels set``, ``list`` and ``unset``: Slack channels mapped to the collections
they answer from, over the seeds (and a second collection), on the fake encoder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.store import BotStore, ChannelSetting
from retrieval.store import Store
from tests.helpers import Run, copy_data_dir

NONE_MAPPED = "No channel is mapped: every channel answers from every collection."


@pytest.fixture
def data(workdir: Path, seeded_data: Path, run: Run) -> Path:
    """The CLI's data dir: the seeds (collection ``seeds``) and a note in ``archive``."""
    folder = copy_data_dir(seeded_data, workdir / "data", database="quotedesk.db")
    (workdir / "notes").mkdir()
    (workdir / "notes" / "memo.txt").write_text("The archive keeps the council's minutes.")
    done = run("ingest", str(workdir / "notes"), "--collection", "archive")
    assert done.exit_code == 0, done.output
    return folder


def settings(data: Path) -> list[ChannelSetting]:
    """The channels as the bot reads them."""
    store = Store(f"sqlite:///{data / 'quotedesk.db'}")
    try:
        return BotStore(store).channels()
    finally:
        store.close()


def test_set_list_unset_round_trip(run: Run, data: Path) -> None:
    empty = run("channels", "list")
    assert empty.exit_code == 0, empty.output
    assert empty.stdout.strip() == NONE_MAPPED

    done = run("channels", "set", "C0NEWS01", "seeds", "archive")
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == "set C0NEWS01: archive, seeds"
    helped = run("channels", "set", "G0HELP", "seeds", "--answer-questions")
    assert helped.exit_code == 0, helped.output
    assert "help channel" in helped.stdout
    assert settings(data) == [
        ChannelSetting("C0NEWS01", ("archive", "seeds"), False),
        ChannelSetting("G0HELP", ("seeds",), True),
    ]
    listed = run("channels", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == [
        "C0NEWS01: archive, seeds",
        "G0HELP: seeds (help channel: top-level questions answered without a mention)",
    ]

    # Set again: replaced, help channel or not as said this time.
    assert run("channels", "set", "G0HELP", "archive").exit_code == 0
    assert settings(data)[1] == ChannelSetting("G0HELP", ("archive",), False)

    gone = run("channels", "unset", "C0NEWS01")
    assert gone.exit_code == 0, gone.output
    assert gone.stdout.strip() == "C0NEWS01 answers from every collection again"
    again = run("channels", "unset", "C0NEWS01")
    assert again.exit_code == 0, again.output
    assert "C0NEWS01 was not mapped" in again.stdout
    assert settings(data) == [ChannelSetting("G0HELP", ("archive",), False)]
    assert run("channels", "unset", "G0HELP").exit_code == 0
    assert run("channels", "list").stdout.strip() == NONE_MAPPED


def test_list_json(run: Run, data: Path) -> None:
    assert run("channels", "list", "--json").stdout == ""
    run("channels", "set", "C0NEWS01", "seeds", "archive", "seeds")
    run("channels", "set", "C0HELP", "archive", "--answer-questions")
    listed = run("channels", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [json.loads(line) for line in listed.stdout.splitlines()] == [
        {"channel": "C0HELP", "collections": ["archive"], "answer_questions": True},
        {"channel": "C0NEWS01", "collections": ["archive", "seeds"], "answer_questions": False},
    ]


def test_an_unknown_collection_is_refused_with_the_known_ones(run: Run, data: Path) -> None:
    refused = run("channels", "set", "C0NEWS01", "seeds", "sport", "weather")
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.startswith("error: no collections named sport, weather;")
    assert "the corpus has: archive, seeds" in refused.stderr
    assert settings(data) == []


def test_a_direct_message_is_refused_with_a_hint(run: Run, data: Path) -> None:
    refused = run("channels", "set", "D0ABC123", "seeds")
    assert refused.exit_code == 2, refused.output
    assert "direct messages answer from every collection" in refused.stderr
    assert settings(data) == []


@pytest.mark.parametrize("channel", ["#general", "general", "c0abc123", "C1", "U0ABC123", ""])
def test_a_bad_channel_id_is_refused(run: Run, data: Path, channel: str) -> None:
    refused = run("channels", "set", channel, "seeds")
    assert refused.exit_code == 2, refused.output
    assert "is not a Slack channel id" in refused.stderr
    assert "C0123ABCD" in refused.stderr
    assert settings(data) == []


def test_set_needs_a_collection(run: Run, data: Path) -> None:
    refused = run("channels", "set", "C0NEWS01")
    assert refused.exit_code == 2
    assert "Missing argument 'COLLECTION...'" in refused.stderr


def test_an_empty_corpus_says_to_ingest_first(run: Run, workdir: Path) -> None:
    refused = run("channels", "set", "C0NEWS01", "seeds")
    assert refused.exit_code == 2, refused.output
    assert "the corpus has none yet; ingest first" in refused.stderr
