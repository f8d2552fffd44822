"""``quotedesk feedback export`` and ``stats``, and ``quotedesk eval`` reading what export
wrote: votes recorded with :class:`BotStore` over the seeds, on the fake encoder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.cli.feedback import export_cases, weekly_counts
from bot.store import BotStore, Feedback
from bot.store.schema import FeedbackRow
from retrieval import QuoteDesk
from retrieval.answer import Quote
from tests.helpers import FakeEncoder, Run, copy_data_dir, open_desk

QUESTION = "why did Baku skip the Washington meeting?"
OTHER = "did Blinken ask Aliyev to allow the visit of his assistant James O'Brien to Baku?"
AS_OF = date(2023, 11, 30)
GONE = 10**9


@pytest.fixture
def desk(workdir: Path, seeded_data: Path) -> Iterator[QuoteDesk]:
    """A desk over the data dir the CLI uses (the seeds ingested), on the CLI's settings."""
    data = copy_data_dir(seeded_data, workdir / "data", database="quotedesk.db")
    opened = open_desk(data, FakeEncoder(), url=f"sqlite:///{data}/quotedesk.db")
    yield opened
    opened.store.close()


@pytest.fixture
def records(desk: QuoteDesk) -> BotStore:
    return BotStore(desk.store)


def shown(quote: Quote) -> dict[str, Any]:
    """A quote as the bot records it under a vote."""
    return {
        "passage_id": quote.passage_id,
        "source": quote.source.path,
        "collection": quote.source.collection,
        "start": quote.start,
        "end": quote.end,
        "text": quote.text,
    }


def reference(quote: Quote) -> dict[str, Any]:
    return {k: v for k, v in shown(quote).items() if k != "passage_id"}


def first_quotes(desk: QuoteDesk, question: str, **kw: Any) -> tuple[Quote, ...]:
    answer = desk.ask(question, k=5, as_of=AS_OF, **kw)
    assert answer.quotes
    return answer.quotes


def backdate(desk: QuoteDesk, *moments: datetime) -> None:
    """Give the votes recorded, oldest first, these times."""
    with desk.store.engine.begin() as connection:
        ids = connection.scalars(select(FeedbackRow.id).order_by(FeedbackRow.id)).all()
        for row_id, moment in zip(ids, moments, strict=True):
            connection.execute(
                update(FeedbackRow).where(FeedbackRow.id == row_id).values(created_at=moment)
            )


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def votes(desk: QuoteDesk, records: BotStore) -> dict[str, Any]:
    """Four votes: a 👍 with its thread, a 👎, a 👍 recorded before quotes kept their span
    (its passage still stored), and one whose passage is gone."""
    baku = first_quotes(desk, QUESTION, collections=["seeds"])
    blinken = first_quotes(desk, OTHER)
    records.record_feedback(
        Feedback(
            "up",
            QUESTION,
            tuple(shown(q) for q in baku),
            user_id="U0SECRET",
            channel_id="C0SECRET",
            as_of=AS_OF,
            context=("what happened in Washington?",),
            collections=("seeds",),
        )
    )
    records.record_feedback(Feedback("down", OTHER, (shown(blinken[0]),), user_id="U0SECRET"))
    old = {"passage_id": blinken[1].passage_id, "source": blinken[1].source.path}
    records.record_feedback(Feedback("up", "who met Blinken?", (old,)))
    records.record_feedback(
        Feedback("up", "what was cut?", ({"passage_id": GONE, "source": "gone.txt"},))
    )
    backdate(
        desk,
        datetime(2026, 11, 30, 9, tzinfo=UTC),
        datetime(2026, 12, 3, 10, tzinfo=UTC),
        datetime(2026, 12, 8, 11, tzinfo=UTC),
        datetime(2026, 12, 9, 12, tzinfo=UTC),
    )
    return {"baku": baku, "blinken": blinken}


def test_export_writes_one_case_per_vote(run: Run, votes: dict[str, Any]) -> None:
    result = run("feedback", "export")
    assert result.exit_code == 0, result.output
    assert "SECRET" not in result.stdout
    up, down, old = jsonl(result.stdout)
    assert up == {
        "question": QUESTION,
        "thread": ["what happened in Washington?"],
        "as_of": "2023-11-30",
        "collections": ["seeds"],
        "vote": "up",
        "approved": reference(votes["baku"][0]),
        "voted_at": "2026-11-30T09:00:00+00:00",
    }
    # What is unknown or empty is left out.
    assert down == {
        "question": OTHER,
        "vote": "down",
        "rejected": reference(votes["blinken"][0]),
        "voted_at": "2026-12-03T10:00:00+00:00",
    }
    # Recorded with only its passage's id and source: the rest is read from the corpus.
    assert old["approved"] == reference(votes["blinken"][1])
    assert "skipped 1 votes whose passage is no longer in the corpus" in result.stderr
    assert "exported 3 cases (2 👍, 1 👎)" in result.stderr


