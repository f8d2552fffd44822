"""The bench's newsroom step on a small set of its shape: every figure counted as the set's
own scorer counts it."""

from __future__ import annotations

import json
from pathlib import Path

from bot.bench import formats
from bot.bench.report import Row
from tests.helpers import FAKE_CONFIG, PAGE, RECORDS, FakeEncoder, open_desk

STRIKE_URL = "https://courier.example/2022/07/06/harbour-strike-ends"
STRIKE_TEXT = [
    "Dock workers voted on Wednesday to end the three-week strike that had closed the harbour "
    "to container ships, after the port operator agreed to a pay rise of nine percent.",
    "The union said the crane operators would return for the night shift, and that the backlog "
    "of ships waiting in the bay would take about ten days to clear.",
    "Shipping companies had diverted cargo to the northern ports during the strike.",
]


def small_set(folder: Path) -> Path:
    (folder / "corpus" / "web").mkdir(parents=True)
    (folder / "corpus" / "web" / "strike.html").write_text(PAGE)
    (folder / "corpus" / "exports").mkdir()
    (folder / "corpus" / "exports" / "w.jsonl").write_text(json.dumps(RECORDS[0]) + "\n")
    (folder / "txt").mkdir()
    (folder / "txt" / "rtqa_strike.txt").write_text(
        " date 2022-07-06 Harbour strike ends\n\n" + "\n\n".join(STRIKE_TEXT) + "\n"
    )
    (folder / "txt" / "rtqa_bridge.txt").write_text(
        " date 2022-07-08 Bridge reopens after repairs\n\n" + RECORDS[0]["text"] + "\n"
    )
    truth = [
        {
            "key": "strike",
            "file": "web/strike.html",
            "format": "html",
            "url": STRIKE_URL,
            "date": "2022-07-06",
            "title": "Harbour strike ends",
            "chrome": ["© 2026 The Courier. All rights reserved."],
        },
        {
            "key": "bridge",
            "file": "exports/w.jsonl",
            "format": "jsonl",
            "url": RECORDS[0]["url"],
            "date": "2022-07-08",
            "title": RECORDS[0]["title"],
            "chrome": [],
        },
    ]
    (folder / "truth.jsonl").write_text("\n".join(json.dumps(t) for t in truth) + "\n")
    questions = [
        {"qid": "20220708_1", "q": "how much was the pay rise that ended the strike?",
         "answer": "nine percent"},
        {"qid": "20220708_2", "q": "how long were the bridge cable repairs?",
         "answer": "eight months"},
    ]  # fmt: skip
    (folder / "questions.jsonl").write_text("\n".join(json.dumps(q) for q in questions) + "\n")
    return folder


def test_the_newsroom_step_counts_as_the_sets_scorer(tmp_path: Path) -> None:
    rows: list[Row] = []
    encoder = FakeEncoder()
    formats.newsroom(
        small_set(tmp_path / "set"),
        desk=lambda name: open_desk(tmp_path / name, encoder, FAKE_CONFIG),
        add=rows.append,
        log=lambda _message: None,
    )
    by_name = {row.name: row for row in rows}
    assert by_name["articles found"].value == 1.0
    assert by_name["dates right"].value == 1.0 and by_name["titles right"].value == 1.0
    assert by_name["url right on quotes of linked articles"].met
    assert by_name["top-5 quotes holding page furniture"].value == 0.0
    at5 = by_name["answer@5, each question as of its week"]
    assert (at5.value, at5.baseline, at5.met) == (1.0, 1.0, True)
    assert rows[0].section == "newsroom set" and rows[0].baseline