def test_export_since_collection_and_output(
    run: Run, votes: dict[str, Any], records: BotStore, tmp_path: Path
) -> None:
    since = run("feedback", "export", "--since", "2026-12-03")
    assert [c["question"] for c in jsonl(since.stdout)] == [OTHER, "who met Blinken?"]
    assert "exported 2 cases (1 👍, 1 👎)" in since.stderr
    archived = {**shown(votes["baku"][0]), "source": "a.txt", "collection": "archive"}
    records.record_feedback(Feedback("down", "archived?", (archived,)))
    only = jsonl(run("feedback", "export", "--collection", "archive").stdout)
    assert [c["rejected"]["source"] for c in only] == ["a.txt"]
    seeds = jsonl(run("feedback", "export", "--collection", "seeds").stdout)
    assert len(seeds) == 3
    assert all((c.get("approved") or c["rejected"])["collection"] == "seeds" for c in seeds)
    out = tmp_path / "cases.jsonl"
    written = run("feedback", "export", "-o", str(out))
    assert written.exit_code == 0 and written.stdout == ""
    assert len(jsonl(out.read_text(encoding="utf-8"))) == 4
    bad = run("feedback", "export", "--since", "last week")
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.stderr
    unwritable = run("feedback", "export", "-o", str(tmp_path / "no" / "such" / "dir.jsonl"))
    assert unwritable.exit_code == 2 and unwritable.stderr.startswith("error: cannot write")


def test_stats_per_week_and_collection(run: Run, votes: dict[str, Any]) -> None:
    rows = jsonl(run("feedback", "stats", "--json").stdout)
    assert rows == [
        {"week": "2026-W49", "collection": "seeds", "up": 1, "down": 1},
        {"week": "2026-W50", "collection": None, "up": 1, "down": 0},
        {"week": "2026-W50", "collection": "seeds", "up": 1, "down": 0},
    ]
    table = run("feedback", "stats")
    assert table.exit_code == 0, table.output
    lines = [line for line in table.stdout.splitlines() if line.startswith("│")]
    cells = [[cell.strip() for cell in line.strip("│").split("│")] for line in lines]
    assert cells == [
        ["2026-W49", "seeds", "1", "1"],
        ["2026-W50", "—", "1", "0"],
        ["2026-W50", "seeds", "1", "0"],
    ]
    header = next(line for line in table.stdout.splitlines() if line.startswith("┃"))
    assert [c.strip() for c in header.strip("┃").split("┃")] == ["week", "collection", "👍", "👎"]


@pytest.mark.usefixtures("records")
def test_stats_and_export_with_no_feedback(run: Run) -> None:
    assert run("feedback", "stats").stdout == "No feedback yet.\n"
    assert run("feedback", "stats", "--json").stdout == ""
    empty = run("feedback", "export")
    assert empty.exit_code == 0 and empty.stdout == ""
    assert "exported 0 cases (0 👍, 0 👎)" in empty.stderr


def test_eval_reads_exported_feedback(run: Run, votes: dict[str, Any], tmp_path: Path) -> None:
    cases = tmp_path / "feedback.jsonl"
    assert run("feedback", "export", "-o", str(cases)).exit_code == 0
    result = run("eval", str(cases), "--json")
    assert result.exit_code == 0, result.output
    [row] = jsonl(result.stdout)
    assert (row["approved"], row["rejected"]) == (2, 1)
    assert 0.0 <= row["approved_kept"] <= 1.0 and 0.0 <= row["rejected_not_first"] <= 1.0
    # Feedback counts in no other figure.
    assert (row["labeled"], row["with_answer"], row["hit1"], row["answer1"]) == (0, 0, None, None)


def test_eval_of_votes_whose_outcome_is_known(
    run: Run, desk: QuoteDesk, records: BotStore, tmp_path: Path
) -> None:
    """The passage the desk quotes first, approved and rejected: kept, and still first."""
    [first, second, *_] = first_quotes(desk, QUESTION, collections=["seeds"])
    for vote in ("up", "down"):
        records.record_feedback(
            Feedback(vote, QUESTION, (shown(first),), as_of=AS_OF, collections=("seeds",))
        )
    # A 👎 on the second quote shown: that one is not first.
    records.record_feedback(Feedback("down", QUESTION, (shown(second),), as_of=AS_OF))
    cases = tmp_path / "feedback.jsonl"
    assert run("feedback", "export", "-o", str(cases)).exit_code == 0
    [row] = jsonl(run("eval", str(cases), "--json").stdout)
    assert (row["approved"], row["approved_kept"]) == (1, 1.0)
    assert (row["rejected"], row["rejected_not_first"]) == (2, 0.5)
    table = run("eval", str(cases), "--misses")
    assert table.exit_code == 0, table.output
    assert (
        "hybrid: feedback: 1 approved, kept in the top 3 1.000; 2 rejected, no longer first 0.500"
        in table.stdout.splitlines()
    )
    assert f"hybrid: rejected still first: {QUESTION}" in table.stdout


def test_export_cases_is_a_pure_function() -> None:
    quote = {"passage_id": 1, "source": "a.txt", "collection": "news", "start": 0, "end": 4}
    votes = [
        Feedback("up", "no quote?", ()),
        Feedback("down", "whose?", ({**quote, "text": "Owls"},), context=("a?", "b?")),
        Feedback("up", "old?", ({"passage_id": 1, "source": "a.txt"},)),
    ]
    done = export_cases(votes, {})
    assert (done.unquoted, done.gone) == (1, 1)
    assert done.cases == [
        {
            "question": "whose?",
            "thread": ["a?", "b?"],
            "vote": "down",
            "rejected": {
                "source": "a.txt",
                "collection": "news",
                "start": 0,
                "end": 4,
                "text": "Owls",
            },
        }
    ]
    assert export_cases(votes, {}, collection="other").cases == []
    assert weekly_counts(votes, {})[0]["week"] == "—"
